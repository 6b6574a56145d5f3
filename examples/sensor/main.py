"""Run the sensor calibration example end to end: build, check, run, and catch a mistake.

python -m examples.sensor.main        (from the repository root)
typedml demo                          (installed)
"""

from __future__ import annotations

import numpy as np

import typedml as tm

from .broken import sensor_transposed
from .pipeline import sensor


def make_data(batch: int = 256, channels: int = 4, seed: int = 0) -> dict[str, object]:
    """Synthetic readings: a known temperature per channel, seen through gain and offset."""
    ureg = tm.get_registry()
    rng = np.random.default_rng(seed)
    true_celsius = np.linspace(18.0, 24.0, channels)
    gain = np.linspace(0.9, 1.1, channels)  # K per mV
    offset = np.full(channels, 263.15)  # K
    millivolts = (true_celsius + 273.15 - offset) / gain
    noise = rng.normal(0.0, 0.05, size=(batch, channels))
    raw = (millivolts + noise) / 1000.0  # the amplifier reports volts
    return {
        "raw": ureg.Quantity(raw.astype(np.float32), "V"),
        "gain": ureg.Quantity(gain.astype(np.float32), "K/mV"),
        "offset": ureg.Quantity(offset.astype(np.float32), "K"),
        "expected": true_celsius,
    }


def main() -> int:
    data = make_data()
    print("1. build-time check of `sensor` (no data yet):")
    print("  ", sensor.check())
    for u, v, _, edge in sensor.graph.edges(keys=True, data=True):
        conv = edge.get("conversion")
        note = f"  converted x{conv[0]:g}{f' {conv[1]:+g}' if conv[1] else ''}" if conv else ""
        print(f"     {u} -> {v}: {edge.get('unit')} {edge.get('shape')}{note}")
    print("2. run on 256 x 4 generated readings:")
    out = sensor(raw=data["raw"], gain=data["gain"], offset=data["offset"])
    print(f"   mean temperature per channel: {np.round(np.asarray(out.magnitude), 2)} {out.units:~P}")
    print(f"   expected:                     {np.round(data['expected'], 2)} °C")
    print("3. a caught mistake: the same pipeline with channel-major data (`c b`):")
    report = sensor_transposed.check()
    print("\n".join("   " + line for line in str(report).splitlines()))
    ok = report.ok is False and np.allclose(np.asarray(out.magnitude), data["expected"], atol=0.05)
    print("done." if ok else "UNEXPECTED RESULT")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
