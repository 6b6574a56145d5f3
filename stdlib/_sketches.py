"""Sketches: fixed-size, mergeable summaries of streams, seeded by explicit PRNG keys.

Each sketch is a state (a ``NamedTuple`` of arrays whose size is fixed when it is
initialised, a record passed as one value) with ``<sketch>_init(key, ...)``,
``<sketch>_update(state, items)``, ``<sketch>_merge(a, b)`` and a query. Keys are ``jax.random.PRNGKey(seed)`` (``uint32[2]``):
the same key and the same data give the same sketch. Sketches merged together must come
from the same key for the hashing sketches (count-min, HyperLogLog, MinHash, Bloom), whose
hash seeds live in the state; the randomised-sampling sketches (quantile sketch, reservoir)
should be initialised from different keys (``jax.random.split``) for independent parts.

Items of the hashing sketches are integer ids (``int32``: hash strings to ids upstream).
The quantile sketch and the reservoir keep values, so they keep their unit ``'u``.

The error guarantees are stated on each query stage; ``benchmarks/bench_sketches.py``
measures observed errors against them at several sizes.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, UInt32

import typedml as tm
from typedml import Q

_GOLDEN = 0x9E3779B1


def _fmix(h: Array) -> Array:
    # MurmurHash3's 32-bit finaliser: every input bit affects every output bit
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def _hash(items: Array, seeds: Array) -> Array:
    """``uint32`` hashes of ``items`` (n) under each of ``seeds`` (s): shape (s, n)."""
    x = items.astype(jnp.uint32)[None, :]
    s = seeds[:, None]
    return _fmix(_fmix(x * jnp.uint32(_GOLDEN) + s) ^ (s * jnp.uint32(0x27D4EB2F)))


def _seeds(key: Array, n: int) -> Array:
    return jax.random.bits(key, (n,), jnp.uint32)


# --- count-min ------------------------------------------------------------------------


class CountMin(NamedTuple):
    """Count-min state: a ``depth x width`` table of counters and one hash seed per row."""

    table: Int[Array, "depth width"]
    seeds: UInt32[Array, "depth"]


@tm.stage
def count_min_init(key: UInt32[Array, "2"], depth: int, width: int) -> CountMin:
    """Empty count-min sketch: ``depth`` rows of ``width`` counters, hash seeds from ``key``.

    For error ``eps`` (relative to the total count) with probability ``1 - delta``, take
    ``width = ceil(e / eps)`` and ``depth = ceil(ln(1 / delta))``.
    """
    return CountMin(jnp.zeros((depth, width), jnp.int32), _seeds(key, depth))


@tm.stage
def count_min_update(state: CountMin, items: Int[Array, "n"]) -> CountMin:
    """Count each of ``items`` once."""
    table, seeds = state
    cols = (_hash(items, seeds) % jnp.uint32(table.shape[1])).astype(jnp.int32)
    rows = jnp.broadcast_to(jnp.arange(table.shape[0])[:, None], cols.shape)
    return CountMin(table.at[rows, cols].add(1), seeds)


@tm.stage
def count_min_merge(a: CountMin, b: CountMin) -> CountMin:
    """Merge two count-min sketches built from the same key (counters add)."""
    return CountMin(a.table + b.table, a.seeds)


@tm.stage
def count_min_query(state: CountMin, items: Int[Array, "m"]) -> Int[Array, "m"]:
    """Estimated count of each item.

    Guarantee (Cormode and Muthukrishnan): never below the true count, and above it by at
    most ``e / width * N`` (``N`` the total count) with probability at least
    ``1 - exp(-depth)`` for each queried item.
    """
    table, seeds = state
    cols = (_hash(items, seeds) % jnp.uint32(table.shape[1])).astype(jnp.int32)
    return jnp.min(jnp.take_along_axis(table, cols, axis=1), axis=0)


# --- HyperLogLog ----------------------------------------------------------------------


class HyperLogLog(NamedTuple):
    """HyperLogLog state: ``2**precision`` registers (maximal leading-zero runs) and the hash seed."""

    registers: Int[Array, "2**precision"]
    seed: UInt32[Array, "1"]


@tm.stage
def hll_init(key: UInt32[Array, "2"], precision: int) -> HyperLogLog:
    """Empty HyperLogLog sketch with ``2**precision`` registers (4 <= precision <= 16)."""
    if not 4 <= precision <= 16:
        raise ValueError(f"hll_init: precision must be in 4..16, got {precision}")
    return HyperLogLog(jnp.zeros(2**precision, jnp.int32), _seeds(key, 1))


@tm.stage
def hll_update(state: HyperLogLog, items: Int[Array, "n"]) -> HyperLogLog:
    """Add ``items`` (repeats do not change the sketch)."""
    registers, seed = state
    p = _log2(registers)
    h = _hash(items, seed)[0]
    idx = (h >> (32 - p)).astype(jnp.int32)
    rho = jnp.minimum(jax.lax.clz(h << p), 32 - p) + 1
    return HyperLogLog(registers.at[idx].max(rho.astype(jnp.int32)), seed)


@tm.stage
def hll_merge(a: HyperLogLog, b: HyperLogLog) -> HyperLogLog:
    """Merge two HyperLogLog sketches built from the same key (register-wise maximum)."""
    return HyperLogLog(jnp.maximum(a.registers, b.registers), a.seed)


def _log2(registers: Array) -> Array:
    # log2 of the (power-of-two) register count, as an array so the size may stay symbolic
    return (31 - jax.lax.clz(jnp.asarray(registers.shape[0], jnp.uint32))).astype(jnp.uint32)


def _sigma(x: Array) -> Array:
    # sigma(x) = x + sum_k x**(2**k) 2**(k-1), summed until x**(2**k) underflows (x < 1)
    def step(_: int, c: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        xk, y, z = c
        xk = xk * xk
        return xk, y + y, z + xk * y

    return jnp.where(x >= 1, jnp.inf, jax.lax.fori_loop(0, 64, step, (x, jnp.ones_like(x), x))[2])


def _tau(x: Array) -> Array:
    # tau(x) = (1 - x - sum_k (1 - x**(2**-k))**2 2**-k) / 3
    def step(_: int, c: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        xk, y, z = c
        xk = jnp.sqrt(xk)
        y = y * 0.5
        return xk, y, z - (1 - xk) ** 2 * y

    z = jax.lax.fori_loop(0, 64, step, (x, jnp.ones_like(x), 1 - x))[2]
    return jnp.where((x <= 0) | (x >= 1), 0.0, z / 3)


@tm.stage
def hll_estimate(state: HyperLogLog) -> Float[Array, ""]:
    """Estimated number of distinct items.

    Uses Ertl's improved estimator (2017), which needs no empirical bias tables and no
    switch to linear counting: the same relative accuracy from a handful of items to 10**9.
    Guarantee: relative standard error about ``1.04 / sqrt(m)`` for ``m`` registers
    (precision 12: 1.6 %), roughly normal, so within 3 standard errors with ~99 % probability.
    """
    registers = state.registers
    m = jnp.asarray(registers.shape[0], jnp.float32)
    q = 32 - _log2(registers).astype(jnp.int32)  # register values run from 0 to q + 1
    values = jnp.arange(34)
    counts = jnp.sum(registers[:, None] == values[None, :], axis=0).astype(jnp.float32)
    middle = jnp.sum(jnp.where((values >= 1) & (values <= q), counts * jnp.exp2(-values.astype(jnp.float32)), 0.0))
    full = jnp.sum(jnp.where(values == q + 1, counts, 0.0))
    denom = m * _sigma(counts[0] / m) + middle + m * _tau(1 - full / m) * jnp.exp2(-q.astype(jnp.float32))
    return (m * m / (2 * math.log(2)) / denom).astype(jnp.float32)


# --- MinHash --------------------------------------------------------------------------


class MinHash(NamedTuple):
    """MinHash state: the minimum hash per seed over the items seen (the signature), and the seeds."""

    signature: UInt32[Array, "num_perm"]
    seeds: UInt32[Array, "num_perm"]


@tm.stage
def minhash_init(key: UInt32[Array, "2"], num_perm: int) -> MinHash:
    """Empty MinHash signature of ``num_perm`` hash functions seeded from ``key``."""
    return MinHash(jnp.full((num_perm,), jnp.uint32(0xFFFFFFFF)), _seeds(key, num_perm))


@tm.stage
def minhash_update(state: MinHash, items: Int[Array, "n"]) -> MinHash:
    """Add the items of a set to its signature."""
    signature, seeds = state
    return MinHash(jnp.min(jnp.concatenate([signature[:, None], _hash(items, seeds)], axis=1), axis=1), seeds)


@tm.stage
def minhash_merge(a: MinHash, b: MinHash) -> MinHash:
    """Signature of the union of two sets (same key)."""
    return MinHash(jnp.minimum(a.signature, b.signature), a.seeds)


@tm.stage
def minhash_jaccard(a: MinHash, b: MinHash) -> Float[Array, ""]:
    """Estimated Jaccard similarity of two sets from signatures built with the same key.

    Guarantee: unbiased; the share of ``k`` agreeing hashes, so by Hoeffding the error exceeds
    ``sqrt(ln(2 / delta) / (2 k))`` with probability at most ``delta`` (k = 256, delta =
    0.01: 0.10), and its standard deviation is ``sqrt(J (1 - J) / k)``.
    """
    return jnp.mean(a.signature == b.signature).astype(jnp.float32)


# --- Bloom filter ---------------------------------------------------------------------


class Bloom(NamedTuple):
    """Bloom filter state: the bit array and one seed per hash function."""

    bits: Bool[Array, "num_bits"]
    seeds: UInt32[Array, "num_hashes"]


@tm.stage
def bloom_init(key: UInt32[Array, "2"], num_bits: int, num_hashes: int) -> Bloom:
    """Empty Bloom filter of ``num_bits`` bits and ``num_hashes`` hash functions.

    For ``n`` items and a false-positive rate ``p``: ``num_bits = -n ln(p) / ln(2)**2`` and
    ``num_hashes = num_bits / n * ln(2)``.
    """
    return Bloom(jnp.zeros(num_bits, bool), _seeds(key, num_hashes))


@tm.stage
def bloom_update(state: Bloom, items: Int[Array, "n"]) -> Bloom:
    """Insert ``items``."""
    bits, seeds = state
    idx = (_hash(items, seeds) % jnp.uint32(bits.shape[0])).astype(jnp.int32)
    return Bloom(bits.at[idx.ravel()].set(True), seeds)


@tm.stage
def bloom_merge(a: Bloom, b: Bloom) -> Bloom:
    """Filter of the union of two filters built with the same key (bitwise or)."""
    return Bloom(a.bits | b.bits, a.seeds)


@tm.stage
def bloom_query(state: Bloom, items: Int[Array, "q"]) -> Bool[Array, "q"]:
    """Whether each item may have been inserted.

    Guarantee: no false negatives. An item never inserted is reported with probability
    about ``(1 - exp(-h n / m))**h`` after ``n`` insertions (the standard approximation,
    accurate for large ``m``).
    """
    bits, seeds = state
    idx = (_hash(items, seeds) % jnp.uint32(bits.shape[0])).astype(jnp.int32)
    return jnp.all(bits[idx], axis=0)


# --- quantile sketch ------------------------------------------------------------------


class QuantileSketch(NamedTuple):
    """Levels of sorted-on-demand items; an item on level ``i`` stands for ``2**i`` values.
    Unused slots hold +inf."""

    items: Q[Float[Array, "levels capacity"], "'u"]
    fill: Int[Array, "levels"]
    n: Float[Array, ""]
    key: UInt32[Array, "2"]


@tm.stage
def quantile_sketch_init(
    key: UInt32[Array, "2"], like: Q[Float[Array, ""], "'u"], capacity: int = 128, levels: int = 32
) -> QuantileSketch:
    """Empty quantile sketch for values in the unit of ``like`` (its value is unused).

    Memory is ``levels * capacity`` values; 32 levels hold ``capacity * 2**31`` values.
    """
    items = jnp.full((levels, capacity), jnp.inf, like.dtype)
    return QuantileSketch(items, jnp.zeros(levels, jnp.int32), jnp.zeros((), like.dtype), key)


def _qs_merge(items_a: Array, fill_a: Array, items_b: Array, fill_b: Array, key: Array) -> tuple[Array, Array, Array]:
    """Merge level by level; a level that reaches ``capacity`` items is compacted: sorted, and
    every other item (random offset) moves up one level with twice the weight."""
    levels, cap = items_a.shape
    inf = jnp.array(jnp.inf, items_a.dtype)
    top_b = jnp.max(jnp.where(fill_b > 0, jnp.arange(levels), -1))

    def cond(state: tuple[Array, ...]) -> Array:
        i, _, _, _, nbuf, _ = state
        return (i < levels) & ((i <= top_b) | (nbuf > 0))

    def body(state: tuple[Array, ...]) -> tuple[Array, ...]:
        i, items, fill, buf, nbuf, key = state
        key, sub = jax.random.split(key)
        s = jnp.sort(jnp.concatenate([items[i], items_b[i], buf]))
        m = fill[i] + fill_b[i] + nbuf
        compact = m >= cap
        half = m // 2
        j = jnp.arange(2 * cap)
        offset = jax.random.bernoulli(sub).astype(jnp.int32)
        up = jnp.where(compact & (j < half), s[jnp.minimum(2 * j + offset, 4 * cap - 1)], inf)
        odd_last = jnp.where((jnp.arange(cap) == 0) & (m % 2 == 1), s[jnp.maximum(m - 1, 0)], inf)
        keep = jnp.where(compact, odd_last, s[:cap])
        kept = jnp.where(compact, m % 2, m)
        return i + 1, items.at[i].set(keep), fill.at[i].set(kept), up, jnp.where(compact, half, 0), key

    start = (jnp.array(0), items_a, fill_a, jnp.full(2 * cap, inf), jnp.array(0, fill_a.dtype), key)
    _, items, fill, _, _, key = jax.lax.while_loop(cond, body, start)
    return items, fill, key


@tm.stage
def quantile_sketch_update(state: QuantileSketch, x: Q[Float[Array, "n"], "'u"]) -> QuantileSketch:
    """Add the values ``x`` (converted to the sketch's unit; NaN is not allowed)."""
    items, fill, n, key = state
    cap = items.shape[1]
    blocks = -(-x.shape[0] // cap)
    padded = jnp.full(blocks * cap, jnp.inf, items.dtype).at[: x.shape[0]].set(x).reshape(blocks, cap)
    sizes = jnp.clip(x.shape[0] - jnp.arange(blocks) * cap, 0, cap).astype(fill.dtype)

    def add(carry: tuple[Array, Array, Array], block: tuple[Array, Array]) -> tuple[tuple[Array, Array, Array], None]:
        its, fl, k = carry
        values, size = block
        b_items = jnp.full_like(its, jnp.inf).at[0].set(values)
        b_fill = jnp.zeros_like(fl).at[0].set(size)
        return _qs_merge(its, fl, b_items, b_fill, k), None

    (items, fill, key), _ = jax.lax.scan(add, (items, fill, key), (padded, sizes))
    return QuantileSketch(items, fill, n + x.shape[0], key)


@tm.stage
def quantile_sketch_merge(a: QuantileSketch, b: QuantileSketch) -> QuantileSketch:
    """Merge two quantile sketches of the same capacity (b converted to a's unit)."""
    items, fill, key = _qs_merge(a.items, a.fill, b.items, b.fill, jax.random.fold_in(a.key, b.key[0]))
    return QuantileSketch(items, fill, a.n + b.n, key)


@tm.stage
def quantile_sketch_query(
    state: QuantileSketch, q: Q[Float[Array, "k"], "", tm.Probability]
) -> Q[Float[Array, "k"], "'u"]:
    """Approximate quantiles ``q`` (in [0, 1]) of the values seen, in their unit.

    The answer for ``q`` is a value seen whose rank differs from ``q * n`` by the rank error.
    Guarantee (compactor analysis, as in Manku et al. and KLL): a compaction on level ``i``
    shifts any rank by 0 or ``2**i``, there are at most ``n / (capacity * 2**i)`` of them, so
    the rank error is at most ``H * n / capacity`` for ``H`` levels in use (deterministic);
    the shifts have random signs, so by Hoeffding it exceeds
    ``2 * sqrt(ln(2 / delta)) * n / capacity`` with probability at most ``delta`` per query
    (capacity 128, delta = 0.01: 3.6 % of n). A sketch that has seen no finite value answers
    NaN.
    """
    items = state.items
    levels = items.shape[0]
    weights = jnp.where(jnp.isfinite(items), jnp.exp2(jnp.arange(levels, dtype=items.dtype))[:, None], 0.0).ravel()
    values = items.ravel()
    order = jnp.argsort(values)
    cum = jnp.cumsum(weights[order])
    # the first value whose cumulative weight reaches q * n (a comparison, not a search)
    idx = jnp.argmax(cum[None, :] >= (q * cum[-1])[:, None], axis=1)
    # nothing seen: no quantile (NaN, as moments_finalize gives), not the +inf of an empty slot
    return jnp.where(cum[-1] > 0, values[order][idx], jnp.nan)


# --- reservoir sampling ---------------------------------------------------------------


class Reservoir(NamedTuple):
    """A bottom-k sample: the ``k`` rows with the smallest random priorities seen so far.
    Unfilled slots have the largest priority and NaN rows."""

    items: Q[Float[Array, "k *rest"], "'u"]
    priority: UInt32[Array, "k"]
    key: UInt32[Array, "2"]


@tm.stage
def reservoir_init(key: UInt32[Array, "2"], like: Q[Float[Array, "*rest"], "'u"], k: int) -> Reservoir:
    """Empty reservoir of ``k`` rows shaped and united like ``like``."""
    items = jnp.full((k, *like.shape), jnp.nan, like.dtype)
    return Reservoir(items, jnp.full(k, jnp.uint32(0xFFFFFFFF)), key)


def _bottom_k(items: Array, priority: Array, k: int) -> tuple[Array, Array]:
    order = jnp.argsort(priority)[:k]
    return items[order], priority[order]


@tm.stage
def reservoir_update(state: Reservoir, x: Q[Float[Array, "n *rest"], "'u"]) -> Reservoir:
    """Offer the rows of ``x`` to the reservoir.

    Guarantee: after ``n`` rows in total, the kept rows are a uniform random sample of
    ``min(k, n)`` of them without replacement: each row is kept with probability ``k / n``.
    """
    items, priority, key = state
    key, sub = jax.random.split(key)
    # 32 random bits per row: ties (which favour earlier rows) are rare even for long streams
    p = jax.random.bits(sub, (x.shape[0],), jnp.uint32)
    kept, prio = _bottom_k(jnp.concatenate([items, x]), jnp.concatenate([priority, p]), priority.shape[0])
    return Reservoir(kept, prio, key)


@tm.stage
def reservoir_merge(a: Reservoir, b: Reservoir) -> Reservoir:
    """Reservoir of the union of two streams (sampled from independently keyed states)."""
    kept, prio = _bottom_k(
        jnp.concatenate([a.items, b.items]), jnp.concatenate([a.priority, b.priority]), a.priority.shape[0]
    )
    return Reservoir(kept, prio, jax.random.fold_in(a.key, b.key[0]))
