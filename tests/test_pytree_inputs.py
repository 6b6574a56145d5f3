"""Pytree values (fitted parameters, weights) as pipeline inputs, in every run mode."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def affine(params: dict[str, Any], x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return x * params["scale"] + params["shift"]


@tm.pipeline
def fitted(params: dict[str, Any], x: Q[Float[Array, "n"], "mm"]) -> Q[Float[Array, "n"], "m"]:
    return affine(params, x)


PARAMS = {"scale": jnp.float32(2.0), "shift": jnp.float32(1.0)}


@pytest.mark.parametrize("mode", ["call", "debug", "checked", "record"])
def test_a_pytree_input_reaches_the_stage_unchanged(mode):
    x = tm.get_registry().Quantity(np.array([1000.0, 2000.0], dtype=np.float32), "mm")
    params = dict(PARAMS)
    run = {"call": fitted, "debug": lambda *a: fitted.debug(*a).outputs, "checked": fitted.checked,
           "record": lambda *a: fitted.record(*a).outputs}[mode]  # fmt: skip
    out = run(params, x)
    np.testing.assert_allclose(np.asarray(out.magnitude), [3.0, 5.0])
    assert str(out.units) == "meter"
    assert params == PARAMS  # not mutated
    # the cached path (second call) takes the same route
    np.testing.assert_allclose(np.asarray(run(params, x).magnitude), [3.0, 5.0])


@tm.stage
def dense(params: dict[str, Any], x: Float[Array, "n d"]) -> Float[Array, "n h"]:
    return params["act"](x @ params["w"])


@tm.pipeline
def network(params: dict[str, Any], x: Float[Array, "n d"]) -> Float[Array, "n h"]:
    return dense(params, x)


@pytest.mark.parametrize("mode", ["call", "debug", "checked"])
def test_non_array_leaves_stay_static_and_a_misfit_is_tm313_after_a_good_call(mode):
    run = {"call": network, "debug": lambda *a: network.debug(*a).outputs, "checked": network.checked}[mode]
    x = np.ones((4, 2), np.float32)
    params = {"w": np.full((2, 3), 0.5, np.float32), "act": jnp.tanh}
    np.testing.assert_allclose(np.asarray(run(params, x)), np.tanh(np.ones((4, 3))), rtol=1e-6)
    relu = {"w": params["w"], "act": jax.nn.relu}  # another static leaf: another compiled function
    np.testing.assert_allclose(np.asarray(run(relu, x)), np.ones((4, 3)), rtol=1e-6)
    wrong = {"w": np.ones((5, 3), np.float32), "act": jnp.tanh}  # built for 5 features: the cache refuses it too
    for _ in range(2):
        with pytest.raises(tm.BodyError) as err:
            run(wrong, x)
        d = err.value.diagnostic
        assert d.code == "TM313" and d.stage == "dense" and d.port == "params"
        assert "params: dict with arrays (5, 3)" in d.notes[0]
    assert (network.check().infos[0].code, network.check().warnings) == ("TM312", [])


class Settings:
    """A plain object: compared by identity, so a change made to it in place goes unseen."""

    def __init__(self, scale: float) -> None:
        self.scale = scale


@tm.stage
def scaled(params: dict[str, Any], x: Float[Array, "n"]) -> Float[Array, "n"]:
    return x * params["w"] * params["settings"].scale


def test_a_non_array_leaf_that_can_change_in_place_is_warned_once_and_safe_ones_are_not():
    x = np.ones(2, np.float32)
    settings = Settings(3.0)
    with pytest.warns(tm.TypedMLWarning) as caught:
        np.testing.assert_allclose(np.asarray(scaled({"w": np.float32(2.0), "settings": settings}, x)), [6.0, 6.0])
        scaled({"w": np.float32(2.0), "settings": settings}, x)  # said once
    (w,) = caught
    d = w.message.diagnostic  # pyright: ignore[reportAttributeAccessIssue]
    assert d.code == "TM351" and d.severity == "warning" and d.port == "params"
    assert "holds Settings values that are not arrays" in d.message and w.filename == __file__
    # numbers, strings, functions and tuples of them are compared by value: nothing to say
    network(
        {"w": np.ones((2, 3), np.float32), "act": jnp.tanh, "name": "dense", "sizes": (2, 3)},
        np.ones((4, 2), np.float32),
    )
