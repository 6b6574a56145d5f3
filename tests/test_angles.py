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


def test_hz_into_rad_per_s_is_said_in_pints_default_registry() -> None:
    # the trade-off: pint's radian is dimensionless, so the conversion exists (by 1, the 2*pi
    # of w = 2*pi*f not applied); typedml builds the plan and says what it assumes
    @tm.pipeline
    def p(f: Q[V, "Hz"]) -> Q[V, "rad/s"]:
        return spin(f)

    report = p.check()
    assert report.ok
    assert [d.code for d in report.warnings] == ["TM142"]
    warning = report.warnings[0]
    assert "Hz -> rad/s multiplies by 1" in warning.message
    assert any("2π of ω = 2πf" in n for n in warning.notes)
    assert "angle_registry" in (warning.hint or "")


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


# -- TM142: conversions that take the radian as the number 1 (pint's default registry) -------


@tm.stage
def order_tracking(speed: Q[V, "Hz"]) -> Q[V, "Hz"]:
    return 2 * speed


def test_rpm_into_hz_is_said_with_its_factor_and_runs_as_pint_converts() -> None:
    @tm.pipeline
    def p(n: Q[V, "rpm"]) -> Q[V, "Hz"]:
        return order_tracking(n)

    report = p.check()
    assert report.ok and [d.code for d in report.warnings] == ["TM142"]
    warning = report.warnings[0]
    assert warning.severity == "warning"
    assert "rpm -> Hz multiplies by π/30" in warning.message
    assert any("1 rpm = 0.10472 (π/30) Hz here" in n and "0.0166667 (1/60) Hz" in n for n in warning.notes)
    assert warning.location is not None and warning.location.path == __file__
    registry = tm.get_registry()
    with pytest.warns(tm.ConversionWarning, match=r"TM142.*rpm -> Hz") as caught:
        out = p(quantity(registry, [60.0], "rpm"))
    assert caught[0].message.diagnostic.code == "TM142"  # type: ignore[attr-defined]
    assert caught[0].filename == __file__
    # the run converts as pint does (60 rpm = 2*pi rad/s = 6.28 "Hz"), then the stage doubles it
    assert np.allclose(np.asarray(out.magnitude), [4 * math.pi], rtol=1e-6)  # type: ignore[attr-defined]


def test_the_warning_is_an_error_where_warnings_are_errors() -> None:
    @tm.pipeline
    def p(n: Q[V, "rpm"]) -> Q[V, "Hz"]:
        return order_tracking(n)

    registry = tm.get_registry()
    for _ in range(2):  # said on every use, not swallowed after the first
        with pytest.raises(tm.ConversionWarning):
            p(quantity(registry, [60.0], "rpm"))


def test_like_units_and_angle_registries_are_not_said() -> None:
    @tm.stage
    def heading(theta: Q[V, "rad"]) -> Q[V, "rad"]:
        return theta

    @tm.pipeline
    def degrees(theta: Q[V, "deg"]) -> Q[V, "rad"]:
        return heading(theta)  # deg -> rad: both carry one angle, pi/180 is their ratio

    @tm.pipeline
    def speeds(n: Q[V, "rpm"]) -> Q[V, "rad/s"]:
        return spin(n)

    @tm.pipeline
    def frequencies(f: Q[V, "kHz"]) -> Q[V, "Hz"]:
        return order_tracking(f)

    for p in (degrees, speeds, frequencies):
        report = p.check()
        assert report.ok and not report.warnings, p
    with tm.use_registry(tm.angle_registry()):

        @tm.pipeline
        def hz(f: Q[V, "Hz"]) -> Q[V, "rad/s"]:
            return spin(f)

        report = hz.check()
        assert [d.code for d in report.errors] == ["TM102"]  # a unit error there, not an assumption


def test_an_ignore_comment_silences_it_on_its_line() -> None:
    @tm.pipeline
    def p(n: Q[V, "rpm"]) -> Q[V, "Hz"]:
        return order_tracking(n)  # typedml: ignore[TM142]

    report = p.check()
    assert report.ok and not report.warnings
    p(quantity(tm.get_registry(), [60.0], "rpm"))  # no warning: the suite makes warnings errors


def test_data_converted_at_the_boundary_is_said() -> None:
    registry = tm.get_registry()
    with pytest.warns(tm.ConversionWarning, match=r"input 'speed' of order_tracking\(\) is converted from rpm to Hz"):
        out = order_tracking(quantity(registry, [60.0], "rpm"))
    assert np.allclose(np.asarray(out.magnitude), [4 * math.pi], rtol=1e-6)  # type: ignore[attr-defined]
    with pytest.warns(tm.ConversionWarning, match="from dimensionless to rad"):
        tm.stdlib.sin(quantity(registry, [0.5], ""))  # a plain number read as radians


def test_quantity_to_says_it() -> None:
    with pytest.warns(tm.ConversionWarning, match=r"converting rpm to Hz takes the radian as the number 1"):
        hz = tm.Quantity(60.0, "rpm").to("Hz")
    assert math.isclose(float(hz.magnitude), 2 * math.pi)
    assert math.isclose(float(tm.Quantity(60.0, "rpm").to("rad/s").magnitude), 2 * math.pi)  # not said


def test_each_angle_registry_is_its_own_and_refuses_what_a_built_one_refuses() -> None:
    from typedml._angles import _build, has_angles

    first, second = tm.angle_registry(), tm.angle_registry()
    built = _build({})
    assert first is not second
    first.define("furlong_per_rad = 201.168 * meter / radian")  # type: ignore[attr-defined]
    with pytest.raises(pint.UndefinedUnitError):
        second.parse_units("furlong_per_rad")  # type: ignore[attr-defined]
    for registry in (first, second, built):
        assert has_angles(registry)
        with pytest.raises(pint.DimensionalityError):
            registry.Quantity(1.0, "Hz").to("rad/s")  # type: ignore[attr-defined]
        assert math.isclose(registry.Quantity(60.0, "rpm").to("rad/s").magnitude, 2 * math.pi)  # type: ignore[attr-defined]
    assert tm.angle_registry(autoconvert_offset_to_baseunit=True).autoconvert_offset_to_baseunit  # type: ignore[attr-defined]
