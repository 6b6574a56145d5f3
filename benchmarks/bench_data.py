"""Per-call cost of the data boundary: DataArrays and 64-bit data against a plain quantity call.

Every variant calls the same compiled pipeline (3 inputs, a calibration and a mean over
``time``) on the same numbers, in steady state (compiled and warmed up first), timed in
interleaved rounds so machine noise hits them alike; ratios are to (a) in the same round.

    (a) plain      pint Quantities with float32 numpy magnitudes (the baseline)
    (b) dataarray  xarray DataArrays, channel-major (transposed by the adapter), units in attrs;
                   a DataArray comes back with its coordinates
    (c) float64    pint Quantities with float64 magnitudes: the precision guard on every call
                   (the warning was given on the first call only)

    .venv/bin/python benchmarks/bench_data.py            # 15 rounds
    .venv/bin/python benchmarks/bench_data.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import json
import statistics
import timeit
import warnings
from pathlib import Path

import numpy as np
import xarray as xr
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def calibrate(
    raw: Q[Float[Array, "time channel"], "mV"],
    gain: Q[Float[Array, "channel"], "K/mV"],
    offset: Q[Float[Array, "channel"], "K"],
) -> Q[Float[Array, "time channel"], "K"]:
    return raw * gain + offset


@tm.pipeline
def sensor(
    raw: Q[Float[Array, "time channel"], "V"],
    gain: Q[Float[Array, "channel"], "K/mV"],
    offset: Q[Float[Array, "channel"], "K"],
) -> Q[Float[Array, "channel"], "degC"]:
    return tm.stdlib.mean(calibrate(raw, gain, offset), axis="time")


def variants(time: int, channels: int) -> dict[str, tuple[object, ...]]:
    reg = tm.get_registry()
    values = np.random.default_rng(0).normal(size=(channels, time)).astype(np.float32)
    gain = np.linspace(1, 2, channels, dtype=np.float32)
    offset = np.full(channels, 273.15, dtype=np.float32)
    plain = (reg.Quantity(values.T.copy(), "mV"), reg.Quantity(gain, "K/mV"), reg.Quantity(offset, "K"))
    names = [f"c{i}" for i in range(channels)]
    arrays = (
        xr.DataArray(values, dims=("channel", "time"), coords={"channel": names}, attrs={"units": "mV"}),
        xr.DataArray(gain, dims="channel", coords={"channel": names}, attrs={"units": "K/mV"}),
        xr.DataArray(offset, dims="channel", attrs={"units": "K"}),
    )
    wide = tuple(reg.Quantity(np.asarray(q.magnitude, dtype=np.float64), q.units) for q in plain)
    return {"plain": plain, "dataarray": arrays, "float64": wide}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=500)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default="benchmarks/results/bench_data.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.number = 2, 20
    cases = variants(args.time, args.channels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tm.PrecisionWarning)  # said once, on the first float64 call
        for inputs in cases.values():
            for _ in range(5):
                sensor(*inputs)
        expected = np.asarray(sensor(*cases["plain"]).magnitude)
        np.testing.assert_allclose(sensor(*cases["dataarray"]).values, expected, rtol=1e-5)
        times: dict[str, list[float]] = {k: [] for k in cases}
        names = list(cases)
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                inputs = cases[name]
                t = timeit.timeit(lambda inputs=inputs: sensor(*inputs), number=args.number)
                times[name].append(t / args.number * 1e6)
    base = times["plain"]
    rows = {}
    for name, ts in times.items():
        pair = statistics.median(t / b for t, b in zip(ts, base, strict=True))
        rows[name] = {"median_us": statistics.median(ts), "min_us": min(ts), "ratio_to_plain": pair}
        print(f"{name:10s} median {statistics.median(ts):9.1f} us  min {min(ts):9.1f} us  ÷plain (paired) {pair:6.2f}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"time": args.time, "channels": args.channels, "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
