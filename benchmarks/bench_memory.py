"""Resident memory while a pipeline sees ever new static values (or shapes): bounded caches.

Each distinct static value makes a variant of a pipeline (traced, checked, compiled); each
distinct input shape a compiled executable inside JAX. typedml keeps at most
``typedml._lru.MAX_VARIANTS`` variants per pipeline and ``MAX_SHAPES`` shapes per executable
(least recently used dropped), so memory levels off. The script runs in a fresh process per
mode, calls a one-stage pipeline with 1,000 distinct static values (or shapes), and prints the
resident set size (RSS, from /proc) at checkpoints. ``--unbounded`` raises the limits to a
million, which is what memory does without them (the baseline, measured the same way).

    .venv/bin/python benchmarks/bench_memory.py                 # static values, bounded and not
    .venv/bin/python benchmarks/bench_memory.py --kind shapes
    .venv/bin/python benchmarks/bench_memory.py --count 100     # a quick run
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import Array, Float

import typedml as tm
import typedml._call
import typedml._stage
from typedml import Q


def rss_mb() -> float:
    """This process's resident set size, in MB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:  # pragma: no cover - not Linux
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def run(kind: str, count: int, unbounded: bool) -> list[tuple[int, float]]:
    """In this process: ``count`` distinct static values (or shapes); RSS at checkpoints."""
    if unbounded:  # before the stage exists: its caches take these sizes
        typedml._stage.MAX_VARIANTS = 10**6
        typedml._call.MAX_SHAPES = 10**6

    @tm.stage
    def shift(x: Q[Float[Array, "n"], "m"], by: float = 0.0) -> Q[Float[Array, "n"], "m"]:
        return x * 2.0 + by

    registry = tm.get_registry()
    x = registry.Quantity(np.ones(64, np.float32), "m")
    shift(x, by=-1.0)  # JAX and the first compile, before the first checkpoint
    checkpoints = sorted({1, count // 10, count // 4, count // 2, count})
    found: list[tuple[int, float]] = []
    for i in range(1, count + 1):
        if kind == "static":
            out = shift(x, by=float(i))
        else:
            out = shift(registry.Quantity(np.ones(i, np.float32), "m"))
        out.magnitude.block_until_ready()
        if i in checkpoints:
            gc.collect()
            found.append((i, rss_mb()))
    return found


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=("static", "shapes"), default="static")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", choices=("bounded", "unbounded"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run(args.kind, args.count, args.child == "unbounded")))
        return {}
    result: dict[str, Any] = {"kind": args.kind, "count": args.count}
    for mode in ("bounded", "unbounded"):
        done = subprocess.run(
            [sys.executable, __file__, "--kind", args.kind, "--count", str(args.count), "--child", mode],
            capture_output=True,
            text=True,
            check=True,
        )
        points = json.loads(done.stdout.strip().splitlines()[-1])
        result[mode] = points
        print(f"{mode:>9}: " + "   ".join(f"{i:>5} {args.kind}: {mb:7.1f} MB" for i, mb in points), flush=True)
    first, last = result["bounded"][0][1], result["bounded"][-1][1]
    result["bounded_growth_mb"] = last - first
    result["unbounded_growth_mb"] = result["unbounded"][-1][1] - result["unbounded"][0][1]
    print(
        f"growth from the first to the last checkpoint: bounded {result['bounded_growth_mb']:+.1f} MB, "
        f"unbounded {result['unbounded_growth_mb']:+.1f} MB"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
