"""Absolute vs difference (TM370-TM372): a body's arithmetic on offset units against its
declaration, and the correct bodies that must stay quiet."""

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]
S = Float[Array, ""]


def codes(p: tm.Pipeline) -> list[str]:
    return [d.code for d in p.check().diagnostics if d.code.startswith("TM37")]


def through(stage: tm.Stage, unit: str = "degC", out: str = "K", arity: int = 1) -> tm.Pipeline:
    """A pipeline feeding ``stage`` temperatures in ``unit`` and reading its result in ``out``."""
    if arity == 1:

        @tm.pipeline
        def one(t: Q[V, unit]) -> Q[V, out]:  # type: ignore[valid-type]
            return stage(t)

        return one

    @tm.pipeline
    def two(a: Q[V, unit], b: Q[V, unit]) -> Q[V, out]:  # type: ignore[valid-type]
        return stage(a, b)

    return two


# -- generic stages ('u bound to degC) -----------------------------------------------------------


@tm.stage
def rise_declared_absolute(t_out: Q[V, "'u"], t_in: Q[V, "'u"]) -> Q[V, "'u"]:
    return t_out - t_in


@tm.stage
def rise(t_out: Q[V, "'u"], t_in: Q[V, "'u"]) -> Q[V, "delta('u)"]:
    return t_out - t_in


@tm.stage
def anomaly_declared_absolute(t: Q[V, "'u"]) -> Q[V, "'u"]:
    return t - t.mean()


@tm.stage
def mean_declared_difference(t: Q[V, "'u"]) -> Q[V, "delta('u)"]:
    return jnp.full_like(t, t.mean())


@tm.stage
def relative(t0: Q[V, "'u"], t1: Q[V, "'u"]) -> V:
    return (t1 - t0) / t0


@tm.stage
def midpoint(a: Q[V, "'u"], b: Q[V, "'u"]) -> Q[V, "'u"]:
    return (a + b) / 2


@tm.stage
def clipped(t: Q[V, "'u"], low: Q[V, "'u"]) -> Q[V, "'u"]:
    return jnp.maximum(t, low)


def test_a_difference_declared_absolute_is_tm370() -> None:
    report = through(rise_declared_absolute, arity=2).check()
    (error,) = report.errors
    assert error.code == "TM370"
    assert "computes a difference of temperatures but declares its return value an absolute temperature" in str(error)
    assert "did not move by the offset (273.15)" in str(error)
    assert "delta('u)" in str(error.hint)
    assert codes(through(anomaly_declared_absolute)) == ["TM370"]


def test_an_absolute_value_declared_a_difference_is_tm370() -> None:
    report = through(mean_declared_difference).check()
    assert [d.code for d in report.errors] == ["TM370"]
    assert "computes an absolute temperature but declares" in report.errors[0].message


def test_a_ratio_of_temperatures_is_tm371() -> None:
    @tm.pipeline
    def warming(t0: Q[V, "degC"], t1: Q[V, "degC"]) -> V:
        return relative(t0, t1)

    report = warming.check()
    assert [d.code for d in report.errors] == ["TM371"]
    assert "depends on the zero of the temperature scale" in report.errors[0].message
    with pytest.raises(tm.BodyError):
        warming(
            tm.get_registry().Quantity(np.array([10.0], np.float32), "degC"),
            tm.get_registry().Quantity(np.array([12.0], np.float32), "degC"),
        )


@pytest.mark.parametrize(("stage", "arity", "out"), [(rise, 2, "K"), (midpoint, 2, "K"), (clipped, 2, "K")])
def test_frame_independent_bodies_are_quiet(stage: tm.Stage, arity: int, out: str) -> None:
    assert codes(through(stage, arity=arity, out=out)) == []


def test_only_offset_units_are_compared() -> None:
    # in K (or any unit without an offset), a difference and a temperature convert alike
    assert codes(through(rise_declared_absolute, unit="K", arity=2)) == []

    @tm.pipeline
    def kelvin(t0: Q[V, "K"], t1: Q[V, "K"]) -> V:
        return relative(t0, t1)

    assert codes(kelvin) == []


@pytest.mark.parametrize(
    "name",
    ["mean", "min", "max", "std", "quantile", "weighted_mean", "weighted_std"],
)
def test_the_stdlib_summaries_are_frame_independent(name: str) -> None:
    stage = getattr(tm.stdlib, name)
    if name == "quantile":

        @tm.pipeline
        def p(t: Q[V, "degC"], q: Float[Array, "k"]) -> Q[Float[Array, "k"], "K"]:
            return stage(t, q)

    elif name.startswith("weighted"):

        @tm.pipeline
        def p(t: Q[V, "degC"], w: V) -> Q[S, "K"]:  # type: ignore[misc]
            return stage(t, w)

    else:

        @tm.pipeline
        def p(t: Q[V, "degC"]) -> Q[S, "K"]:  # type: ignore[misc]
            return stage(t)

    report = p.check()
    assert report.ok, str(report)
    assert not [d for d in report.diagnostics if d.code.startswith("TM37")], str(report)


# -- concrete offset units -------------------------------------------------------------------------


@tm.stage
def daily_range(t: Q[Float[Array, "d h"], "degC"]) -> Q[Float[Array, "d"], "degC"]:
    return t.max(axis=1) - t.min(axis=1)


@tm.stage
def over_setpoint(t: Q[V, "degC"]) -> Q[V, "degC"]:
    return t - 20.0  # may mean 20 degC above the unit's zero: not provably a difference


@tm.stage
def frost(t: Q[V, "degC"]) -> Q[V, "degC"]:
    return jnp.minimum(t, 0.0)  # the unit's zero is meant


@tm.stage
def setpoint(t: Q[V, "degC"]) -> Q[V, "degC"]:
    return jnp.full_like(t, 21.0)  # a constant: does not depend on the inputs


def test_a_concrete_difference_declared_degc_is_tm370() -> None:
    @tm.pipeline
    def climate(t: Q[Float[Array, "d h"], "degC"]) -> Q[Float[Array, "d"], "K"]:
        return daily_range(t)

    report = climate.check()
    assert [d.code for d in report.errors] == ["TM370"]
    assert report.errors[0].hint == "declare it delta_degC"


@pytest.mark.parametrize("stage", [over_setpoint, frost, setpoint])
def test_concrete_stages_that_may_mean_their_zero_are_quiet(stage: tm.Stage) -> None:
    assert codes(through(stage)) == []


# -- what cannot be compared -------------------------------------------------------------------------


def test_a_body_that_returns_nan_on_the_made_up_values_is_an_info() -> None:
    @tm.stage
    def above(t: Q[V, "'u"], floor: Q[V, "'u"]) -> Q[V, "delta('u)"]:
        return jnp.log(floor - t) * 0 + (t - floor)

    report = through(above, arity=2).check()
    assert report.ok
    (info,) = [d for d in report.infos if d.code == "TM372"]
    assert "returned NaN" in info.message


def test_records_are_built_from_their_fields() -> None:
    class Span(NamedTuple):
        low: Q[V, "'u"]
        high: Q[V, "'u"]

    @tm.stage
    def width(span: Span) -> Q[V, "'u"]:
        return span.high - span.low

    @tm.pipeline
    def p(low: Q[V, "degC"], high: Q[V, "degC"]) -> Q[V, "K"]:
        return width(Span(low, high))

    assert codes(p) == ["TM370"]


def test_a_cached_comparison_reports_the_same_error_again() -> None:
    first = through(rise_declared_absolute, arity=2).check()
    second = through(rise_declared_absolute, arity=2).check()  # a new pipeline: the comparison is cached
    assert [d.code for d in first.errors] == [d.code for d in second.errors] == ["TM370"]
    assert codes(through(rise_declared_absolute, unit="degF", out="degR", arity=2)) == [
        "TM370"
    ]  # other units: compared anew
