"""Machine vibration from raw accelerometer voltages: a SciPy band-pass filter between typed JAX stages.

The accelerometers are read in volts; each channel's calibration (a sensitivity in mV per
m/s² and a zero offset in mV) converts them to accelerations. The band of interest
(around the machine's 50 Hz running speed) is cut out by a zero-phase Butterworth
band-pass, ``scipy.signal.sosfiltfilt``: NumPy code, so a host stage, run inside the compiled
pipeline through ``jax.pure_callback``. Its signature keeps the units and axes checked around
it: ``'a`` in, ``'a`` out, the same ``t c`` shape. The summary is a record: the RMS and peak
level of each channel, in m/s².
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import scipy.signal
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


class Calibration(NamedTuple):
    """Each channel's sensitivity and zero offset, from its calibration sheet."""

    sensitivity: Q[Float[Array, "c"], "mV/(m/s**2)"]
    offset: Q[Float[Array, "c"], "mV"]


class Bandpass(NamedTuple):
    """A band-pass filter as second-order sections (dimensionless), see :func:`design_bandpass`."""

    sos: Float[Array, "s 6"]


class Levels(NamedTuple):
    """The vibration level of each channel."""

    rms: Q[Float[Array, "c"], "m/s**2"]
    peak: Q[Float[Array, "c"], "m/s**2"]


@tm.stage
def calibrate(raw: Q[Float[Array, "t c"], "mV"], cal: Calibration) -> Q[Float[Array, "t c"], "m/s**2"]:
    """Voltages to accelerations, channel by channel."""
    return (raw - cal.offset) / cal.sensitivity


@tm.stage(host=True)
def bandpass(x: Q[Float[Array, "t c"], "'a"], filt: Bandpass) -> Q[Float[Array, "t c"], "'a"]:
    """Zero-phase band-pass along time: SciPy, on NumPy arrays (a float64 result is cast back)."""
    return scipy.signal.sosfiltfilt(filt.sos, x, axis=0)


@tm.stage
def levels(x: Q[Float[Array, "t c"], "m/s**2"]) -> Levels:
    """RMS and peak of each channel."""
    return Levels(jnp.sqrt(jnp.mean(x**2, axis=0)), jnp.max(jnp.abs(x), axis=0))


@tm.pipeline
def vibration(raw: Q[Float[Array, "t c"], "V"], cal: Calibration, filt: Bandpass) -> Levels:
    return levels(bandpass(calibrate(raw, cal), filt))


def design_bandpass(low_hz: float, high_hz: float, rate_hz: float, order: int = 4) -> Bandpass:
    """A Butterworth band-pass between ``low_hz`` and ``high_hz`` for samples taken at ``rate_hz``."""
    sos = scipy.signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=rate_hz, output="sos")
    return Bandpass(np.asarray(sos, np.float32))
