"""Accuracy of the stdlib sketches: observed error against the bound each docstring states.

For several stream sizes n, each sketch is built through its typedml stages from seeded
data and compared with the exact answer computed by numpy:

  count-min      share of distinct items whose overestimate exceeds e/width * N, against
                 the stated failure probability exp(-depth); and the largest overestimate / N
  hyperloglog    RMS relative error of the distinct count over independent keys, against
                 the stated standard error 1.04 / sqrt(m)
  minhash        largest |estimate - J| over several true similarities and keys, against the
                 Hoeffding bound sqrt(ln(2/delta) / (2k)) with delta = 0.01
  bloom          false-positive rate on never-inserted items, against (1 - exp(-hn/m))**h
                 (an approximation, so "ok" allows 5 binomial standard deviations)
  quantile       largest normalised rank error over 99 quantiles, against the Hoeffding
                 bound 2 sqrt(ln(2/delta)) / capacity (delta = 0.01) and the deterministic
                 bound H / capacity (H levels in use)
  reservoir      Kolmogorov-Smirnov distance between the pooled sampled positions and the
                 uniform distribution, against its 1 % critical value 1.63 / sqrt(samples)

No timing is reported: this is an accuracy table. Run from the repository root::

    .venv/bin/python benchmarks/bench_sketches.py                # n = 10^3, 10^4, 10^5
    .venv/bin/python benchmarks/bench_sketches.py --sizes 1000 1000000
    .venv/bin/python benchmarks/bench_sketches.py --quick        # small sizes, few repeats
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import jax
import numpy as np

import typedml as tm
from typedml import stdlib as sl

K = jax.random.PRNGKey


def _row(
    sketch: str, params: str, n: int, metric: str, observed: float, bound: float, ok: bool, group: str | None = None
) -> dict[str, Any]:
    return {
        "sketch": sketch,
        "group": group or params,
        "params": params,
        "n": n,
        "metric": metric,
        "observed": float(observed),
        "bound": float(bound),
        "ok": bool(ok),
    }


def stream(n: int, seed: int) -> np.ndarray:
    """A skewed stream of integer ids (Zipf-like), as counting sketches usually see."""
    return (np.random.default_rng(seed).zipf(1.2, n).astype(np.int64) % 2**31).astype(np.int32)


def count_min(n: int, repeats: int) -> list[dict[str, Any]]:
    depth, width = 4, 272
    items = stream(n, 1)
    keys, true = np.unique(items, return_counts=True)
    share, worst = [], []
    for r in range(repeats):
        sketch = sl.count_min_update(sl.count_min_init(K(r), depth=depth, width=width), items)
        over = np.asarray(sl.count_min_query(sketch, keys)) - true
        assert np.all(over >= 0), "count-min underestimated"
        share.append(np.mean(over > math.e / width * n))
        worst.append(over.max() / n)
    p = f"depth={depth} width={width}"
    return [
        _row("count-min", p, n, "P(over > eN/w)", max(share), math.exp(-depth), max(share) <= math.exp(-depth)),
        _row("count-min", p, n, "max over / N", max(worst), math.e / width, True),
    ]


def hyperloglog(n: int, repeats: int) -> list[dict[str, Any]]:
    rows = []
    ids = np.random.default_rng(2).choice(2**31 - 1, size=n, replace=False).astype(np.int32)
    for precision in (10, 12):
        errors = []
        for r in range(repeats):
            sketch = sl.hll_update(sl.hll_init(K(100 + r), precision=precision), np.concatenate([ids, ids[: n // 2]]))
            errors.append(float(sl.hll_estimate(sketch)) / n - 1)
        rms = math.sqrt(float(np.mean(np.square(errors))))
        se = 1.04 / math.sqrt(2**precision)
        # an RMS over few repeats scatters around the standard error: allow 2x
        rows.append(_row("hyperloglog", f"m={2**precision}", n, "RMS rel. error", rms, se, rms <= 2 * se))
    return rows


def minhash(n: int, repeats: int) -> list[dict[str, Any]]:
    rows = []
    for k in (128, 256):
        worst = 0.0
        for target in (0.1, 0.5, 0.9):
            overlap = round(2 * n * target / (1 + target))
            a = np.arange(n, dtype=np.int32)
            b = np.arange(n - overlap, 2 * n - overlap, dtype=np.int32)
            true = overlap / (2 * n - overlap)
            for r in range(repeats):
                sa = sl.minhash_update(sl.minhash_init(K(200 + r), num_perm=k), a)
                sb = sl.minhash_update(sl.minhash_init(K(200 + r), num_perm=k), b)
                worst = max(worst, abs(float(sl.minhash_jaccard(sa, sb)) - true))
        bound = math.sqrt(math.log(2 / 0.01) / (2 * k))
        rows.append(_row("minhash", f"k={k}", n, "max abs(J est - J)", worst, bound, worst <= bound))
    return rows


def bloom(n: int, repeats: int) -> list[dict[str, Any]]:
    target = 0.01
    m = math.ceil(-n * math.log(target) / math.log(2) ** 2)
    h = max(1, round(m / n * math.log(2)))
    inserted = np.arange(n, dtype=np.int32) * 2
    probes = np.arange(1, 2 * 20000, 2, dtype=np.int32) + 2**30
    rates = []
    for r in range(repeats):
        filt = sl.bloom_update(sl.bloom_init(K(300 + r), num_bits=m, num_hashes=h), inserted)
        assert np.all(np.asarray(sl.bloom_query(filt, inserted))), "Bloom filter false negative"
        rates.append(float(np.mean(np.asarray(sl.bloom_query(filt, probes)))))
    p = (1 - math.exp(-h * n / m)) ** h
    fpr = float(np.mean(rates))
    slack = 5 * math.sqrt(p * (1 - p) / (len(probes) * repeats))
    return [_row("bloom", f"m={m} h={h}", n, "false-positive rate", fpr, p, abs(fpr - p) <= slack, group="p=0.01")]


def quantile(n: int, repeats: int) -> list[dict[str, Any]]:
    cap = 128
    ureg = tm.get_registry()
    qs = np.linspace(0.01, 0.99, 99).astype(np.float32)
    worst, levels = 0.0, 1
    for r in range(repeats):
        x = np.random.default_rng(400 + r).lognormal(0.0, 1.0, n).astype(np.float32)
        sketch = sl.quantile_sketch_init(K(400 + r), ureg.Quantity(np.float32(0), "m"), capacity=cap)
        sketch = sl.quantile_sketch_update(sketch, ureg.Quantity(x, "m"))
        values = np.asarray(sl.quantile_sketch_query(sketch, qs).magnitude)
        ranks = np.searchsorted(np.sort(x), values, side="left") / n
        worst = max(worst, float(np.max(np.abs(ranks - qs))) - 1 / n)
        levels = max(levels, int(np.max(np.nonzero(np.asarray(sketch.fill))[0], initial=0)) + 1)
    hoeffding = 2 * math.sqrt(math.log(2 / 0.01)) / cap
    return [
        _row("quantile", f"capacity={cap}", n, "max rank error", worst, hoeffding, worst <= hoeffding),
        _row(
            "quantile",
            f"capacity={cap} H={levels}",
            n,
            "max rank error (det.)",
            worst,
            levels / cap,
            worst <= levels / cap,
            group=f"capacity={cap}",
        ),
    ]


def reservoir(n: int, repeats: int) -> list[dict[str, Any]]:
    k = min(100, n)
    ureg = tm.get_registry()
    data = ureg.Quantity(np.arange(n, dtype=np.float32), "s")
    positions = []
    trials = max(repeats * 10, 8)
    for r in range(trials):
        state = sl.reservoir_init(K(500 + r), ureg.Quantity(np.float32(0), "s"), k=k)
        half = n // 2
        state = sl.reservoir_update(state, data[:half])
        state = sl.reservoir_update(state, data[half:])
        positions.append(np.asarray(state.items.magnitude))
    pooled = np.sort(np.concatenate(positions))
    cdf = (pooled + 1) / n
    emp = np.arange(1, len(pooled) + 1) / len(pooled)
    ks = float(np.max(np.maximum(np.abs(emp - cdf), np.abs(emp - 1 / len(pooled) - cdf + 1 / n))))
    crit = 1.63 / math.sqrt(len(pooled))
    return [_row("reservoir", f"k={k} trials={trials}", n, "KS distance", ks, crit, ks <= crit)]


SKETCHES = (count_min, hyperloglog, minhash, bloom, quantile, reservoir)


def table(rows: list[dict[str, Any]]) -> str:
    head = "| sketch | parameters | n | metric | observed | stated bound | within |"
    lines = [head, "|---|---|---:|---|---:|---:|---|"]
    for r in rows:
        lines.append(
            f"| {r['sketch']} | {r['params']} | {r['n']:,} | {r['metric']} | {r['observed']:.4g} | "
            f"{r['bound']:.4g} | {'yes' if r['ok'] else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5, help="independent keys per cell")
    parser.add_argument("--quick", action="store_true", help="sizes 300 and 2000, 2 repeats")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/bench_sketches.json"))
    args = parser.parse_args(argv)
    sizes, repeats = ([300, 2000], 2) if args.quick else (args.sizes, args.repeats)
    rows = [row for n in sizes for sketch in SKETCHES for row in sketch(n, repeats)]
    order = [f.__name__.replace("_", "-") for f in SKETCHES]
    rows.sort(key=lambda r: (order.index(r["sketch"]), r["group"], r["metric"], r["n"]))
    result = {"sizes": sizes, "repeats": repeats, "rows": rows}
    print(table(rows))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
