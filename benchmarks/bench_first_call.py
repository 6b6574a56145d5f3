"""First-call latency of the flagship pipeline in a fresh process, without and with JAX's
persistent compilation cache (``tm.enable_compilation_cache``).

Each measurement is a new Python process (``--child``) that imports typedml, builds the
``examples/sensor`` pipeline's inputs, runs ``sensor.check()`` (tracing and every check,
no compilation), then the first call (compilation, or a load from the cache) and a second
call. Three kinds of process, interleaved round by round so drift on the machine hits all:

  none   no persistent cache (JAX's default)
  cold   the cache enabled on an empty folder: compiles, and writes the executable
  warm   the cache enabled on a folder a previous process filled: loads it

Each child also counts JAX's cache events (``jax.monitoring``) and checks that an input in a
wrong unit is still refused (TM203): the cache sits under typedml's checks, never beside them.

Run from the repository root::

    .venv/bin/python benchmarks/bench_first_call.py                 # 7 rounds
    .venv/bin/python benchmarks/bench_first_call.py --quick         # 1 round (smoke)
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def child(cache: str | None) -> dict[str, Any]:
    started = time.perf_counter()
    import jax
    import jax.monitoring
    import numpy as np

    events: collections.Counter[str] = collections.Counter()
    jax.monitoring.register_event_listener(lambda event, **_: events.update([event]))
    import typedml as tm

    if cache is not None:
        tm.enable_compilation_cache(cache)
    sys.path.insert(0, str(ROOT))
    from examples.sensor.main import make_data
    from examples.sensor.pipeline import sensor

    data = make_data()
    imported = time.perf_counter()
    report = sensor.check()
    checked = time.perf_counter()
    out = sensor(data["raw"], data["gain"], data["offset"])
    out.magnitude.block_until_ready()
    first = time.perf_counter()
    out2 = sensor(data["raw"], data["gain"], data["offset"])
    out2.magnitude.block_until_ready()
    second = time.perf_counter()
    try:
        sensor(tm.get_registry().Quantity(np.asarray(data["raw"].magnitude), "s"), data["gain"], data["offset"])
        refused = None
    except tm.InputError as err:
        refused = err.code
    return {
        "import_s": imported - started,
        "check_s": checked - imported,
        "first_call_s": first - checked,
        "second_call_s": second - first,
        "check_ok": report.ok,
        "output": np.asarray(out.magnitude).tolist(),
        "unit": str(out.units),
        "cache_hits": events["/jax/compilation_cache/cache_hits"],
        "cache_misses": events["/jax/compilation_cache/cache_misses"],
        "wrong_unit_refused": refused,
    }


def run_child(cache: str | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", cache or "-"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"child failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="one round: a smoke run, not a measurement")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "bench_first_call.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(None if args.child == "-" else args.child)))
        return {}
    rounds = 1 if args.quick else args.rounds
    samples: dict[str, list[dict[str, Any]]] = {"none": [], "cold": [], "warm": []}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        warm_dir = str(Path(folder, "warm"))
        run_child(warm_dir)  # fills the warm cache
        for r in range(rounds):
            samples["none"].append(run_child(None))
            samples["cold"].append(run_child(str(Path(folder, f"cold{r}"))))
            samples["warm"].append(run_child(warm_dir))
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "rounds": rounds,
        "modes": {},
    }
    outputs = {json.dumps(s["output"]) for runs in samples.values() for s in runs}
    result["same_output_everywhere"] = len(outputs) == 1
    result["wrong_unit_refused_everywhere"] = all(
        s["wrong_unit_refused"] == "TM203" for runs in samples.values() for s in runs
    )
    for mode, runs in samples.items():
        result["modes"][mode] = {
            key: statistics.median(s[key] for s in runs)
            for key in ("import_s", "check_s", "first_call_s", "second_call_s", "process_s")
        } | {"cache_hits": [s["cache_hits"] for s in runs], "first_call_samples_s": [s["first_call_s"] for s in runs]}
    none, warm = result["modes"]["none"]["first_call_s"], result["modes"]["warm"]["first_call_s"]
    result["warm_over_none_first_call"] = warm / none
    print(
        f"machine: {result['machine']}; load average before {load_before[0]:.1f}, after {result['load_after'][0]:.1f}"
    )
    print(f"{'mode':6} {'import s':>9} {'check s':>8} {'1st call s':>11} {'2nd call ms':>12} {'process s':>10} hits")
    for mode, m in result["modes"].items():
        print(
            f"{mode:6} {m['import_s']:9.3f} {m['check_s']:8.3f} {m['first_call_s']:11.3f} "
            f"{m['second_call_s'] * 1e3:12.3f} {m['process_s']:10.2f} {m['cache_hits']}"
        )
    print(f"first call, warm cache / no cache: {result['warm_over_none_first_call']:.2f} (medians of {rounds})")
    print(f"same output in every process: {result['same_output_everywhere']}; ", end="")
    print(f"wrong unit refused (TM203) in every process: {result['wrong_unit_refused_everywhere']}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
