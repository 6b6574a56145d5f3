"""What finding a NaN costs: ``pipeline.checked`` and ``pipeline.debug`` against the plain run.

The workload is ``bench_fused.py``'s chain (10 affine stages with 7 unit conversions, then a
mean), float32, 1-D input of n elements. Three variants per size, all called with the same
pint Quantity and timed to completion (``block_until_ready`` on the magnitude):

  plain    ``chain(q)``: the fused, compiled run (the baseline)
  checked  ``chain.checked(q)``: the same compiled run plus one finite flag per stage output
           and per input (12 flags), returned with the outputs and read on the host
  debug    ``chain.debug(q)``: eager, stage by stage, every stage call checked against its
           signature on the host and every value kept

Steady state only (every variant warmed up, so compilation is not counted); rounds are
interleaved with rotating order, and each ratio is the median over rounds of the variant's
time divided by the plain run's time in the same round (paired), as in ``bench_fused.py``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_debug.py                   # n = 10^3 and 10^6
    .venv/bin/python benchmarks/bench_debug.py --quick           # smoke run: not a measurement
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax
import jax.numpy as jnp
import numpy as np
from bench_fused import chain, measure

import typedml as tm

VARIANTS = ("plain", "checked", "debug")


def bench_size(n: int, repeat: int, min_time: float, warmup: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    x = tm.get_registry().Quantity(jnp.asarray(rng.uniform(100.0, 200.0, n).astype(np.float32)), "mV")

    def plain() -> Any:
        return chain(x).magnitude.block_until_ready()

    def checked() -> Any:
        return chain.checked(x).magnitude.block_until_ready()

    def debug() -> Any:
        return chain.debug(x).outputs.magnitude.block_until_ready()

    want = float(plain())
    for name, fn in (("checked", checked), ("debug", debug)):
        got = float(fn())
        if not np.isclose(got, want, rtol=1e-5):
            raise SystemExit(f"{name} returned {got}, the plain run {want}: the variants disagree")
    numbers, samples = measure({"plain": plain, "checked": checked, "debug": debug}, repeat, min_time, warmup)
    rows: dict[str, Any] = {}
    for name in VARIANTS:
        paired = [v / b for v, b in zip(samples[name], samples["plain"], strict=True)]
        rows[name] = {
            "median_us": 1e6 * statistics.median(samples[name]),
            "min_us": 1e6 * min(samples[name]),
            "ratio_paired": statistics.median(paired),
            "calls_per_round": numbers[name],
            "samples_us": [1e6 * s for s in samples[name]],
        }
    return {"n": n, "variants": rows}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=11, help="interleaved timing rounds")
    parser.add_argument("--min-time", type=float, default=0.05, help="seconds per variant per round")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="n = 10^3 and 10^4, 3 short rounds")
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = [n for n in args.sizes if n <= 10_000] or [1000, 10_000]
        args.repeat, args.min_time, args.warmup = 3, 0.005, 1
    results = [bench_size(n, args.repeat, args.min_time, args.warmup) for n in args.sizes]

    print(
        f"typedml {tm.__version__}, jax {jax.__version__} ({jax.default_backend()}), Python {platform.python_version()}"
    )
    print(f"{platform.platform()}, {os.cpu_count()} CPUs; {args.repeat} interleaved rounds, paired ratios")
    print()
    header = f"{'n':>9} {'variant':8} {'median':>12} {'min':>12} {'÷ plain':>8}"
    print(header)
    print("-" * len(header))
    for result in results:
        for name in VARIANTS:
            row = result["variants"][name]
            print(
                f"{result['n']:>9} {name:8} {row['median_us']:>10.1f}µs {row['min_us']:>10.1f}µs"
                f" {row['ratio_paired']:>8.2f}"
            )
    summary: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "backend": jax.default_backend()},
        "versions": {"typedml": tm.__version__, "jax": jax.__version__},
        "settings": {"repeat": args.repeat, "min_time": args.min_time, "warmup": args.warmup, "quick": args.quick},
        "results": results,
    }
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
