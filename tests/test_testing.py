"""typedml.testing: ready property checks, one line inside @given or as ready-made tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from jaxtyping import Array, Float

import typedml as tm
import typedml.strategies as tms
import typedml.testing as tmt
from typedml import Q

FEW = settings(max_examples=15, deadline=None)
FAILING = settings(FEW, derandomize=True)  # failing cases shrink the same way on every run


def failure(test: Any) -> AssertionError:
    """Run a hypothesis test that must fail; its error, with hypothesis's notes appended."""
    with pytest.raises(AssertionError) as info:
        test()
    err = info.value
    err.args = (str(err) + "\n" + "\n".join(getattr(err, "__notes__", [])),)
    return err


# -- dimensional homogeneity ------------------------------------------------------------


@tm.stage
def fall_hardcoded(t: Q[Float[Array, "n"], "s"]) -> Q[Float[Array, "n"], "m"]:
    return 0.5 * 9.81 * t**2  # g in m/s**2 written as a plain number


@tm.stage
def fall(t: Q[Float[Array, "n"], "s"], g: Q[Float[Array, ""], "m/s**2"]) -> Q[Float[Array, "n"], "m"]:
    return 0.5 * g * t**2


def test_a_hard_coded_constant_breaks_dimensional_homogeneity() -> None:
    test = tmt.property_test(tmt.assert_dimensionally_homogeneous, fall_hardcoded, settings=FAILING)
    message = str(failure(test))
    assert "dimensional homogeneity fails for stage 'fall_hardcoded': output 'return'" in message
    assert "base dimensions rescaled: [length] × 8, [time] × 0.25" in message
    assert "expected output 'return' (m) × 8; found × 0.0625" in message
    assert "a constant of dimension [length] / [time]**2" in message
    # the minimal counterexample, with its sizes and units
    assert "Inputs(sizes={'n': 1}, t=Q([1.], 's', float32))" in message


def test_typedml_quantities_as_inputs_are_named_in_every_message() -> None:
    # tm.Quantity keeps its unit as text: the failure and refusal messages format it too
    t = tm.Quantity(jnp.array([0.5, 1.0, 2.0], jnp.float32), "s")
    with pytest.raises(AssertionError, match="dimensional homogeneity fails") as info:
        tmt.assert_dimensionally_homogeneous(fall_hardcoded, {"t": t})
    assert "t: s, shape (3,)" in str(info.value)
    with pytest.raises(InvalidArgument, match="int32 numbers in s;"):
        tmt.assert_dimensionally_homogeneous(fall_hardcoded, {"t": tm.Quantity(jnp.arange(3), "s")})


def test_the_correct_stage_is_homogeneous() -> None:
    tmt.property_test(tmt.assert_dimensionally_homogeneous, fall, settings=FEW)()


@FEW
@given(tms.inputs(fall, convert_units=True))
def test_homogeneity_in_one_line_with_any_input_units(ins: tms.Inputs) -> None:
    tmt.assert_dimensionally_homogeneous(fall, ins)


@tm.stage
def wrap(x: Q[Float[Array, "n"], "'u"], y: Q[Float[Array, "n"], "'v"]) -> Q[Float[Array, "n"], "'u*'v"]:
    return x * y


@tm.stage
def wrap_offset(x: Q[Float[Array, "n"], "'u"], y: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u"]:
    return x + y + 1.0


def test_unit_variables_take_their_drawn_units() -> None:
    tmt.property_test(tmt.assert_dimensionally_homogeneous, wrap, settings=FEW)()
    strategy = tms.inputs(wrap_offset, units={"'u": "m"}, elements=st.floats(1, 10, width=32))
    message = str(
        failure(
            tmt.property_test(tmt.assert_dimensionally_homogeneous, wrap_offset, strategy=strategy, settings=FAILING)
        )
    )
    assert "expected output 'return' (m) × 8; found × 5.66667" in message
    assert "unit variables: {\"'u\": 'm'}" in message


@tm.stage
def heat(temp: Q[Float[Array, "n"], "degC"]) -> Q[Float[Array, "n"], "K"]:
    return temp + 273.15


def test_affine_units_are_excluded_with_a_message() -> None:
    ins = tms.Inputs({"temp": tm.get_registry().Quantity(np.ones(2, np.float32), "degC")}, sizes={"n": 2}, units={})
    with pytest.raises(InvalidArgument, match=r"input 'temp' of heat\(\): °C is an affine unit"):
        tmt.assert_dimensionally_homogeneous(heat, ins)


# -- unit invariance --------------------------------------------------------------------


def test_unit_invariance() -> None:
    tmt.property_test(tmt.assert_unit_invariant, fall, settings=FEW)()
    tmt.property_test(tmt.assert_unit_invariant, wrap, settings=FEW)()
    strategy = tms.inputs(wrap_offset, units={"'u": "m"})
    message = str(
        failure(tmt.property_test(tmt.assert_unit_invariant, wrap_offset, strategy=strategy, settings=FAILING))
    )
    assert "unit invariance fails for stage 'wrap_offset'" in message
    assert "inputs re-expressed: x: m -> km, y: m -> km" in message


def test_unit_invariance_with_chosen_units() -> None:
    q = tm.get_registry().Quantity
    ins = {"t": q(np.array([1.0, 2.0], np.float32), "s"), "g": q(np.float32(9.8), "m/s**2")}
    tmt.assert_unit_invariant(fall, ins, units={"t": "ms", "g": "km/s**2"})


# -- shapes -----------------------------------------------------------------------------


def test_shape_polymorphism() -> None:
    tmt.property_test(tmt.assert_shape_polymorphic, fall, settings=FEW)()
    q = tm.get_registry().Quantity
    lying = tms.Inputs({"t": q(np.ones(3, np.float32), "s"), "g": q(np.float32(1), "m/s**2")}, sizes={"n": 4}, units={})
    with pytest.raises(
        AssertionError, match=r"(?s)output 'return' is not what it declares.*-> \(4\).*found float32\(3,\)"
    ):
        tmt.assert_shape_polymorphic(fall, lying)


# -- batch consistency ------------------------------------------------------------------


@tm.stage
def calibrate(raw: Q[Float[Array, "b c"], "mV"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "b c"], "K"]:
    return raw * gain


@tm.stage
def centre(raw: Q[Float[Array, "b c"], "mV"]) -> Q[Float[Array, "b c"], "mV"]:
    return raw - raw.mean(axis=0)


@tm.pipeline
def calibrated(raw: Q[Float[Array, "b c"], "V"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "b c"], "K"]:
    return calibrate(raw, gain)


def test_batch_consistency() -> None:
    small = {"max_side": 3}  # each new shape compiles the batched and the mapped call
    tmt.property_test(
        tmt.assert_batch_consistent, calibrate, axis="b", strategy=tms.inputs(calibrate, **small), settings=FEW
    )()
    tmt.property_test(
        tmt.assert_batch_consistent, calibrated, axis="b", strategy=tms.inputs(calibrated, **small), settings=FEW
    )()
    strategy = tms.inputs(centre, elements=st.floats(1, 10, width=32))
    message = str(
        failure(tmt.property_test(tmt.assert_batch_consistent, centre, axis="b", strategy=strategy, settings=FAILING))
    )
    assert "batch consistency fails for stage 'centre': output 'return' over 'b' differs from per-item calls" in message
    assert "sizes: {'b': " in message


def test_a_property_test_missing_an_option_is_refused_when_it_is_made() -> None:
    with pytest.raises(InvalidArgument, match=r"assert_batch_consistent\(\) cannot run with options \{\}: .*'axis'"):
        tmt.property_test(tmt.assert_batch_consistent, calibrate)
    with pytest.raises(InvalidArgument, match=r"cannot run with options \{'axes': 'b'\}"):
        tmt.property_test(tmt.assert_batch_consistent, calibrate, axes="b")


# -- modes ------------------------------------------------------------------------------

calls = [0]


@tm.stage
def stateful(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    calls[0] += 1  # Python state read while tracing: frozen into the compiled function
    return x * calls[0]


@tm.stage
def stateless(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return jnp.cumsum(x) - x.sum()


@tm.pipeline
def chain(t: Q[Float[Array, "n"], "ms"], g: Q[Float[Array, ""], "m/s**2"]) -> Q[Float[Array, "n"], "km"]:
    return stateless(fall(t, g))


def test_modes_agree() -> None:
    tmt.property_test(tmt.assert_modes_agree, fall, settings=FEW)()
    tmt.property_test(tmt.assert_modes_agree, chain, settings=FEW)()
    strategy = tms.inputs(stateful, elements=st.floats(1, 10, width=32))
    message = str(failure(tmt.property_test(tmt.assert_modes_agree, stateful, strategy=strategy, settings=FAILING)))
    assert "modes disagree for stage 'stateful'" in message


@tm.stage
def weigh(
    x: Q[Float[Array, "n"], "m"], w: Q[Float[Array, "n"], ""], t: Q[Float[Array, "b n"], "s"]
) -> Q[Float[Array, "b"], "m*s"]:
    return (t * (x * w)).sum(axis=-1)


@tm.pipeline
def weigh_km(
    x: Q[Float[Array, "n"], "km"], w: Q[Float[Array, "n"], ""], t: Q[Float[Array, "b n"], "ms"]
) -> Q[Float[Array, "b"], "m*s"]:
    return weigh(x, w, t)


# -- permutations -----------------------------------------------------------------------


@tm.stage
def total(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, ""], "m"]:
    return x.sum()


@tm.stage
def weighted(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, ""], "m"]:
    return (x * jnp.arange(x.shape[0])).sum()


def test_permutation_invariance() -> None:
    tmt.property_test(tmt.assert_permutation_invariant, total, axis="n", settings=FEW)()
    strategy = tms.inputs(weighted, elements=st.floats(1, 10, width=32))
    test = tmt.property_test(tmt.assert_permutation_invariant, weighted, axis="n", strategy=strategy, settings=FAILING)
    message = str(failure(test))
    assert "permutation invariance fails for stage 'weighted'" in message and "permutation: [1, 0]" in message


@FEW
@given(st.data())
def test_permutation_equivariance_with_drawn_permutations(data: st.DataObject) -> None:
    ins = data.draw(tms.inputs(centre))
    permutation = data.draw(st.permutations(range(ins.sizes["c"])))
    tmt.assert_permutation_equivariant(centre, ins, axis="c", permutation=permutation)


def test_permutation_equivariance_fails_for_a_running_sum() -> None:
    strategy = tms.inputs(stateless, elements=st.floats(1, 10, width=32))
    test = tmt.property_test(
        tmt.assert_permutation_equivariant, stateless, axis="n", strategy=strategy, settings=FAILING
    )
    assert "permutation equivariance fails for stage 'stateless'" in str(failure(test))


# -- bad arguments ----------------------------------------------------------------------

Q_ = tm.get_registry().Quantity
FALL_INPUTS = {"t": Q_(np.ones(2, np.float32), "s"), "g": Q_(np.float32(1), "m/s**2")}

BAD_ARGUMENTS: list[tuple[Any, Any, Any, dict[str, Any], str]] = [
    (tmt.assert_modes_agree, jnp.sum, FALL_INPUTS, {}, r"target=.* must be a typedml stage or pipeline"),
    (tmt.assert_modes_agree, fall, [1, 2], {}, r"inputs=\[1, 2\] must be a mapping"),
    (tmt.assert_modes_agree, fall, {"t": 1}, {}, r"inputs has t; fall\(\) takes g, t"),
    (tmt.assert_dimensionally_homogeneous, fall, FALL_INPUTS, {"scales": {"[length]": -2.0}}, r"scales=.* positive"),
    (tmt.assert_batch_consistent, fall, FALL_INPUTS, {"axis": "q"}, r"axis='q' is no axis of any input of fall\(\)"),
    (
        tmt.assert_batch_consistent,
        total,
        {"x": FALL_INPUTS["t"]},
        {"axis": "n"},
        r"output 'return' of total\(\) has no axis 'n'",
    ),
    (
        tmt.assert_permutation_invariant,
        fall,
        FALL_INPUTS,
        {"axis": "n", "permutation": [0, 0]},
        r"permutation=\[0, 0\] is not a permutation of range\(2\)",
    ),
    (
        tmt.assert_unit_invariant,
        fall,
        FALL_INPUTS,
        {"units": {"q": "m"}},
        r"units names 'q', which is no input with a unit",
    ),
    (tmt.assert_shape_polymorphic, fall, FALL_INPUTS, {}, r"inputs must be drawn by typedml.strategies.inputs"),
]


@pytest.mark.parametrize(("assertion", "target", "inputs", "options", "message"), BAD_ARGUMENTS)
def test_bad_arguments(assertion: Any, target: Any, inputs: Any, options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        assertion(target, inputs, **options)


def test_property_test_names_the_test() -> None:
    test = tmt.property_test(tmt.assert_batch_consistent, calibrate, axis="b")
    assert test.__name__ == "test_batch_consistent_calibrate"


def test_modes_use_the_pipelines_debug_run_where_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    class Run:
        def __init__(self, outputs: Any) -> None:
            self.outputs = outputs

    def debug(self: Any, **inputs: Any) -> Run:
        seen.append(self.spec.name)
        return Run(self(**inputs) * 1.5)  # an eager run that disagrees

    monkeypatch.setattr(tm.Pipeline, "debug", debug, raising=False)
    q = tm.get_registry().Quantity
    ins = tms.Inputs(
        {
            "x": q(np.ones(2, np.float32), "km"),
            "w": q(np.ones(2, np.float32), ""),
            "t": q(np.ones((1, 2), np.float32), "ms"),
        },
        sizes={"n": 2, "b": 1},
        units={},
    )
    with pytest.raises(AssertionError, match="modes disagree for pipeline 'weigh_km'"):
        tmt.assert_modes_agree(weigh_km, ins)
    assert seen == ["weigh_km"]


@tm.stage
def scale_by(x: Q[Float[Array, "n"], "m"], factor: float) -> Q[Float[Array, "n"], "m"]:
    return x * factor


def test_static_configuration_is_given_with_the_inputs() -> None:
    strategy = tms.inputs(scale_by, factor=st.sampled_from([0.5, 3.0]))
    for check in (tmt.assert_dimensionally_homogeneous, tmt.assert_unit_invariant, tmt.assert_modes_agree):
        tmt.property_test(check, scale_by, strategy=strategy, settings=FEW)()
    tmt.property_test(tmt.assert_permutation_equivariant, scale_by, strategy=strategy, axis="n", settings=FEW)()
    with pytest.raises(
        InvalidArgument, match=r"z= is no input of scale_by\(\) \(inputs: x; static configuration: factor\)"
    ):
        find(tms.inputs(scale_by, z=1), lambda _: True)


@tm.stage
def doubled_length(x: Q[Float[Array, "n"], "m", tm.Positive]) -> Q[Float[Array, "n"], "m"]:
    return x * 2


def test_an_error_under_a_property_names_the_line_that_made_the_property() -> None:
    """No frame of the user's is on the stack while hypothesis runs a property that typedml.testing
    made: the error names the line that made it, never a line of hypothesis or pytest."""
    reg = tm.get_registry()
    negative = st.just({"x": reg.Quantity(np.array([-1.0, 2.0], dtype=np.float32), "m")})
    test = tmt.property_test(tmt.assert_unit_invariant, doubled_length, strategy=negative, settings=FAILING)
    made = next(
        i
        for i, line in enumerate(Path(__file__).read_text(encoding="utf-8").splitlines(), 1)
        if "test = tmt.property_test(tmt.assert_unit_invariant, doubled_length" in line
    )
    with pytest.raises(tm.InputError) as info:
        test()
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "TM214"
    assert diagnostic.location is not None
    assert (Path(diagnostic.location.path).resolve(), diagnostic.location.line) == (Path(__file__).resolve(), made)
