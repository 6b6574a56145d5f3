"""Sensor calibration: volts in, per-channel gain and offset, degrees Celsius out.

The thermocouple amplifier reports volts; the calibration sheet gives gain in K/mV and
offset in K. typedml converts V -> mV on the edge into ``calibrate`` (x1000) and K -> degC
at the output (an affine shift), so neither conversion is hand-written.
"""

from __future__ import annotations

from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def calibrate(
    raw: Q[Float[Array, "batch channel"], "mV"],
    gain: Q[Float[Array, "channel"], "K/mV"],
    offset: Q[Float[Array, "channel"], "K"],
) -> Q[Float[Array, "batch channel"], "K"]:
    """Linear calibration per channel; the body sees plain arrays in mV, K/mV and K."""
    return raw * gain + offset


@tm.pipeline
def sensor(
    raw: Q[Float[Array, "b c"], "V"],
    gain: Q[Float[Array, "c"], "K/mV"],
    offset: Q[Float[Array, "c"], "K"],
) -> Q[Float[Array, "c"], "degC"]:
    """Mean calibrated temperature of each channel over the batch."""
    temps = calibrate(raw, gain, offset)  # V -> mV converted on this edge (x1000)
    return tm.stdlib.mean(temps)  # 'u := K; K -> degC converted at the output (affine)
