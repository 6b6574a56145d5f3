"""Pytree values (fitted parameters, weights) as pipeline inputs, in every run mode."""

from __future__ import annotations

from typing import Any

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
