"""Preprocessing: scalers (standard, min-max, robust), one-hot encoding, binning, PCA,
train/test splits and k-fold assignments from a PRNG key, and imputation of missing values.

A scaler is fitted once (``*_fit`` returns a ``Scaler``, a record: ``center`` in ``'u``,
``scale`` in ``delta('u)``) and applied with ``scaler_apply(x, scaler)``, which returns
dimensionless data: the way to put features of different units side by side (``kmeans``,
``pca_fit``).

Random stages take a JAX PRNG key as a ``uint32[2]`` array (``jax.random.PRNGKey(seed)``);
the same key gives the same result.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, UInt32

import typedml as tm
from typedml import Q

# The axis a summary reduces (a normalisation works along): the leading one by default; a call
# names another as its pipeline names it, ``mean(temps, axis="b")``, or by position.
Along = Annotated[str | int | None, tm.Axis("n")]


class Scaler(NamedTuple):
    """A fitted scaler: ``center`` in ``'u`` and ``scale`` in ``delta('u)``; ``scaler_apply`` makes data dimensionless."""

    center: Q[Float[Array, "*rest"], "'u"]
    scale: Q[Float[Array, "*rest"], "delta('u)"]


def _nonzero(scale: Array) -> Array:
    # a constant feature keeps its scale of 1 (as scikit-learn does), instead of dividing by 0
    return jnp.where(scale == 0, jnp.ones_like(scale), scale)


@tm.stage
def standardize_fit(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Scaler:
    """Mean (``'u``) and population standard deviation (``delta('u)``) of each feature."""
    return Scaler(jnp.mean(x, axis=0), _nonzero(jnp.std(x, axis=0)))


@tm.stage
def minmax_fit(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Scaler:
    """Minimum (``'u``) and range (``delta('u)``) of each feature: applied, data maps to [0, 1]."""
    lo = jnp.min(x, axis=0)
    return Scaler(lo, _nonzero(jnp.max(x, axis=0) - lo))


@tm.stage
def robust_fit(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Scaler:
    """Median (``'u``) and interquartile range (``delta('u)``) of each feature: a scaler that
    outliers barely move."""
    q1, med, q3 = jnp.quantile(x, jnp.array([0.25, 0.5, 0.75], x.dtype), axis=0)
    return Scaler(med, _nonzero(q3 - q1))


@tm.stage
def scaler_apply(x: Q[Float[Array, "m *rest"], "'u"], scaler: Scaler) -> Float[Array, "m *rest"]:
    """``(x - center) / scale``: dimensionless (``x`` is converted to the scaler's unit first)."""
    return (x - scaler.center) / scaler.scale


@tm.stage
def scaler_invert(z: Float[Array, "m *rest"], scaler: Scaler) -> Q[Float[Array, "m *rest"], "'u"]:
    """Back from scaled (dimensionless) data to the scaler's unit: ``z * scale + center``."""
    return z * scaler.scale + scaler.center


@tm.stage
def standardize(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Float[Array, "n *rest"]:
    """z-scores of ``x`` with its own mean and standard deviation (dimensionless)."""
    return (x - jnp.mean(x, axis=0)) / _nonzero(jnp.std(x, axis=0))


@tm.stage
def softmax(logits: Float[Array, "n *rest"], axis: Along = None) -> Float[Array, "n *rest"]:
    """Probabilities along an axis (they sum to 1 along it): the leading one, or the one named."""
    shifted = logits - jnp.max(logits, axis=0)
    e = jnp.exp(shifted)
    return e / jnp.sum(e, axis=0)


@tm.stage
def log_softmax(logits: Float[Array, "n *rest"], axis: Along = None) -> Float[Array, "n *rest"]:
    """Log-probabilities along an axis (``log(softmax(logits))``, computed stably)."""
    shifted = logits - jnp.max(logits, axis=0)
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=0))


@tm.stage
def one_hot(labels: Int[Array, "n"], num_classes: int) -> Float[Array, "n num_classes"]:
    """One-hot rows for integer labels ``0 .. num_classes-1`` (other labels give a zero row)."""
    return jax.nn.one_hot(labels, num_classes)


@tm.stage
def bin_index(x: Q[Float[Array, "n"], "'u"], edges: Q[Float[Array, "e"], "'u", tm.Increasing]) -> Int[Array, "n"]:
    """Index of the bin of ``edges`` (same unit family as ``x``) holding each value.

    Bins as in ``histogram``: ``[edges[i], edges[i+1])``, the last one closed. Values below
    the first edge get -1, values above the last edge get ``e - 1`` (the number of bins).
    """
    # number of edges at or below each value, minus one; comparisons keep sizes symbolic
    idx = jnp.sum(edges[None, :] <= x[:, None], axis=1) - 1
    return jnp.where(x == edges[-1], edges.shape[0] - 2, idx).astype(jnp.int32)


class PCAFit(NamedTuple):
    """A fitted PCA: mean ``'u``, components (dimensionless unit rows), explained variance ``delta('u)**2`` and its share."""

    mean: Q[Float[Array, "k+more"], "'u"]  # d features, written k+more: at least k
    components: Float[Array, "k k+more"]
    explained_variance: Q[Float[Array, "k"], "delta('u)**2"]
    explained_variance_ratio: Float[Array, "k"]


@tm.stage
def pca_fit(x: Q[Float[Array, "k+rows k+more"], "'u"], k: int) -> PCAFit:
    """Principal components of ``x``: the ``k`` leading unit directions (dimensionless rows of
    ``components``), their variances (``delta('u)**2``, with the n-1 denominator) and shares.

    ``x`` has n rows and d features, declared ``k+rows`` and ``k+more``: the signature says
    that n and d are at least ``k`` (the data boundary refuses less), so every output has
    exactly ``k`` rows.

    Features must share one unit: standardize features of different units first (then every
    output is dimensionless). Each component's sign is fixed so its largest entry in absolute
    value is positive.
    """
    mean = jnp.mean(x, axis=0)
    _, s, vt = jnp.linalg.svd(x - mean, full_matrices=False)
    var = s**2 / (x.shape[0] - 1)
    comps = vt[:k]
    big = jnp.take_along_axis(comps, jnp.argmax(jnp.abs(comps), axis=1)[:, None], axis=1)
    comps = comps * jnp.sign(big)
    return PCAFit(mean, comps, var[:k], var[:k] / jnp.sum(var))


@tm.stage
def pca_transform(x: Q[Float[Array, "m k+more"], "'u"], fit: PCAFit) -> Q[Float[Array, "m k"], "delta('u)"]:
    """Coordinates of ``x`` along the components of a PCA fit, in the data's unit (a difference from the mean)."""
    return (x - fit.mean) @ fit.components.T


def _permutation(key: Array, like: Array) -> Array:
    # argsort of uniform draws: a random permutation that also works for symbolic sizes
    return jnp.argsort(jax.random.uniform(key, (like.shape[0],)))


class Split(NamedTuple):
    """Sorted row indices of a train/test split."""

    train: Int[Array, "n_train"]
    test: Int[Array, "n_test"]


@tm.stage
def train_test_split(key: UInt32[Array, "2"], like: Float[Array, "n_train+n_test *rest"], n_test: int) -> Split:
    """Row indices of a random train/test split of ``like``'s rows (only its size is read).

    ``like`` has ``n_train+n_test`` rows: the signature says it has at least ``n_test``.

    ``n_test`` rows go to ``test``; both index arrays are sorted. Seeded by ``key``.
    """
    perm = _permutation(key, like)
    return Split(jnp.sort(perm[n_test:]).astype(jnp.int32), jnp.sort(perm[:n_test]).astype(jnp.int32))


@tm.stage
def kfold(key: UInt32[Array, "2"], like: Float[Array, "n *rest"], k: int) -> Int[Array, "n"]:
    """The fold, ``0 .. k-1``, of each row for k-fold cross-validation, seeded by ``key``.

    Folds differ in size by at most one; the rows of fold ``i`` are ``where(folds == i)``.
    """
    perm = _permutation(key, like)
    return (jnp.argsort(perm) % k).astype(jnp.int32)


@tm.stage
def impute_mean_fit(x: Q[Float[Array, "n *rest"], "'u"], axis: Along = None) -> Q[Float[Array, "*rest"], "'u"]:
    """The mean of the non-missing (non-NaN) values of each feature, as a fill value."""
    return jnp.nanmean(x, axis=0)


@tm.stage
def impute_apply(
    x: Q[Float[Array, "m *rest"], "'u"], fill: Q[Float[Array, "*rest"], "'u"]
) -> Q[Float[Array, "m *rest"], "'u"]:
    """``x`` with each NaN replaced by its feature's ``fill`` value (converted to ``x``'s unit)."""
    return jnp.where(jnp.isnan(x), fill, x)
