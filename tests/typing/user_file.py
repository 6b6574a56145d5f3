"""A user's own file, type-checked from outside the repository by ``.ci/run`` (pyright, mypy
and Pyrefly, against the README's editable install): no false error on correct code, and the
result of a pipeline call is a quantity, so array code that would drop its unit is flagged."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q
from typedml import stdlib as sl


@tm.stage
def calibrate(
    raw: Q[Float[Array, "batch channel"], "mV"],
    gain: Q[Float[Array, "channel"], "K/mV"],
    offset: Q[Float[Array, "channel"], "K"],
) -> Q[Float[Array, "batch channel"], "K"]:
    return raw * gain + offset


@tm.pipeline
def sensor(
    raw: Q[Float[Array, "b c"], "V"], gain: Q[Float[Array, "c"], "K/mV"], offset: Q[Float[Array, "c"], "K"]
) -> Q[Float[Array, "c"], "degC"]:
    temps = calibrate(raw, gain, offset)
    return sl.mean(temps)


def main() -> None:
    print(sensor.check())
    ureg = tm.get_registry()
    raw = ureg.Quantity(np.full((4, 2), 0.002, dtype=np.float32), "V")
    gain = ureg.Quantity(np.array([1.0, 2.0], dtype=np.float32), "K/mV")
    offset = ureg.Quantity(np.full(2, 273.15, dtype=np.float32), "K")
    out = sensor(raw, gain, offset)
    print(out.to("K"), out.magnitude, out.units)
    print(jnp.sum(out.magnitude))
    jnp.sum(out)  # type: ignore[arg-type]  # flagged: the unit would be dropped
    report = tm.check_file(__file__)
    print(report.ok, [d.code for d in report.diagnostics])


if __name__ == "__main__":
    main()
