"""Calls a careless user makes whose answer could be silently wrong, or whose failure could be
an internal traceback: each is the right answer (checked against NumPy) or a typed error."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q
from typedml import stdlib as sl


def _q(values: object, unit: str) -> object:
    return tm.get_registry().Quantity(np.asarray(values, dtype=np.float32), unit)


# -- a body that cannot take the sizes of a call ---------------------------------------------


@tm.stage
def lowest(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, ""], "'u"]:
    return jnp.min(x)


@tm.pipeline
def lowest_of(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, ""], "m"]:
    return lowest(x)


@tm.pipeline
def lowest_outer(x: Q[Float[Array, "n"], "km"]) -> Q[Float[Array, ""], "m"]:
    return lowest_of(x)


@pytest.mark.parametrize(
    "run",
    [
        lambda x: lowest(x),
        lambda x: lowest_of(x),
        lambda x: lowest_of.checked(x),
        lambda x: lowest_of.debug(x),
        lambda x: lowest_outer(x),
        lambda x: jax.jit(lowest_of.jax_fn)(x.magnitude),
    ],
    ids=["stage", "pipeline", "checked", "debug", "nested", "jax_fn"],
)
def test_a_body_that_fails_on_an_empty_axis_is_a_typed_error_in_every_mode(run: object) -> None:
    # the check before data passes (symbolic sizes are at least 1); an empty axis is data's
    assert lowest_of.check().ok
    with pytest.raises(tm.BodyError) as caught:
        run(_q(np.zeros(0), "m"))  # type: ignore[operator]
    d = caught.value.diagnostic
    assert d.code == "TM305" and d.stage == "lowest" and "for the shapes of this call" in d.message
    assert d.location is not None and d.location.line == lowest.fn.__code__.co_firstlineno + 2
    assert "input 'x': shape (0,)" in d.notes and "axis of size 0" in (d.hint or "")
    # and data the body takes still gives numpy's answer
    assert float(lowest_outer(_q([0.003, 0.001], "km")).magnitude) == pytest.approx(1.0)


@pytest.mark.parametrize("summary", [sl.min, sl.max, lambda x: sl.quantile(x, np.array([0.5], np.float32))])
def test_stdlib_summaries_of_no_rows_are_typed_errors(summary: object) -> None:
    with pytest.raises(tm.BodyError) as caught:
        summary(_q(np.zeros(0), "m"))  # type: ignore[operator]
    assert caught.value.diagnostic.code == "TM305"


# -- bin edges out of order ------------------------------------------------------------------


@tm.pipeline
def binned(x: Q[Float[Array, "n"], "m"], edges: Q[Float[Array, "e"], "cm"]) -> Int[Array, "e-1"]:
    return sl.histogram(x, edges)


@tm.stage
def reversed_edges(edges: Q[Float[Array, "e"], "'u"]) -> Q[Float[Array, "e"], "'u"]:
    return edges[::-1]


@tm.pipeline
def binned_reversed(x: Q[Float[Array, "n"], "m"], edges: Q[Float[Array, "e"], "m"]) -> Int[Array, "e-1"]:
    return sl.histogram(x, reversed_edges(edges))


@pytest.mark.parametrize(
    ("run", "code"),
    [
        (lambda x, e: sl.histogram(x, e), "TM214"),
        (lambda x, e: sl.bin_index(x, e), "TM214"),
        (lambda x, e: sl.histogram_update(sl.histogram_init(_q([0.0, 1.0, 2.0], "m")), e, x), "TM214"),
        (lambda x, e: binned(x, e), "TM504"),  # the stage's port, inside a pipeline
        (lambda x, e: binned.checked(x, e), "TM504"),
        (lambda x, e: binned.debug(x, e), "TM504"),
    ],
    ids=["histogram", "bin_index", "histogram_update", "pipeline", "checked", "debug"],
)
def test_histogram_edges_out_of_order_are_refused_not_counted(run: object, code: str) -> None:
    x = _q([1.0, 2.0, 3.0, 10.0], "m")
    # numpy refuses them ("bins must increase monotonically"); counting gave [0 3] before
    with pytest.raises(ValueError, match="monotonically"):
        np.histogram(np.asarray(x.magnitude), bins=[5.0, 2.0, 11.0])
    with pytest.raises((tm.InputError, tm.ContractError)) as caught:
        run(x, _q([500.0, 200.0, 1100.0], "cm"))  # type: ignore[operator]
    d = caught.value.diagnostic
    assert d.code == code and d.port in ("edges", "histogram.edges") and "Increasing" in d.message, d
    if code == "TM214":
        assert any(n.startswith("first: [1] = ") for n in d.notes), d.notes  # the value below the one before
    # edges in order (equal neighbours allowed, as numpy allows them) still count as numpy does
    counts = np.asarray(sl.histogram(x, _q([0.0, 2.0, 2.0, 11.0], "m")))
    assert counts.tolist() == np.histogram(np.asarray(x.magnitude), bins=[0.0, 2.0, 2.0, 11.0])[0].tolist()


def test_edges_put_out_of_order_by_a_stage_are_refused_at_the_port() -> None:
    with pytest.raises(tm.ContractError) as caught:
        binned_reversed(_q([1.0, 2.0], "m"), _q([0.0, 1.5, 3.0], "m"))
    assert caught.value.diagnostic.code == "TM504" and "Increasing" in caught.value.diagnostic.message


def test_increasing_is_drawn_in_order_by_the_strategies() -> None:
    from hypothesis import given, settings

    import typedml.strategies as tms

    @settings(max_examples=15, deadline=None)
    @given(tms.inputs(sl.histogram))
    def draws(drawn: dict[str, object]) -> None:
        edges = np.asarray(drawn["edges"].magnitude)  # type: ignore[attr-defined]
        assert np.all(np.diff(edges) >= 0)
        sl.histogram(**drawn)  # accepted: the contract holds for what is drawn

    draws()


# -- another library's data with an axis named by position -----------------------------------


def test_a_dataarray_reduced_by_position_keeps_its_unit_or_is_refused() -> None:
    xr = pytest.importorskip("xarray")
    values = np.array([[1.0, 2.0, 4.0], [10.0, 20.0, 40.0]], np.float32)
    da = xr.DataArray(values, dims=("channel", "time"), attrs={"units": "degC"})
    # moved to a plain array, the unit was dropped: a dimensionless [2.33, 23.3] came back
    with pytest.raises(tm.InputError) as caught:
        sl.mean(da, axis=1)
    d = caught.value.diagnostic
    assert d.code == "TM247" and d.port == "x" and "axis=1" in d.message
    assert "its dims: ('channel', 'time')" in d.notes
    unchanged = da.copy()
    # the ways the hint gives are right: a quantity by position, or the dim by name in a pipeline
    got = sl.mean(tm.get_registry().Quantity(da.values, da.attrs["units"]), axis=1)
    assert str(got.units) == "degree_Celsius" and np.allclose(got.magnitude, values.mean(axis=1))

    @tm.pipeline
    def per_channel(x: Q[Float[Array, "channel time"], "degC"]) -> Q[Float[Array, "channel"], "degC"]:
        return sl.mean(x, axis="time")

    out = per_channel(da)
    assert out.dims == ("channel",) and out.attrs["units"] == "degC" and np.allclose(out.values, values.mean(axis=1))
    assert da.identical(unchanged)


def test_a_pandas_series_with_an_axis_position_is_refused_not_stripped() -> None:
    pd = pytest.importorskip("pandas")
    with pytest.raises(tm.InputError) as caught:
        sl.mean(pd.Series([1.0, 2.0], dtype=np.float32), axis=0)
    assert caught.value.diagnostic.code == "TM247" and "tm.columns" in (caught.value.diagnostic.hint or "")


# -- a temperature's zero, bound per call --------------------------------------------------


@tm.stage
def doubled(x: Q[Float[Array, "n"], "'u"], k: float = 2.0) -> Q[Float[Array, "n"], "'u"]:
    return x * k


@tm.pipeline
def doubled_any(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u"]:
    return doubled(x)


@pytest.mark.parametrize("run", [lambda x: doubled(x), lambda x: doubled_any(x)], ids=["stage", "pipeline"])
def test_a_result_that_depends_on_the_zero_of_a_bound_temperature_is_refused_per_call(run: object) -> None:
    # 10 degC doubled came back as 20 degC: pint refuses degC * 2; 283.15 K * 2 is 293.15 degC.
    # A pipeline declaring degC got TM371 at check(); a call binding 'u to degC did not
    with pytest.raises(tm.BodyError) as caught:
        run(_q([10.0], "degC"))  # type: ignore[operator]
    assert caught.value.diagnostic.code == "TM371" and caught.value.diagnostic.stage == "doubled"
    # absolute units, and other dimensions, are what they were
    assert run(_q([10.0], "K")).magnitude.tolist() == [20.0]  # type: ignore[operator]
    assert run(_q([10.0], "m")).magnitude.tolist() == [20.0]  # type: ignore[operator]


def test_moments_of_temperatures_in_degc_are_checked_and_right() -> None:
    t = _q([10.0, 20.0, 40.0], "degC")
    data = np.array([10.0, 20.0, 40.0])
    got = sl.moments_finalize(sl.moments_update(sl.moments_init(t[0]), t))
    assert str(got.mean.units) == "degree_Celsius" and float(got.mean.magnitude) == pytest.approx(data.mean())
    assert float(got.std.magnitude) == pytest.approx(data.std(), rel=1e-6)
    halves = sl.moments_merge(
        sl.moments_update(sl.moments_init(t[0]), t[:1]), sl.moments_update(sl.moments_init(t[0]), t[1:])
    )
    assert float(sl.moments_finalize(halves).mean.magnitude) == pytest.approx(data.mean())
    u = _q([50.0, 68.0, 104.0], "degF")
    co = sl.comoments_finalize(sl.comoments_update(sl.comoments_init(t[0], u[0]), t, u))
    assert float(co.correlation) == pytest.approx(1.0, abs=1e-6)
    assert float(co.covariance.magnitude) == pytest.approx(np.cov(data, data * 1.8 + 32, bias=True)[0, 1], rel=1e-5)

    @tm.pipeline
    def spread(x: Q[Float[Array, "n"], "degC"]) -> Q[Float[Array, ""], "delta_degC"]:
        return sl.moments_finalize(sl.moments_update(sl.moments_init(sl.mean(x)), x)).std

    assert spread.check().ok  # the empty state's mean was 0 in 'u: TM371 for degC before
    assert float(spread(t).magnitude) == pytest.approx(data.std(), rel=1e-6)


# -- a stream whose state is one array -------------------------------------------------------


@tm.stage
def running_total(total: Q[Float[Array, "c"], "K"], x: Q[Float[Array, "n c"], "K"]) -> Q[Float[Array, "c"], "K"]:
    return total + x.sum(axis=0)


@tm.stage
def running_sum(
    total: Q[Float[Array, ""], "delta_degF"], x: Q[Float[Array, "n"], "delta_degF"]
) -> Q[Float[Array, ""], "delta_degF"]:
    return total + x.sum()


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_a_stream_state_of_one_array_is_one_field_not_its_rows(channels: int) -> None:
    # iterated, init=Quantity(zeros(2)) was a state of 2 fields (TM217), zeros(1) a 0-d field
    rng = np.random.default_rng(channels)
    data = rng.uniform(0, 40, size=(6, channels)).astype(np.float32)
    chunks = [_q(data[i : i + 2], "degC") for i in range(0, 6, 2)]
    got = tm.stream(running_total, chunks, init=_q(np.zeros(channels), "K"))
    assert str(got.units) == "kelvin" and got.shape == (channels,)
    assert np.allclose(got.magnitude, (data.astype(np.float64) + 273.15).sum(axis=0), rtol=1e-5)


def test_a_stream_state_of_one_scalar_is_a_state_not_a_traceback() -> None:
    chunks = [_q([5.0], "delta_degC"), _q([6.0], "delta_degC")]
    got = tm.stream(running_sum, chunks, init=_q(0.0, "delta_degF"))  # 0-d: a TypeError escaped before
    assert str(got.units) == "delta_degree_Fahrenheit" and float(got.magnitude) == pytest.approx(11.0 * 1.8)


def test_an_empty_quantile_sketch_answers_nan_not_an_infinite_temperature() -> None:
    key = jax.random.PRNGKey(0)
    empty = sl.quantile_sketch_init(key, _q(0.0, "degC"), capacity=16)
    got = sl.quantile_sketch_query(empty, np.array([0.0, 0.5, 1.0], np.float32))
    assert np.isnan(np.asarray(got.magnitude)).all()  # was +inf degC, a plausible-looking bound
    seen = sl.quantile_sketch_update(empty, _q([5.0], "degF"))  # -15 degC
    got = sl.quantile_sketch_query(seen, np.array([0.0, 0.5, 1.0], np.float32))
    assert np.allclose(np.asarray(got.magnitude), -15.0, atol=1e-4)


# -- a plain number into a port in percent ---------------------------------------------------


@tm.stage
def in_percent(x: Q[Float[Array, "n"], "percent"]) -> Q[Float[Array, "n"], "percent"]:
    return x


@tm.stage
def plain_share(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return x


@tm.pipeline
def share_in_percent(x: Float[Array, "n"]) -> Q[Float[Array, "n"], "percent"]:
    return in_percent(plain_share(x))


@tm.stage
def in_ppm(x: Q[Float[Array, "n"], "ppm"]) -> Q[Float[Array, "n"], "ppm"]:
    return x


@tm.stage
def in_degrees(x: Q[Float[Array, "n"], "deg"]) -> Q[Float[Array, "n"], "deg"]:
    return x


@pytest.mark.parametrize(("keep", "unit"), [(in_percent, "percent"), (in_ppm, "ppm"), (in_degrees, "deg")])
def test_a_plain_number_into_a_port_of_a_scaled_dimensionless_unit_is_asked_not_guessed(
    keep: object, unit: str
) -> None:
    # a plain 0.5 was read as 0.5 percent at a call, but as 50 percent on a pipeline's edge
    assert share_in_percent(np.array([0.5], np.float32)).magnitude.tolist() == [50.0]
    with pytest.raises(tm.InputError) as caught:
        keep(np.array([0.5], np.float32))  # type: ignore[operator]
    d = caught.value.diagnostic
    assert d.code == "TM204" and "its own scale" in d.message and "Quantity(x, '')" in (d.hint or "")
    # said, either way is right
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tm.ConversionWarning)  # deg: the radian as 1 (TM142), said apart
        as_fraction = keep(tm.get_registry().Quantity(np.array([0.5], np.float32), ""))  # type: ignore[operator]
    as_given = keep(tm.get_registry().Quantity(np.array([0.5], np.float32), unit))  # type: ignore[operator]
    scale = float(tm.get_registry().Quantity(1.0, "").to(unit).magnitude)
    assert as_fraction.magnitude.tolist() == pytest.approx([0.5 * scale], rel=1e-6)
    assert as_given.magnitude.tolist() == [0.5]


def test_a_plain_number_into_a_dimensionless_port_of_scale_one_is_taken_as_it_is() -> None:
    @tm.stage
    def keep(x: Q[Float[Array, "n"], "rad"]) -> Q[Float[Array, "n"], "rad"]:
        return x

    assert keep(np.array([0.5], np.float32)).magnitude.tolist() == [0.5]  # rad is 1 here: nothing to ask


# -- a size that the data makes negative -----------------------------------------------------


@pytest.mark.parametrize(
    ("run", "name"),
    [
        (lambda x: sl.kmeans_init(jax.random.PRNGKey(0), x, k=9), "rows"),  # 9 centres from 5 rows
        (lambda x: sl.pca_fit(x, k=3), "more"),  # 3 components of 2 features
    ],
    ids=["kmeans_init", "pca_fit"],
)
def test_a_size_the_data_makes_negative_is_refused_at_the_boundary(run: object, name: str) -> None:
    # "k+rows" promises at least k rows; 5 rows with k=9 bound rows=-4 and k-means++ repeated
    # one row as four centres, without a word
    x = _q(np.arange(10).reshape(5, 2), "m")
    with pytest.raises(tm.InputError) as caught:
        run(x)  # type: ignore[operator]
    d = caught.value.diagnostic
    assert d.code == "TM220" and f"{name} must be at least 0" in d.message
    assert len(np.unique(np.asarray(sl.kmeans_init(jax.random.PRNGKey(0), x, k=5).magnitude), axis=0)) == 5


# -- binary metrics given labels that are not 0 or 1 -----------------------------------------


@pytest.mark.parametrize(
    "metric",
    [
        lambda y: sl.precision(y, np.array([1, 1], np.int32)),
        lambda y: sl.recall(y, np.array([1, 1], np.int32)),
        lambda y: sl.f1(y, np.array([1, 1], np.int32)),
        lambda y: sl.log_loss(y, np.array([0.5, 0.5], np.float32)),
        lambda y: sl.roc_auc(y, _q([0.1, 0.5], "m")),
    ],
    ids=["precision", "recall", "f1", "log_loss", "roc_auc"],
)
def test_binary_metrics_refuse_labels_other_than_0_and_1(metric: object) -> None:
    # a label 3 was counted as negative: log_loss([3], 0.5) was log 2, precision 0.0
    with pytest.raises(tm.InputError) as caught:
        metric(np.array([0, 3], np.int32))  # type: ignore[operator]
    assert caught.value.diagnostic.code == "TM214" and caught.value.diagnostic.port == "y"
    assert np.isfinite(float(metric(np.array([0, 1], np.int32))))  # type: ignore[operator, arg-type]


def test_roc_auc_of_a_nan_score_is_refused_not_zero() -> None:
    with pytest.raises(tm.InputError) as caught:  # it was 0.0, a perfectly wrong classifier
        sl.roc_auc(np.array([0, 1], np.int32), _q([np.nan, 0.5], "m"))
    assert caught.value.diagnostic.port == "score"
