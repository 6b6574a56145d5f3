"""A weather station: temperature and humidity sensors to a dew point, with value contracts.

The thermistor reports millivolts, the humidity sensor raw 12-bit counts. Contracts state
what the values may be: a temperature in kelvin is positive; relative humidity is a fraction
in [0.01, 1] (the dew-point formula takes its logarithm).
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

MAGNUS_B = 17.62  # dimensionless
MAGNUS_C = 243.12  # degC (a temperature difference)


@tm.stage
def thermistor(
    raw: Q[Float[Array, "n"], "mV"],
    gain: Q[Float[Array, ""], "K/mV"],
    offset: Q[Float[Array, ""], "K"],
) -> Q[Float[Array, "n"], "K", tm.Positive]:
    """Reading to temperature, linear around the operating point."""
    return raw * gain + offset


@tm.stage
def humidity(counts: Float[Array, "n"]) -> Q[Float[Array, "n"], "", tm.Bounded(0.01, 1.0)]:
    """Raw 12-bit counts to relative humidity (a fraction), clipped to the sensor's range."""
    return jnp.clip(counts / 4095.0, 0.01, 1.0)


@tm.stage
def dew_point(
    t: Q[Float[Array, "n"], "degC"],
    rh: Q[Float[Array, "n"], "", tm.Bounded(0.01, 1.0)],
) -> Q[Float[Array, "n"], "degC"]:
    """Magnus formula: the temperature at which this air would saturate."""
    gamma = jnp.log(rh) + MAGNUS_B * t / (MAGNUS_C + t)
    return MAGNUS_C * gamma / (MAGNUS_B - gamma)


@tm.stage
def spread(t: Q[Float[Array, "n"], "K"], dew: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "delta_degC"]:
    """Dew-point spread: how far the air is from saturation (fog forms near zero)."""
    return t - dew


@tm.pipeline
def station(
    raw: Q[Float[Array, "n"], "mV"],
    gain: Q[Float[Array, ""], "K/mV"],
    offset: Q[Float[Array, ""], "K"],
    counts: Float[Array, "n"],
) -> Q[Float[Array, "n"], "delta_degC"]:
    t = thermistor(raw, gain, offset)  # K -> degC on the edge into dew_point (affine)
    dew = dew_point(t, humidity(counts))
    return spread(t, dew)  # degC -> K on the edge from dew_point
