"""Summaries over the leading axis, one-shot and as mergeable states.

Every summary reduces the axis its signature calls ``n`` in ``x: "n *rest"``: the leading axis,
or the one a call names, ``mean(temps, axis="b")`` (checked: the output's shape drops it). The mergeable ones come as a family of
stages over a state (a ``NamedTuple`` whose fields are ports):

- ``<family>_init(like)``: the empty state, shaped and united like one row ``like``;
- ``<family>_update(state, x)``: fold in a chunk of rows;
- ``<family>_merge(a, b)``: combine two states (associative and commutative);
- ``<family>_finalize(state)``: the result.

Folding chunks one by one, or merging the states of separate chunks in any order, gives the
one-shot result (up to floating-point rounding). A state is a record: passed as one value,
checked field by field (the mean in ``'u``, the sum of squares in ``delta('u)**2``).

Spreads and sums are differences: they are in ``delta('u)`` (``delta_degC`` for degC data),
so a sum of degC values is refused rather than silently wrong.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q

# The axis a summary reduces (a normalisation works along): the leading one by default; a call
# names another as its pipeline names it, ``mean(temps, axis="b")``, or by position.
Along = Annotated[str | int | None, tm.Axis("n")]

# --- one-shot ----------------------------------------------------------------------------


@tm.stage
def count(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Float[Array, "*rest"]:
    """Number of non-NaN rows per position (dimensionless)."""
    return jnp.sum(~jnp.isnan(x), axis=0).astype(x.dtype)


@tm.stage
def sum(x: Q[Float[Array, "n *rest"], "delta('u)"], axis: Along = None) -> Q[Float[Array, "*rest"], "delta('u)"]:
    """Sum over the leading axis, in the input's unit.

    Only differences add up meaningfully: degC data is refused (convert to K first, or pass
    temperature differences in delta_degC).
    """
    return jnp.sum(x, axis=0)


@tm.stage
def mean(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Q[Float[Array, "*rest"], "'u"]:
    """Mean over the leading axis, in the input's unit (affine units such as degC included)."""
    return jnp.mean(x, axis=0)


@tm.stage
def variance(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Q[Float[Array, "*rest"], "delta('u)**2"]:
    """Population variance over the leading axis, in the square of the input's unit.

    For an affine unit such as degC the result is in delta_degC**2 (a squared difference).
    """
    return jnp.var(x, axis=0)


@tm.stage
def std(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Q[Float[Array, "*rest"], "delta('u)"]:
    """Population standard deviation over the leading axis, in the input's unit.

    A spread is a difference: for degC data the result is in delta_degC, so converting it
    to K gives the same number (not +273.15).
    """
    return jnp.std(x, axis=0)


@tm.stage
def min(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Q[Float[Array, "*rest"], "'u"]:
    """Smallest value over the leading axis, in the input's unit."""
    return jnp.min(x, axis=0)


@tm.stage
def max(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Q[Float[Array, "*rest"], "'u"]:
    """Largest value over the leading axis, in the input's unit."""
    return jnp.max(x, axis=0)


@tm.stage
def quantile(
    x: Q[Float[Array, "n *rest"], "'u"], q: Q[Float[Array, "k"], "", tm.Probability], axis: Along = None
) -> Q[Float[Array, "k *rest"], "'u"]:
    """Quantiles ``q`` (dimensionless, in [0, 1]) over the leading axis, in the input's unit.

    Linear interpolation between order statistics (numpy's default). Exact quantiles are not
    mergeable in fixed memory; for chunked data use the quantile sketch (``kll_*``).
    """
    return jnp.quantile(x, q, axis=0)


@tm.stage
def weighted_mean(
    x: Q[Float[Array, "n *rest"], "'u"], w: Q[Float[Array, "n *rest"], "", tm.NonNegative], axis: Along = None
) -> Q[Float[Array, "*rest"], "'u"]:
    """Mean weighted by non-negative dimensionless weights ``w``, in the input's unit."""
    return jnp.sum(w * x, axis=0) / jnp.sum(w, axis=0)


@tm.stage
def weighted_variance(
    x: Q[Float[Array, "n *rest"], "'u"], w: Q[Float[Array, "n *rest"], "", tm.NonNegative], axis: Along = None
) -> Q[Float[Array, "*rest"], "delta('u)**2"]:
    """Weighted population variance ``sum(w (x - m)**2) / sum(w)``, in the square of the unit."""
    m = jnp.sum(w * x, axis=0) / jnp.sum(w, axis=0)
    return jnp.sum(w * (x - m) ** 2, axis=0) / jnp.sum(w, axis=0)


@tm.stage
def weighted_std(
    x: Q[Float[Array, "n *rest"], "'u"], w: Q[Float[Array, "n *rest"], "", tm.NonNegative], axis: Along = None
) -> Q[Float[Array, "*rest"], "delta('u)"]:
    """Weighted population standard deviation, in the input's unit (a difference)."""
    m = jnp.sum(w * x, axis=0) / jnp.sum(w, axis=0)
    return jnp.sqrt(jnp.sum(w * (x - m) ** 2, axis=0) / jnp.sum(w, axis=0))


@tm.stage
def covariance(
    x: Q[Float[Array, "n *rest"], "'x"], y: Q[Float[Array, "n *rest"], "'y"], axis: Along = None
) -> Q[Float[Array, "*rest"], "delta('x)*delta('y)"]:
    """Population covariance of ``x`` and ``y`` position by position, in unit(x)*unit(y)."""
    return jnp.mean((x - jnp.mean(x, axis=0)) * (y - jnp.mean(y, axis=0)), axis=0)


@tm.stage
def correlation(
    x: Q[Float[Array, "n *rest"], "'x"], y: Q[Float[Array, "n *rest"], "'y"], axis: Along = None
) -> Float[Array, "*rest"]:
    """Pearson correlation of ``x`` and ``y`` position by position (dimensionless)."""
    dx = x - jnp.mean(x, axis=0)
    dy = y - jnp.mean(y, axis=0)
    return jnp.sum(dx * dy, axis=0) / jnp.sqrt(jnp.sum(dx * dx, axis=0) * jnp.sum(dy * dy, axis=0))


@tm.stage
def weighted_covariance(
    x: Q[Float[Array, "n *rest"], "'x"],
    y: Q[Float[Array, "n *rest"], "'y"],
    w: Q[Float[Array, "n *rest"], "", tm.NonNegative],
    axis: Along = None,
) -> Q[Float[Array, "*rest"], "delta('x)*delta('y)"]:
    """Covariance with non-negative dimensionless weights, ``sum(w dx dy) / sum(w)``, in unit(x)*unit(y)."""
    total = jnp.sum(w, axis=0)
    dx = x - jnp.sum(w * x, axis=0) / total
    dy = y - jnp.sum(w * y, axis=0) / total
    return jnp.sum(w * dx * dy, axis=0) / total


@tm.stage
def weighted_correlation(
    x: Q[Float[Array, "n *rest"], "'x"],
    y: Q[Float[Array, "n *rest"], "'y"],
    w: Q[Float[Array, "n *rest"], "", tm.NonNegative],
    axis: Along = None,
) -> Float[Array, "*rest"]:
    """Pearson correlation with non-negative dimensionless weights (dimensionless)."""
    total = jnp.sum(w, axis=0)
    dx = x - jnp.sum(w * x, axis=0) / total
    dy = y - jnp.sum(w * y, axis=0) / total
    return jnp.sum(w * dx * dy, axis=0) / jnp.sqrt(jnp.sum(w * dx * dx, axis=0) * jnp.sum(w * dy * dy, axis=0))


@tm.stage
def histogram(x: Q[Float[Array, "n"], "'u"], edges: Q[Float[Array, "e"], "'u", tm.Increasing]) -> Int[Array, "e-1"]:
    """Counts of ``x`` in the bins between increasing ``edges`` (same unit as ``x``, converted).

    Bins are half-open ``[edges[i], edges[i+1])`` except the last, which includes its right
    edge (numpy's convention); values outside the edges and NaN are not counted.
    """
    return _bin_counts(x, edges)


def _bin_counts(x: Array, edges: Array) -> Array:
    # value v is in bin i when edges[i] <= v < edges[i+1] (the last bin also takes its right
    # edge): comparisons rather than a search, so the body stays valid for symbolic sizes
    left = x[:, None] >= edges[None, :-1]
    right = (x[:, None] < edges[None, 1:]) | (
        (x[:, None] == edges[-1]) & (jnp.arange(edges.shape[0] - 1) == edges.shape[0] - 2)
    )
    return jnp.sum(left & right, axis=0, dtype=jnp.int32)


# --- mergeable: moments (count, mean, variance, std; weighted) ---------------------------


class Moments(NamedTuple):
    """State of the moments family: total weight (a count when unweighted), mean, and the
    sum of weighted squared deviations from the mean."""

    weight: Float[Array, "*rest"]
    mean: Q[Float[Array, "*rest"], "'u"]
    m2: Q[Float[Array, "*rest"], "delta('u)**2"]


class MomentsResult(NamedTuple):
    """What ``moments_finalize`` returns: count (total weight), mean ``'u``, variance ``delta('u)**2``, std ``delta('u)``."""

    n: Float[Array, "*rest"]
    mean: Q[Float[Array, "*rest"], "'u"]
    variance: Q[Float[Array, "*rest"], "delta('u)**2"]
    std: Q[Float[Array, "*rest"], "delta('u)"]


def _combine(wa: Array, ma: Array, m2a: Array, wb: Array, mb: Array, m2b: Array) -> Moments:
    # Chan et al.'s pairwise update; an empty side contributes nothing (no 0/0).
    w = wa + wb
    safe = jnp.where(w > 0, w, 1)
    d = mb - ma
    mean_ = jnp.where(wa > 0, ma + d * (wb / safe), mb)  # an empty side's mean is a placeholder
    return Moments(w, mean_, m2a + m2b + d * d * (wa * wb / safe))


def _chunk_moments(x: Array, w: Array) -> Moments:
    total = jnp.sum(w, axis=0)
    safe = jnp.where(total > 0, total, 1)
    m = jnp.sum(w * x, axis=0) / safe
    return Moments(total, m, jnp.sum(w * (x - m) ** 2, axis=0))


@tm.stage
def moments_init(like: Q[Float[Array, "*rest"], "'u"]) -> Moments:
    """Empty moments state, shaped and united like one row ``like`` (its values are unused)."""
    zero = jnp.zeros_like(like)
    # the mean of no rows is a placeholder: ``like`` itself (made finite), not 0 in 'u, which
    # for degC would be a temperature that depends on the scale's zero (TM371)
    return Moments(zero, _placeholder(like), zero)


def _placeholder(like: Array) -> Array:
    return jnp.nan_to_num(like, nan=0.0, posinf=0.0, neginf=0.0)


@tm.stage
def moments_update(state: Moments, x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Moments:
    """Fold the rows of ``x`` (in any unit convertible to the state's) into a moments state.

    NaN is not skipped: it propagates to the mean and variance (``count`` counts non-NaN rows).
    """
    return _combine(*state, *_chunk_moments(x, jnp.ones_like(x)))


@tm.stage
def weighted_moments_update(
    state: Moments,
    x: Q[Float[Array, "n *rest"], "'u"],
    w: Q[Float[Array, "n *rest"], "", tm.NonNegative],
    axis: Along = None,
) -> Moments:
    """Fold rows of ``x`` with non-negative dimensionless weights ``w`` into a moments state."""
    return _combine(*state, *_chunk_moments(x, w))


@tm.stage
def moments_merge(a: Moments, b: Moments) -> Moments:
    """Merge two moments states (b is converted to a's unit)."""
    return _combine(*a, *b)


@tm.stage
def moments_finalize(state: Moments) -> MomentsResult:
    """Count ``n`` (total weight), mean (``'u``), population variance (``delta('u)**2``) and std
    (``delta('u)``) of a moments state; NaN where nothing was seen."""
    weight, mean, m2 = state
    empty = weight <= 0
    var = jnp.where(empty, jnp.nan, m2 / jnp.where(empty, 1, weight))
    return MomentsResult(weight, jnp.where(empty, jnp.nan, mean), var, jnp.sqrt(var))


# --- mergeable: sum ---------------------------------------------------------------------


@tm.stage
def sum_init(like: Q[Float[Array, "*rest"], "delta('u)"]) -> Q[Float[Array, "*rest"], "delta('u)"]:
    """Empty sum (zeros) shaped and united like one row ``like``."""
    return jnp.zeros_like(like)


@tm.stage
def sum_update(
    total: Q[Float[Array, "*rest"], "delta('u)"], x: Q[Float[Array, "n *rest"], "delta('u)"], axis: Along = None
) -> Q[Float[Array, "*rest"], "delta('u)"]:
    """Add the rows of ``x`` to a running sum."""
    return total + jnp.sum(x, axis=0)


@tm.stage
def sum_merge(
    a: Q[Float[Array, "*rest"], "delta('u)"], b: Q[Float[Array, "*rest"], "delta('u)"]
) -> Q[Float[Array, "*rest"], "delta('u)"]:
    """Merge two running sums."""
    return a + b


# --- mergeable: extrema -----------------------------------------------------------------


class Extrema(NamedTuple):
    """State of the extrema family: smallest and largest value so far, both in ``'u``."""

    min: Q[Float[Array, "*rest"], "'u"]
    max: Q[Float[Array, "*rest"], "'u"]


@tm.stage
def extrema_init(like: Q[Float[Array, "*rest"], "'u"]) -> Extrema:
    """Empty extrema state: min = +inf, max = -inf, in the unit of ``like``."""
    return Extrema(jnp.full_like(like, jnp.inf), jnp.full_like(like, -jnp.inf))


@tm.stage
def extrema_update(state: Extrema, x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Extrema:
    """Fold the rows of ``x`` into a (min, max) state."""
    return Extrema(
        jnp.minimum(state.min, jnp.min(x, axis=0, initial=jnp.inf)),
        jnp.maximum(state.max, jnp.max(x, axis=0, initial=-jnp.inf)),
    )


@tm.stage
def extrema_merge(a: Extrema, b: Extrema) -> Extrema:
    """Merge two (min, max) states."""
    return Extrema(jnp.minimum(a.min, b.min), jnp.maximum(a.max, b.max))


# --- mergeable: histogram ---------------------------------------------------------------


@tm.stage
def histogram_init(edges: Q[Float[Array, "e"], "'u", tm.Increasing]) -> Int[Array, "e-1"]:
    """Empty histogram counts for bins between ``edges``."""
    return jnp.zeros(edges.shape[0] - 1, dtype=jnp.int32)


@tm.stage
def histogram_update(
    counts: Int[Array, "e-1"], edges: Q[Float[Array, "e"], "'u", tm.Increasing], x: Q[Float[Array, "n"], "'u"]
) -> Int[Array, "e-1"]:
    """Add the values of ``x`` to histogram ``counts`` over ``edges`` (see ``histogram``)."""
    return counts + _bin_counts(x, edges)


@tm.stage
def histogram_merge(a: Int[Array, "b"], b: Int[Array, "b"]) -> Int[Array, "b"]:
    """Merge two histograms over the same edges."""
    return a + b


# --- mergeable: co-moments (covariance, correlation) ------------------------------------


class CoMoments(NamedTuple):
    """State of the co-moments family: count, means, sums of squared and cross deviations."""

    n: Float[Array, "*rest"]
    mean_x: Q[Float[Array, "*rest"], "'x"]
    mean_y: Q[Float[Array, "*rest"], "'y"]
    m2_x: Q[Float[Array, "*rest"], "delta('x)**2"]
    m2_y: Q[Float[Array, "*rest"], "delta('y)**2"]
    c_xy: Q[Float[Array, "*rest"], "delta('x)*delta('y)"]


class CoMomentsResult(NamedTuple):
    """What ``comoments_finalize`` returns: covariance ``delta('x)*delta('y)`` and correlation (dimensionless)."""

    covariance: Q[Float[Array, "*rest"], "delta('x)*delta('y)"]
    correlation: Float[Array, "*rest"]


def _co_combine(a: tuple[Array, ...], b: tuple[Array, ...]) -> CoMoments:
    na, mxa, mya, sxa, sya, cxa = a
    nb, mxb, myb, sxb, syb, cxb = b
    n = na + nb
    safe = jnp.where(n > 0, n, 1)
    dx, dy = mxb - mxa, myb - mya
    f = na * nb / safe
    return CoMoments(
        n,
        jnp.where(na > 0, mxa + dx * nb / safe, mxb),  # an empty side's means are placeholders
        jnp.where(na > 0, mya + dy * nb / safe, myb),
        sxa + sxb + dx * dx * f,
        sya + syb + dy * dy * f,
        cxa + cxb + dx * dy * f,
    )


@tm.stage
def comoments_init(like_x: Q[Float[Array, "*rest"], "'x"], like_y: Q[Float[Array, "*rest"], "'y"]) -> CoMoments:
    """Empty co-moments state, shaped like one row, in the units of ``like_x`` and ``like_y``."""
    z = jnp.zeros_like(like_x) + jnp.zeros_like(like_y)
    mx, my = _placeholder(like_x) + z, _placeholder(like_y) + z  # see moments_init
    return CoMoments(z, mx, my, z, z, z)


def _co_chunk(x: Array, y: Array, w: Array) -> tuple[Array, ...]:
    total = jnp.sum(w, axis=0)
    safe = jnp.where(total > 0, total, 1)
    mx, my = jnp.sum(w * x, axis=0) / safe, jnp.sum(w * y, axis=0) / safe
    dx, dy = x - mx, y - my
    return total, mx, my, jnp.sum(w * dx * dx, axis=0), jnp.sum(w * dy * dy, axis=0), jnp.sum(w * dx * dy, axis=0)


@tm.stage
def comoments_update(
    state: CoMoments,
    x: Q[Float[Array, "n *rest"], "'x"],
    y: Q[Float[Array, "n *rest"], "'y"],
    axis: Along = None,
) -> CoMoments:
    """Fold paired rows ``x``, ``y`` into a co-moments state."""
    return _co_combine(tuple(state), _co_chunk(x, y, jnp.ones_like(x)))


@tm.stage
def weighted_comoments_update(
    state: CoMoments,
    x: Q[Float[Array, "n *rest"], "'x"],
    y: Q[Float[Array, "n *rest"], "'y"],
    w: Q[Float[Array, "n *rest"], "", tm.NonNegative],
    axis: Along = None,
) -> CoMoments:
    """Fold paired rows with non-negative dimensionless weights ``w`` (``n`` becomes the total weight)."""
    return _co_combine(tuple(state), _co_chunk(x, y, w))


@tm.stage
def comoments_merge(a: CoMoments, b: CoMoments) -> CoMoments:
    """Merge two co-moments states."""
    return _co_combine(tuple(a), tuple(b))


@tm.stage
def comoments_finalize(state: CoMoments) -> CoMomentsResult:
    """Population covariance (``delta('x)*delta('y)``) and correlation (dimensionless)."""
    n, _, _, m2_x, m2_y, c_xy = state
    empty = n <= 0
    cov = jnp.where(empty, jnp.nan, c_xy / jnp.where(empty, 1, n))
    return CoMomentsResult(cov, c_xy / jnp.sqrt(m2_x * m2_y))
