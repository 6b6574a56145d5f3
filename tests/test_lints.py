"""Body lints (TM160-TM164): each rule flags its mistake and keeps ordinary correct code quiet."""

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]
M = Float[Array, "n f"]


def lints(stage: tm.Stage) -> list[str]:
    report = stage.check()
    assert report.ok, str(report)
    return [d.code for d in report.warnings if d.code.startswith("TM16")]


# -- TM160: a reshape that permutes named axes --------------------------------------------------


@tm.stage
def flatten_wrong(x: Float[Array, "h w b"]) -> Float[Array, "b h*w"]:
    return x.reshape(x.shape[2], -1)


@tm.stage
def flatten_right(x: Float[Array, "h w b"]) -> Float[Array, "b h*w"]:
    return jnp.transpose(x, (2, 0, 1)).reshape(x.shape[2], -1)


@tm.stage
def swap_by_reshape(x: Float[Array, "t c"]) -> Float[Array, "c t"]:
    return jnp.reshape(x, (x.shape[1], x.shape[0]))


@tm.stage
def merge_in_order(x: Float[Array, "b h w"]) -> Float[Array, "b h*w"]:
    return x.reshape(x.shape[0], -1)


@tm.stage
def split_in_order(x: Float[Array, "b h*w"], like: Float[Array, "h w"]) -> Float[Array, "b h w"]:
    return x.reshape(x.shape[0], like.shape[0], like.shape[1])


@tm.stage
def unflatten_any_order(x: Float[Array, "h*w"], like: Float[Array, "h w"]) -> Float[Array, "w h"]:
    return x.reshape(like.shape[1], like.shape[0])  # one flat axis: its order is not known


@tm.stage
def fixed_sizes(x: Float[Array, "n 6"]) -> Float[Array, "3 n 2"]:
    return x.reshape(3, x.shape[0], 2)  # unnamed axes are not checked


@tm.stage
def square(x: Float[Array, "n n"]) -> Float[Array, "n n"]:
    return x.reshape(x.shape[1], x.shape[0])  # one name on two axes: nothing to say


@tm.stage
def silenced_reshape(x: Float[Array, "t c"]) -> Float[Array, "c t"]:
    return x.reshape(x.shape[1], x.shape[0])  # typedml: ignore[TM160]


def test_reshape_that_moves_a_named_axis_is_flagged() -> None:
    report = flatten_wrong.check()
    (warning,) = report.warnings
    assert warning.code == "TM160"
    assert warning.severity == "warning"
    assert "moves axis h past b: (h, w, b) -> (b, h*w)" in warning.message
    assert warning.location is not None and warning.location.line == flatten_wrong.fn.__code__.co_firstlineno + 2
    assert "jnp.transpose" in str(warning.hint)
    assert lints(swap_by_reshape) == ["TM160"]


@pytest.mark.parametrize(
    "stage", [flatten_right, merge_in_order, split_in_order, unflatten_any_order, fixed_sizes, square, silenced_reshape]
)
def test_reshapes_that_keep_the_order_are_quiet(stage: tm.Stage) -> None:
    assert lints(stage) == []


# -- TM161: unit-conversion literals -----------------------------------------------------------------


@tm.stage
def velocity_twice(d: Q[V, "m"], dt: Q[V, "s"]) -> Q[V, "m/s"]:
    return d / (dt / 1000.0)  # dt is already in s


@tm.stage
def velocity_declared(d: Q[V, "m"], dt: Q[V, "ms"]) -> Q[V, "m/s"]:
    return d / (dt / 1000.0)  # the signature says ms in, m/s out: the factor is required


@tm.stage
def hours_twice(t: Q[V, "h"], rate: Q[V, "kW"]) -> Q[V, "kWh"]:
    return rate * t / 3600


@tm.stage
def heading_twice(heading: Q[V, "rad"], speed: Q[V, "m/s"]) -> Q[V, "m/s"]:
    return speed * jnp.sin(heading * np.pi / 180)


@tm.stage
def heading_declared(heading: Q[V, "deg"], speed: Q[V, "m/s"]) -> Q[V, "m/s"]:
    return speed * jnp.sin(heading * np.pi / 180)


@tm.stage
def heading_deg2rad(heading: Q[V, "rad"], speed: Q[V, "m/s"]) -> Q[V, "m/s"]:
    return speed * jnp.sin(jnp.deg2rad(heading))  # jnp's conversion, applied to radians


@tm.stage
def pressure_twice(p: Q[V, "Pa"], p0: Q[Float[Array, ""], "Pa"]) -> Q[V, "m"]:
    pascal = p * 100  # written for hPa
    return 44330.0 * (1 - (pascal / p0) ** 0.1903)  # a 0.19th power needs a pure number


@tm.stage
def pressure_right(p: Q[V, "Pa"], p0: Q[Float[Array, ""], "Pa"]) -> Q[V, "m"]:
    return 44330.0 * (1 - (p / p0) ** 0.1903)


@tm.stage
def kelvin_twice(t: Q[V, "K"]) -> Q[V, "K"]:
    return t + 273.15


@tm.stage
def kelvin_declared(t: Q[V, "degC"]) -> Q[V, "K"]:
    return t + 273.15


@tm.stage
def water_pressure(h: Q[V, "m"]) -> Q[V, "Pa"]:
    return 1000.0 * 9.81 * h  # 1000 kg/m**3: not provably a pure number


@tm.stage
def decay(t: Q[V, "s"]) -> V:
    return jnp.exp(-t / 60.0)  # exp needs a pure number: 60 is a time constant in s


@tm.stage
def thousands(count: V) -> V:
    return count / 1000.0  # dimensionless: no unit to convert


@tm.stage
def clip(x: Q[V, "m"]) -> Q[V, "m"]:
    return jnp.where(x > 1000.0, 1000.0, x)  # a threshold in m


@tm.stage
def hourly(x: Q[Float[Array, "h 60"], "s"]) -> Q[Float[Array, "h"], "s"]:
    per_minute = 60  # the axis size; the mean divides by it inside jnp
    return x.mean(axis=1) + 0 * per_minute


@tm.stage
def angular(f: Q[V, "Hz"]) -> Q[V, "rad/s"]:
    return 2 * jnp.pi * f  # pint's default radian is 1: 2*pi is the rad-per-cycle constant


@tm.stage
def silenced_factor(d: Q[V, "m"], dt: Q[V, "s"]) -> Q[V, "m/s"]:
    return d / (dt / 1000.0)  # typedml: ignore[TM161]


@tm.stage
def logged(x: Q[V, "m"]) -> V:
    return jnp.log(x / 1000.0)  # the log of a length against a 1000 m reference


def test_a_factor_applied_twice_is_flagged() -> None:
    report = velocity_twice.check()
    (warning,) = report.warnings
    assert warning.code == "TM161"
    assert "divides port 'dt' (s) by 1000, a unit conversion factor (kilo/milli prefix)" in warning.message
    assert "proves this factor a pure number" in str(warning)


@pytest.mark.parametrize(
    ("stage", "text"),
    [
        (hours_twice, "by 3600"),
        (heading_twice, "by π/180"),
        (heading_deg2rad, "by π/180"),
        (pressure_twice, "by 100"),
        (kelvin_twice, "adds 273.15 to port 't' (K)"),
    ],
)
def test_conversion_factors_are_flagged(stage: tm.Stage, text: str) -> None:
    (warning,) = stage.check().warnings
    assert warning.code == "TM161"
    assert text in warning.message


@pytest.mark.parametrize(
    "stage",
    [
        velocity_declared,
        heading_declared,
        pressure_right,
        kelvin_declared,
        water_pressure,
        decay,
        thousands,
        clip,
        hourly,
        angular,
        silenced_factor,
        logged,
    ],
)
def test_constants_that_are_not_hidden_conversions_are_quiet(stage: tm.Stage) -> None:
    assert lints(stage) == []


def test_with_angles_as_a_dimension_a_second_two_pi_is_flagged() -> None:
    with tm.use_registry(tm.angle_registry()):

        @tm.stage
        def omega_twice(w: Q[V, "rad/s"]) -> Q[V, "rad/s"]:
            return 2 * math.pi * w

        @tm.stage
        def omega(f: Q[V, "1/s"]) -> Q[V, "rad/s"]:
            return 2 * math.pi * f  # needs rad per cycle: a dimensional constant here

        assert lints(omega_twice) == ["TM161"]
        assert lints(omega) == []


# -- TM162: a statistic over an axis the signature keeps -------------------------------------------


@tm.stage
def spread_per_sample(x: Q[M, "'u"]) -> Q[Float[Array, "f"], "delta('u)"]:
    centred = x - x.mean(axis=1, keepdims=True)
    return jnp.sqrt((centred**2).mean(axis=0))


@tm.stage
def spread_per_feature(x: Q[M, "'u"]) -> Q[Float[Array, "f"], "delta('u)"]:
    centred = x - x.mean(axis=0, keepdims=True)
    return jnp.sqrt((centred**2).mean(axis=0))


@tm.stage
def proportions(x: Q[M, "'u"]) -> Float[Array, "f"]:
    shares = x / x.sum(axis=1, keepdims=True)  # each row to proportions: a division
    return shares.mean(axis=0)


@tm.stage
def layer_norm(x: M) -> M:
    return (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)  # no axis is summarised


@tm.stage
def library_centring(x: Q[M, "'u"]) -> Q[Float[Array, "f"], "delta('u)**2"]:
    return jnp.var(x, axis=0)


def test_centring_on_a_kept_axis_in_a_summarising_stage_is_flagged() -> None:
    (warning,) = spread_per_sample.check().warnings
    assert warning.code == "TM162"
    assert "statistic over axis f, which every output keeps; its signature summarises over n" in warning.message


@pytest.mark.parametrize("stage", [spread_per_feature, proportions, layer_norm, library_centring])
def test_statistics_that_match_the_signature_are_quiet(stage: tm.Stage) -> None:
    assert lints(stage) == []


# -- TM163: broadcasting that lines an axis up with another of the same size -------------------------


@tm.stage
def row_normalise_wrong(a: Float[Array, "n n"]) -> Float[Array, "n n"]:
    return a / a.sum(axis=1)  # row sums, lined up with the columns


@tm.stage
def squared_error_wrong(pred: Q[Float[Array, "n 1"], "m"], y: Q[V, "m"]) -> Q[Float[Array, ""], "m**2"]:
    return ((pred - y) ** 2).mean()  # (n, 1) - (n,) is (n, n)


@tm.stage
def row_normalise(a: Float[Array, "n n"]) -> Float[Array, "n n"]:
    return a / a.sum(axis=1, keepdims=True)


@tm.stage
def column_normalise(a: Float[Array, "n n"]) -> Float[Array, "n n"]:
    return a / a.sum(axis=0)  # column sums on the columns: what broadcasting lines up


@tm.stage
def squared_error(pred: Q[Float[Array, "n 1"], "m"], y: Q[V, "m"]) -> Q[Float[Array, ""], "m**2"]:
    return ((pred[:, 0] - y) ** 2).mean()


@tm.stage
def differences(x: V) -> Float[Array, "n n"]:
    return x[:, None] - x  # an outer difference asked for: the size-1 axis is written in the body


@tm.stage
def squared_distances(x: M) -> Float[Array, "n n"]:
    sq = (x**2).sum(axis=1)
    return sq[:, None] + sq - 2 * x @ x.T


@tm.stage
def scale_columns(a: Float[Array, "n n"], w: V) -> Float[Array, "n n"]:
    return a * w  # another input: nothing says which axis w belongs to


def test_broadcasting_a_row_statistic_onto_the_columns_is_flagged() -> None:
    (warning,) = row_normalise_wrong.check().warnings
    assert warning.code == "TM163"
    assert "lines axis 0 of a (size n) up with axis 1 of a: (n, n) with (n), broadcast as (1, n)" in warning.message
    assert warning.location is not None and warning.location.line == row_normalise_wrong.spec.location.line + 2
    assert "keepdims=True" in (warning.hint or "")


def test_a_declared_size_one_axis_broadcast_against_its_own_size_is_flagged() -> None:
    (warning,) = squared_error_wrong.check().warnings
    assert warning.code == "TM163"
    assert "up with the size-1 axis 1 that pred declares: (n, 1) with (n), broadcast as (1, n)" in warning.message


@pytest.mark.parametrize(
    "stage", [row_normalise, column_normalise, squared_error, differences, squared_distances, scale_columns, layer_norm]
)
def test_broadcasting_that_keeps_axes_apart_is_quiet(stage: tm.Stage) -> None:
    assert lints(stage) == []


def test_an_ignore_comment_silences_the_broadcast_lint() -> None:
    @tm.stage
    def symmetric(a: Float[Array, "n n"]) -> Float[Array, "n n"]:
        return a / a.sum(axis=1)  # typedml: ignore[TM163]

    assert lints(symmetric) == []


# -- TM164: a statistic divided by the size of an axis it keeps ---------------------------------------


@tm.stage
def standard_error_wrong(x: Q[M, "'u"]) -> Q[Float[Array, "f"], "delta('u)"]:
    return x.std(axis=0, ddof=1) / jnp.sqrt(x.shape[1])


@tm.stage
def standard_error(x: Q[M, "'u"]) -> Q[Float[Array, "f"], "delta('u)"]:
    return x.std(axis=0, ddof=1) / jnp.sqrt(x.shape[0])


@tm.stage
def grand_mean(x: M) -> Float[Array, ""]:
    return x.sum() / (x.shape[0] * x.shape[1])


@tm.stage
def scaled_scores(q: Float[Array, "n d"], k: Float[Array, "m d"]) -> Float[Array, "n m"]:
    return q @ k.T / jnp.sqrt(q.shape[1])  # a contraction over d, scaled by d


@tm.stage
def per_row_share(x: M) -> M:
    return x / x.shape[1]  # no statistic: a size alone


def test_a_statistic_divided_by_the_size_of_a_kept_axis_is_flagged() -> None:
    (warning,) = standard_error_wrong.check().warnings
    assert warning.code == "TM164"
    assert "divides a statistic over axis n by the size of axis f, which the statistic keeps" in warning.message


@pytest.mark.parametrize("stage", [standard_error, grand_mean, scaled_scores, per_row_share, spread_per_feature])
def test_statistics_divided_by_their_own_sizes_are_quiet(stage: tm.Stage) -> None:
    assert lints(stage) == []


# -- in pipelines ------------------------------------------------------------------------------------


def test_pipeline_check_reports_lints_of_stages_checked_together() -> None:
    def make() -> tuple[tm.Stage, tm.Stage]:
        @tm.stage
        def a(d: Q[V, "m"], dt: Q[V, "s"]) -> Q[V, "m/s"]:
            return d / (dt / 1000.0)

        @tm.stage
        def b(x: Float[Array, "h w b"]) -> Float[Array, "b h*w"]:
            return x.reshape(x.shape[2], -1)

        return a, b

    a, b = make()

    class Out(NamedTuple):
        v: Q[V, "m/s"]
        flat: Float[Array, "b h*w"]

    @tm.pipeline
    def p(d: Q[V, "m"], dt: Q[V, "ms"], x: Float[Array, "h w b"]) -> Out:
        return Out(a(d, dt), b(x))

    report = p.check()
    assert sorted(d.code for d in report.warnings) == ["TM160", "TM161"], str(report)


def test_a_body_with_errors_is_not_linted() -> None:
    @tm.stage
    def wrong(x: Float[Array, "h w b"]) -> Float[Array, "b w"]:
        return x.reshape(x.shape[2], -1)

    report = wrong.check()
    assert [d.code for d in report.diagnostics] == ["TM301"]


def test_lints_are_cached_with_the_body_check() -> None:
    first = velocity_twice.check().warnings
    second = velocity_twice.check().warnings
    assert first == second


def test_a_traced_value_from_jit_in_the_body_is_followed() -> None:
    @jax.jit
    def magnitude(x: jax.Array) -> jax.Array:
        return jnp.abs(x)

    @tm.stage
    def f(d: Q[V, "m"], dt: Q[V, "s"]) -> Q[V, "m/s"]:
        return magnitude(d) / (dt / 1000.0)

    assert lints(f) == ["TM161"]


def test_a_cached_body_check_reports_its_lints_in_every_pipeline() -> None:
    def make() -> tm.Pipeline:
        @tm.pipeline
        def p(d: Q[V, "m"], dt: Q[V, "ms"]) -> Q[V, "m/s"]:
            return velocity_twice(d, dt)

        return p

    assert [d.code for d in make().check().warnings] == ["TM161"]
    assert [d.code for d in make().check().warnings] == ["TM161"]
