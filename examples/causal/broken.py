"""A teaching case: comparing the two directions' raw RMSEs compares kelvin with metres.

``typedml check examples/`` skips this file; ``typedml check examples/causal/broken.py
--no-skip`` shows the build-time error (TM102).
"""
# typedml: skip-file

from __future__ import annotations

from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

from .pipeline import fit_quality, ratio


@tm.pipeline
def raw_rmse_ratio(altitude: Q[Float[Array, "n"], "m"], temperature: Q[Float[Array, "n"], "K"]) -> Float[Array, ""]:
    forward = fit_quality(altitude, temperature)  # rmse in K
    backward = fit_quality(temperature, altitude)  # rmse in m
    return ratio(forward.rmse, backward.rmse)
