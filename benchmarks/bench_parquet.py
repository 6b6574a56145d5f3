"""Streaming a Parquet data set with its units: typedml against pyarrow's own scan and numpy.

A data set of ``--mb`` MB (default 512) is written once: ``--files`` Parquet files of four
float32 columns in mV (the unit in each field's ``"unit"`` metadata), row groups of 128 Ki
rows, uncompressed and plain-encoded. Two fresh processes then compute the per-channel count,
mean and standard deviation of every row:

  typedml    ``tm.stream(tm.stdlib.moments_update, tm.parquet_chunks(paths, {"x": [...]},
             rows=--chunk-rows))``: each chunk's four columns read, checked (numbers, no nulls,
             units read from the file), stacked into ``(rows, 4)`` in mV and folded by the
             stdlib's mergeable moments state, compiled once
  baseline   pyarrow's ``ParquetFile.iter_batches`` over the same files with the same batch
             size, each batch's columns stacked with numpy and folded by the same arithmetic
             (Chan's pairwise merge of count, mean and sum of squared deviations) in numpy

Each process reports rows per second, its peak resident memory (``ru_maxrss``) and its
resident memory after imports and warm-up (the difference is the data's share). The ratio is
typedml's seconds over the baseline's, measured in the same run; the two results are compared.

Run from the repository root::

    .venv/bin/python benchmarks/bench_parquet.py                 # 512 MB data set
    .venv/bin/python benchmarks/bench_parquet.py --mb 2048       # a larger one
    .venv/bin/python benchmarks/bench_parquet.py --quick         # smoke run: a few MB, one process
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
from typing import Any

import numpy as np

CHANNELS = ["ch0", "ch1", "ch2", "ch3"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def write_data_set(folder: Path, mb: float, files: int) -> tuple[list[Path], int]:
    """``files`` Parquet files of about ``mb`` MB together, written a row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    group = 128 * 1024
    per_file = max(1, round(mb * 2**20 / (4 * len(CHANNELS)) / files / group)) * group
    schema = pa.schema([pa.field(c, pa.float32(), metadata={"unit": "mV"}) for c in CHANNELS])
    rng = np.random.default_rng(0)
    paths: list[Path] = []
    for i in range(files):
        path = folder / f"part-{i:03d}.parquet"
        with pq.ParquetWriter(path, schema, compression="none", use_dictionary=False) as writer:
            for _ in range(per_file // group):
                block = rng.normal(1500.0, 250.0, (group, len(CHANNELS))).astype(np.float32)
                block += np.arange(len(CHANNELS), dtype=np.float32) * 100
                columns = [pa.array(block[:, j]) for j in range(len(CHANNELS))]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema), row_group_size=group)
        paths.append(path)
    return paths, per_file * files


def run_typedml(paths: list[str], chunk_rows: int) -> dict[str, Any]:
    import typedml as tm

    state = tm.stdlib.moments_init(tm.Quantity(np.zeros(len(CHANNELS), np.float32), "mV"))
    # warm up (compilation and imports are not the data's time or memory): the shapes of the
    # chunks (a file's last chunk may be shorter: a shape of its own), the finalize
    import pyarrow.parquet as pq

    tails = {pq.ParquetFile(p).metadata.num_rows % chunk_rows for p in paths} - {0}
    warm = [tm.Quantity(np.zeros((n, len(CHANNELS)), np.float32), "mV") for n in (chunk_rows, *sorted(tails))]
    tm.stream(tm.stdlib.moments_update, warm, init=state, finalize=tm.stdlib.moments_finalize)
    before = _rss_mb()
    stats = tm.StreamStats()
    start = time.perf_counter()
    chunks = tm.parquet_chunks(paths, {"x": CHANNELS}, rows=chunk_rows)
    result = tm.stream(tm.stdlib.moments_update, chunks, init=state, finalize=tm.stdlib.moments_finalize, stats=stats)
    mean = np.asarray(result.mean.to("mV").magnitude, np.float64)
    std = np.asarray(result.std.to("mV").magnitude, np.float64)
    seconds = time.perf_counter() - start
    return {
        "mode": "typedml",
        "seconds": seconds,
        "rows": int(stats.rows),
        "chunks": int(stats.chunks),
        "peak_rss_mb": _rss_mb(),
        "rss_after_warmup_mb": before,
        "mean_mV": mean.tolist(),
        "std_mV": std.tolist(),
    }


def run_baseline(paths: list[str], chunk_rows: int) -> dict[str, Any]:
    import pyarrow.parquet as pq

    before = _rss_mb()
    start = time.perf_counter()
    count = 0.0
    mean = np.zeros(len(CHANNELS), np.float32)
    m2 = np.zeros(len(CHANNELS), np.float32)
    rows = chunks = 0
    for path in paths:
        with pq.ParquetFile(path) as f:
            for batch in f.iter_batches(batch_size=chunk_rows, columns=CHANNELS):
                x = np.stack([batch.column(c).to_numpy() for c in CHANNELS], axis=1)
                n = float(len(x))
                mb = x.mean(0)
                m2b = ((x - mb) ** 2).sum(0)
                total = count + n
                d = mb - mean
                mean = mean + d * (n / total)
                m2 = m2 + m2b + d * d * (count * n / total)
                count = total
                rows += len(x)
                chunks += 1
    std = np.sqrt(m2 / count)
    seconds = time.perf_counter() - start
    return {
        "mode": "baseline",
        "seconds": seconds,
        "rows": rows,
        "chunks": chunks,
        "peak_rss_mb": _rss_mb(),
        "rss_after_warmup_mb": before,
        "mean_mV": np.asarray(mean, np.float64).tolist(),
        "std_mV": np.asarray(std, np.float64).tolist(),
    }


RUNS = {"typedml": run_typedml, "baseline": run_baseline}


def run_child(mode: str, paths: list[Path], chunk_rows: int, same_process: bool) -> dict[str, Any]:
    if same_process:
        return RUNS[mode]([str(p) for p in paths], chunk_rows)
    command = [sys.executable, __file__, "--child", mode, str(chunk_rows), *map(str, paths)]
    env = dict(os.environ, JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"))
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=512.0, help="size of the data set (default 512 MB)")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--chunk-rows", type=int, default=262_144)
    parser.add_argument("--quick", action="store_true", help="a few MB in one process: a smoke run, not a measurement")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.mb, args.files, args.chunk_rows = 4.0, 2, 50_000
    with tempfile.TemporaryDirectory() as tmp:
        paths, total_rows = write_data_set(Path(tmp), args.mb, args.files)
        size_mb = sum(p.stat().st_size for p in paths) / 2**20
        ours = run_child("typedml", paths, args.chunk_rows, args.quick)
        base = run_child("baseline", paths, args.chunk_rows, args.quick)
    rel_mean = float(np.max(np.abs(np.subtract(ours["mean_mV"], base["mean_mV"])) / np.abs(base["mean_mV"])))
    rel_std = float(np.max(np.abs(np.subtract(ours["std_mV"], base["std_mV"])) / np.abs(base["std_mV"])))
    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "data_set_mb": size_mb,
        "files": args.files,
        "rows": total_rows,
        "chunk_rows": args.chunk_rows,
        "same_process": args.quick,
        "typedml": ours,
        "baseline": base,
        "ratio_seconds": ours["seconds"] / base["seconds"],
        "max_rel_diff_mean": rel_mean,
        "max_rel_diff_std": rel_std,
    }
    print(f"{platform.platform()}, {os.cpu_count()} CPUs")
    print(f"data set {size_mb:.0f} MB: {args.files} Parquet files, {total_rows} rows x {len(CHANNELS)} float32 (mV)")
    print()
    header = (
        f"{'run':9} {'seconds':>8} {'rows/s':>11} {'MB/s':>7} {'peak RSS':>9} {'after warm-up':>14} {'data share':>11}"
    )
    print(header)
    print("-" * len(header))
    for row in (ours, base):
        share = row["peak_rss_mb"] - row["rss_after_warmup_mb"]
        print(
            f"{row['mode']:9} {row['seconds']:>8.2f} {row['rows'] / row['seconds']:>11.3g}"
            f" {size_mb / row['seconds']:>7.0f} {row['peak_rss_mb']:>7.0f}MB {row['rss_after_warmup_mb']:>12.0f}MB"
            f" {share:>9.0f}MB"
        )
    print()
    print(f"typedml / baseline seconds: {result['ratio_seconds']:.2f}x (same data, same batch size, this run)")
    print(f"results agree: max relative difference {rel_mean:.1e} (mean), {rel_std:.1e} (std)")
    if args.quick:
        print("(--quick: both in this process, so the memory columns are not comparable)")
    if rel_mean > 1e-4 or rel_std > 1e-3 or ours["rows"] != base["rows"]:
        raise SystemExit("the two runs disagree: the comparison is void")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, chunk_rows, *paths = sys.argv[2:]
        print(json.dumps(RUNS[mode](paths, int(chunk_rows))))
    else:
        main()
