"""Penguins: regress body mass (g) on flipper and bill length (mm), with units on every edge.

The fitted coefficients come out in g/mm and the intercept in g because the stdlib's
``linear_regression`` is declared ``('x, 'y) -> coef delta('y)/'x, intercept 'y``: the units
are derived, not written down. Features stacked into one matrix must share a unit (``'u``);
stacking a length with a mass is refused at build time (``broken.py`` keeps that mistake as
a teaching case) unless both are standardised first (``standardised`` below).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def columns(a: Q[Float[Array, "n"], "'u"], b: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n 2"], "'u"]:
    """Two features of one unit as the columns of a matrix."""
    return jnp.stack([a, b], axis=1)


class Fit(NamedTuple):
    coef: Q[Float[Array, "2"], "g/mm"]
    intercept: Q[Float[Array, ""], "g"]
    rmse: Q[Float[Array, ""], "g"]
    r2: Float[Array, ""]


@tm.pipeline
def body_mass_model(
    flipper: Q[Float[Array, "n"], "mm"], bill: Q[Float[Array, "n"], "mm"], mass: Q[Float[Array, "n"], "g"]
) -> Fit:
    x = columns(flipper, bill)
    fit = tm.stdlib.linear_regression(x, mass)
    predicted = tm.stdlib.linear_predict(x, fit)
    return Fit(fit.coef, fit.intercept, tm.stdlib.rmse(mass, predicted), tm.stdlib.r2(mass, predicted))


@tm.pipeline
def standardised(flipper: Q[Float[Array, "n"], "mm"], mass: Q[Float[Array, "n"], "g"]) -> Float[Array, "n 2"]:
    """The same two features, each standardised first (dimensionless): they may share a matrix."""
    return columns(tm.stdlib.standardize(flipper), tm.stdlib.standardize(mass))
