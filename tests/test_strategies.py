"""typedml.strategies: input sets drawn from signatures, with shared sizes, dtypes and units."""

from __future__ import annotations

from typing import Annotated, Any

import jax.numpy as jnp
import numpy as np
import pint
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from jaxtyping import Array, Bool, Float, Int, Shaped

import typedml as tm
import typedml.strategies as tms
from typedml import Q


@tm.stage
def weigh(
    x: Q[Float[Array, "n"], "m"], w: Q[Float[Array, "n"], ""], y: Q[Float[Array, "b n"], "s"]
) -> Q[Float[Array, "b"], "m*s"]:
    return (y * (x * w)).sum(axis=-1)


@tm.pipeline
def three(
    x: Q[Float[Array, "n"], "m"], w: Q[Float[Array, "n"], ""], y: Q[Float[Array, "b n"], "ms"]
) -> Q[Float[Array, "b"], "m*s"]:
    return weigh(x, w, y)


@tm.stage
def shapes(
    a: Q[Float[Array, "n 3"], "'u"],
    b: Q[Float[Array, "n+1"], "'u**2"],
    c: Q[Float[Array, "*batch 2*n"], "'v"],
    d: Q[Float[Array, "*batch #n"], "m"],
    e: Q[Float[Array, "... _"], ""],
) -> Q[Float[Array, "n"], "'u"]:
    return a[:, 0]


def draw_once(strategy: st.SearchStrategy[Any]) -> Any:
    """One example (``find`` rather than ``.example()``, which is for interactive use)."""
    return find(strategy, lambda _: True)


def magnitude(value: Any) -> np.ndarray[Any, Any]:
    return np.asarray(getattr(value, "magnitude", value))


# -- sizes shared across ports ----------------------------------------------------------


def test_three_inputs_share_n_over_many_examples() -> None:
    seen: set[int] = set()

    @settings(max_examples=200, deadline=None)
    @given(tms.inputs(three))
    def check(ins: tms.Inputs) -> None:
        n, b = ins.sizes["n"], ins.sizes["b"]
        assert magnitude(ins["x"]).shape == (n,)
        assert magnitude(ins["w"]).shape == (n,)
        assert magnitude(ins["y"]).shape == (b, n)
        seen.add(n)

    check()
    assert seen == {1, 2, 3, 4, 5}, "sizes 1..5 should all occur in 200 examples"


@settings(max_examples=5, deadline=None)
@given(tms.inputs(three))
def test_drawn_inputs_run(ins: tms.Inputs) -> None:
    out = three(**ins)
    assert isinstance(out, pint.Quantity)
    assert out.shape == (ins.sizes["b"],)


@settings(max_examples=60, deadline=None)
@given(tms.inputs(shapes))
def test_expressions_variadics_broadcasts(ins: tms.Inputs) -> None:
    n, batch = ins.sizes["n"], ins.sizes["batch"]
    assert isinstance(batch, tuple) and len(batch) <= 2
    assert magnitude(ins["a"]).shape == (n, 3)
    assert magnitude(ins["b"]).shape == (n + 1,)
    assert magnitude(ins["c"]).shape == (*batch, 2 * n)
    d = magnitude(ins["d"]).shape
    assert d[:-1] == batch and d[-1] in (1, n)
    assert magnitude(ins["e"]).ndim in (1, 2, 3)
    # one unit per unit variable, shared by every port that uses it
    ureg = tm.get_registry()
    u = ureg.Unit(ins.units["'u"])
    assert ins["a"].units == u
    assert ins["b"].units == u**2
    assert ins["d"].units == ureg.m


def test_broadcast_axes_take_both_sizes() -> None:
    find(tms.inputs(shapes, sizes={"n": 3}), lambda ins: magnitude(ins["d"]).shape[-1] == 1)
    find(tms.inputs(shapes, sizes={"n": 3}), lambda ins: magnitude(ins["d"]).shape[-1] == 3)


@settings(max_examples=30, deadline=None)
@given(tms.inputs(three, sizes={"n": 4, "b": st.integers(6, 7)}))
def test_sizes_fix_or_draw_variables(ins: tms.Inputs) -> None:
    assert ins.sizes["n"] == 4 and ins.sizes["b"] in (6, 7)
    assert magnitude(ins["y"]).shape in ((6, 4), (7, 4))


@settings(max_examples=20, deadline=None)
@given(tms.inputs(shapes, sizes={"batch": (2, 3)}, min_side=4, max_side=4))
def test_variadic_sizes_and_bounds(ins: tms.Inputs) -> None:
    assert ins.sizes == {"batch": (2, 3), "n": 4}
    assert magnitude(ins["c"]).shape == (2, 3, 8)


def test_small_examples_shrink_to_the_smallest_sizes() -> None:
    found = find(tms.inputs(three), lambda ins: ins.sizes["n"] >= 3 and float(magnitude(ins["x"]).sum()) > 0)
    assert found.sizes == {"b": 1, "n": 3}
    assert magnitude(found["w"]).tolist() == [0.0, 0.0, 0.0]


def test_expressions_raise_the_lower_bound() -> None:
    @tm.stage
    def trim(x: Q[Float[Array, "n-2"], "m"]) -> Q[Float[Array, "n-2"], "m"]:
        return x

    found = find(tms.inputs(trim), lambda ins: True)
    assert found.sizes == {"n": 3} and magnitude(found["x"]).shape == (1,)


# -- dtypes and values ------------------------------------------------------------------


@tm.stage
def kinds(
    f: Q[Float[Array, "n"], "m"],
    i: Int[Array, "n"],
    k: Bool[Array, "n"],
    s: Shaped[Array, "n"],
) -> Q[Float[Array, "n"], "m"]:
    return f


@settings(max_examples=40, deadline=None)
@given(tms.inputs(kinds))
def test_dtypes_follow_the_family(ins: tms.Inputs) -> None:
    assert magnitude(ins["f"]).dtype == np.float32
    assert magnitude(ins["i"]).dtype == np.int32
    assert magnitude(ins["k"]).dtype == np.bool_
    assert magnitude(ins["s"]).dtype == np.float32
    assert not isinstance(ins["i"], pint.Quantity), "a port without Q has no unit"
    assert np.all(np.isfinite(magnitude(ins["f"]))) and np.all(np.abs(magnitude(ins["f"])) <= 1e3)


@settings(max_examples=30, deadline=None)
@given(tms.inputs(kinds, elements={"f": st.floats(2, 3, width=32)}), tms.inputs(kinds, elements=st.just(1)))
def test_elements_for_one_port_or_all(per_port: tms.Inputs, everywhere: tms.Inputs) -> None:
    assert np.all((magnitude(per_port["f"]) >= 2) & (magnitude(per_port["f"]) <= 3))
    assert all(np.all(magnitude(v) == 1) for v in everywhere.values())


class AtLeast:
    """Stands in for a value refinement: metadata that knows its element strategy."""

    def __init__(self, low: float) -> None:
        self.low = low

    def __typedml_elements__(self, dtype: np.dtype[Any]) -> st.SearchStrategy[float]:
        return st.floats(self.low, self.low + 1, width=8 * dtype.itemsize)


@tm.stage
def refined(x: Annotated[Q[Float[Array, "n"], "m"], AtLeast(5.0)]) -> Q[Float[Array, "n"], "m"]:
    return x


@settings(max_examples=20, deadline=None)
@given(tms.inputs(refined))
def test_annotation_metadata_gives_elements(ins: tms.Inputs) -> None:
    assert np.all(magnitude(ins["x"]) >= 5.0)


# -- units ------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(tms.inputs(three, convert_units=True))
def test_convertible_units_carry_the_same_quantity(ins: tms.Inputs) -> None:
    ureg = tm.get_registry()
    assert ins["x"].dimensionality == ureg.m.dimensionality
    assert ins["y"].dimensionality == ureg.s.dimensionality
    back = ins["x"].to("m").magnitude
    assert np.all(np.abs(back) <= 1e3 * (1 + 1e-5))


def test_convert_units_draws_other_units() -> None:
    found = find(tms.inputs(three, convert_units=True), lambda ins: str(ins["x"].units) != "meter")
    assert found["x"].units != tm.get_registry().m


@settings(max_examples=20, deadline=None)
@given(tms.inputs(shapes, units={"'u": "mV", "d": "km"}))
def test_units_for_variables_and_ports(ins: tms.Inputs) -> None:
    ureg = tm.get_registry()
    assert ins["a"].units == ureg.mV and ins["b"].units == ureg.mV**2
    assert ins["d"].units == ureg.km
    assert ins.units["'u"] == "mV"


# -- overrides --------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(tms.inputs(three, x=st.builds(lambda: tm.get_registry().Quantity(np.arange(3, dtype=np.float32), "km"))))
def test_a_given_input_binds_its_sizes(ins: tms.Inputs) -> None:
    assert ins.sizes["n"] == 3
    assert magnitude(ins["y"]).shape[1] == 3
    assert ins["x"].units == tm.get_registry().km


@settings(max_examples=20, deadline=None)
@given(tms.inputs(shapes, a=tms.arrays(Q[Float[Array, "4 3"], "s"])))
def test_an_input_strategy_binds_unit_variables(ins: tms.Inputs) -> None:
    ureg = tm.get_registry()
    assert ins["b"].units == ureg.s**2 and magnitude(ins["b"]).shape == (5,)


# -- arrays -----------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(tms.arrays(Q[Float[Array, "n 2"], "km"], sizes={"n": 3}), tms.arrays(Int[Array, "3"]))
def test_arrays_of_one_annotation(quantity: Any, plain: Any) -> None:
    assert quantity.units == tm.get_registry().km and quantity.shape == (3, 2)
    assert isinstance(plain, np.ndarray) and plain.shape == (3,) and plain.dtype == np.int32


# -- bad arguments: InvalidArgument at draw time ----------------------------------------

BAD_ARGUMENTS: list[tuple[Any, dict[str, Any], str]] = [
    (jnp.sum, {}, r"target=.* must be a typedml stage or pipeline"),
    (three, {"sizes": {"q": 3}}, r"sizes names 'q', which is no shape variable of three\(\) \(variables: b, n\)"),
    (three, {"sizes": {"n": -1}}, r"sizes\['n'\]=-1 must be an integer >= 0"),
    (three, {"sizes": {"n": 2.5}}, r"sizes\['n'\]=2.5"),
    (shapes, {"sizes": {"batch": 3}}, r"sizes\['batch'\]=3: \*batch is variadic"),
    (three, {"sizes": ["n"]}, r"sizes=\['n'\] must be a mapping"),
    (three, {"min_side": -1}, r"min_side=-1 must be an integer >= 0"),
    (three, {"min_side": 3, "max_side": 2}, r"max_side=2 must be at least min_side=3"),
    (three, {"max_dims": "2"}, r"max_dims='2'"),
    (three, {"convert_units": 1}, r"convert_units=1 must be True or False"),
    (three, {"elements": {"q": st.just(1.0)}}, r"elements names 'q'"),
    (three, {"elements": {"x": 1.0}}, r"elements\['x'\]=1.0 must be a strategy"),
    (three, {"units": {"'u": "m"}}, r"units names \"'u\", which is no unit variable"),
    (three, {"units": {"x": "furlong_per_bogus"}}, r"units\['x'\]='furlong_per_bogus' is not a unit"),
    (three, {"units": {"x": "s"}}, r"units\['x'\]='s' does not convert to 'm'"),
    (three, {"units": {"x": "'u"}}, r"must be a concrete unit"),
    (shapes, {"units": {"'u": 3}}, r"units\[\"'u\"\]=3 must be a unit string"),
    (three, {"z": st.just(1)}, r"z= is no input of three\(\) \(inputs: x, w, y\)"),
]


@pytest.mark.parametrize(("target", "kwargs", "message"), BAD_ARGUMENTS)
def test_bad_arguments_raise_at_draw_time(target: Any, kwargs: dict[str, Any], message: str) -> None:
    strategy = tms.inputs(target, **kwargs)  # building the strategy never raises
    with pytest.raises(InvalidArgument, match=message):
        draw_once(strategy)


def test_a_pytree_input_needs_a_value() -> None:
    @tm.stage
    def apply(params: Any, x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return x

    with pytest.raises(InvalidArgument, match=r"input 'params' of apply\(\) is a pytree value.*pass params="):
        draw_once(tms.inputs(apply))
    assert draw_once(tms.inputs(apply, params={"k": 1.0}))["params"] == {"k": 1.0}


def test_arrays_rejects_what_is_not_an_array_annotation() -> None:
    with pytest.raises(InvalidArgument, match=r"annotation=<class 'int'> is not an array annotation"):
        draw_once(tms.arrays(int))


# -- reprs ------------------------------------------------------------------------------


def test_reprs_show_how_the_strategy_was_built() -> None:
    strategy = tms.inputs(three, sizes={"n": 3}, convert_units=True)
    assert (
        repr(strategy) == "inputs(<typedml.Pipeline three (3 inputs, 1 outputs)>, sizes={'n': 3}, convert_units=True)"
    )
    assert repr(tms.arrays(Int[Array, "3"], sizes={})) == "arrays(Int[jaxlib._jax.Array, '3'], sizes={})"


@settings(max_examples=1, suppress_health_check=[HealthCheck.too_slow])
@given(tms.inputs(three, sizes={"n": 2, "b": 1}, elements=st.just(0.5)))
def test_inputs_repr_shows_sizes_and_units(ins: tms.Inputs) -> None:
    assert repr(ins) == (
        "Inputs(sizes={'b': 1, 'n': 2}, x=Q([0.5, 0.5], 'm', float32), "
        "w=Q([0.5, 0.5], 'dimensionless', float32), y=Q([[0.5, 0.5]], 'ms', float32))"
    )


# -- bounded elements (for value constraints) -------------------------------------------

WITHIN: list[tuple[str, dict[str, Any], Any]] = [
    ("float32", {"lower": 0.0, "lower_open": True}, lambda x: 0 < x <= 1e3),
    ("float32", {"lower": 273.15, "upper": 373.15}, lambda x: 273.15 <= x <= 373.15),
    ("float32", {"lower": 0.0, "upper": 1.0, "upper_open": True}, lambda x: 0 <= x < 1),
    ("float32", {"lower": 5e4}, lambda x: 5e4 <= x <= 5e4 + 2e3),
    ("float32", {"upper": -5e4}, lambda x: -5e4 - 2e3 <= x <= -5e4),
    ("float64", {"lower": -1e-3, "upper": 1e-3}, lambda x: x == 0 or 1e-6 <= abs(x) <= 1e-3),
    ("float32", {"lower": 0.5, "upper": 3.5, "integer": True}, lambda x: x in (1.0, 2.0, 3.0)),
    ("int32", {"lower": 0, "lower_open": True}, lambda x: 1 <= x <= 100),
    ("uint8", {"upper": 3}, lambda x: 0 <= x <= 3),
    ("float16", {"lower": 0.1, "upper": 0.2}, lambda x: 0.1 <= x <= 0.2),
]


@pytest.mark.parametrize(("dtype", "bounds", "ok"), WITHIN, ids=[f"{d}-{b}" for d, b, _ in WITHIN])
def test_elements_within_bounds(dtype: str, bounds: dict[str, Any], ok: Any) -> None:
    @settings(max_examples=60, deadline=None)
    @given(tms.elements_within(np.dtype(dtype), **bounds))
    def check(x: Any) -> None:
        assert ok(x), x

    check()


@pytest.mark.parametrize(
    "bounds",
    [{"lower": 2.0, "upper": 1.0}, {"lower": 1.0, "upper": 1.0, "upper_open": True}],
)
def test_elements_within_empty_bounds(bounds: dict[str, Any]) -> None:
    strategy = tms.elements_within(np.float32, **bounds)  # raises when drawn from
    with pytest.raises(InvalidArgument, match="leave no value"):
        draw_once(strategy)


def test_elements_within_no_whole_number_or_no_dtype() -> None:
    with pytest.raises(InvalidArgument, match="no whole number"):
        draw_once(tms.elements_within(np.float32, lower=0.2, upper=0.8, integer=True))
    with pytest.raises(InvalidArgument, match="dtype='nonsense' is not a dtype"):
        draw_once(tms.elements_within("nonsense"))
    assert repr(tms.elements_within(np.float32, lower=0.0)) == "elements_within(float32, lower=0.0)"


class Between:
    """A value constraint as refinements would write it: bounds, drawn through the hook."""

    def __init__(self, lower: float, upper: float) -> None:
        self.lower, self.upper = lower, upper

    def __typedml_elements__(self, dtype: np.dtype[Any]) -> st.SearchStrategy[Any]:
        return tms.elements_within(dtype, lower=self.lower, upper=self.upper)


@tm.stage
def kelvin(t: Annotated[Q[Float[Array, "n"], "K"], Between(273.15, 373.15)]) -> Q[Float[Array, "n"], "K"]:
    return t


@settings(max_examples=20, deadline=None)
@given(tms.inputs(kelvin, convert_units=True))
def test_bounds_hold_in_the_declared_unit_whatever_unit_is_drawn(ins: tms.Inputs) -> None:
    kelvins = ins["t"].to("K").magnitude
    assert np.all((kelvins >= 273.15 - 1e-3) & (kelvins <= 373.15 + 1e-3))
