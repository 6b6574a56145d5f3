"""Summarise a stream of requests in fixed memory: distinct users and latency quantiles.

One update folds a chunk of requests into two mergeable sketches: a HyperLogLog of user ids
(distinct count, about 1.6 % error with 4096 registers) and a quantile sketch of latencies,
which keeps their unit (ms) so the quantiles come back as quantities.
"""

from __future__ import annotations

from typing import NamedTuple

from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q


class State(NamedTuple):
    """The stream's state: a record of two records, passed whole (its fields are checked one by one)."""

    users: tm.stdlib.HyperLogLog
    latency: tm.stdlib.QuantileSketch


@tm.pipeline
def update(state: State, users: Int[Array, "rows"], latency: Q[Float[Array, "rows"], "ms"]) -> State:
    return State(tm.stdlib.hll_update(state.users, users), tm.stdlib.quantile_sketch_update(state.latency, latency))


class Summary(NamedTuple):
    distinct_users: Float[Array, ""]
    latency_quantiles: Q[Float[Array, "k"], "ms"]


@tm.pipeline
def summarise(state: State, q: Float[Array, "k"]) -> Summary:
    return Summary(tm.stdlib.hll_estimate(state.users), tm.stdlib.quantile_sketch_query(state.latency, q))
