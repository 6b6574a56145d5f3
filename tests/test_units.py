"""Unit conversions checked against pint's own: prefixes, compound, affine, ratios, custom units.

Every expected value is computed by pint (``Quantity(x, src).to(dst)``) in float64 from the same
float32 data; typedml computes in float32 under ``jax.jit``, so comparisons allow float32
rounding of the values and of any affine offset involved.
"""

import contextlib
from collections.abc import Iterator
from typing import Any

import jax.numpy as jnp
import numpy as np
import pint
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q

EPS32 = float(np.finfo(np.float32).eps)

HYPOTHESIS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def float32_arrays(low: float = -1e3, high: float = 1e3) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(
        np.float32,
        st.integers(1, 4),
        elements=st.floats(low, high, width=32, allow_nan=False, allow_infinity=False),
    )


def qty(values: Any, unit: str, dtype: Any = np.float32, registry: Any = None) -> Any:
    return (registry or tm.get_registry()).Quantity(np.asarray(values, dtype=dtype), unit)


def pint_to(values: Any, src: str, dst: str, registry: Any = None) -> np.ndarray:
    """What pint says ``values`` in ``src`` are in ``dst`` (float64)."""
    reg = registry or tm.get_registry()
    return np.asarray(reg.Quantity(np.asarray(values, dtype=np.float64), src).to(dst).magnitude)


def affine_parts(src: str, dst: str, registry: Any = None) -> tuple[float, float]:
    """pint's ``(scale, offset)`` for ``src -> dst``."""
    offset = float(pint_to(0.0, src, dst, registry))
    return float(pint_to(1.0, src, dst, registry)) - offset, offset


def assert_close32(actual: Any, expected: Any, *, inner: float = 0.0) -> None:
    """Equal up to float32 rounding; ``inner`` bounds intermediate magnitudes (offsets)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    size = max(1.0, float(np.max(np.abs(expected), initial=0.0)), abs(inner))
    np.testing.assert_allclose(actual, expected, rtol=8 * EPS32, atol=16 * EPS32 * size)


def assert_quantity(out: Any, unit: str, registry: Any = None) -> None:
    reg = registry or tm.get_registry()
    assert isinstance(out, pint.Quantity)
    assert out._REGISTRY is reg
    assert out.units == reg.Unit(unit), f"{out.units} != {unit}"


# --- stages shared by the property tests (module level, so compiled once) -----------------


@tm.stage
def in_volts(x: Q[Float[Array, "n"], "V"]) -> Q[Float[Array, "n"], "V"]:
    return x


@tm.pipeline
def millivolts_in(x: Q[Float[Array, "n"], "mV"]) -> Q[Float[Array, "n"], "kV"]:
    return in_volts(x)


@tm.stage
def in_mps(v: Q[Float[Array, "n"], "m/s"]) -> Q[Float[Array, "n"], "m/s"]:
    return v


@tm.pipeline
def speed(v: Q[Float[Array, "n"], "km/h"]) -> Q[Float[Array, "n"], "mile/hour"]:
    return in_mps(v)


@tm.stage
def in_kelvin(t: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "K"]:
    return t


@tm.stage
def in_fahrenheit(t: Q[Float[Array, "n"], "degF"]) -> Q[Float[Array, "n"], "degF"]:
    return t


@tm.pipeline
def fahrenheit_to_celsius(t: Q[Float[Array, "n"], "degF"]) -> Q[Float[Array, "n"], "degC"]:
    return in_kelvin(in_fahrenheit(t))  # degF -> K on the edge, K -> degC at the output


# --- prefixes and compound units ----------------------------------------------------------


@HYPOTHESIS
@given(x=float32_arrays())
def test_prefix_millivolts_to_volts_at_a_stage(x: np.ndarray) -> None:
    out = in_volts(qty(x, "mV"))
    assert_quantity(out, "V")
    assert_close32(out.magnitude, pint_to(x, "mV", "V"))


@HYPOTHESIS
@given(x=float32_arrays())
def test_prefix_chain_through_a_pipeline(x: np.ndarray) -> None:
    # data in uV, pipeline input in mV, stage in V, output in kV: three conversions
    out = millivolts_in(qty(x, "uV"))
    assert_quantity(out, "kV")
    assert_close32(out.magnitude, pint_to(x, "uV", "kV"))


@HYPOTHESIS
@given(x=float32_arrays(0, 300))
def test_compound_kmh_to_ms_to_mph(x: np.ndarray) -> None:
    out = speed(qty(x, "km/h"))
    assert_quantity(out, "mile/hour")
    assert_close32(out.magnitude, pint_to(x, "km/h", "mile/hour"))
    # the stage itself saw m/s: check that edge's factor against pint
    edge = speed.graph.get_edge_data("input:v", "in_mps")["v"]
    assert edge["conversion"][0] == pytest.approx(float(pint_to(1.0, "km/h", "m/s")), rel=1e-12)
    assert edge["conversion"][1] == 0.0


def test_compound_stage_sees_meters_per_second() -> None:
    @tm.stage
    def kinetic(m: Q[Float[Array, "n"], "kg"], v: Q[Float[Array, "n"], "m/s"]) -> Q[Float[Array, "n"], "J"]:
        return 0.5 * m * v * v

    m = np.array([1.0, 2.0, 1500.0], np.float32)
    v = np.array([3.6, 36.0, 100.0], np.float32)
    out = kinetic(qty(m, "g"), qty(v, "km/h"))
    assert_quantity(out, "J")
    reg = tm.get_registry()
    expected = (0.5 * reg.Quantity(m.astype(np.float64), "g") * reg.Quantity(v.astype(np.float64), "km/h") ** 2).to("J")
    assert_close32(out.magnitude, expected.magnitude)


# --- affine units ------------------------------------------------------------------------

TEMPERATURES = np.array([-459.67, -273.15, -40.0, 0.0, 32.0, 37.0, 98.6, 100.0, 212.0, 273.15, 1000.0], np.float32)
AFFINE_PAIRS = [
    ("degC", "K"),
    ("K", "degC"),
    ("degF", "K"),
    ("K", "degF"),
    ("degC", "degF"),
    ("degF", "degC"),
    ("degR", "degC"),
]


def _identity_stage(unit: str) -> tm.Stage[..., Any]:
    @tm.stage
    def hold(t: Q[Float[Array, "n"], unit]) -> Q[Float[Array, "n"], unit]:
        return t

    return hold


@pytest.mark.parametrize(("src", "dst"), AFFINE_PAIRS, ids=[f"{a}-to-{b}" for a, b in AFFINE_PAIRS])
def test_affine_at_pipeline_input(src: str, dst: str) -> None:
    hold = _identity_stage(dst)

    @tm.pipeline
    def p(t: Q[Float[Array, "n"], dst]) -> Q[Float[Array, "n"], dst]:
        return hold(t)

    out = p(qty(TEMPERATURES, src))  # converted at the boundary
    assert_quantity(out, dst)
    assert_close32(out.magnitude, pint_to(TEMPERATURES, src, dst), inner=affine_parts(src, dst)[1])


@pytest.mark.parametrize(("src", "dst"), AFFINE_PAIRS, ids=[f"{a}-to-{b}" for a, b in AFFINE_PAIRS])
def test_affine_on_internal_edge(src: str, dst: str) -> None:
    first, second = _identity_stage(src), _identity_stage(dst)

    @tm.pipeline
    def p(t: Q[Float[Array, "n"], src]) -> Q[Float[Array, "n"], dst]:
        return second(first(t))

    scale, offset = p.graph.get_edge_data("hold", "hold_2")["t"]["conversion"]
    want_scale, want_offset = affine_parts(src, dst)
    assert scale == pytest.approx(want_scale, rel=1e-12)
    assert offset == pytest.approx(want_offset, rel=1e-12, abs=1e-12)
    out = p(qty(TEMPERATURES, src))
    assert_quantity(out, dst)
    assert_close32(out.magnitude, pint_to(TEMPERATURES, src, dst), inner=offset)


@pytest.mark.parametrize(("src", "dst"), AFFINE_PAIRS, ids=[f"{a}-to-{b}" for a, b in AFFINE_PAIRS])
def test_affine_at_pipeline_output(src: str, dst: str) -> None:
    hold = _identity_stage(src)

    @tm.pipeline
    def p(t: Q[Float[Array, "n"], src]) -> Q[Float[Array, "n"], dst]:
        return hold(t)

    out = p(qty(TEMPERATURES, src))
    assert_quantity(out, dst)
    assert_close32(out.magnitude, pint_to(TEMPERATURES, src, dst), inner=affine_parts(src, dst)[1])


@HYPOTHESIS
@given(t=float32_arrays(-400, 1000))
def test_affine_fahrenheit_to_celsius_via_kelvin(t: np.ndarray) -> None:
    out = fahrenheit_to_celsius(qty(t, "degF"))
    assert_quantity(out, "degC")
    assert_close32(out.magnitude, pint_to(t, "degF", "degC"), inner=460.0)
    # data given in K is converted to degF at the boundary first
    out_k = fahrenheit_to_celsius(qty(t + np.float32(500), "K"))
    assert_close32(out_k.magnitude, pint_to(t + np.float32(500), "K", "degC"), inner=1000.0)


def test_affine_passes_through_plain_unit_variable() -> None:
    @tm.stage
    def hold_u(t: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u"]:
        return t

    @tm.pipeline
    def p(t: Q[Float[Array, "n"], "degF"]) -> Q[Float[Array, "n"], "K"]:
        return in_kelvin(hold_u(t))  # 'u := degF; degF -> K on the edge after it

    out = p(qty(TEMPERATURES, "degF"))
    assert_quantity(out, "K")
    assert_close32(out.magnitude, pint_to(TEMPERATURES, "degF", "K"), inner=460.0)
    # called directly, a unit-polymorphic stage returns the unit it was given
    direct = hold_u(qty(TEMPERATURES, "degC"))
    assert_quantity(direct, "degC")
    assert_close32(direct.magnitude, TEMPERATURES)


def test_mean_of_celsius_reported_in_kelvin() -> None:
    @tm.pipeline
    def p(t: Q[Float[Array, "n"], "degC"]) -> Q[Float[Array, ""], "K"]:
        return tm.stdlib.mean(t)

    t = np.array([10.0, 20.0, 36.6], np.float32)
    out = p(qty(t, "degC"))
    assert_quantity(out, "K")
    assert_close32(out.magnitude, tm.get_registry().Quantity(t.astype(np.float64), "degC").mean().to("K").magnitude)


def test_std_of_celsius_is_a_temperature_difference() -> None:
    @tm.pipeline
    def p(t: Q[Float[Array, "n"], "degC"]) -> Q[Float[Array, ""], "K"]:
        return tm.stdlib.std(t)

    t = np.array([10.0, 20.0], np.float32)
    expected = tm.get_registry().Quantity(t.astype(np.float64), "degC").std().to("K")  # 5 K (pint: delta_degC)
    out = p(qty(t, "degC"))
    assert_quantity(out, "K")
    assert_close32(out.magnitude, expected.magnitude)
    direct = tm.stdlib.std(qty(t, "degF"))
    assert_quantity(direct, "delta_degF")
    assert_close32(direct.magnitude, 5.0)


def test_variance_of_celsius_is_a_squared_difference() -> None:
    @tm.pipeline
    def p(t: Q[Float[Array, "n"], "degC"]) -> Q[Float[Array, ""], "mK**2"]:
        return tm.stdlib.variance(t)

    t = np.array([10.0, 20.0, 40.0], np.float32)
    reg = tm.get_registry()
    expected = reg.Quantity(np.var(t.astype(np.float64)), "delta_degC**2").to("mK**2")
    out = p(qty(t, "degC"))
    assert_quantity(out, "mK**2")
    assert_close32(out.magnitude, expected.magnitude)


DELTA_PAIRS = [("delta_degF", "delta_degC"), ("delta_degC", "K"), ("K", "delta_degF"), ("delta_degC", "mK")]


@pytest.mark.parametrize(("src", "dst"), DELTA_PAIRS, ids=[f"{a}-to-{b}" for a, b in DELTA_PAIRS])
def test_temperature_differences_convert_without_offset(src: str, dst: str) -> None:
    hold = _identity_stage(dst)
    out = hold(qty(TEMPERATURES, src))
    assert_quantity(out, dst)
    assert_close32(out.magnitude, pint_to(TEMPERATURES, src, dst))
    assert affine_parts(src, dst)[1] == 0.0  # pint agrees there is no offset


# --- dimensionless ratios ------------------------------------------------------------------


def test_ratio_into_unitless_port_at_input() -> None:
    @tm.stage
    def plain(r: Float[Array, "n"]) -> Float[Array, "n"]:
        return r

    x = np.array([1.0, 250.0, 1000.0], np.float32)
    out = plain(qty(x, "m/km"))
    assert not isinstance(out, pint.Quantity)
    assert_close32(out, pint_to(x, "m/km", "dimensionless"))  # 0.001 * x, never x


@pytest.mark.parametrize("declared", ["", "dimensionless"])
@pytest.mark.parametrize("given_unit", ["m/km", "percent", "mm/m", "dimensionless"])
def test_ratio_into_dimensionless_q_port(declared: str, given_unit: str) -> None:
    @tm.stage
    def frac(r: Q[Float[Array, "n"], declared]) -> Q[Float[Array, "n"], declared]:
        return r

    x = np.array([1.0, 250.0, 1000.0], np.float32)
    out = frac(qty(x, given_unit))
    assert_close32(np.asarray(getattr(out, "magnitude", out)), pint_to(x, given_unit, "dimensionless"))


def test_ratio_on_internal_edge_and_percent_output() -> None:
    @tm.stage
    def slope(r: Q[Float[Array, "n"], "m/km"]) -> Q[Float[Array, "n"], "m/km"]:
        return r

    @tm.stage
    def plain(r: Float[Array, "n"]) -> Float[Array, "n"]:
        return r

    @tm.pipeline
    def grade(r: Q[Float[Array, "n"], "m/km"]) -> Q[Float[Array, "n"], "percent"]:
        return plain(slope(r))  # m/km -> 1 on the edge, 1 -> percent at the output

    x = np.array([1.0, 25.0, 80.0], np.float32)
    assert grade.graph.get_edge_data("slope", "plain")["r"]["conversion"] == pytest.approx((0.001, 0.0))
    out = grade(qty(x, "m/km"))
    assert_quantity(out, "percent")
    assert_close32(out.magnitude, pint_to(x, "m/km", "percent"))  # 1 m/km = 0.1 %


@HYPOTHESIS
@given(x=float32_arrays(0, 1e3))
def test_ratio_property_matches_pint(x: np.ndarray) -> None:
    out = _ratio_stage(qty(x, "cm/km"))
    assert_close32(out, pint_to(x, "cm/km", "dimensionless"))


@tm.stage
def _ratio_stage(r: Float[Array, "n"]) -> Float[Array, "n"]:
    return r


# --- custom units on a fresh registry -------------------------------------------------------


@contextlib.contextmanager
def marketing_registry() -> Iterator[Any]:
    reg = pint.UnitRegistry()
    reg.define("click = [clicks]")
    reg.define("USD = [currency]")
    reg.define("cent = 0.01 USD")
    previous = tm.get_registry()
    with tm.use_registry(reg):
        assert tm.get_registry() is reg
        yield reg
    assert tm.get_registry() is previous


def test_custom_units_convert_like_pint() -> None:
    with marketing_registry() as reg:

        @tm.stage
        def cost_per_click(
            cost: Q[Float[Array, "n"], "USD"], clicks: Q[Float[Array, "n"], "click"]
        ) -> Q[Float[Array, "n"], "USD/click"]:
            return cost / clicks

        @tm.pipeline
        def cpc(
            cost: Q[Float[Array, "n"], "cent"], clicks: Q[Float[Array, "n"], "kiloclick"]
        ) -> Q[Float[Array, "n"], "cent/click"]:
            return cost_per_click(cost, clicks)

        assert cpc.check().ok
        cost = np.array([100.0, 250.0, 7.0], np.float32)
        clicks = np.array([1.0, 5.0, 0.5], np.float32)
        out = cpc(qty(cost, "USD", registry=reg), qty(clicks, "click", registry=reg))
        assert_quantity(out, "cent/click", reg)
        expected = (reg.Quantity(cost.astype(np.float64), "USD") / reg.Quantity(clicks.astype(np.float64), "click")).to(
            "cent/click"
        )
        assert_close32(out.magnitude, expected.magnitude)
        direct = cost_per_click(qty(cost, "cent", registry=reg), qty(clicks, "click", registry=reg))
        assert_quantity(direct, "USD/click", reg)
        assert_close32(direct.magnitude, (cost.astype(np.float64) / 100) / clicks)


def test_custom_dimensions_do_not_mix() -> None:
    with marketing_registry() as reg:

        @tm.stage
        def in_clicks(n: Q[Float[Array, "n"], "click"]) -> Q[Float[Array, "n"], "click"]:
            return n

        @tm.pipeline
        def p(money: Q[Float[Array, "n"], "USD"]) -> Q[Float[Array, "n"], "click"]:
            return in_clicks(money)

        report = p.check()
        assert [d.code for d in report.errors] == ["TM102"]
        assert "[currency]" in "\n".join(report.errors[0].notes)
        with pytest.raises(tm.InputError) as info:
            in_clicks(qty([1.0], "cent", registry=reg))
        assert info.value.code == "TM203"


# --- integer edges --------------------------------------------------------------------------


@tm.stage
def int_m(x: Q[Int[Array, "n"], "m"]) -> Q[Int[Array, "n"], "m"]:
    return x


@tm.stage
def int_km(x: Q[Int[Array, "n"], "km"]) -> Q[Int[Array, "n"], "km"]:
    return x


def test_int_edge_km_to_m_keeps_int_dtype() -> None:
    @tm.pipeline
    def p(x: Q[Int[Array, "n"], "km"]) -> Q[Int[Array, "n"], "mm"]:
        return int_m(int_km(x))  # km -> m on the edge (x1000), m -> mm at the output (x1000)

    assert p.graph.get_edge_data("int_km", "int_m")["x"]["conversion"] == (1000.0, 0.0)
    x = np.array([0, 1, 2, 1000, -7], np.int32)
    out = p(qty(x, "km", np.int32))
    assert_quantity(out, "mm")
    mag = np.asarray(out.magnitude)
    assert mag.dtype.kind == "i"
    np.testing.assert_array_equal(mag, pint_to(x, "km", "mm").astype(np.int64))


def test_int_input_km_to_m_at_boundary_is_exact() -> None:
    x = np.array([3, 5, 2_000_000], np.int32)
    out = int_m(qty(x, "km", np.int32))
    mag = np.asarray(out.magnitude)
    assert mag.dtype.kind == "i"
    np.testing.assert_array_equal(mag, x.astype(np.int64) * 1000)
    assert_quantity(out, "m")


@pytest.mark.parametrize(("src", "dst"), [("s", "ns"), ("mm", "nm")])
def test_int_exact_factor_with_float_rounding(src: str, dst: str) -> None:
    @tm.stage
    def fine(x: Q[Int[Array, "n"], dst]) -> Q[Int[Array, "n"], dst]:
        return x

    x = np.array([0, 1, 2], np.int32)
    out = fine(qty(x, src, np.int32))  # TM209 today
    np.testing.assert_array_equal(np.asarray(out.magnitude), pint_to(x, src, dst).round().astype(np.int64))

    @tm.stage
    def coarse(x: Q[Int[Array, "n"], src]) -> Q[Int[Array, "n"], src]:
        return x

    @tm.pipeline
    def p(x: Q[Int[Array, "n"], src]) -> Q[Int[Array, "n"], dst]:
        return fine(coarse(x))  # TM107 today

    assert p.check().ok


# --- unit variables -------------------------------------------------------------------------


@tm.stage
def square(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u**2"]:
    return x * x


@tm.stage
def slope(x: Q[Float[Array, "n"], "'x"], y: Q[Float[Array, "n"], "'y"]) -> Q[Float[Array, ""], "'y/'x"]:
    return jnp.sum(x * y) / jnp.sum(x * x)


def test_u_binds_km_and_u_squared_comes_back_in_km2() -> None:
    x = np.array([1.0, 2.0, 3.5], np.float32)
    out = square(qty(x, "km"))
    assert_quantity(out, "km**2")
    assert_close32(out.magnitude, (tm.get_registry().Quantity(x.astype(np.float64), "km") ** 2).magnitude)

    @tm.pipeline
    def poly(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u**2"]:
        return square(x)

    out = poly(qty(x, "km"))
    assert_quantity(out, "km**2")
    assert_close32(out.magnitude, x.astype(np.float64) ** 2)

    @tm.pipeline
    def area(x: Q[Float[Array, "n"], "km"]) -> Q[Float[Array, "n"], "m**2"]:
        return square(x)  # 'u := km, km**2 -> m**2 at the output (x1e6)

    out = area(qty(x, "km"))
    assert_quantity(out, "m**2")
    assert_close32(out.magnitude, (tm.get_registry().Quantity(x.astype(np.float64), "km") ** 2).to("m**2").magnitude)


def test_ratio_of_unit_variables_comes_out_as_kelvin_per_second() -> None:
    x = np.array([1.0, 2.0, 3.0], np.float32)
    y = np.array([2.0, 4.5, 5.5], np.float32)
    out = slope(qty(x, "s"), qty(y, "K"))
    assert_quantity(out, "K/s")
    assert_close32(out.magnitude, np.sum(x * y, dtype=np.float64) / np.sum(x * x, dtype=np.float64))

    @tm.pipeline
    def rate(t: Q[Float[Array, "n"], "min"], temp: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, ""], "mK/s"]:
        return slope(t, temp)  # 'x := min, 'y := K, K/min -> mK/s at the output

    reg = tm.get_registry()
    xt, yt = reg.Quantity(x.astype(np.float64), "min"), reg.Quantity(y.astype(np.float64), "K")
    expected = ((xt * yt).sum() / (xt * xt).sum()).to("mK/s")
    out = rate(qty(x, "min"), qty(y, "K"))
    assert_quantity(out, "mK/s")
    assert_close32(out.magnitude, expected.magnitude)


def test_unit_variable_converts_second_input_to_the_first() -> None:
    @tm.stage
    def add(a: Q[Float[Array, "n"], "'u"], b: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u"]:
        return a + b

    a = np.array([1.0, 2.0], np.float32)
    b = np.array([1.0, 500.0], np.float32)
    out = add(qty(a, "km"), qty(b, "m"))
    assert_quantity(out, "km")
    reg = tm.get_registry()
    assert_close32(out.magnitude, (reg.Quantity(a.astype(np.float64), "km") + reg.Quantity(b, "m")).to("km").magnitude)


def test_quantities_from_the_users_own_registry() -> None:
    own = pint.UnitRegistry()  # not tm.get_registry(): a registry the user made
    x = np.array([1.0, 2.5], np.float32)
    out = in_volts(own.Quantity(x, "mV"))
    assert_quantity(out, "V")
    assert_close32(out.magnitude, pint_to(x, "mV", "V", own))


def test_default_registry_restored_after_use_registry() -> None:
    before = tm.get_registry()
    with marketing_registry():
        pass
    assert tm.get_registry() is before
    out = in_volts(qty([1.0], "mV"))
    assert_quantity(out, "V", before)


def test_an_absolute_temperature_for_a_difference_port_says_why():
    import numpy as np

    @tm.stage
    def total_rise(x: Q[Float[Array, "n"], "delta('u)"]) -> Q[Float[Array, ""], "delta('u)"]:
        return x.sum()

    with pytest.raises(tm.InputError) as info:
        total_rise(tm.get_registry().Quantity(np.ones(2, dtype=np.float32), "degC"))
    (d,) = info.value.diagnostics
    assert d.code == "TM203"
    assert d.hint.startswith("°C and Δ°C measure the same dimension, but one is an absolute reading")
    rise = total_rise(tm.get_registry().Quantity(np.ones(2, dtype=np.float32), "delta_degC"))
    assert float(rise.magnitude) == 2.0
