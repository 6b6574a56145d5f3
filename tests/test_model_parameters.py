"""Model parameters: equinox modules as stage inputs, records or pytrees checked with the first call."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm

eqx = pytest.importorskip("equinox")


class Dense(eqx.Module):
    """An equinox module whose fields are annotated arrays: a record."""

    w: Float[Array, "d h"]
    b: Float[Array, "h"]


@tm.stage
def dense(layer: Dense, x: Float[Array, "n d"]) -> Float[Array, "n h"]:
    return jnp.tanh(x @ layer.w + layer.b)


@tm.stage
def mlp_predict(model: eqx.nn.MLP, x: Float[Array, "n d"]) -> Float[Array, "n"]:
    return jax.vmap(model)(x)


@tm.pipeline
def regress(model: eqx.nn.MLP, x: Float[Array, "n d"]) -> Float[Array, "n"]:
    return mlp_predict(model, x)


def test_an_equinox_module_of_annotated_arrays_is_a_record_checked_for_every_size():
    assert [p.name for p in dense.spec.inputs] == ["layer.w", "layer.b", "x"]
    assert dense.check().diagnostics == []  # built from its fields' shapes: no TM350
    layer = Dense(jnp.ones((3, 2)), jnp.zeros(2))
    assert dense(layer, np.ones((4, 3), np.float32)).shape == (4, 2)
    grads = jax.grad(lambda p: dense.as_pipeline().jax_fn(p, jnp.ones((4, 3)))[0].sum())(layer)
    assert isinstance(grads, Dense) and grads.w.shape == (3, 2)


def test_an_equinox_mlp_as_parameters_runs_without_tm350_and_a_misfit_is_a_body_error():
    report = regress.check()
    assert report.errors == [] and report.warnings == []  # no TM350
    (info,) = report.infos
    assert info.code == "TM312" and "'model'" in info.message
    mlp = eqx.nn.MLP(2, "scalar", 8, 2, key=jax.random.key(0))
    x = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(regress(mlp, x)), np.asarray(jax.vmap(mlp)(x)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(regress.debug(mlp, x).outputs), np.asarray(jax.vmap(mlp)(x)), rtol=1e-6)
    grads = eqx.filter_grad(lambda m: regress.jax_fn(m, jnp.asarray(x))[0].sum())(mlp)  # the activations stay static
    assert isinstance(grads, eqx.nn.MLP) and grads.layers[0].weight.shape == (8, 2)
    wrong = eqx.nn.MLP(3, "scalar", 8, 2, key=jax.random.key(0))  # built for 3 features
    with pytest.raises(tm.BodyError) as err:
        regress(wrong, x)
    d = err.value.diagnostic
    assert d.code == "TM313" and d.stage == "mlp_predict" and d.port == "model"
    assert "model: MLP with arrays (8, 3)" in d.notes[0]


def test_strategies_draw_an_equinox_record_and_ask_for_a_model_they_cannot_draw():
    from hypothesis import given, settings
    from hypothesis.errors import InvalidArgument

    import typedml.strategies as tms
    import typedml.testing as tmt

    @settings(max_examples=5, deadline=None)
    @given(tms.inputs(dense))
    def drawn_records(drawn):
        layer = drawn["layer"]
        assert isinstance(layer, Dense) and layer.w.shape == (drawn["x"].shape[1], layer.b.shape[0])
        tmt.assert_shape_polymorphic(dense, drawn)

    drawn_records()

    @settings(max_examples=1, deadline=None)
    @given(tms.inputs(mlp_predict))
    def undrawable(drawn):
        raise AssertionError("a pytree value without declared shapes was drawn")

    with pytest.raises(InvalidArgument, match="input 'model' of mlp_predict\\(\\) is a pytree value"):
        undrawable()
    mlp = eqx.nn.MLP(3, "scalar", 4, 1, key=jax.random.key(0))

    @settings(max_examples=3, deadline=None)
    @given(tms.inputs(mlp_predict, model=mlp, sizes={"d": 3}))
    def given_model(drawn):
        assert drawn["model"] is mlp and mlp_predict(**drawn).shape == (drawn["x"].shape[0],)

    given_model()
