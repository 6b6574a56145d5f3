"""Time to check a generated pipeline of N stages without data, as ``typedml check`` does.

A module is generated with a chain of N stage calls, every edge typed ``(b, c)`` with units
cycling m → mm → km (so a unit conversion is inserted on most edges) and a per-channel
parameter input of shape ``(c)`` shared by every stage. Two forms:

  distinct  N different stage functions: every body is evaluated symbolically (N body checks);
  reused    10 stage functions called N times in all: the body check of a stage is cached per
            (stage, input types), so this is the cost of tracing and the wiring check alone.

Timed, after the module is imported (imports are not part of the figure): building the graph
(tracing the pipeline body), the wiring check (units, shapes, dtypes of every edge) and the
body checks — everything ``pipeline.check()`` does on first use, which is what ``typedml
check`` does per pipeline. The growth rate between consecutive sizes is reported as the
exponent k in time ∝ N^k (1.0 = linear). The process CPU time of the check is shown beside the wall time: on a shared machine it is
the steadier of the two. One end-to-end ``typedml check FILE`` run (a fresh
process: Python, JAX and typedml imports included) is timed at the 1,000-stage size.

Run from the repository root::

    .venv/bin/python benchmarks/bench_check.py                   # 100, 1,000, 5,000 stages
    .venv/bin/python benchmarks/bench_check.py --sizes 100 1000 10000
    .venv/bin/python benchmarks/bench_check.py --quick           # fast smoke run
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import jax

import typedml as tm

UNITS = ("m", "mm", "km")


def generate(n: int, *, distinct: bool) -> str:
    """Source of a module with a pipeline ``chain`` of ``n`` stage calls."""
    kinds = n if distinct else min(n, 10)
    lines = [
        "from jaxtyping import Array, Float",
        "import typedml as tm",
        "from typedml import Q",
        "",
    ]
    for k in range(kinds):
        unit_in, unit_out = UNITS[k % 3], UNITS[(k + 1) % 3]
        lines += [
            "@tm.stage",
            f'def s{k}(x: Q[Float[Array, "b c"], "{unit_in}"], g: Q[Float[Array, "c"], ""])'
            f' -> Q[Float[Array, "b c"], "{unit_out}"]:',
            f"    return x * g + {k}.0",
            "",
        ]
    lines += [
        "@tm.pipeline",
        'def chain(x: Q[Float[Array, "b c"], "m"], g: Q[Float[Array, "c"], ""])'
        ' -> Q[Float[Array, "b c"], "m"]:',  # the last stage returns a length: converted on the way out
    ]
    for i in range(n):
        lines.append(f"    x = s{i % kinds}(x, g)")
    lines.append("    return x")
    return "\n".join(lines) + "\n"


def import_source(source: str, folder: Path, name: str) -> ModuleType:
    path = folder / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def time_check(n: int, *, distinct: bool, folder: Path, repeat: int) -> dict[str, float]:
    """Median seconds of the first ``check()`` of a freshly imported pipeline of n stages."""
    source = generate(n, distinct=distinct)
    times: list[float] = []
    cpu: list[float] = []
    imports: list[float] = []
    for r in range(repeat):
        name = f"chain_{'d' if distinct else 'r'}_{n}_{r}"
        start = time.perf_counter()
        module = import_source(source, folder, name)
        imports.append(time.perf_counter() - start)
        chain = module.chain
        start, start_cpu = time.perf_counter(), time.process_time()
        report = chain.check()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if not report.ok:
            raise SystemExit(f"generated pipeline does not check clean:\n{report}")
        if chain.graph.number_of_nodes() != n + 3:  # n stages, 2 inputs, 1 output
            raise SystemExit(f"expected {n + 3} nodes, found {chain.graph.number_of_nodes()}")
        del sys.modules[name]
    times.sort()
    cpu.sort()
    imports.sort()
    middle = len(times) // 2
    return {"check_s": times[middle], "cpu_s": cpu[middle], "import_s": imports[middle]}


def end_to_end(n: int, folder: Path) -> float:
    path = folder / "cli_chain.py"
    path.write_text(generate(n, distinct=True))
    command = [sys.executable, "-m", "typedml", "check", str(path)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"typedml check failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=3, help="fresh imports and checks per size (median)")
    parser.add_argument("--quick", action="store_true", help="sizes 20 and 100, one repeat, no end-to-end run")
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    args = parser.parse_args(argv)
    sizes: list[int] = [20, 100] if args.quick else args.sizes
    repeat = 1 if args.quick else args.repeat

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for distinct in (True, False):
            previous: tuple[int, float] | None = None
            for n in sizes:
                result = time_check(n, distinct=distinct, folder=folder, repeat=repeat)
                growth = math.log(result["check_s"] / previous[1]) / math.log(n / previous[0]) if previous else None
                previous = (n, result["check_s"])
                rows.append(
                    {
                        "form": "distinct" if distinct else "reused",
                        "stages": n,
                        "check_s": result["check_s"],
                        "per_stage_ms": 1000 * result["check_s"] / n,
                        "cpu_s": result["cpu_s"],
                        "growth_exponent": growth,
                        "import_s": result["import_s"],
                    }
                )
        e2e = None if args.quick or 1000 not in sizes else end_to_end(1000, folder)

    print(
        f"typedml {tm.__version__}, jax {jax.__version__}, {platform.python_implementation()} {platform.python_version()}"
    )
    print(f"{platform.platform()}, {os.cpu_count()} CPUs; median of {repeat} fresh imports+checks per size")
    print()
    header = (
        f"{'form':9} {'stages':>7} {'check (s)':>10} {'per stage':>10} {'growth N^k':>11}"
        f" {'CPU (s)':>8} {'import (s)':>11}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        growth = row["growth_exponent"]
        growth_text = f"{growth:.2f}" if isinstance(growth, float) else ""
        print(
            f"{row['form']:9} {row['stages']:>7} {row['check_s']:>10.3f} {row['per_stage_ms']:>8.2f}ms"
            f" {growth_text:>11} {row['cpu_s']:>8.3f} {row['import_s']:>11.3f}"
        )
    if e2e is not None:
        print()
        print(f"end to end, `python -m typedml check` on the 1,000-stage module (fresh process): {e2e:.2f} s")
    result: dict[str, object] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "versions": {"typedml": tm.__version__, "jax": jax.__version__},
        "repeat": repeat,
        "rows": rows,
        "end_to_end_1000_s": e2e,
    }
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
