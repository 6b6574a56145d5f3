"""Type-checked only (pyright strict, mypy): value contracts inside annotations.

Refinements follow the unit in ``Q[...]``; static checkers still see the plain array type.
"""

from __future__ import annotations

from typing import Annotated, assert_type

import jax.numpy as jnp
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def odds(
    p: Q[Float[Array, "n"], "", tm.Probability],
    t: Q[Float[Array, "n"], "K", tm.Bounded(0, 100, "degC"), tm.Finite],
    w: Annotated[Float[Array, "n"], tm.Positive],
) -> Q[Float[Array, "n"], "", tm.NonNegative]:
    assert_type(p, Float[Array, "n"])
    assert_type(t, Float[Array, "n"])
    return p / (1 - p) * w / jnp.sum(w)


bound: tm.Refinement = tm.Bounded(lower=0.0, upper=None, unit="m")
