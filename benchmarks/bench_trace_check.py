"""What checking each stage's call while JAX traces a pipeline costs on its first call.

Every compiled run checks, while JAX traces the pipeline (once per input signature), each
stage's inputs and returned shapes and dtypes against its signature (TM306). This script
measures that check against the same plan traced without it, on ``bench_check.py``'s generated
chains of N stages (every edge ``(b, c)``, units cycling m → mm → km), in one process, in two
forms: ``distinct`` (N different stages: N checks) and ``reused`` (10 stages called N times in
all: a stage called again with the same types is checked once). The checks passed are
forgotten before each timing, as in a fresh process:

  trace   ``jax.make_jaxpr`` of the plan's function: the part of a first call the check adds to
  first   a fresh ``jax.jit`` of it, called once: trace, compile and run (what a user waits for)

Both variants are timed alternately, round by round, so drift on the machine hits both; the
figure is the ratio of medians (checked / unchecked), with the added milliseconds per stage.
A steady-state call is not measured: it runs the compiled executable, which is the same.

Run from the repository root::

    .venv/bin/python benchmarks/bench_trace_check.py                 # 10, 50, 200 stages
    .venv/bin/python benchmarks/bench_trace_check.py --quick         # smoke run
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import generate, import_source

import typedml as tm
from typedml._runtime import _PASSED  # pyright: ignore[reportPrivateUsage]


def measure(n: int, folder: Path, repeat: int, distinct: bool) -> dict[str, Any]:
    form = "distinct" if distinct else "reused"
    module = import_source(generate(n, distinct=distinct), folder, f"trace_chain_{form}_{n}")
    chain: Any = module.chain
    plan = chain._planner.ready()  # the plan a call runs (built once, outside the timing)
    args = (np.ones((8, 4), np.float32), np.ones(4, np.float32))
    times: dict[str, list[float]] = {k: [] for k in ("trace_on", "trace_off", "first_on", "first_off")}
    for _ in range(repeat):
        for verify in (True, False):
            tag = "on" if verify else "off"
            fn = plan.function(verify=verify)
            _PASSED.clear()  # as in a fresh process: no stage call checked yet
            start = time.perf_counter()
            jax.make_jaxpr(fn)(*args)
            times[f"trace_{tag}"].append(time.perf_counter() - start)
            fn = plan.function(verify=verify)
            _PASSED.clear()
            start = time.perf_counter()
            jax.block_until_ready(jax.jit(fn)(*args))
            times[f"first_{tag}"].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "form": form,
        "stages": n,
        "trace_ratio": med["trace_on"] / med["trace_off"],
        "first_ratio": med["first_on"] / med["first_off"],
        "added_ms_per_stage": 1e3 * (med["trace_on"] - med["trace_off"]) / n,
        "first_off_s": med["first_off"],
    }


def honest() -> None:
    """The two variants differ by the check alone: with it a stage that lies about its size is
    refused (TM306), without it the same trace goes through."""

    @tm.stage
    def trim(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return x[:-1] if x.shape[0] >= 100 else x

    @tm.pipeline
    def clean(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return trim(x)

    plan = clean._planner.ready()  # pyright: ignore[reportAttributeAccessIssue]
    x = jnp.ones(100)
    jax.make_jaxpr(plan.function(verify=False))(x)
    try:
        jax.make_jaxpr(plan.function(verify=True))(x)
    except tm.BodyError as err:
        assert err.code == "TM306", err
    else:
        raise SystemExit("the checked variant did not refuse a stage that lies about its size")


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10 stages, one round: a smoke run")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    sizes = [10] if args.quick else args.sizes
    repeat = 1 if args.quick else args.repeat
    honest()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for distinct in (True, False):
            for n in sizes:
                rows.append(measure(n, Path(tmp), repeat, distinct))
    print(f"{'form':>9} {'stages':>7} {'trace ×':>8} {'first call ×':>13} {'ms/stage':>9} {'first call (s)':>15}")
    for r in rows:
        print(
            f"{r['form']:>9} {r['stages']:>7} {r['trace_ratio']:>8.2f} {r['first_ratio']:>13.2f} "
            f"{r['added_ms_per_stage']:>9.3f} {r['first_off_s']:>15.3f}"
        )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
