"""A deliberately broken pipeline, kept as a teaching case: channel-major data, never transposed.

``typedml check examples/`` skips this file (the comment below); check it on purpose with
``typedml check examples/sensor/broken.py --no-skip`` to see the diagnostics.
"""

# typedml: skip-file

from __future__ import annotations

from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

from .pipeline import calibrate


@tm.pipeline
def sensor_transposed(
    raw: Q[Float[Array, "c b"], "V"],
    gain: Q[Float[Array, "c"], "K/mV"],
    offset: Q[Float[Array, "c"], "K"],
) -> Q[Float[Array, "c"], "degC"]:
    """A classic glue bug: the data arrives channel-major, and nobody transposed it."""
    temps = calibrate(raw, gain, offset)
    return tm.stdlib.mean(temps)
