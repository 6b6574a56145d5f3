"""stdlib sketches: stated error guarantees checked empirically, merges equal to one-shot
sketches, determinism under a key, and units kept by the value sketches."""

from __future__ import annotations

import itertools
import math

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jaxtyping import Array, Float, UInt32

import typedml as tm
from typedml import Q
from typedml import stdlib as sl

K = jax.random.PRNGKey


def ints(seed: int, n: int, high: int = 5000):
    return np.random.default_rng(seed).zipf(1.3, n).astype(np.int64).clip(0, high).astype(np.int32)


def test_count_min_never_underestimates_and_meets_its_bound():
    items = ints(0, 5000)
    depth, width = 4, 200
    sketch = sl.count_min_update(sl.count_min_init(K(0), depth=depth, width=width), items)
    keys, true = np.unique(items, return_counts=True)
    est = np.asarray(sl.count_min_query(sketch, keys))
    assert np.all(est >= true)
    over = (est - true) > math.e / width * len(items)
    assert over.mean() <= math.exp(-depth) + 0.02


def test_hyperloglog_relative_error_within_four_standard_errors():
    for precision, n in [(8, 300), (12, 20000)]:
        sketch = sl.hll_update(sl.hll_init(K(precision), precision=precision), np.arange(n, dtype=np.int32) * 7 + 3)
        est = float(sl.hll_estimate(sketch))
        assert abs(est - n) / n <= 4 * 1.04 / math.sqrt(2**precision)
    with pytest.raises(Exception, match="precision"):
        sl.hll_init(K(0), precision=30)


def test_minhash_jaccard_within_hoeffding_bound():
    k = 256
    bound = math.sqrt(math.log(2 / 0.001) / (2 * k))
    for overlap in [0, 300, 700, 1000]:
        a = np.arange(1000, dtype=np.int32)
        b = np.arange(1000 - overlap, 2000 - overlap, dtype=np.int32)
        true = overlap / (2000 - overlap)
        sa = sl.minhash_update(sl.minhash_init(K(1), num_perm=k), a)
        sb = sl.minhash_update(sl.minhash_init(K(1), num_perm=k), b)
        assert abs(float(sl.minhash_jaccard(sa, sb)) - true) <= bound


def test_bloom_has_no_false_negatives_and_the_expected_false_positive_rate():
    n, m, h = 1000, 8000, 6
    inserted = np.arange(n, dtype=np.int32) * 3
    bloom = sl.bloom_update(sl.bloom_init(K(2), num_bits=m, num_hashes=h), inserted)
    assert np.all(np.asarray(sl.bloom_query(bloom, inserted)))
    probes = np.arange(10**6, 10**6 + 20000, dtype=np.int32)
    fpr = float(np.mean(np.asarray(sl.bloom_query(bloom, probes))))
    p = (1 - math.exp(-h * n / m)) ** h
    assert abs(fpr - p) <= 5 * math.sqrt(p * (1 - p) / len(probes)) + 0.002


def rank_errors(values, queries, data):
    ranks = np.searchsorted(np.sort(data), values, side="left") / len(data)
    return np.abs(ranks - queries)


def test_quantile_sketch_rank_error_within_bounds_and_keeps_units():
    ureg = tm.get_registry()
    cap = 64
    qs = np.linspace(0.0, 1.0, 41).astype(np.float32)
    for n in [50, 5000]:
        x = np.random.default_rng(n).lognormal(0, 1, n).astype(np.float32)
        sketch = sl.quantile_sketch_init(K(n), ureg.Quantity(np.float32(0), "km"), capacity=cap)
        sketch = sl.quantile_sketch_update(sketch, ureg.Quantity(x * 1000, "m"))  # m -> km
        assert float(sketch.n) == n
        out = sl.quantile_sketch_query(sketch, qs)
        assert out.units == ureg.km
        used = int(np.max(np.nonzero(np.asarray(sketch.fill))[0], initial=0)) + 1
        errors = rank_errors(np.asarray(out.magnitude), qs, x)
        assert errors.max() <= used / cap + 1 / n + 1e-6  # deterministic bound (+ one rank of rounding)
        assert np.median(errors) <= 2 * math.sqrt(math.log(2 / 0.01)) / cap
        if n <= cap:  # nothing compacted yet: exact order statistics
            assert errors.max() <= 1 / n + 1e-6


def test_quantile_sketch_merge_of_chunks_within_bound():
    ureg = tm.get_registry()
    cap = 64
    x = np.random.default_rng(9).normal(5, 2, 2000).astype(np.float32)
    keys = jax.random.split(K(3), 4)
    parts = [
        sl.quantile_sketch_update(
            sl.quantile_sketch_init(np.asarray(k), ureg.Quantity(np.float32(0), "s"), capacity=cap),
            ureg.Quantity(c, "s"),
        )
        for k, c in zip(keys, np.array_split(x, 4), strict=True)
    ]
    merged = sl.quantile_sketch_merge(
        sl.quantile_sketch_merge(parts[0], parts[1]), sl.quantile_sketch_merge(parts[2], parts[3])
    )
    assert float(merged.n) == len(x)
    qs = np.linspace(0.05, 0.95, 19).astype(np.float32)
    errors = rank_errors(np.asarray(sl.quantile_sketch_query(merged, qs).magnitude), qs, x)
    used = int(np.max(np.nonzero(np.asarray(merged.fill))[0])) + 1
    assert errors.max() <= used / cap


def test_reservoir_is_a_uniform_sample():
    ureg = tm.get_registry()
    n, k, trials = 40, 8, 150
    data = ureg.Quantity(np.arange(n, dtype=np.float32), "g")
    hits = np.zeros(n)
    for t in range(trials):
        r = sl.reservoir_init(K(t), ureg.Quantity(np.float32(0), "g"), k=k)
        r = sl.reservoir_update(r, data[:25])
        r = sl.reservoir_update(r, data[25:])
        sample = np.asarray(r.items.magnitude).astype(int)
        assert len(set(sample)) == k
        hits[sample] += 1
    p = k / n
    # each row is kept with probability k/n: counts are Binomial(trials, k/n)
    assert np.all(np.abs(hits - trials * p) <= 5 * math.sqrt(trials * p * (1 - p)))
    # first and second half of the stream equally represented (no bias toward late rows)
    assert abs(hits[:20].sum() - hits[20:].sum()) <= 5 * math.sqrt(trials * k)


def test_reservoir_partial_and_merge():
    ureg = tm.get_registry()
    a = sl.reservoir_update(
        sl.reservoir_init(K(0), ureg.Quantity(np.zeros(2, np.float32), "m"), k=5),
        ureg.Quantity(np.ones((3, 2), np.float32), "m"),
    )
    assert np.isnan(np.asarray(a.items.magnitude)[3:]).all() and not np.isnan(np.asarray(a.items.magnitude)[:3]).any()
    b = sl.reservoir_update(
        sl.reservoir_init(K(1), ureg.Quantity(np.zeros(2, np.float32), "cm"), k=5),
        ureg.Quantity(np.full((4, 2), 200.0, np.float32), "cm"),
    )
    merged = sl.reservoir_merge(a, b)
    vals = np.asarray(merged.items.magnitude)
    assert merged.items.units == ureg.m and not np.isnan(vals).any()
    assert set(np.unique(vals)) <= {1.0, 2.0}


# --- hashing sketches: chunked == one-shot, exactly ------------------------------------------

N = 6


@st.composite
def chunkings(draw):
    cuts = sorted(draw(st.lists(st.integers(0, N), max_size=4)))
    return [0, *cuts, N]


def fold_and_tree(init, update, merge, chunks):
    folded = init
    for c in chunks:
        folded = update(folded, c)
    states = [update(init, c) for c in chunks]
    while len(states) > 1:
        states = [
            merge(states[i], states[i + 1]) if i + 1 < len(states) else states[i] for i in range(0, len(states), 2)
        ]
    return folded, states[0]


@settings(max_examples=10, deadline=None)
@given(cuts=chunkings(), seed=st.integers(0, 1000))
def test_hashing_sketches_chunked_equal_one_shot(cuts, seed):
    items = ints(seed, N, high=30)
    chunks = [items[a:b] for a, b in itertools.pairwise(cuts)]
    families = [
        (sl.count_min_init(K(seed), depth=3, width=16), sl.count_min_update, sl.count_min_merge),
        (sl.hll_init(K(seed), precision=4), sl.hll_update, sl.hll_merge),
        (sl.minhash_init(K(seed), num_perm=8), sl.minhash_update, sl.minhash_merge),
        (sl.bloom_init(K(seed), num_bits=64, num_hashes=3), sl.bloom_update, sl.bloom_merge),
    ]
    for init, update, merge in families:
        whole = update(init, items)
        for state in fold_and_tree(init, update, merge, chunks):
            for got, want in zip(state, whole, strict=True):
                np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_same_key_same_sketch_other_key_other_sketch():
    items = ints(5, 500)
    a = sl.count_min_update(sl.count_min_init(K(7), depth=3, width=50), items)
    b = sl.count_min_update(sl.count_min_init(K(7), depth=3, width=50), items)
    c = sl.count_min_update(sl.count_min_init(K(8), depth=3, width=50), items)
    np.testing.assert_array_equal(np.asarray(a.table), np.asarray(b.table))
    assert not np.array_equal(np.asarray(a.table), np.asarray(c.table))


def test_sketch_stages_wire_into_a_checked_pipeline():
    @tm.pipeline
    def summary(
        key: UInt32[Array, "2"], lengths: Q[Float[Array, "n"], "mm"], qs: Float[Array, "k"]
    ) -> Q[Float[Array, "k"], "m"]:
        state = sl.quantile_sketch_init(key, sl.mean(lengths), capacity=16)
        state = sl.quantile_sketch_update(state, lengths)
        return sl.quantile_sketch_query(state, qs)

    report = summary.check()
    assert report.ok and not report.warnings, str(report)

    @tm.pipeline
    def wrong(
        key: UInt32[Array, "2"], lengths: Q[Float[Array, "n"], "mm"], seconds: Q[Float[Array, "n"], "s"]
    ) -> Float[Array, ""]:
        state = sl.quantile_sketch_init(key, sl.mean(lengths), capacity=16)
        return sl.quantile_sketch_update(state, seconds).n

    assert "TM102" in {d.code for d in wrong.check().errors}
