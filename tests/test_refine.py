"""Value contracts (refinements): declared in annotations, checked in every run mode."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

HERE = Path(__file__).read_text().splitlines()


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(HERE, 1) if text in line)


def quantity(values, unit):
    return tm.get_registry().Quantity(np.asarray(values, dtype=np.float32), unit)


@tm.stage
def to_fraction(t: Q[Float[Array, "n"], "K", tm.Bounded(0, 100, "degC")]) -> Q[Float[Array, "n"], "", tm.Probability]:
    return (t - 273.15) / 100.0


@tm.stage
def bad_fraction(t: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "", tm.Probability]:
    return (t - 273.15) / 50.0  # wrong scale: 60 degC becomes 1.2


@tm.stage
def logit(p: Q[Float[Array, "n"], "", tm.Probability]) -> Float[Array, "n"]:
    return jnp.log(p / (1 - p))


@tm.pipeline
def guarded(t: Q[Float[Array, "n"], "degC", tm.Bounded(0, 100, "degC")]) -> Float[Array, "n"]:
    return logit(to_fraction(t))


@tm.pipeline
def unguarded(t: Q[Float[Array, "n"], "degC"]) -> Float[Array, "n"]:
    return logit(to_fraction(t))


@tm.pipeline
def overshooting(t: Q[Float[Array, "n"], "degC"]) -> Float[Array, "n"]:
    return logit(bad_fraction(t))


def plain(p, *args):
    return p(*args)


def debug(p, *args):
    return p.debug(*args).outputs


def checked(p, *args):
    return p.checked(*args)


MODES = [plain, debug, checked]


@pytest.mark.parametrize("run", MODES)
def test_data_within_every_contract_runs(run):
    out = run(guarded, quantity([10.0, 50.0, 75.0], "degC"))
    np.testing.assert_allclose(np.asarray(out), np.log([0.1 / 0.9, 1.0, 0.75 / 0.25]), rtol=1e-4)


@pytest.mark.parametrize("run", MODES)
def test_input_contract_is_checked_in_every_mode(run):
    data = quantity([10.0, 104.0, -3.0], "degC")
    before = np.asarray(data.magnitude).copy()
    with pytest.raises(tm.InputError) as info:
        run(guarded, data)
    (d,) = info.value.diagnostics
    assert (d.code, d.stage, d.port) == ("TM214", "guarded", "t")
    assert d.message == "input 't' of guarded() breaks its contract Bounded(0, 100, 'degC'): 0 °C <= x <= 100 °C"
    # the values, in the port's unit, with their indices (a failed checked run is re-run eagerly)
    assert "2 of 3 values break it (shape (3,))" in d.notes
    assert "first: [1] = 104 °C, [2] = -3 °C" in d.notes
    np.testing.assert_array_equal(np.asarray(data.magnitude), before)  # the user's data is untouched


@pytest.mark.parametrize("run", MODES)
def test_stage_input_contract_names_the_stage_port_and_values(run):
    with pytest.raises(tm.ContractError) as info:
        run(unguarded, quantity([10.0, 104.0, -3.0], "degC"))
    (d,) = info.value.diagnostics
    assert (d.code, d.stage, d.port) == ("TM504", "to_fraction", "t")
    # the bounds were given in degC; the port is in K: converted, affine offset included
    assert d.message.endswith("break its contract Bounded(0, 100, 'degC'): 273.15 K <= x <= 373.15 K")
    assert d.location is not None and d.location.line == line_of("def unguarded(") + 1
    if run is plain:
        assert "2 values break it (counted in the compiled run)" in d.notes
    else:
        assert "first: [1] = 377.15 K, [2] = 270.15 K" in d.notes


@pytest.mark.parametrize("run", MODES)
def test_stage_output_contract_blames_the_stage_that_broke_it(run):
    with pytest.raises(tm.ContractError) as info:
        run(overshooting, quantity([10.0, 60.0, 20.0], "degC"))
    (d,) = info.value.diagnostics
    assert (d.code, d.stage, d.port) == ("TM503", "bad_fraction", "return")
    assert d.message == (
        "stage 'bad_fraction' returned values in 'bad_fraction' that break its contract Probability: 0 <= x <= 1"
    )
    if run is not plain:
        assert "1 of 3 values break it (shape (3,))" in d.notes
        assert any(note.startswith("first: [1] = 1.2") for note in d.notes), d.notes


def test_contracts_combine_and_reject_nan():
    @tm.stage
    def clip_check(
        x: Q[Float[Array, "n"], "m", tm.Positive, tm.Bounded(None, 2, "m"), tm.Integer],
    ) -> Q[Float[Array, "n"], "m"]:
        return x

    ok = clip_check.as_pipeline()
    assert np.asarray(ok(quantity([1.0, 2.0], "m")).magnitude).tolist() == [1.0, 2.0]
    assert np.asarray(ok(quantity([1000.0], "mm")).magnitude).tolist() == [1.0]  # converted first
    for values, unit in [([0.0], "m"), ([2.5], "m"), ([1.5], "m"), ([np.nan], "m"), ([3000.0], "mm")]:
        with pytest.raises(tm.InputError) as info:
            ok(quantity(values, unit))
        assert info.value.code == "TM214"
        assert (
            "Positive and Bounded(None, 2, 'm') and Integer: 0 m < x <= 2 m, whole numbers"
            in info.value.diagnostic.message
        )


def test_unit_variable_ports_take_sign_contracts_in_the_bound_unit():
    @tm.stage
    def root(x: Q[Float[Array, "n"], "'u", tm.NonNegative]) -> Q[Float[Array, "n"], "'u"]:
        return x

    run = root.as_pipeline()
    assert np.asarray(run(quantity([0.0, 4.0], "s")).magnitude).tolist() == [0.0, 4.0]
    with pytest.raises(tm.InputError) as info:
        run(quantity([1.0, -4.0], "kg"))
    assert "x >= 0 kg" in info.value.diagnostic.message


def test_unit_less_ports_take_contracts_in_annotated_metadata():
    @tm.stage
    def odds(p: Annotated[Float[Array, "n"], tm.Probability]) -> Float[Array, "n"]:
        return p / (1 - p)

    assert odds.spec.inputs[0].type.refinements == (tm.Probability,)
    with pytest.raises(tm.InputError) as info:
        odds.as_pipeline()(jnp.array([0.5, 1.5]))
    assert "first: [1] = 1.5" in info.value.diagnostic.notes


BAD_DEFINITIONS = [
    ('Q[Float[Array, "n"], "s", tm.Probability]', "Probability applies to dimensionless values only"),
    ('Q[Float[Array, "n"], "\'u", tm.Bounded(0, 10)]', "this port's unit 'u is a variable"),
    ('Q[Float[Array, "n"], "\'u", tm.Bounded(0, None, "m")]', "this port's unit 'u is a variable"),
    ('Q[Float[Array, "n"], "m", tm.Bounded(0, 1, "s")]', "which does not convert to the port's"),
    ('Q[Float[Array, "n"], "m", tm.Bounded(0, 1, "parsec_typo")]', "unknown unit 'parsec_typo'"),
]


@pytest.mark.parametrize(("annotation", "why"), BAD_DEFINITIONS)
def test_a_contract_that_cannot_apply_is_a_definition_error(annotation, why):
    namespace = {"tm": tm, "Q": Q, "Float": Float, "Array": Array}
    source = f"def f(x: {annotation}) -> Float[Array, 'n']:\n    return x\n"
    exec(compile(source, "defs.py", "exec"), namespace)
    with pytest.raises(tm.StageDefinitionError) as info:
        tm.stage(namespace["f"])
    (d,) = info.value.diagnostics
    assert (d.code, d.port) == ("TM014", "x")
    assert why in d.message
    assert d.hint


def test_a_contract_on_a_pytree_parameter_is_a_definition_error():
    with pytest.raises(tm.StageDefinitionError) as info:

        @tm.stage
        def f(x: Float[Array, "n"], params: Annotated[dict, tm.Positive]) -> Float[Array, "n"]:
            return x

    assert info.value.code == "TM014"
    assert "not an array" in info.value.diagnostic.message


@pytest.mark.parametrize(
    ("args", "why"),
    [
        ((None, None), "no bound given"),
        ((5, 1), "the lower bound is above the upper bound"),
        (("0", 1), "the lower bound must be a number or None, got str"),
        ((0, float("nan")), "the upper bound is NaN"),
        ((0, 1, 3), "the unit must be a string, got int"),
    ],
)
def test_bad_bounds_are_reported_where_they_are_written(args, why):
    with pytest.raises(tm.StageDefinitionError) as info:
        tm.Bounded(*args)
    (d,) = info.value.diagnostics
    assert d.code == "TM014" and why in d.message
    assert d.location is not None and d.location.path.endswith("test_refine.py")


def test_refinements_are_data_for_tools():
    bounded = tm.Bounded(0, 100, "degC")
    assert (bounded.lower, bounded.upper, bounded.unit) == (0.0, 100.0, "degC")
    assert (tm.Positive.lower, tm.Positive.lower_open) == (0.0, True)
    assert repr(bounded) == "Bounded(0, 100, 'degC')"
    assert to_fraction.spec.inputs[0].type.refinements == (bounded,)


def test_pipelines_without_contracts_compile_as_before():
    @tm.stage
    def double(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return 2 * x

    @tm.pipeline
    def twice(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return double(x)

    twice(quantity([1.0], "m"))
    (exe,) = twice._caller.executables.values()
    assert hasattr(exe.fn, "lower")  # the jitted function itself, no Python wrapper around it
    guarded(quantity([1.0], "degC"))
    (exe,) = guarded._caller.executables.values()
    assert not hasattr(exe.fn, "lower")


def test_contracts_are_carried_along_edges_and_shown_on_them():
    from typedml._contracts import stage_contracts

    def checked_ports(p):
        plan = p._planner.ready()
        return {
            (c.node, c.port, c.output) for cs in stage_contracts(plan.graph, plan.resolved, {}).values() for c in cs
        }

    # logit.p needs a Probability, and to_fraction promises one: only the promise is checked;
    # guarded's own input contract (in degC) implies to_fraction's (in K) after the conversion
    assert checked_ports(guarded) == {("to_fraction", "return", True)}
    assert checked_ports(unguarded) == {("to_fraction", "t", False), ("to_fraction", "return", True)}
    assert "dimensionless (n) Float Probability" in guarded.to_dot()  # the edge to_fraction -> logit


def test_implication_between_contracts():
    from typedml._refine import resolve

    reg = tm.get_registry()
    from typedml._units import UType

    metre = UType(reg.Unit("m"))

    def b(*refs):
        return resolve(refs, metre, reg)

    assert b(tm.Positive).implies(b(tm.NonNegative))
    assert not b(tm.NonNegative).implies(b(tm.Positive))
    assert b(tm.Bounded(1, 2)).implies(b(tm.Positive, tm.Finite))
    assert not b(tm.Positive).implies(b(tm.Finite))
    assert b(tm.Bounded(0, 500, "mm")).implies(b(tm.Bounded(0, 1)))
    assert not b(tm.Bounded(0, 2000, "mm")).implies(b(tm.Bounded(0, 1)))
    assert not b(tm.Bounded(0, 1)).implies(b(tm.Integer))


def test_strategies_draw_values_that_keep_the_contracts():
    from hypothesis import given, settings

    import typedml.strategies as tms

    @tm.stage
    def contracted(
        t: Q[Float[Array, "n"], "K", tm.Bounded(0, 100, "degC")],
        p: Q[Float[Array, "n"], "", tm.Probability],
        w: Q[Float[Array, "n"], "'u", tm.Positive],
        c: Q[Float[Array, "n"], "", tm.Integer, tm.NonNegative],
    ) -> Q[Float[Array, "n"], "K"]:
        return t

    runner = contracted.as_pipeline()

    @settings(max_examples=30, deadline=None, database=None)
    @given(tms.inputs(contracted, convert_units=True))
    def check(ins):
        t = ins["t"].to("K").magnitude
        assert np.all((t >= 273.15 - 1e-3) & (t <= 373.15 + 1e-3))
        p = np.asarray(ins["p"].to("").magnitude if hasattr(ins["p"], "to") else ins["p"])
        assert np.all((p >= -1e-6) & (p <= 1 + 1e-6))
        assert np.all(np.asarray(ins["w"].magnitude) > 0)
        runner(**ins)  # the drawn inputs pass the run-time contract checks

    check()

    @tm.stage
    def counts(c: Q[Float[Array, "n"], "", tm.Integer, tm.NonNegative]) -> Float[Array, "n"]:
        return c

    @settings(max_examples=20, deadline=None, database=None)
    @given(tms.inputs(counts))
    def whole(ins):
        c = np.asarray(getattr(ins["c"], "magnitude", ins["c"]))
        assert np.all(c == np.round(c)) and np.all(c >= 0)

    whole()
