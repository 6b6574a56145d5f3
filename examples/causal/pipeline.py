"""Cause or effect? Fit-quality features of y = f(x) and x = f(y), compared across pairs.

For a pair of measured series, each direction is fitted with a cubic polynomial of the
standardised cause (the features z, z², z³ are dimensionless, so one matrix holds them; the
coefficients come out in the effect's unit). Three features describe each fit: R², the RMSE
normalised by the effect's spread, and how strongly the squared residuals still depend on the
cause (the squared correlations of the squared residuals with z and z²; in the causal
direction of an additive-noise model they should not depend on it). All three are
dimensionless, which is what lets them be compared across pairs whose units differ (K and m,
mm and m³/s). Comparing the raw RMSEs of the two directions would compare kelvin with metres:
``broken.py`` keeps that mistake, which the checker refuses before any data.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def cubic_features(z: Float[Array, "n"]) -> Float[Array, "n 3"]:
    """z, z², z³ of a dimensionless series."""
    return jnp.stack([z, z * z, z * z * z], axis=1)


@tm.stage
def ratio(a: Q[Float[Array, ""], "delta('u)"], b: Q[Float[Array, ""], "delta('u)"]) -> Float[Array, ""]:
    """a / b for two values of one unit: a dimensionless number."""
    return a / b


@tm.stage
def squared(r: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u**2"]:
    return r * r


@tm.stage
def residual(y: Q[Float[Array, "n"], "'y"], fitted: Q[Float[Array, "n"], "'y"]) -> Q[Float[Array, "n"], "delta('y)"]:
    return y - fitted


@tm.stage
def squared_number(c: Float[Array, ""]) -> Float[Array, ""]:
    return c * c


@tm.stage
def plus(a: Float[Array, ""], b: Float[Array, ""]) -> Float[Array, ""]:
    return a + b


class FitQuality(NamedTuple):
    r2: Float[Array, ""]
    nrmse: Float[Array, ""]
    dependence: Float[Array, ""]
    rmse: Q[Float[Array, ""], "delta('y)"]  # in the effect's unit: not comparable across directions


@tm.pipeline
def fit_quality(cause: Q[Float[Array, "n"], "'x"], effect: Q[Float[Array, "n"], "'y"]) -> FitQuality:
    features = cubic_features(tm.stdlib.standardize(cause))
    fit = tm.stdlib.linear_regression(features, effect)
    fitted = tm.stdlib.linear_predict(features, fit)
    error = tm.stdlib.rmse(effect, fitted)
    spread = squared(residual(effect, fitted))
    z = tm.stdlib.standardize(cause)
    dependence = plus(
        squared_number(tm.stdlib.correlation(spread, z)), squared_number(tm.stdlib.correlation(spread, squared(z)))
    )
    return FitQuality(tm.stdlib.r2(effect, fitted), ratio(error, tm.stdlib.std(effect)), dependence, error)
