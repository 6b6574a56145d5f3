"""Summarise a stream of requests in fixed memory: distinct users and latency quantiles.

One update folds a chunk of requests into two mergeable sketches: a HyperLogLog of user ids
(distinct count, about 1.6 % error with 4096 registers) and a quantile sketch of latencies,
which keeps their unit (ms) so the quantiles come back as quantities.
"""

from __future__ import annotations

from typing import NamedTuple

from jaxtyping import Array, Float, Int, UInt32

import typedml as tm
from typedml import Q


class State(NamedTuple):
    registers: Int[Array, "m"]
    seed: UInt32[Array, "1"]
    items: Q[Float[Array, "levels capacity"], "ms"]
    fill: Int[Array, "levels"]
    n: Float[Array, ""]
    key: UInt32[Array, "2"]


@tm.pipeline
def update(
    registers: Int[Array, "m"],
    seed: UInt32[Array, "1"],
    items: Q[Float[Array, "levels capacity"], "ms"],
    fill: Int[Array, "levels"],
    n: Float[Array, ""],
    key: UInt32[Array, "2"],
    users: Int[Array, "rows"],
    latency: Q[Float[Array, "rows"], "ms"],
) -> State:
    users_seen = tm.stdlib.hll_update(registers, seed, users)
    latencies = tm.stdlib.quantile_sketch_update(items, fill, n, key, latency)
    return State(users_seen.registers, users_seen.seed, latencies.items, latencies.fill, latencies.n, latencies.key)


class Summary(NamedTuple):
    distinct_users: Float[Array, ""]
    latency_quantiles: Q[Float[Array, "k"], "ms"]


@tm.pipeline
def summarise(
    registers: Int[Array, "m"],
    seed: UInt32[Array, "1"],
    items: Q[Float[Array, "levels capacity"], "ms"],
    fill: Int[Array, "levels"],
    n: Float[Array, ""],
    key: UInt32[Array, "2"],
    q: Float[Array, "k"],
) -> Summary:
    return Summary(tm.stdlib.hll_estimate(registers, seed), tm.stdlib.quantile_sketch_query(items, fill, n, key, q))
