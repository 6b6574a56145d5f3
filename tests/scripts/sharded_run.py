"""Run in a fresh process with 8 simulated CPU devices (XLA_FLAGS set by the caller).

Prints one JSON line: what the sharded run returned, what the plain run returned, and the
shardings of the inputs, an intermediate and the outputs.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def calibrate(
    raw: Q[Float[Array, "batch channel"], "mV"], gain: Q[Float[Array, "channel"], "K/mV"]
) -> Q[Float[Array, "batch channel"], "K"]:
    return raw * gain + 273.15


@tm.stage
def spread(x: Q[Float[Array, "n c"], "'u"]) -> Q[Float[Array, "c"], "delta('u)"]:
    return jnp.std(x, axis=0)  # a reduction over the sharded axis


class Readings(NamedTuple):
    temps: Q[Float[Array, "b c"], "degC"]
    spreads: Q[Float[Array, "c"], "K"]


@tm.pipeline
def sensor(raw: Q[Float[Array, "b c"], "V"], gain: Q[Float[Array, "c"], "K/mV"]) -> Readings:
    temps = calibrate(raw, gain)
    return Readings(temps, spread(temps))


def main() -> None:
    assert len(jax.devices()) == 8, jax.devices()
    ureg = tm.get_registry()
    rng = np.random.default_rng(0)
    raw = ureg.Quantity(rng.uniform(0.001, 0.02, (64, 3)).astype(np.float32), "V")
    gain = ureg.Quantity(np.array([1.0, 2.0, 0.5], dtype=np.float32), "K/mV")
    mesh = Mesh(np.array(jax.devices()), ("data",))
    run = sensor.sharded(mesh, {"b": "data"})
    temps, spreads = run(raw, gain)
    plain_temps, plain_spreads = sensor(raw, gain)
    try:
        run(ureg.Quantity(np.ones((10, 3), dtype=np.float32), "V"), gain)
        indivisible = None
    except tm.InputError as err:
        indivisible = [err.code, err.diagnostic.message]
    # chunks streamed through a moments update sharded over the 8 devices: the per-device
    # partial moments merge inside the update (XLA's all-reduce), the same code as on one device
    update = tm.stdlib.weighted_moments_update.as_pipeline()
    values = rng.normal(20.0, 3.0, (1000, 2)).astype(np.float32)
    chunks = [ureg.Quantity(values[i : i + 96], "degC") for i in range(0, 1000, 96)]
    zero = np.zeros(2, dtype=np.float32)
    init = (zero, ureg.Quantity(zero, "degC"), ureg.Quantity(zero, "delta_degC**2"))
    on_mesh = tm.stream(update.sharded(mesh, {"n": "data"}), chunks, init=init, weights="w")
    on_one = tm.stream(update, chunks, init=init, weights="w")
    print(
        json.dumps(
            {
                "stream_equal": bool(
                    np.allclose(np.asarray(on_mesh.mean.magnitude), np.asarray(on_one.mean.magnitude), rtol=1e-6)
                    and np.allclose(np.asarray(on_mesh.m2.magnitude), np.asarray(on_one.m2.magnitude), rtol=1e-4)
                ),
                "stream_mean_close": bool(np.allclose(np.asarray(on_mesh.mean.magnitude), values.mean(0), rtol=1e-5)),
                "devices": len(jax.devices()),
                "temps_equal": bool(
                    np.allclose(np.asarray(temps.magnitude), np.asarray(plain_temps.magnitude), rtol=1e-6)
                ),
                "spreads_equal": bool(
                    np.allclose(np.asarray(spreads.magnitude), np.asarray(plain_spreads.magnitude), rtol=1e-5)
                ),
                "units": [str(temps.units), str(spreads.units)],
                "temps_sharding": str(temps.magnitude.sharding.spec),
                "temps_devices": len(temps.magnitude.sharding.device_set),
                "spreads_sharding": str(spreads.magnitude.sharding.spec),
                "edge_specs": {k: str(v) for k, v in run.edge_specs.items()},
                "input_specs": {k: str(v) for k, v in run.input_specs.items()},
                "expected_temps_spec": str(PartitionSpec("data", None)),
                "indivisible": indivisible,
            }
        )
    )


if __name__ == "__main__":
    main()
