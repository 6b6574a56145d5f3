"""Records: NamedTuple, frozen dataclass and equinox.Module types as ports, checked field by field."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jaxtyping import Array, Float

import typedml as tm
import typedml.strategies as tms
import typedml.testing as tmt
from typedml import Q


def q(values: Any, unit: str) -> Any:
    return tm.get_registry().Quantity(np.asarray(values, dtype=np.float32), unit)


class Scaler(NamedTuple):
    center: Q[Float[Array, "d"], "'u"]
    scale: Q[Float[Array, "d"], "delta('u)"]


@tm.stage
def fit_scaler(x: Q[Float[Array, "n d"], "'u"]) -> Scaler:
    return Scaler(jnp.mean(x, axis=0), jnp.std(x, axis=0))


@tm.stage
def apply_scaler(x: Q[Float[Array, "m d"], "'u"], s: Scaler) -> Float[Array, "m d"]:
    return (x - s.center) / s.scale


@tm.stage
def shift(x: Q[Float[Array, "m d"], "'u"], center: Q[Float[Array, "d"], "'u"]) -> Q[Float[Array, "m d"], "delta('u)"]:
    return x - center


class Prepared(NamedTuple):
    z: Float[Array, "m d"]
    center: Q[Float[Array, "d"], "kPa"]


@tm.pipeline
def prep(train: Q[Float[Array, "n d"], "kPa"], test: Q[Float[Array, "m d"], "Pa"]) -> Prepared:
    fitted = fit_scaler(train)
    return Prepared(apply_scaler(test, fitted), fitted.center)


TRAIN = np.array([[100.0, 10.0], [102.0, 14.0], [98.0, 12.0]], dtype=np.float32)  # kPa
TEST = np.array([[101_000.0, 11_000.0]], dtype=np.float32)  # Pa


def test_a_record_flows_from_fit_to_apply_across_units():
    assert prep.check().diagnostics == []
    out = prep(q(TRAIN, "kPa"), q(TEST, "Pa"))
    assert isinstance(out, Prepared)
    expected = (TEST / 1000.0 - TRAIN.mean(0)) / TRAIN.std(0)  # the test set converted to kPa on its edge
    np.testing.assert_allclose(np.asarray(out.z), expected, rtol=1e-5)
    assert str(out.center.units) == "kilopascal"
    np.testing.assert_allclose(out.center.magnitude, TRAIN.mean(0), rtol=1e-6)
    # the record's fields are edges of the graph; 'u of apply_scaler is bound to Pa by the test
    # set, so the fitted centre and scale (kPa) are converted on their edges
    edges = {(u, d["dst_port"]): d for u, _, d in prep.graph.edges(data=True)}
    assert edges[("fit_scaler", "s.center")]["conversion"] == pytest.approx((1000.0, 0.0))
    assert edges[("fit_scaler", "s.scale")]["conversion"] == pytest.approx((1000.0, 0.0))
    assert "conversion" not in edges[("input:test", "x")]


@pytest.mark.parametrize("mode", ["call", "debug", "checked", "record"])
def test_every_run_mode_takes_and_returns_records(mode):
    run = {
        "call": prep,
        "debug": lambda *a: prep.debug(*a).outputs,
        "checked": prep.checked,
        "record": lambda *a: prep.record(*a).outputs,
    }[mode]
    out = run(q(TRAIN, "kPa"), q(TEST, "Pa"))
    np.testing.assert_allclose(np.asarray(out.z), (TEST / 1000.0 - TRAIN.mean(0)) / TRAIN.std(0), rtol=1e-5)


def test_a_record_pipeline_input_is_destructured_in_the_body():
    @tm.pipeline
    def centred(x: Q[Float[Array, "m d"], "kPa"], s: Scaler) -> Q[Float[Array, "m d"], "kPa"]:
        center, _ = s  # a NamedTuple unpacks; its fields are values of the pipeline
        return shift(x, center)

    @tm.pipeline
    def by_field(x: Q[Float[Array, "m d"], "kPa"], s: Scaler) -> Q[Float[Array, "m d"], "kPa"]:
        return shift(x, s.center)

    @tm.pipeline
    def by_star(x: Q[Float[Array, "m d"], "kPa"], s: Scaler) -> Float[Array, "m d"]:
        return apply_scaler(x, Scaler(*s))

    s = Scaler(q([1.0, 2.0], "bar"), q([1.0, 1.0], "kPa"))  # fields convert: 'u is bar here
    x = q([[200.0, 300.0]], "kPa")
    for pipe in (centred, by_field, by_star):
        assert pipe.check().errors == [], pipe
    np.testing.assert_allclose(centred(x, s).magnitude, [[100.0, 100.0]])
    np.testing.assert_allclose(by_field(x, s).magnitude, [[100.0, 100.0]])
    np.testing.assert_allclose(np.asarray(by_star(x, s)), [[100.0, 100.0]])  # (2 bar - 1 bar) / 1 kPa


def test_a_field_in_the_wrong_unit_is_an_input_error_naming_the_field():
    @tm.pipeline
    def scaled(x: Q[Float[Array, "m d"], "kPa"], s: Scaler) -> Float[Array, "m d"]:
        return apply_scaler(x, s)

    bad = Scaler(q([1.0], "kPa"), q([1.0], "m"))
    with pytest.raises(tm.InputError) as err:
        scaled(q([[1.0]], "kPa"), bad)
    d = err.value.diagnostic
    assert d.code == "TM203" and d.port == "s.scale"
    assert "input 's.scale' of scaled()" in d.message and "found m" in d.message
    # a value that is not the record at all
    with pytest.raises(tm.InputError) as err:
        scaled(q([[1.0]], "kPa"), {"center": 1, "scale": 2})
    assert err.value.code == "TM235"
    assert "input 's' of scaled() is a dict, not a Scaler" in err.value.diagnostic.message
    # fields are never mutated, and typedml's own quantities work as fields
    good = Scaler(tm.Quantity(np.array([1.0], np.float32), "kPa"), tm.Quantity(np.array([2.0], np.float32), "Pa"))
    np.testing.assert_allclose(np.asarray(scaled(q([[3.0]], "kPa"), good)), [[1000.0]])
    assert good.scale.units == "Pa"


def test_unit_variables_are_shared_across_fields_at_build_time():
    @tm.pipeline
    def mixed(
        x: Q[Float[Array, "m d"], "kPa"], c: Q[Float[Array, "d"], "kPa"], w: Q[Float[Array, "d"], "m"]
    ) -> Float[Array, "m d"]:
        return apply_scaler(x, Scaler(c, w))  # scale in metres: delta('u) with 'u bound to kPa

    (d,) = mixed.check().errors
    assert d.code == "TM102" and d.port == "s.scale"
    assert "w -> apply_scaler.s.scale" in d.message
    assert any("'u bound to kPa" in n for n in d.notes)

    @tm.pipeline
    def converted(
        x: Q[Float[Array, "m d"], "kPa"], c: Q[Float[Array, "d"], "Pa"], w: Q[Float[Array, "d"], "Pa"]
    ) -> Float[Array, "m d"]:
        return apply_scaler(x, Scaler(c, w))  # Pa fields convert to the 'u the data binds

    assert converted.check().errors == []
    out = converted(q([[2.0]], "kPa"), q([1000.0], "Pa"), q([500.0], "Pa"))
    np.testing.assert_allclose(np.asarray(out), [[2.0]])

    @tm.pipeline
    def sizes(
        x: Q[Float[Array, "m d"], "kPa"], c: Q[Float[Array, "k"], "kPa"], w: Q[Float[Array, "d"], "kPa"]
    ) -> Float[Array, "m d"]:
        return apply_scaler(x, Scaler(c, w))  # axis names are shared across fields too

    (d,) = sizes.check().errors
    assert d.code == "TM105" and d.port == "s.center"


@dataclasses.dataclass(frozen=True)
class Affine:
    slope: Q[Float[Array, "d"], "'y/'u"]
    offset: Q[Float[Array, ""], "'y"]


class Model(NamedTuple):
    scaler: Scaler
    head: Affine


@tm.stage
def predict(x: Q[Float[Array, "m d"], "'u"], model: Model) -> Q[Float[Array, "m"], "'y"]:
    z = (x - model.scaler.center) / model.scaler.scale
    return z @ (model.head.slope * model.scaler.scale) + model.head.offset


@tm.pipeline
def forecast(x: Q[Float[Array, "m d"], "m"], scaler: Scaler, head: Affine) -> Q[Float[Array, "m"], "s"]:
    return predict(x, Model(scaler, head))


def test_nested_records_and_frozen_dataclasses():
    assert [p.name for p in predict.spec.inputs] == [
        "x",
        "model.scaler.center",
        "model.scaler.scale",
        "model.head.slope",
        "model.head.offset",
    ]
    assert forecast.check().errors == []
    out = forecast(
        q([[3.0, 1.0]], "m"),
        Scaler(q([1.0, 1.0], "m"), q([2.0, 2.0], "cm")),
        Affine(q([1.0, 2.0], "s/cm"), q(0.5, "s")),
    )
    np.testing.assert_allclose(out.magnitude, [2.0 * 100 + 0.5])  # (3 m - 1 m) * 1 s/cm = 200 s
    assert str(out.units) == "second"
    with pytest.raises(tm.InputError) as err:  # fields disagree within the record
        forecast(
            q([[3.0, 1.0]], "m"),
            Scaler(q([1.0, 1.0], "m"), q([2.0, 2.0], "cm")),
            Affine(q([1.0, 2.0], "s/kg"), q(0.5, "s")),
        )
    assert err.value.code == "TM203" and err.value.diagnostic.port == "head.slope"


def test_a_record_inputs_unit_variables_are_fixed_by_how_the_pipeline_uses_them():
    # Scaler's 'u meets x (m) in predict: the pipeline takes scalers of lengths, in any unit
    plan = forecast._planner.plan()  # pyright: ignore[reportPrivateUsage]
    assert {v: str(b[0]) for v, b in plan.inferred.items()} == {"u": "m", "y": "s"}
    out = forecast(
        q([[3.0, 1.0]], "m"),
        Scaler(q([100.0, 100.0], "cm"), q([0.02, 0.02], "m")),
        Affine(q([1.0, 2.0], "s/cm"), q(0.5, "s")),
    )
    np.testing.assert_allclose(out.magnitude, [200.5], rtol=1e-5)
    with pytest.raises(tm.InputError) as err:  # a scaler of masses: the fields agree, the use does not
        forecast(
            q([[3.0, 1.0]], "m"),
            Scaler(q([1.0, 1.0], "kg"), q([2.0, 2.0], "g")),
            Affine(q([1.0, 2.0], "s/kg"), q(0.5, "s")),
        )
    d = err.value.diagnostic
    assert d.code == "TM236" and d.port == "scaler.center"
    assert "input 'scaler' of forecast() has 'u in kg, but the pipeline uses it as m ([length])" in d.message


def test_the_body_check_builds_records_for_every_size():
    @tm.stage
    def transposed(x: Q[Float[Array, "m d"], "'u"], s: Scaler) -> Float[Array, "d m"]:
        return (x - s.center) / s.scale

    @tm.stage
    def bare_tuple(x: Q[Float[Array, "n d"], "'u"], y: Q[Float[Array, "n"], "'y"]) -> Affine:
        return (jnp.ones(x.shape[1]), jnp.mean(y))  # not the declared dataclass

    assert apply_scaler.check().diagnostics == []
    assert predict.check().diagnostics == []
    (d,) = transposed.check().errors
    assert d.code == "TM301" and "declared (d, m), computed (m, d)" in d.message
    (d,) = bare_tuple.check().errors
    assert d.code == "TM304" and "declared Affine(slope, offset), computed a tuple of 2 values" in d.message


@dataclasses.dataclass
class Loose:
    w: Float[Array, "d"]


class WithInt(NamedTuple):
    w: Float[Array, "d"]
    n: int


def test_record_definition_problems_are_stage_definition_errors():
    with pytest.raises(tm.StageDefinitionError) as err:

        @tm.stage
        def f(p: Loose) -> Float[Array, "d"]:
            return p.w

    assert err.value.code == "TM025" and "not frozen" in err.value.diagnostic.message
    with pytest.raises(tm.StageDefinitionError) as err:

        @tm.stage
        def g(p: WithInt) -> Float[Array, "d"]:
            return p.w

    assert err.value.code == "TM025" and "field 'n' of record WithInt (p.n)" in err.value.diagnostic.message


def test_a_record_port_given_something_else_is_a_wiring_error():
    @tm.pipeline
    def wrong(x: Q[Float[Array, "m d"], "kPa"], c: Q[Float[Array, "d"], "kPa"]) -> Float[Array, "m d"]:
        return apply_scaler(x, c)

    (d,) = wrong.check().errors
    assert d.code == "TM135" and d.port == "s"
    assert "record port apply_scaler.s expects a Scaler, but the value is c" in d.message


def test_fields_of_an_unstructured_pytree_are_refused_with_the_way_out():
    @tm.stage
    def use(p: dict[str, Any], x: Float[Array, "n"]) -> Float[Array, "n"]:
        return x * p["w"]

    @tm.pipeline
    def reach(p: dict[str, Any], x: Float[Array, "n"]) -> Float[Array, "n"]:
        return use(p.w, x)  # pyright: ignore[reportAttributeAccessIssue]

    (d,) = reach.check().errors
    assert d.code == "TM114" and "record type" in (d.hint or "")


def test_jax_fn_takes_records_as_pytrees():
    grads = jax.grad(lambda x, s: forecast.jax_fn(x, s, Affine(jnp.ones(2), jnp.zeros(())))[0].sum(), argnums=1)(
        jnp.ones((3, 2)), Scaler(jnp.zeros(2), jnp.ones(2))
    )
    assert isinstance(grads, Scaler)
    np.testing.assert_allclose(np.asarray(grads.center), [-3.0, -3.0])


@settings(max_examples=10, deadline=None)
@given(tms.inputs(apply_scaler, elements=st.floats(1, 10, width=32)))
def test_strategies_draw_records_with_shared_sizes_and_units(drawn):
    s = drawn["s"]
    assert isinstance(s, Scaler)
    assert s.center.shape == s.scale.shape == drawn["x"].shape[1:]
    assert s.center.units == drawn["x"].units == s.scale.units
    tmt.assert_dimensionally_homogeneous(apply_scaler, drawn)
    tmt.assert_modes_agree(apply_scaler, drawn)
    tmt.assert_shape_polymorphic(apply_scaler, drawn)  # the sizes drawn survive taking the record apart


test_fit_scaler_is_homogeneous = tmt.property_test(
    tmt.assert_dimensionally_homogeneous, fit_scaler, settings=settings(max_examples=5, deadline=None)
)


def test_the_stdlib_scaler_is_one_input():
    @tm.pipeline
    def evaluate(test: Q[Float[Array, "m d"], "Pa"], scaler: tm.stdlib.Scaler) -> Float[Array, "m d"]:
        return tm.stdlib.scaler_apply(test, scaler)

    assert evaluate.check().diagnostics == []
    scaler = tm.stdlib.standardize_fit(q(TRAIN, "kPa"))  # fitted on kPa data, once
    assert isinstance(scaler, tm.stdlib.Scaler) and str(scaler.center.units) == "kilopascal"
    z = evaluate(q(TEST, "Pa"), scaler)
    np.testing.assert_allclose(np.asarray(z), (TEST / 1000 - TRAIN.mean(0)) / TRAIN.std(0), rtol=1e-5)
    with pytest.raises(tm.InputError) as err:  # a scaler fitted on lengths
        evaluate(q(TEST, "Pa"), tm.stdlib.standardize_fit(q(TRAIN, "m")))
    assert err.value.code == "TM236"


def test_stream_folds_a_record_state():
    x = np.random.default_rng(0).normal(5.0, 2.0, (300, 2)).astype(np.float32)
    chunks = [tm.get_registry().Quantity(c * 1000, "mm") for c in np.array_split(x, 3)]  # converted to the state's m
    init = tm.stdlib.moments_init(tm.get_registry().Quantity(np.zeros(2, np.float32), "m"))
    state = tm.stream(tm.stdlib.moments_update, chunks, init=init)
    assert isinstance(state, tm.stdlib.Moments) and str(state.mean.units) == "meter"
    result = tm.stream(tm.stdlib.moments_update, chunks, init=init, finalize=tm.stdlib.moments_finalize)
    np.testing.assert_allclose(result.mean.magnitude, x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(result.std.magnitude, x.std(0), rtol=1e-4)
    with pytest.raises(tm.InputError) as err:
        tm.stream(tm.stdlib.moments_update, chunks, init={"mean": 0})
    assert err.value.code == "TM217" and "takes a Moments as its state" in err.value.diagnostic.message
