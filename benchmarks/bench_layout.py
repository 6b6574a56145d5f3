"""``to_html()`` of big pipelines: time at several sizes and the fitted growth exponent.

Each size is a chain of N stages where every stage also takes one shared pipeline input (so
one input feeds N edges that span from the first layer to the last: the case a layered layout
with one invisible point per crossed layer makes quadratic). The pipeline is built and checked
first (that is ``check()``'s cost, reported apart); the timing is ``to_html()`` on the checked
pipeline, best of ``--repeat`` runs. The growth exponent is the slope of log(time) against
log(N) fitted by least squares over the sizes; the target is at most 1.3.

    .venv/bin/python benchmarks/bench_layout.py                      # 500, 2000, 5000 stages
    .venv/bin/python benchmarks/bench_layout.py --sizes 100 200 --repeat 1   # a quick run
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

TARGET = 1.3


@tm.stage
def step(x: Q[Float[Array, "n"], "m"], g: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return x + g


def chain(n: int) -> Any:
    """A fresh pipeline of ``n`` stages, each taking the previous value and the shared input."""

    @tm.pipeline
    def big(x: Q[Float[Array, "n"], "km"], g: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        for _ in range(n):
            x = step(x, g)
        return x

    return big


def exponent(sizes: Sequence[int], seconds: Sequence[float]) -> float:
    """The least-squares slope of log(seconds) against log(size)."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(t) for t in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 5000])
    parser.add_argument("--repeat", type=int, default=3, help="to_html() runs per size (best is kept)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here too")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for n in args.sizes:
        pipeline = chain(n)
        start = time.perf_counter()
        report = pipeline.check()
        checked = time.perf_counter() - start
        assert report.ok, report
        best = math.inf
        size = 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            page = pipeline.to_html()
            best = min(best, time.perf_counter() - start)
            size = len(page)
        rows.append({"stages": n, "check_s": checked, "to_html_s": best, "page_bytes": size})
        print(f"{n:>6} stages: check {checked:7.2f} s   to_html {best:7.2f} s   page {size / 1e6:6.1f} MB", flush=True)
    result: dict[str, Any] = {"rows": rows, "target": TARGET}
    if len(rows) >= 2:
        k = exponent([r["stages"] for r in rows], [r["to_html_s"] for r in rows])
        result["exponent"] = k
        result["target_met"] = k <= TARGET
        print(f"growth exponent of to_html(): {k:.2f} (target <= {TARGET}: {'met' if k <= TARGET else 'missed'})")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
