"""What a notebook's rich display costs for a big pipeline: size and time of each ``_repr_html_``.

The workload is a generated pipeline of ``--stages`` stage calls (default 200): pairs of a
scaling stage (``m`` to ``m``) and a mixing stage that adds the value before the pair (passed
in ``m`` to a port in ``mm``, so half the edges carry a conversion and every edge skips into a
later layer of the picture). For it, the script measures:

  build + check   a fresh copy of the pipeline traced and checked (what evaluating a new
                  pipeline in a cell starts with; the reference the display times compare to)
  to_html         the existing self-contained page of the graph (the picture it reuses)
  Pipeline        ``pipeline._repr_html_()`` of the checked pipeline (signature, graph)
  Pipeline, cold  the same on a fresh copy: build + check + display, what the user waits for
  CheckReport     ``pipeline.check()._repr_html_()`` (graph and diagnostics table)
  DebugRun        ``run._repr_html_()`` of a debug run (every value's row and histogram,
                  the graph folded above)

Each figure is the median of ``--repeat`` runs, with its size in bytes. The bounds are
1 MB and 1 s per display (``within_bounds`` in the JSON). Nothing fails when one is missed.

Run from the repository root::

    .venv/bin/python benchmarks/bench_display.py                # 200 stages, 7 runs each
    .venv/bin/python benchmarks/bench_display.py --quick        # smoke run: not a measurement
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

SIZE_BOUND = 1_000_000  # bytes
TIME_BOUND = 1.0  # seconds


def make_pipeline(stages: int) -> tm.Pipeline[..., Any]:
    """A fresh pipeline of ``stages`` stage calls (new stage objects: nothing cached)."""

    @tm.stage
    def scale(x: Q[Float[Array, "n"], "m"], k: float = 1.0) -> Q[Float[Array, "n"], "m"]:
        return x * k

    @tm.stage
    def mix(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "mm"]) -> Q[Float[Array, "n"], "m"]:
        return x + y / 2

    @tm.pipeline
    def generated(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        a = before = x
        for _ in range(stages // 2):
            b = scale(a)
            a, before = mix(b, before), b
        return a

    return generated


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of ``fn()`` over ``repeat`` runs, and its last result."""
    samples: list[float] = []
    result: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def timed_fresh(fn: Callable[[tm.Pipeline[..., Any]], Any], stages: int, repeat: int) -> tuple[float, Any]:
    """The same, each run on a freshly made pipeline (its making not timed)."""
    samples: list[float] = []
    result: Any = None
    for _ in range(repeat):
        pipeline = make_pipeline(stages)
        start = time.perf_counter()
        result = fn(pipeline)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def run(stages: int, repeat: int) -> dict[str, Any]:
    pipeline = make_pipeline(stages)
    pipeline.check()
    x = tm.get_registry().Quantity(np.linspace(1.0, 2.0, 1000, dtype=np.float32), "m")
    debug = pipeline.debug(x)
    rows: dict[str, dict[str, Any]] = {}

    def add(name: str, seconds: float, text: str | None) -> None:
        rows[name] = {"seconds": seconds, "bytes": len(text.encode()) if text is not None else None}

    seconds, _ = timed_fresh(lambda p: p.check(), stages, repeat)
    add("build + check", seconds, None)
    seconds, page = timed(pipeline.to_html, repeat)
    add("to_html (page)", seconds, page)
    seconds, html = timed(pipeline._repr_html_, repeat)
    add("Pipeline", seconds, html)
    seconds, html = timed_fresh(lambda p: p._repr_html_(), stages, repeat)
    add("Pipeline, cold (build + check + display)", seconds, html)
    report = pipeline.check()
    seconds, html = timed(report._repr_html_, repeat)
    add("CheckReport", seconds, html)
    seconds, html = timed(debug._repr_html_, repeat)
    add("DebugRun", seconds, html)
    displays = [name for name in rows if name not in ("build + check", "to_html (page)")]
    within = all(rows[n]["seconds"] <= TIME_BOUND and rows[n]["bytes"] <= SIZE_BOUND for n in displays)
    page_time = rows["to_html (page)"]["seconds"]
    for row in rows.values():
        row["vs_to_html"] = row["seconds"] / page_time
    return {
        "stages": stages,
        "nodes": pipeline.graph.number_of_nodes(),
        "edges": pipeline.graph.number_of_edges(),
        "values": len(debug.values),
        "repeat": repeat,
        "rows": rows,
        "within_bounds": within,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['stages']} stages ({result['nodes']} nodes, {result['edges']} edges, {result['values']} values),"
        f" median of {result['repeat']} runs",
        f"{'':44} {'ms':>9} {'÷ to_html':>10} {'kB':>8}",
    ]
    for name, row in result["rows"].items():
        size = f"{row['bytes'] / 1000:8.1f}" if row["bytes"] is not None else f"{'—':>8}"
        lines.append(f"{name:44} {row['seconds'] * 1000:9.1f} {row['vs_to_html']:10.2f} {size}")
    verdict = "within" if result["within_bounds"] else "NOT within"
    lines.append(f"every display {verdict} {SIZE_BOUND // 1_000_000} MB and {TIME_BOUND:g} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="20 stages, 2 runs: a smoke run, not a measurement")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/bench_display.json"))
    args = parser.parse_args(argv)
    stages, repeat = (20, 2) if args.quick else (args.stages, args.repeat)
    result = run(stages, repeat)
    print(table(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
