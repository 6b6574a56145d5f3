"""A small MLP that predicts a building's daily heating energy, trained through a typed pipeline.

Features arrive in their own units (outdoor temperature in degC, floor area in m²); the network itself works on dimensionless numbers, so the pipeline standardises each
feature (``'u`` in, dimensionless out, with ``delta('u)`` spreads so that degC is handled as a
difference) and turns the network's dimensionless output back into kWh. The loss is a mean
squared error, in kWh²: its unit is checked like every other edge.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

Params = dict[str, Any]  # a pytree of arrays: the network's weights


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
def mlp(params: Params, x: Float[Array, "n d"]) -> Float[Array, "n"]:
    """Two tanh layers and a linear read-out, on dimensionless numbers."""
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    h = jnp.tanh(h @ params["w2"] + params["b2"])
    return (h @ params["w3"])[:, 0] + params["b3"][0]


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
    params: Params,
    temperature: Q[Float[Array, "n"], "degC"],
    area: Q[Float[Array, "n"], "m**2"],
    t_centre: Q[Float[Array, ""], "degC"],
    t_spread: Q[Float[Array, ""], "delta_degC"],
    area_centre: Q[Float[Array, ""], "m**2"],
    area_spread: Q[Float[Array, ""], "m**2"],
    y_centre: Q[Float[Array, ""], "kWh"],
    y_spread: Q[Float[Array, ""], "kWh"],
) -> Q[Float[Array, "n"], "kWh"]:
    x = features(standardize(temperature, t_centre, t_spread), standardize(area, area_centre, area_spread))
    return rescale(mlp(params, x), y_centre, y_spread)


@tm.pipeline
def loss(
    params: Params,
    temperature: Q[Float[Array, "n"], "degC"],
    area: Q[Float[Array, "n"], "m**2"],
    t_centre: Q[Float[Array, ""], "degC"],
    t_spread: Q[Float[Array, ""], "delta_degC"],
    area_centre: Q[Float[Array, ""], "m**2"],
    area_spread: Q[Float[Array, ""], "m**2"],
    y_centre: Q[Float[Array, ""], "kWh"],
    y_spread: Q[Float[Array, ""], "kWh"],
    energy: Q[Float[Array, "n"], "kWh"],
) -> Q[Float[Array, ""], "kWh**2"]:
    prediction = predict(params, temperature, area, t_centre, t_spread, area_centre, area_spread, y_centre, y_spread)
    return mse(prediction, energy)


def init_params(key: jax.Array, hidden: int = 16) -> Params:
    k1, k2, k3 = jax.random.split(key, 3)
    return {
        "w1": jax.random.normal(k1, (2, hidden)) / jnp.sqrt(2.0),
        "b1": jnp.zeros(hidden),
        "w2": jax.random.normal(k2, (hidden, hidden)) / jnp.sqrt(hidden),
        "b2": jnp.zeros(hidden),
        "w3": jax.random.normal(k3, (hidden, 1)) / jnp.sqrt(hidden),
        "b3": jnp.zeros(1),
    }
