"""stdlib summaries: one-shot results against numpy, units, and chunked (merged) states
equal to one-shot results over random chunkings."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q
from typedml import stdlib as sl

N = 8


def mag(value):
    return np.asarray(getattr(value, "magnitude", value), dtype=np.float64)


def data(seed: int, shape=(N, 3), loc=5.0):
    rng = np.random.default_rng(seed)
    return rng.normal(loc, 2.0, size=shape).astype(np.float32)


def close(a, b, rtol=2e-4, atol=1e-4):
    np.testing.assert_allclose(mag(a), np.asarray(b, dtype=np.float64), rtol=rtol, atol=atol)


def test_one_shot_summaries_match_numpy(q):
    x = data(0)
    xq = q(x, "m")
    x64 = x.astype(np.float64)
    close(sl.count(xq), np.full(3, N))
    close(sl.sum(xq), x64.sum(0))
    close(sl.mean(xq), x64.mean(0))
    close(sl.variance(xq), x64.var(0))
    close(sl.std(xq), x64.std(0))
    close(sl.min(xq), x64.min(0))
    close(sl.max(xq), x64.max(0))
    qs = np.array([0.0, 0.1, 0.5, 0.9, 1.0], dtype=np.float32)
    close(sl.quantile(xq, qs), np.quantile(x64, qs, axis=0))
    assert sl.variance(xq).units == tm.get_registry().Unit("m**2")
    assert sl.quantile(xq, qs).units == tm.get_registry().Unit("m")


def test_weighted_covariance_correlation_histogram_match_numpy(q):
    x, y = data(1, (N,)), data(2, (N,), loc=-1.0)
    w = np.random.default_rng(3).uniform(0.1, 2.0, N).astype(np.float32)
    x64, y64, w64 = (a.astype(np.float64) for a in (x, y, w))
    wm = np.average(x64, weights=w64)
    close(sl.weighted_mean(q(x, "s"), w), wm)
    close(sl.weighted_variance(q(x, "s"), w), np.average((x64 - wm) ** 2, weights=w64))
    close(sl.weighted_std(q(x, "s"), w), np.sqrt(np.average((x64 - wm) ** 2, weights=w64)))
    cov = sl.covariance(q(x, "m"), q(y, "kg"))
    assert cov.units == tm.get_registry().Unit("m*kg")
    close(cov, np.cov(x64, y64, bias=True)[0, 1])
    close(sl.correlation(q(x, "m"), q(y, "kg")), np.corrcoef(x64, y64)[0, 1])
    wcov = np.cov(x64, y64, aweights=w64, bias=True)
    close(sl.weighted_covariance(q(x, "m"), q(y, "kg"), w), wcov[0, 1])
    close(sl.weighted_correlation(q(x, "m"), q(y, "kg"), w), wcov[0, 1] / np.sqrt(wcov[0, 0] * wcov[1, 1]))
    edges = np.array([0.0, 2.0, 4.5, 5.0, 8.0], dtype=np.float32)
    counts = sl.histogram(q(x, "m"), q(edges * 100, "cm"))  # edges converted to the data's unit
    np.testing.assert_array_equal(np.asarray(counts), np.histogram(x64, edges.astype(np.float64))[0])


def test_affine_units_mean_ok_sum_refused(q):
    temps = q([20.0, 22.0, 27.0], "degC")
    out = sl.mean(temps)
    assert out.units == tm.get_registry().degC
    close(out, 23.0)
    assert sl.std(temps).units == tm.get_registry().delta_degC
    with pytest.raises(tm.InputError) as info:
        sl.sum(temps)
    assert info.value.code == "TM203"
    close(sl.sum(q([1.0, 2.0], "delta_degC")), 3.0)


def test_merge_converts_units_of_the_second_state(q):
    a = sl.moments_update(sl.moments_init(q([0.0], "m")), q([[1.0], [3.0]], "m"))
    b = sl.moments_update(sl.moments_init(q([0.0], "cm")), q([[500.0]], "cm"))
    res = sl.moments_finalize(sl.moments_merge(a, b))
    assert res.mean.units == tm.get_registry().m
    close(res.mean, [3.0])
    close(res.variance, [np.var([1.0, 3.0, 5.0])])


def test_empty_state_finalizes_to_nan(q):
    res = sl.moments_finalize(sl.moments_init(q([1.0, 2.0], "m")))
    assert np.all(np.isnan(mag(res.mean))) and np.all(mag(res.n) == 0)


# --- chunked == one-shot over random chunkings ----------------------------------------------


@st.composite
def chunkings(draw):
    """Cut points splitting range(N) into consecutive chunks (empty chunks allowed)."""
    cuts = sorted(draw(st.lists(st.integers(0, N), min_size=0, max_size=5)))
    return [0, *cuts, N]


def pieces(arr, cuts):
    return [arr[a:b] for a, b in itertools.pairwise(cuts)]


def fold_and_tree(init, update, merge, chunks):
    """The state folded chunk by chunk, and the states of single chunks merged as a tree."""
    folded = init()
    for c in chunks:
        folded = update(folded, *c)
    states = [update(init(), *c) for c in chunks]
    while len(states) > 1:
        states = [
            merge(states[i], states[i + 1]) if i + 1 < len(states) else states[i] for i in range(0, len(states), 2)
        ]
    return folded, states[0]


SETTINGS = settings(max_examples=25, deadline=None)


@SETTINGS
@given(cuts=chunkings(), seed=st.integers(0, 2**16))
def test_moments_chunked_equals_one_shot(cuts, seed):
    ureg = tm.get_registry()
    x = data(seed)
    w = np.random.default_rng(seed + 1).uniform(0.0, 2.0, x.shape).astype(np.float32)
    xq = ureg.Quantity(x, "m")
    init = functools.partial(sl.moments_init, xq[0])
    xs = [(ureg.Quantity(c, "m"),) for c in pieces(x, cuts)]
    for state in fold_and_tree(init, sl.moments_update, sl.moments_merge, xs):
        res = sl.moments_finalize(state)
        close(res.n, sl.count(xq))
        close(res.mean, sl.mean(xq))
        close(res.variance, sl.variance(xq), rtol=1e-3)
        close(res.std, sl.std(xq), rtol=1e-3)
    xws = [(ureg.Quantity(c, "m"), cw) for c, cw in zip(pieces(x, cuts), pieces(w, cuts), strict=True)]
    for state in fold_and_tree(init, sl.weighted_moments_update, sl.moments_merge, xws):
        res = sl.moments_finalize(state)
        close(res.mean, sl.weighted_mean(xq, w), rtol=1e-3)
        close(res.variance, sl.weighted_variance(xq, w), rtol=1e-3)


@SETTINGS
@given(cuts=chunkings(), seed=st.integers(0, 2**16))
def test_sum_extrema_histogram_chunked_equal_one_shot(cuts, seed):
    ureg = tm.get_registry()
    x = data(seed)
    xq = ureg.Quantity(x, "m")
    xs = [(ureg.Quantity(c, "m"),) for c in pieces(x, cuts)]

    def sum_init():
        return sl.sum_init(xq[0])

    for state in fold_and_tree(sum_init, sl.sum_update, sl.sum_merge, xs):
        close(state, sl.sum(xq), rtol=1e-4, atol=1e-3)
    for state in fold_and_tree(lambda: sl.extrema_init(xq[0]), sl.extrema_update, sl.extrema_merge, xs):
        close(state.min, sl.min(xq), rtol=0, atol=0)
        close(state.max, sl.max(xq), rtol=0, atol=0)
    edges = ureg.Quantity(np.linspace(0.0, 10.0, 6, dtype=np.float32), "m")
    col = [(edges, ureg.Quantity(c[:, 0], "m")) for c in pieces(x, cuts)]
    for state in fold_and_tree(lambda: sl.histogram_init(edges), sl.histogram_update, sl.histogram_merge, col):
        np.testing.assert_array_equal(np.asarray(state), np.asarray(sl.histogram(xq[:, 0], edges)))


@SETTINGS
@given(cuts=chunkings(), seed=st.integers(0, 2**16))
def test_comoments_chunked_equals_one_shot(cuts, seed):
    ureg = tm.get_registry()
    x, y = data(seed), data(seed + 7) + data(seed)
    xq, yq = ureg.Quantity(x, "m"), ureg.Quantity(y, "s")
    pairs = [
        (ureg.Quantity(a, "m"), ureg.Quantity(b, "s")) for a, b in zip(pieces(x, cuts), pieces(y, cuts), strict=True)
    ]
    init = functools.partial(sl.comoments_init, xq[0], yq[0])
    for state in fold_and_tree(init, sl.comoments_update, sl.comoments_merge, pairs):
        res = sl.comoments_finalize(state)
        assert res.covariance.units == tm.get_registry().Unit("m*s")
        close(res.covariance, sl.covariance(xq, yq), rtol=1e-3, atol=1e-3)
        close(res.correlation, sl.correlation(xq, yq), rtol=1e-3, atol=1e-4)
    w = np.random.default_rng(seed + 3).uniform(0.0, 2.0, x.shape).astype(np.float32)
    weighted = [(*pair, cw) for pair, cw in zip(pairs, [w[a:b] for a, b in itertools.pairwise(cuts)], strict=True)]
    for state in fold_and_tree(init, sl.weighted_comoments_update, sl.comoments_merge, weighted):
        res = sl.comoments_finalize(state)
        close(res.covariance, sl.weighted_covariance(xq, yq, w), rtol=1e-3, atol=1e-3)
        close(res.correlation, sl.weighted_correlation(xq, yq, w), rtol=1e-3, atol=1e-4)


def test_summaries_inside_a_pipeline(q):
    @tm.pipeline
    def spread(x: Q[Float[Array, "n"], "mm"], more: Q[Float[Array, "k"], "m"]) -> Q[Float[Array, ""], "mm**2"]:
        state = sl.moments_update(sl.moments_init(sl.mean(x)), x)
        state = sl.moments_update(state, more)  # m -> mm on this edge
        return sl.moments_finalize(state).variance

    assert spread.check().ok
    out = spread(q([1000.0, 3000.0], "mm"), q([5.0], "m"))
    close(out, np.var([1000.0, 3000.0, 5000.0]), rtol=1e-5)


# --- a real data set: the Palmer penguins (lengths in mm, mass in g) -----------------------


@pytest.fixture(scope="module")
def penguins():
    palmerpenguins = pytest.importorskip("palmerpenguins")
    cols = ["bill_length_mm", "flipper_length_mm", "body_mass_g"]
    return palmerpenguins.load_penguins().dropna(subset=cols)[cols].to_numpy(np.float32)


def test_penguin_summaries_match_numpy(q, penguins):
    ureg = tm.get_registry()
    lengths = q(penguins[:, :2], "mm")
    mass = q(penguins[:, 2], "g")
    ref = penguins.astype(np.float64)
    close(sl.mean(lengths), ref[:, :2].mean(0))
    close(sl.std(lengths), ref[:, :2].std(0))
    close(sl.quantile(mass, np.array([0.25, 0.5, 0.75], np.float32)), np.quantile(ref[:, 2], [0.25, 0.5, 0.75]))
    cov = sl.covariance(q(penguins[:, 1], "mm"), mass)
    assert cov.units == ureg.Unit("mm*g")
    close(cov, np.cov(ref[:, 1], ref[:, 2], bias=True)[0, 1], rtol=1e-3)
    close(sl.correlation(q(penguins[:, 1], "mm"), mass), np.corrcoef(ref[:, 1], ref[:, 2])[0, 1])
    edges = np.linspace(2500, 6500, 9).astype(np.float32)
    counts = sl.histogram(mass, q(edges / 1000, "kg"))
    np.testing.assert_array_equal(np.asarray(counts), np.histogram(ref[:, 2], edges.astype(np.float64))[0])


def test_penguin_moments_over_chunks_equal_one_shot(penguins):
    ureg = tm.get_registry()
    mass = penguins[:, 2]
    state = sl.moments_init(ureg.Quantity(mass[:1], "kg"))
    for chunk in np.array_split(mass, 5):
        state = sl.moments_update(state, ureg.Quantity(chunk[:, None], "g"))  # g -> kg on the way in
    res = sl.moments_finalize(state)
    assert res.mean.units == ureg.kg and res.variance.units == ureg.Unit("kg**2")
    close(res.mean, [mass.astype(np.float64).mean() / 1000])
    close(res.variance, [mass.astype(np.float64).var() / 1e6], rtol=1e-3)
