"""Debug runs, checked runs and run reports, used the way a user hunting a wrong number would."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def scale(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return x * 2.0


@tm.stage
def shift(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return x - 3.0


@tm.stage
def log_ratio(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], ""]:
    return jnp.log(x / 1.0)  # NaN where x < 0: the planted bug


@tm.stage
def square(x: Q[Float[Array, "n"], ""]) -> Q[Float[Array, "n"], ""]:
    return x * x


@tm.stage
def total(x: Q[Float[Array, "n"], ""]) -> Q[Float[Array, ""], ""]:
    return jnp.sum(x)


@tm.pipeline
def five(x: Q[Float[Array, "n"], "km"]) -> Q[Float[Array, ""], ""]:
    """Five stages; the third turns negative lengths into NaN, which flows to the end."""
    return total(square(log_ratio(shift(scale(x)))))


def km(values, unit="km"):
    return tm.get_registry().Quantity(np.asarray(values, dtype=np.float32), unit)


def line_of(text: str) -> int:
    from pathlib import Path

    return next(i for i, line in enumerate(Path(__file__).read_text().splitlines(), 1) if text in line)


def test_fused_run_returns_a_plausible_nan_without_saying_where():
    out = five(km([0.001, 0.004, 0.0005]))  # 1 m, 4 m and 0.5 m: two go negative after the shift
    assert np.isnan(out.magnitude)


def test_debug_names_the_stage_that_made_the_nan():
    with pytest.raises(tm.NonFiniteError) as info:
        five.debug(x=km([0.001, 0.004, 0.0005]))
    (d,) = info.value.diagnostics
    assert (d.code, d.stage, d.port) == ("TM501", "log_ratio", "return")
    assert d.message == "stage 'log_ratio' produced non-finite values in 'log_ratio' from finite inputs"
    assert d.location is not None and d.location.line == line_of("return total(square(log_ratio(")
    assert "2 NaN and 0 Inf among 3 values, shape (3,)" in d.notes
    assert "first at index (0,), (2,)" in d.notes


def test_checked_jit_names_the_same_stage():
    with pytest.raises(tm.NonFiniteError) as info:
        five.checked(km([0.001, 0.004, 0.0005]))
    (d,) = info.value.diagnostics
    assert (d.code, d.stage, d.port) == ("TM501", "log_ratio", "return")
    assert "2 NaN and 0 Inf among 3 values, shape (3,)" in d.notes  # re-run eagerly to name the values
    # finite data: the checked run returns what the plain run returns
    good = km([0.004, 0.005, 0.01])
    assert float(five.checked(good).magnitude) == pytest.approx(float(five(good).magnitude))


def test_nan_in_an_input_is_the_data_not_a_stage():
    bad = km([0.004, np.nan, 0.01])
    for run in (five.debug, five.checked):
        with pytest.raises(tm.NonFiniteError) as info:
            run(bad)
        (d,) = info.value.diagnostics
        assert (d.code, d.port) == ("TM502", "x")


def test_debug_keeps_every_value_in_its_unit():
    run = five.debug(km([0.004, 0.005, 0.01]))
    assert list(run) == ["x", "scale", "shift", "log_ratio", "square", "total"]
    assert run.units["x"] == "km" and run.units["scale"] == "m" and run.units["log_ratio"] == "dimensionless"
    # each value in the unit its producer declares: km -> m is converted on the edge into scale
    assert str(run["x"].units) == "kilometer" and str(run["scale"].units) == "meter"
    np.testing.assert_allclose(run["scale"].magnitude, [8.0, 10.0, 20.0], rtol=1e-6)
    np.testing.assert_allclose(run["shift"].magnitude, [5.0, 7.0, 17.0], rtol=1e-6)
    expected = np.sum(np.log(np.array([5.0, 7.0, 17.0])) ** 2)
    assert float(run.outputs.magnitude) == pytest.approx(expected, rel=1e-5)
    assert float(run.outputs.magnitude) == pytest.approx(float(five(km([0.004, 0.005, 0.01])).magnitude))


@tm.stage
def trims_long(x: Float[Array, "n"]) -> Float[Array, "n"]:
    if x.shape[0] >= 100:  # a size branch: the body check can only sample small sizes (TM350)
        return x[:-1]
    return x


@tm.pipeline
def trimmed(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return trims_long(x)


def test_debug_checks_each_stage_call_against_its_signature():
    assert [d.code for d in trimmed.check().diagnostics] == ["TM350"]
    assert trimmed.debug(jnp.ones(5)).outputs.shape == (5,)
    with pytest.raises(tm.BodyError) as info:
        trimmed.debug(jnp.ones(100))
    (d,) = info.value.diagnostics
    assert (d.code, d.stage) == ("TM306", "trims_long")
    assert d.message == "at run time, stage 'trims_long' does not match its signature"
    assert any("100" in note and "99" in note for note in d.notes), d.notes


def test_summary_table_and_statistics():
    values = np.linspace(2.0, 3.0, 50, dtype=np.float32)
    report = five.debug(km(values / 1000)).summary()
    shift_stats = report["shift"]
    expected = values * 2 - 3
    assert shift_stats.unit == "m" and shift_stats.count == 50 and shift_stats.nan == 0
    assert shift_stats.mean == pytest.approx(expected.mean(), rel=1e-5)
    assert shift_stats.std == pytest.approx(expected.std(), rel=1e-4)
    assert (shift_stats.min, shift_stats.max) == pytest.approx((expected.min(), expected.max()), rel=1e-5)
    table = report.table().splitlines()
    assert table[0].split() == ["value", "unit", "shape", "count", "min", "max", "mean", "std", "NaN", "Inf"]
    assert [row.split()[0] for row in table[2:]] == ["x", "scale", "shift", "log_ratio", "square", "total"]


def test_comparing_two_runs_flags_the_shifted_value_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 1.0, 400).astype(np.float32)
    same = rng.normal(5.0, 1.0, 400).astype(np.float32)
    moved = rng.normal(6.0, 1.0, 400).astype(np.float32)

    @tm.stage
    def ident(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return x

    @tm.stage
    def centre(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return x - jnp.mean(x)  # removes the shift: downstream of it nothing moved

    @tm.pipeline
    def two(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return centre(ident(x))

    reference = two.debug(km(train, "m")).summary()
    assert reference.compare(two.debug(km(same, "m")).summary()).shifted == []
    comparison = reference.compare(two.debug(km(moved, "m")).summary())
    assert comparison.shifted == ["x", "ident"]
    assert comparison["ident"].smd == pytest.approx(1.0, abs=0.15)
    assert not comparison["centre"].shifted
    # the same data given in mm is the same distribution: units are respected
    in_mm = reference.compare(two.debug(km(same * 1000, "mm")).summary())
    assert in_mm.shifted == []
    assert "SHIFTED" in comparison.table()


def test_record_is_one_compiled_run_with_every_value():
    data = km([0.004, 0.005, 0.01])
    eager, compiled = five.debug(data), five.record(data)
    assert list(compiled) == list(eager) and compiled.units == eager.units
    for name in eager:
        np.testing.assert_allclose(np.asarray(compiled[name].magnitude), np.asarray(eager[name].magnitude), rtol=1e-5)
    assert str(compiled["scale"].units) == "meter"
    five.record(km([0.001, 0.002, 0.003, 0.02]))  # a new size: traced again, the values still line up
    assert five.record(km([0.001, 0.004, 0.0005])).summary()["log_ratio"].nan == 2  # no NaN search: a record
    plan = five._planner.plan()
    assert plan.memo("record", lambda: None) is not None  # one recorder, made by the first record


def test_a_checked_failure_the_eager_rerun_misses_is_still_reported(monkeypatch):
    bad = km([0.001, 0.004, 0.0005])
    monkeypatch.setattr("typedml._checked.observed_run", lambda *a, **k: None)  # the re-run finds nothing
    with pytest.raises(tm.NonFiniteError) as info:
        five.checked(bad)
    (d,) = info.value.diagnostics
    assert (d.code, d.stage, d.port) == ("TM501", "log_ratio", "return")
    assert any("an eager re-run did not reproduce it" in note for note in d.notes)
