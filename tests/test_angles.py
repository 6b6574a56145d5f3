"""Angles as a dimension (opt-in registry) and the stdlib's angle stages."""

import math
from collections.abc import Iterator

import numpy as np
import pint
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]


@pytest.fixture
def angles() -> Iterator[object]:
    with tm.use_registry(tm.angle_registry()) as registry:
        yield registry


def quantity(registry: object, values: list[float], unit: str) -> object:
    return registry.Quantity(np.asarray(values, dtype=np.float32), unit)  # type: ignore[attr-defined]


@tm.stage
def spin(omega: Q[V, "rad/s"]) -> Q[V, "rad/s"]:
    return omega


def test_the_registry_has_an_angle_dimension(angles: object) -> None:
    from typedml._angles import has_angles

    assert has_angles(angles)
    assert not has_angles(pint.UnitRegistry())
    assert str(angles.parse_units("rad/s").dimensionality) == "[angle] / [time]"  # type: ignore[attr-defined]


def test_hz_into_rad_per_s_is_a_unit_error_with_angles(angles: object) -> None:
    @tm.pipeline
    def p(f: Q[V, "Hz"]) -> Q[V, "rad/s"]:
        return spin(f)

    report = p.check()
    assert [d.code for d in report.errors] == ["TM102"]
    assert "[angle]" in str(report)


def test_hz_into_rad_per_s_passes_in_pints_default_registry() -> None:
    # the trade-off: pint's radian is dimensionless, so the 2*pi is lost without a word
    @tm.pipeline
    def p(f: Q[V, "Hz"]) -> Q[V, "rad/s"]:
        return spin(f)

    assert p.check().ok


def test_rpm_converts_to_rad_per_s_with_two_pi_over_sixty(angles: object) -> None:
    @tm.pipeline
    def p(n: Q[V, "rpm"]) -> Q[V, "rad/s"]:
        return spin(n)

    out = p(quantity(angles, [60.0, 30.0], "rpm"))
    assert np.allclose(out.to("rad/s").magnitude, [2 * math.pi, math.pi], rtol=1e-6)


def test_rpm_and_hz_do_not_mix_with_angles(angles: object) -> None:
    @tm.stage
    def peak(f: Q[V, "Hz"]) -> Q[V, "Hz"]:
        return f

    @tm.pipeline
    def p(n: Q[V, "rpm"]) -> Q[V, "Hz"]:
        return peak(n)

    assert [d.code for d in p.check().errors] == ["TM102"]


def test_degrees_and_revolutions_convert(angles: object) -> None:
    @tm.pipeline
    def p(theta: Q[V, "deg"]) -> Q[V, "turn"]:
        return tm.stdlib.wrap_angle(theta)

    out = p(quantity(angles, [90.0, -90.0], "deg"))
    assert np.allclose(out.to("deg").magnitude, [90.0, -90.0], atol=1e-4)


def test_a_plain_number_into_a_trigonometric_stage_is_a_unit_error_with_angles(angles: object) -> None:
    @tm.pipeline
    def p(x: V) -> V:
        return tm.stdlib.sin(x)

    assert [d.code for d in p.check().errors] == ["TM102"]


def test_the_trigonometric_stages_take_degrees_in_either_registry() -> None:
    registry = tm.get_registry()

    @tm.pipeline
    def p(theta: Q[V, "deg"]) -> V:
        return tm.stdlib.sin(theta)

    out = p(quantity(registry, [30.0, 90.0], "deg"))
    assert np.allclose(np.asarray(getattr(out, "magnitude", out)), [0.5, 1.0], atol=1e-6)


def test_circular_mean_averages_directions() -> None:
    registry = tm.get_registry()
    out = tm.stdlib.circular_mean(quantity(registry, [359.0, 1.0], "deg"))
    assert abs(float(out.to("deg").magnitude)) < 1e-3


def test_arctan2_and_arcsin_return_angles(angles: object) -> None:
    out = tm.stdlib.arctan2(quantity(angles, [1.0], "m"), quantity(angles, [1.0], "m"))
    assert out.units == angles.parse_units("rad")  # type: ignore[attr-defined]
    assert np.allclose(out.to("deg").magnitude, [45.0])
    with pytest.raises(tm.InputError):
        tm.stdlib.arcsin(quantity(angles, [2.0], ""))


def test_angular_frequency_kind_refuses_a_hz_port_with_angles(angles: object) -> None:
    with pytest.raises(tm.StageDefinitionError) as info:

        @tm.stage
        def f(w: Q[V, "Hz", tm.Kind("angular_frequency")]) -> Q[V, "Hz"]:
            return w

    assert info.value.code == "TM030"


def test_frequency_and_activity_are_different_kinds() -> None:
    @tm.stage
    def dose(a: Q[V, "Bq", tm.Kind("activity")]) -> Q[V, "Bq"]:
        return a

    @tm.pipeline
    def p(f: Q[V, "Hz", tm.Kind("frequency")]) -> Q[V, "Bq"]:
        return dose(f)

    assert [d.code for d in p.check().errors] == ["TM140"]
