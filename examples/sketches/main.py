"""Stream 5 million synthetic requests through two sketches, then compare with exact answers.

python -m examples.sketches.main [--rows N] [--chunk-rows N]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import numpy as np

import typedml as tm

from .pipeline import State, summarise, update

QUANTILES = np.array([0.5, 0.95, 0.99], dtype=np.float32)


def requests(rows: int, chunk_rows: int, seed: int = 0) -> Iterator[dict[str, object]]:
    """Chunks of requests: a user id (a heavy-tailed population) and a latency in ms."""
    ureg = tm.get_registry()
    rng = np.random.default_rng(seed)
    for start in range(0, rows, chunk_rows):
        size = min(chunk_rows, rows - start)
        users = rng.zipf(1.3, size).astype(np.int32) % 2_000_000
        latency = rng.lognormal(np.log(80.0), 0.6, size).astype(np.float32)
        yield {"users": users, "latency": ureg.Quantity(latency, "ms")}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    args = parser.parse_args(argv)
    ureg = tm.get_registry()
    key = np.array([0, 42], dtype=np.uint32)
    hll = tm.stdlib.hll_init(key, precision=12)
    qs = tm.stdlib.quantile_sketch_init(key, ureg.Quantity(np.float32(0.0), "ms"))
    stats = tm.StreamStats()
    state = tm.stream(update, requests(args.rows, args.chunk_rows), init=State(hll, qs), stats=stats)
    result = summarise(state, QUANTILES)
    print(f"{stats.rows} requests in {stats.chunks} chunks, {stats.rows_per_second:.3g} rows/s")
    # exact answers, from the same data held whole (possible here, for the comparison only)
    chunks = list(requests(args.rows, args.chunk_rows))
    users = np.concatenate([c["users"] for c in chunks])  # type: ignore[misc]
    latency = np.concatenate([c["latency"].magnitude for c in chunks])  # type: ignore[attr-defined]
    exact_users = len(np.unique(users))
    estimate = float(result.distinct_users)
    print(f"distinct users: {estimate:.0f} estimated, {exact_users} exact ({estimate / exact_users - 1:+.2%})")
    exact_q = np.quantile(latency, QUANTILES)
    sketched = result.latency_quantiles.to("s")
    for q, got, want in zip(QUANTILES, np.asarray(sketched.magnitude), exact_q / 1000, strict=True):
        rank = float(np.mean(latency <= got * 1000))
        print(f"p{q * 100:.0f} latency: {got:.4f} {sketched.units} (exact {want:.4f} s; rank {rank:.4f} vs {q:.2f})")
    ranks = [float(np.mean(latency <= g * 1000)) for g in np.asarray(sketched.magnitude)]
    return {
        "users_rel_error": estimate / exact_users - 1,
        "rank_error": max(abs(r - float(q)) for r, q in zip(ranks, QUANTILES, strict=True)),
        "unit": str(sketched.units),
    }


if __name__ == "__main__":
    main()
