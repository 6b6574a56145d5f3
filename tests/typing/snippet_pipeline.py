"""Type-checked only (pyright strict, mypy): what an editor sees when using typedml.

Not collected by pytest: the file name does not start with ``test_``.
"""

from __future__ import annotations

from typing import assert_type

import numpy as np
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def calibrate(
    raw: Q[Float[Array, "batch channel"], "mV"],
    gain: Q[Float[Array, "channel"], "K/mV"],
) -> Q[Float[Array, "batch channel"], "K"]:
    # the body is typed with plain arrays: Q reads as Annotated to static checkers
    assert_type(raw, Float[Array, "batch channel"])
    return raw * gain


@tm.pipeline
def sensor(
    raw: Q[Float[Array, "b c"], "V"],
    gain: Q[Float[Array, "c"], "K/mV"],
) -> Q[Float[Array, "b c"], "K"]:
    temps = calibrate(raw, gain)
    assert_type(temps, Float[Array, "batch channel"])
    calibrate(raw, gain, 3)  # type: ignore[call-arg]  # too many arguments is flagged
    calibrate(raw=raw, gian=gain)  # type: ignore[call-arg]  # a misspelt port is flagged
    return temps


def run() -> None:
    ureg = tm.get_registry()
    # calling a pipeline with pint quantities is not a false editor error
    out = sensor(raw=ureg.Quantity(np.ones((2, 3)), "V"), gain=ureg.Quantity(np.ones(3), "K/mV"))
    print(out)
    report = sensor.check()
    assert_type(report.ok, bool)
