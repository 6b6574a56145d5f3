"""Type-checked only (pyright strict, mypy): what an editor sees when using typedml.

Not collected by pytest: the file name does not start with ``test_``.
"""

from __future__ import annotations

from typing import assert_type

import jax.numpy as jnp
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


@tm.pipeline
def outer(raw: Q[Float[Array, "b c"], "V"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "b c"], "K"]:
    # a nested pipeline's result, typed as the body sees it, goes on to a stage
    inner = sensor.nested(raw, gain)
    assert_type(inner, Float[Array, "b c"])
    calibrate(sensor(raw, gain), gain)  # type: ignore[arg-type]  # called directly, it is a quantity
    return calibrate(inner, gain)


def run() -> None:
    ureg = tm.get_registry()
    raw, gain = ureg.Quantity(np.ones((2, 3)), "V"), ureg.Quantity(np.ones(3), "K/mV")
    # calling a pipeline with pint quantities is not a false editor error
    out = sensor(raw=raw, gain=gain)
    assert_type(out, tm.QuantityLike)  # a quantity, not an array and not Any
    print(out.to("degC"), out.magnitude, out.units, out.m_as("K"))  # pint's API is allowed
    print(np.asarray(out), (out * 2).to("mK"), -out, out[0], [row for row in out])
    jnp.sum(out)  # type: ignore[arg-type]  # array code would drop the unit: flagged
    jnp.sum(out.magnitude)  # the magnitude, in the unit out.units names, is what array code takes
    sensor(raw, gain)  # positional, as the signature allows
    # the pipeline's own parameters are checked at its call too
    sensor(raw=raw, gian=gain)  # type: ignore[call-arg]  # a misspelt port is flagged
    sensor(raw)  # type: ignore[call-arg]  # a missing port is flagged
    sensor(raw, gain, gain)  # type: ignore[call-arg]  # too many arguments is flagged
    report = sensor.check()
    assert_type(report.ok, bool)
