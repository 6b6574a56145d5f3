"""``tm.stream`` over the same files with 1, 2 and 4 ``jax.distributed`` processes, and a sharded
pipeline over a global batch split between processes, compared with one process.

The files (``--files`` × ``--rows`` rows × 4 float32 columns, in degC) are written once. For
each process count, ``typedml.testing.run_processes`` starts a job on this machine (CPU
devices, gloo collectives); each process

1. warms up: streams one small file, so the update, the merge and the gather are compiled
   before the clock starts (first-call latency is ``bench_first_call.py``'s business);
2. waits for the others, then times ``tm.stream(weighted_moments_update, tm.file_chunks(...),
   merge=moments_merge, finalize=moments_finalize)``: its share of the files, the agreement,
   the gather and the merge. Throughput is all rows over the slowest process's time;
3. runs ``examples/sensor`` sharded over all processes' devices on a global batch whose rows
   each process gives, and compares it with the plain single-process call on the whole batch.

Every process's result must equal the 1-process stream (and numpy's, on the whole data).
Run from the repository root::

    .venv/bin/python benchmarks/bench_distributed.py             # 8 files x 500,000 rows, 3 rounds
    .venv/bin/python benchmarks/bench_distributed.py --quick     # small files, 1 round (smoke)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = 4


def child(folder: Path, chunk_rows: int) -> dict[str, Any]:
    import jax

    jax.distributed.initialize(
        num_processes=int(os.environ["TYPEDML_NUM_PROCESSES"]),
        process_id=int(os.environ["TYPEDML_PROCESS_ID"]),
        initialization_timeout=120,
    )
    from jax.experimental import multihost_utils
    from jax.sharding import Mesh

    import typedml as tm

    sys.path.insert(0, str(ROOT))
    from examples.sensor.main import make_data
    from examples.sensor.pipeline import sensor

    std, ureg = tm.stdlib, tm.get_registry()
    me, count = jax.process_index(), jax.process_count()
    read = functools.partial(tm.npy_chunks, rows=chunk_rows, unit="degC")
    zero = np.zeros(COLUMNS, dtype=np.float32)
    init = (zero, ureg.Quantity(zero, "degC"), ureg.Quantity(zero, "delta_degC**2"))

    def run(paths: list[Path], stats: Any = None) -> Any:
        return tm.stream(
            std.weighted_moments_update,
            tm.file_chunks(paths, read),
            init=init,
            weights="w",
            merge=std.moments_merge,
            finalize=std.moments_finalize,
            stats=stats,
        )

    run([folder / "warmup.npy"] * count)  # one file each: every executable compiled
    multihost_utils.sync_global_devices("start")
    stats = tm.StreamStats()
    started = time.perf_counter()
    result = run(sorted(folder.glob("part_*.npy")), stats)
    seconds = time.perf_counter() - started

    # the flagship pipeline sharded over every process's devices, against one process
    data = make_data(batch=64 * len(jax.devices()))
    raw = np.asarray(data["raw"].magnitude)
    per = len(raw) // count
    mesh = Mesh(np.array(jax.devices()), ("data",))
    sharded = sensor.sharded(mesh, {"b": "data"})(
        ureg.Quantity(raw[me * per : (me + 1) * per], "V"), data["gain"], data["offset"]
    )
    plain = sensor(data["raw"], data["gain"], data["offset"])
    difference = float(np.max(np.abs(np.asarray(sharded.magnitude) - np.asarray(plain.magnitude))))
    # what the agreement before each sharded call costs: one exchange through JAX's
    # coordination service (nothing with one process)
    from typedml._distributed import Agreement

    agreement = Agreement("bench", timeout=60)
    facts = {"x": "float32[1024, 4] in volt"}
    started = time.perf_counter()
    for _ in range(50):
        agreement.check("inputs", facts)
    agreement_ms = (time.perf_counter() - started) / 50 * 1e3
    return {
        "process": me,
        "seconds": seconds,
        "rows_here": stats.rows,
        "n": float(result.n[0]),
        "mean": np.asarray(result.mean.magnitude).tolist(),
        "std": np.asarray(result.std.magnitude).tolist(),
        "sharded_max_abs_difference": difference,
        "sharded_equal": bool(np.allclose(np.asarray(sharded.magnitude), np.asarray(plain.magnitude), rtol=1e-5)),
        "sharded_batch": len(raw),
        "agreement_ms": agreement_ms,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--rows", type=int, default=500_000, help="rows per file")
    parser.add_argument("--chunk-rows", type=int, default=65_536)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--devices", type=int, default=2, help="CPU devices per process")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small files, one round: a smoke run")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "bench_distributed.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(Path(args.child), args.chunk_rows)), flush=True)
        return {}
    if args.quick:
        args.files, args.rows, args.chunk_rows, args.rounds = 4, 5_000, 1_024, 1
    from typedml.testing import run_processes

    rng = np.random.default_rng(0)
    load_before = os.getloadavg()
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "files": args.files,
        "rows_per_file": args.rows,
        "chunk_rows": args.chunk_rows,
        "devices_per_process": args.devices,
        "rounds": args.rounds,
        "load_before": load_before,
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parts = []
        for i in range(args.files):
            part = rng.normal(20.0, 3.0, (args.rows, COLUMNS)).astype(np.float32)
            np.save(folder / f"part_{i:03d}.npy", part)
            parts.append(part)
        np.save(folder / "warmup.npy", parts[0][: args.chunk_rows])
        whole = np.concatenate(parts).astype(np.float64)
        total_rows = len(whole)
        reference = {"mean": whole.mean(0), "std": whole.std(0)}
        del parts, whole
        for count in args.processes:
            rounds = []
            for _ in range(args.rounds):
                runs = run_processes(
                    __file__,
                    "--child",
                    str(folder),
                    "--chunk-rows",
                    str(args.chunk_rows),
                    processes=count,
                    devices=args.devices,
                    timeout=600,
                    cwd=ROOT,
                )
                for r in runs:
                    if r.returncode != 0:
                        raise RuntimeError(f"process {r.index} of {count} failed:\n{r.stderr[-3000:]}")
                rounds.append([r.last_json() for r in runs])
            result["runs"][count] = rounds
        result["load_after"] = os.getloadavg()
    one = result["runs"][args.processes[0]][0][0]
    table = []
    for count, rounds in result["runs"].items():
        slowest = [max(p["seconds"] for p in procs) for procs in rounds]
        everyone = [p for procs in rounds for p in procs]
        row = {
            "processes": count,
            "seconds_median": statistics.median(slowest),
            "rows_per_second": total_rows / statistics.median(slowest),
            "rows_folded": sum(p["rows_here"] for p in rounds[0]),
            "equal_to_first": all(
                np.allclose(p["mean"], one["mean"], rtol=1e-6) and np.allclose(p["std"], one["std"], rtol=1e-5)
                for p in everyone
            ),
            "close_to_numpy": all(
                np.allclose(p["mean"], reference["mean"], rtol=1e-5)
                and np.allclose(p["std"], reference["std"], rtol=1e-4)
                for p in everyone
            ),
            "sharded_equal": all(p["sharded_equal"] for p in everyone),
            "sharded_max_abs_difference": max(p["sharded_max_abs_difference"] for p in everyone),
            "sharded_devices": count * args.devices,
            "agreement_ms_median": statistics.median(p["agreement_ms"] for p in everyone),
        }
        table.append(row)
    result["table"] = table
    base = table[0]["rows_per_second"]
    print(
        f"machine: {result['machine']}; load average before {load_before[0]:.1f}, after {result['load_after'][0]:.1f}"
    )
    print(f"{total_rows:,} rows in {args.files} files, chunks of {args.chunk_rows:,} rows, medians of {args.rounds}")
    print(
        f"{'procs':>5} {'seconds':>8} {'rows/s':>12} {'vs 1':>5} {'equal':>6} {'numpy':>6} {'sharded':>8} {'max |diff|':>10}"
    )
    for row in table:
        print(
            f"{row['processes']:5d} {row['seconds_median']:8.3f} {row['rows_per_second']:12,.0f} "
            f"{row['rows_per_second'] / base:5.2f} {row['equal_to_first']!s:>6} {row['close_to_numpy']!s:>6} "
            f"{row['sharded_equal']!s:>8} {row['sharded_max_abs_difference']:10.2g} {row['agreement_ms_median']:9.3f}"
        )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=float), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
