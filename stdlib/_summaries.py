"""Summaries over the leading axis: unit-polymorphic mean, variance and standard deviation."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def mean(x: Q[Float[Array, "n *rest"], "'u"]) -> Q[Float[Array, "*rest"], "'u"]:
    """Mean over the leading axis, in the input's unit (affine units such as degC included)."""
    return jnp.mean(x, axis=0)


@tm.stage
def variance(x: Q[Float[Array, "n *rest"], "'u"]) -> Q[Float[Array, "*rest"], "delta('u)**2"]:
    """Population variance over the leading axis, in the square of the input's unit.

    For an affine unit such as degC the result is in delta_degC**2 (a squared difference).
    """
    return jnp.var(x, axis=0)


@tm.stage
def std(x: Q[Float[Array, "n *rest"], "'u"]) -> Q[Float[Array, "*rest"], "delta('u)"]:
    """Population standard deviation over the leading axis, in the input's unit.

    A spread is a difference: for degC data the result is in delta_degC, so converting it
    to K gives the same number (not +273.15).
    """
    return jnp.std(x, axis=0)
