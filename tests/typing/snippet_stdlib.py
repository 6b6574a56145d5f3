"""Type-checked only (pyright, mypy): using ``typedml.stdlib`` as an editor sees it.

A state is a NamedTuple and is passed on with ``*state``; its fields keep their types.
"""

from __future__ import annotations

from typing import assert_type

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q
from typedml import stdlib as sl


@tm.pipeline
def spread(x: Q[Float[Array, "n"], "mm"], more: Q[Float[Array, "k"], "m"]) -> Q[Float[Array, ""], "mm**2"]:
    state = sl.moments_update(sl.moments_init(sl.mean(x)), x)
    assert_type(state, sl.Moments)
    state = sl.moments_update(state, more)
    result = sl.moments_finalize(state)
    assert_type(result.variance, Float[Array, "*rest"])
    sl.moments_merge(state)  # type: ignore[call-arg]  # a merge needs two states
    return result.variance


def run() -> None:
    ureg = tm.get_registry()
    x = ureg.Quantity(np.ones((5, 1), np.float32), "mm")
    y = ureg.Quantity(np.ones(5, np.float32), "g")
    fit = sl.linear_regression(x, y)
    assert_type(fit, sl.LinearFit)
    sl.linear_predict(x, fit)
    sketch = sl.count_min_init(jax.random.PRNGKey(0), depth=4, width=64)
    ids = jnp.arange(3, dtype=jnp.int32)  # unit-less ports are typed as jax arrays
    sketch = sl.count_min_update(sketch, ids)
    sl.count_min_query(sketch, ids)
    sl.strip_units_to("mm")(x)
