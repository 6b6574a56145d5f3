"""Streaming a file several times larger than a memory cap: throughput and peak memory.

A ``.npy`` file of ``--rows`` × ``--cols`` float32 values (default 32 M × 4 = 512 MB) is written
once. Two fresh processes then compute the per-column mean and standard deviation in metres
(the file holds millimetres):

  streamed   ``tm.stream`` over ``tm.npy_chunks(path, rows=--chunk-rows)`` with a mergeable
             moments state (Chan's pairwise update), a ragged last chunk padded and weighted out
  in memory  the whole file loaded and reduced by one pipeline call (the reference)

Each process reports its peak resident memory (``ru_maxrss``) and, separately, its resident
memory after imports and compilation, so the data's share is the difference. The cap
(``--cap-mb``, default 64; chunks of ``--chunk-rows``, default 250,000) is what the streamed process's data share must stay under; the
file is ``size / cap`` times larger. The two results are compared (relative difference).

Run from the repository root::

    .venv/bin/python benchmarks/bench_stream.py                  # 512 MB file, 64 MB cap
    .venv/bin/python benchmarks/bench_stream.py --quick          # smoke run: a few MB
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


class Moments(NamedTuple):
    weight: Float[Array, "d"]
    mean: Q[Float[Array, "d"], "'u"]
    m2: Q[Float[Array, "d"], "'u**2"]


@tm.stage
def moments_update(
    weight: Float[Array, "d"],
    mean: Q[Float[Array, "d"], "'u"],
    m2: Q[Float[Array, "d"], "'u**2"],
    x: Q[Float[Array, "n d"], "'u"],
    w: Float[Array, "n d"],
) -> Moments:
    """Fold weighted rows into (weight, mean, sum of squared deviations): Chan et al.'s merge."""
    wb = w.sum(0)
    safe_b = jnp.where(wb > 0, wb, 1)
    mb = (w * x).sum(0) / safe_b
    m2b = (w * (x - mb) ** 2).sum(0)
    total = weight + wb
    safe = jnp.where(total > 0, total, 1)
    d = mb - mean
    return Moments(total, mean + d * wb / safe, m2 + m2b + d * d * weight * wb / safe)


class Summary(NamedTuple):
    mean: Q[Float[Array, "d"], "'u"]
    std: Q[Float[Array, "d"], "'u"]


@tm.stage
def moments_finalize(
    weight: Float[Array, "d"], mean: Q[Float[Array, "d"], "'u"], m2: Q[Float[Array, "d"], "'u**2"]
) -> Summary:
    return Summary(mean, jnp.sqrt(m2 / weight))


@tm.stage
def summary(x: Q[Float[Array, "n d"], "'u"]) -> Summary:
    return Summary(x.mean(0), x.std(0))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child(mode: str, path: str, chunk_rows: int, cols: int) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    reg = tm.get_registry()
    empty = Moments(jnp.zeros(cols), reg.Quantity(jnp.zeros(cols), "m"), reg.Quantity(jnp.zeros(cols), "m**2"))
    # warm up: imports and compilation are not the data's memory
    warm = reg.Quantity(np.zeros((chunk_rows, cols), dtype=np.float32), "mm")
    if mode == "streamed":
        tm.stream(moments_update, [warm], init=empty, weights="w")
    else:
        summary(reg.Quantity(np.zeros((8, cols), dtype=np.float32), "mm"))
    before = _rss_mb()
    start = time.perf_counter()
    stats = tm.StreamStats()
    if mode == "streamed":
        result = tm.stream(
            moments_update,
            tm.npy_chunks(path, rows=chunk_rows, unit="mm"),
            init=empty,
            finalize=moments_finalize,
            weights="w",
            stats=stats,
        )
    else:
        result = summary(reg.Quantity(np.load(path), "mm"))
    mean = np.asarray(result.mean.to("m").magnitude, dtype=np.float64)
    std = np.asarray(result.std.to("m").magnitude, dtype=np.float64)
    seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "seconds": seconds,
        "rows": stats.rows,
        "chunks": stats.chunks,
        "padded_rows": stats.padded_rows,
        "peak_rss_mb": _rss_mb(),
        "rss_after_warmup_mb": before,
        "mean_m": mean.tolist(),
        "std_m": std.tolist(),
        "unit": str(result.mean.to("m").units),
    }


def run_child(mode: str, path: Path, chunk_rows: int, cols: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", mode, str(path), str(chunk_rows), str(cols)]
    env = dict(os.environ, JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"))
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=32_000_000)
    parser.add_argument("--cols", type=int, default=4)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--cap-mb", type=float, default=64.0)
    parser.add_argument("--quick", action="store_true", help="a few MB: a smoke run, not a measurement")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.chunk_rows, args.cap_mb = 200_003, 20_000, 16.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "readings.npy"
        rng = np.random.default_rng(0)
        with path.open("wb") as f:  # written in blocks, so the writer is not the memory peak either
            header = {"descr": "<f4", "fortran_order": False, "shape": (args.rows, args.cols)}
            np.lib.format.write_array_header_2_0(f, header)
            for start in range(0, args.rows, 1_000_000):
                n = min(1_000_000, args.rows - start)
                block = rng.normal(1500.0, 250.0, (n, args.cols)) + np.arange(args.cols) * 100.0
                f.write(block.astype("<f4").tobytes())
        size_mb = path.stat().st_size / 2**20
        streamed = run_child("streamed", path, args.chunk_rows, args.cols)
        in_memory = run_child("in_memory", path, args.chunk_rows, args.cols)
    rel_mean = float(np.max(np.abs(np.subtract(streamed["mean_m"], in_memory["mean_m"])) / np.abs(in_memory["mean_m"])))
    rel_std = float(np.max(np.abs(np.subtract(streamed["std_m"], in_memory["std_m"])) / np.abs(in_memory["std_m"])))
    data_share = streamed["peak_rss_mb"] - streamed["rss_after_warmup_mb"]
    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "jax": jax.__version__},
        "file_mb": size_mb,
        "cap_mb": args.cap_mb,
        "file_over_cap": size_mb / args.cap_mb,
        "chunk_rows": args.chunk_rows,
        "streamed": streamed,
        "in_memory": in_memory,
        "streamed_data_rss_mb": data_share,
        "within_cap": data_share <= args.cap_mb,
        "max_rel_diff_mean": rel_mean,
        "max_rel_diff_std": rel_std,
        "rows_per_second": streamed["rows"] / streamed["seconds"],
    }
    print(f"typedml {tm.__version__}, jax {jax.__version__}, {platform.platform()}, {os.cpu_count()} CPUs")
    print(
        f"file {size_mb:.0f} MB ({args.rows} × {args.cols} float32, mm), cap {args.cap_mb:.0f} MB: {size_mb / args.cap_mb:.1f}× the cap"
    )
    print()
    header = f"{'run':10} {'seconds':>8} {'rows/s':>12} {'peak RSS':>10} {'after warm-up':>14} {'data share':>11}"
    print(header)
    print("-" * len(header))
    for row in (streamed, in_memory):
        share = row["peak_rss_mb"] - row["rss_after_warmup_mb"]
        print(
            f"{row['mode']:10} {row['seconds']:>8.2f} {args.rows / row['seconds']:>12.3g} {row['peak_rss_mb']:>8.0f}MB"
            f" {row['rss_after_warmup_mb']:>12.0f}MB {share:>9.0f}MB"
        )
    print()
    print(
        f"streamed: {streamed['chunks']} chunks of {args.chunk_rows} rows ({streamed['padded_rows']} padding rows in the last); "
        f"data share {'within' if result['within_cap'] else 'OVER'} the {args.cap_mb:.0f} MB cap"
    )
    print(
        f"results agree with the in-memory run: mean to {rel_mean:.1e}, std to {rel_std:.1e} (relative), unit {streamed['unit']}"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))))
    else:
        main()
