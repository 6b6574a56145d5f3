"""A small MLP that predicts a building's daily heating energy, trained through a typed pipeline.

Features arrive in their own units (outdoor temperature in degC, floor area in m²); the network
itself works on dimensionless numbers, so the pipeline standardises each feature (``'u`` in,
dimensionless out, with ``delta('u)`` spreads so that degC is handled as a difference) and turns
the network's dimensionless output back into kWh. The loss is a mean squared error, in kWh²:
its unit is checked like every other edge.

Two records travel as one value each: the standardisation constants, fitted on the training
set by a typed stage (each field with its unit), and the network's weights (each field with
its shape, the hidden width ``h`` shared across them), so the network's body is checked for
every width before any data.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


class Weights(NamedTuple):
    """A two-layer tanh network on two features: its weights, a record of arrays."""

    w1: Float[Array, "2 h"]
    b1: Float[Array, "h"]
    w2: Float[Array, "h h"]
    b2: Float[Array, "h"]
    w3: Float[Array, "h 1"]
    b3: Float[Array, "1"]


class Standardization(NamedTuple):
    """Centre and spread of each feature and of the target, from the training set."""

    t_centre: Q[Float[Array, ""], "degC"]
    t_spread: Q[Float[Array, ""], "delta_degC"]
    area_centre: Q[Float[Array, ""], "m**2"]
    area_spread: Q[Float[Array, ""], "m**2"]
    y_centre: Q[Float[Array, ""], "kWh"]
    y_spread: Q[Float[Array, ""], "kWh"]


@tm.stage
def fit_standardization(
    temperature: Q[Float[Array, "n"], "degC"], area: Q[Float[Array, "n"], "m**2"], energy: Q[Float[Array, "n"], "kWh"]
) -> Standardization:
    """Means and standard deviations, each in its field's unit (a temperature spread is a difference)."""
    return Standardization(
        jnp.mean(temperature), jnp.std(temperature), jnp.mean(area), jnp.std(area), jnp.mean(energy), jnp.std(energy)
    )


@tm.stage
def standardize(
    x: Q[Float[Array, "n"], "'u"], centre: Q[Float[Array, ""], "'u"], spread: Q[Float[Array, ""], "delta('u)"]
) -> Float[Array, "n"]:
    """``(x - centre) / spread``: dimensionless, for any unit (degC included)."""
    return (x - centre) / spread


@tm.stage
def features(t: Float[Array, "n"], area: Float[Array, "n"]) -> Float[Array, "n 2"]:
    """Stack the standardised features as columns."""
    return jnp.stack([t, area], axis=1)


@tm.stage
def mlp(weights: Weights, x: Float[Array, "n 2"]) -> Float[Array, "n"]:
    """Two tanh layers and a linear read-out, on dimensionless numbers."""
    h = jnp.tanh(x @ weights.w1 + weights.b1)
    h = jnp.tanh(h @ weights.w2 + weights.b2)
    return (h @ weights.w3)[:, 0] + weights.b3[0]


@tm.stage
def rescale(
    z: Float[Array, "n"], centre: Q[Float[Array, ""], "'y"], spread: Q[Float[Array, ""], "'y"]
) -> Q[Float[Array, "n"], "'y"]:
    """Dimensionless network output back to the target's unit."""
    return z * spread + centre


@tm.stage
def mse(prediction: Q[Float[Array, "n"], "'y"], target: Q[Float[Array, "n"], "'y"]) -> Q[Float[Array, ""], "'y**2"]:
    """Mean squared error, in the square of the target's unit."""
    return jnp.mean((prediction - target) ** 2)


@tm.pipeline
def predict(
    weights: Weights,
    scales: Standardization,
    temperature: Q[Float[Array, "n"], "degC"],
    area: Q[Float[Array, "n"], "m**2"],
) -> Q[Float[Array, "n"], "kWh"]:
    t = standardize(temperature, scales.t_centre, scales.t_spread)
    a = standardize(area, scales.area_centre, scales.area_spread)
    return rescale(mlp(weights, features(t, a)), scales.y_centre, scales.y_spread)


@tm.pipeline
def loss(
    weights: Weights,
    scales: Standardization,
    temperature: Q[Float[Array, "n"], "degC"],
    area: Q[Float[Array, "n"], "m**2"],
    energy: Q[Float[Array, "n"], "kWh"],
) -> Q[Float[Array, ""], "kWh**2"]:
    return mse(predict(weights, scales, temperature, area), energy)


def init_weights(key: jax.Array, hidden: int = 16) -> Weights:
    k1, k2, k3 = jax.random.split(key, 3)
    return Weights(
        w1=jax.random.normal(k1, (2, hidden)) / jnp.sqrt(2.0),
        b1=jnp.zeros(hidden),
        w2=jax.random.normal(k2, (hidden, hidden)) / jnp.sqrt(hidden),
        b2=jnp.zeros(hidden),
        w3=jax.random.normal(k3, (hidden, 1)) / jnp.sqrt(hidden),
        b3=jnp.zeros(1),
    )
