"""Straightforward models: linear and ridge regression in closed form, logistic regression,
k-means and nearest neighbours.

Rows are samples (``n``), columns are features (``d``). A feature matrix is one array, so
all its columns share one unit ``'x``: to model metres and kilograms together, standardize
them first (``standardize_fit``/``standardize_apply`` make them dimensionless). For k-means
and nearest neighbours this is a feature, not a limitation: a Euclidean distance that adds
metres to kilograms depends on an arbitrary choice of units, and typedml refuses to build
such a pipeline (a unit mismatch on the edge that stacks the columns).

Slopes are ratios of differences: a coefficient is in ``delta('y)/'x``, so ``y`` may be in
degC (the intercept is then in degC, the slope in delta_degC per unit of ``x``), while an
offset unit for ``x`` is refused (a prediction from degC inputs would depend on the zero).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, UInt32

import typedml as tm
from typedml import Q


class LinearFit(NamedTuple):
    """A linear fit: ``coef`` in ``delta('y)/'x`` (one per feature) and ``intercept`` in ``'y``."""

    coef: Q[Float[Array, "d"], "delta('y)/'x"]
    intercept: Q[Float[Array, ""], "'y"]


def _ridge(x: Array, y: Array, alpha: Array) -> LinearFit:
    xm, ym = jnp.mean(x, axis=0), jnp.mean(y)
    xc, yc = x - xm, y - ym
    gram = xc.T @ xc + alpha * jnp.eye(x.shape[1], dtype=x.dtype)
    coef = jnp.linalg.solve(gram, xc.T @ yc)
    return LinearFit(coef, ym - xm @ coef)


@tm.stage
def linear_regression(x: Q[Float[Array, "n d"], "'x"], y: Q[Float[Array, "n"], "'y"]) -> LinearFit:
    """Ordinary least squares with an intercept, in closed form.

    ``coef`` is in ``delta('y)/'x`` (g/mm for body mass in g against flipper length in mm),
    ``intercept`` in ``'y``. Solved from the normal equations on centred data with a pseudo-inverse, so collinear
    features get the minimum-norm solution.
    """
    xm, ym = jnp.mean(x, axis=0), jnp.mean(y)
    xc, yc = x - xm, y - ym
    # pinv(X'X) X'y is lstsq's minimum-norm solution, and JAX can evaluate it for symbolic n, d
    # (lstsq compares n with d), so the body is proven for every size
    coef = jnp.linalg.pinv(xc.T @ xc, hermitian=True) @ (xc.T @ yc)
    return LinearFit(coef, ym - xm @ coef)


@tm.stage
def ridge_regression(
    x: Q[Float[Array, "n d"], "'x"], y: Q[Float[Array, "n"], "'y"], alpha: Q[Float[Array, ""], "'x**2"]
) -> LinearFit:
    """Ridge regression: minimises ``|y - x coef - intercept|**2 + alpha |coef|**2`` in closed form.

    The penalty has a unit: ``alpha`` is in ``'x**2`` (so that both terms are in ``'y**2``);
    rescaling ``x`` rescales ``alpha`` with it, and the fit does not change. The intercept is
    not penalised (scikit-learn's ``Ridge(alpha)`` with the same numbers in the same units).
    """
    return _ridge(x, y, alpha)


@tm.stage
def linear_predict(x: Q[Float[Array, "m d"], "'x"], fit: LinearFit) -> Q[Float[Array, "m"], "'y"]:
    """Predictions ``x @ coef + intercept`` of a linear fit, in ``'y``."""
    return x @ fit.coef + fit.intercept


class LogisticFit(NamedTuple):
    """A logistic fit: ``coef`` in ``1/'x`` and a dimensionless intercept (log-odds)."""

    coef: Q[Float[Array, "d"], "1/'x"]
    intercept: Float[Array, ""]


@tm.stage
def logistic_regression(
    x: Q[Float[Array, "n d"], "'x"], y: Int[Array, "n"], l2: Q[Float[Array, ""], "'x**2"], iters: int = 25
) -> LogisticFit:
    """Binary logistic regression (labels 0/1) by Newton's method on the penalised log-loss.

    Minimises ``sum(log_loss) + l2/2 * |coef|**2`` (scikit-learn's ``C`` is ``1/l2`` with
    ``x`` in the same unit). ``coef`` is in ``1/'x``, the intercept dimensionless. ``l2`` must
    be positive when the classes are separable (else the optimum is at infinity). ``iters``
    Newton steps are taken from zero; each uses the gradient and the Hessian of the loss.
    """
    xm = jnp.mean(x, axis=0)
    xa = jnp.concatenate([x - xm, jnp.ones((x.shape[0], 1), x.dtype)], axis=1)
    d = x.shape[1]
    penalty = jnp.concatenate([jnp.full((d,), l2, x.dtype), jnp.zeros((1,), x.dtype)])
    yf = y.astype(x.dtype)

    def step(_: int, w: Array) -> Array:
        p = jax.nn.sigmoid(xa @ w)
        grad = xa.T @ (p - yf) + penalty * w
        hess = (xa * (p * (1 - p))[:, None]).T @ xa + jnp.diag(penalty + 1e-6)
        return w - jnp.linalg.solve(hess, grad)

    w = jax.lax.fori_loop(0, iters, step, jnp.zeros(d + 1, x.dtype))
    return LogisticFit(w[:-1], w[-1] - xm @ w[:-1])


@tm.stage
def logistic_predict_proba(x: Q[Float[Array, "m d"], "'x"], fit: LogisticFit) -> Float[Array, "m"]:
    """Probability of class 1 under a logistic fit (dimensionless)."""
    return jax.nn.sigmoid(x @ fit.coef + fit.intercept)


# --- k-means --------------------------------------------------------------------------


def _sq_dist(a: Array, b: Array) -> Array:
    return jnp.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1)


@tm.stage
def kmeans_init(key: UInt32[Array, "2"], x: Q[Float[Array, "k+rows d"], "'u"], k: int) -> Q[Float[Array, "k d"], "'u"]:
    """``k`` initial centres drawn from the rows of ``x`` (at least ``k`` of them) by k-means++ (seeded by ``key``).

    Every feature shares the unit ``'u``: distances are only meaningful in one unit.
    """
    keys = jax.random.split(key, k)
    first = jax.random.categorical(keys[0], jnp.zeros(x.shape[0], x.dtype))
    centers = jnp.zeros((k, x.shape[1]), x.dtype).at[0].set(x[first])

    def pick(i: int, c: Array) -> Array:
        # next centre drawn with probability proportional to its squared distance to the chosen ones
        d2 = jnp.min(jnp.where(jnp.arange(k)[None, :] < i, _sq_dist(x, c), jnp.inf), axis=1)
        j = jax.random.categorical(keys[i], jnp.log(d2))
        return c.at[i].set(x[j])

    return jax.lax.fori_loop(1, k, pick, centers)


class KMeansFit(NamedTuple):
    """A k-means fit: centres in ``'u``, each row's label, inertia in ``delta('u)**2``."""

    centers: Q[Float[Array, "k d"], "'u"]
    labels: Int[Array, "n"]
    inertia: Q[Float[Array, ""], "delta('u)**2"]


@tm.stage
def kmeans(x: Q[Float[Array, "n d"], "'u"], centers: Q[Float[Array, "k d"], "'u"], iters: int = 50) -> KMeansFit:
    """Lloyd's k-means from initial ``centers`` (e.g. ``kmeans_init``), ``iters`` rounds.

    Requires one unit ``'u`` for every feature (mixing metres and kilograms is a build-time
    unit error: standardize first). Returns the centres (``'u``), each row's nearest centre
    and the inertia, the sum of squared distances to it (``delta('u)**2``). A centre that
    loses all its points stays where it was.
    """

    def step(_: int, c: Array) -> Array:
        labels = jnp.argmin(_sq_dist(x, c), axis=1)
        member = labels[:, None] == jnp.arange(c.shape[0])[None, :]
        sizes = jnp.sum(member, axis=0)
        sums = member.astype(x.dtype).T @ x
        return jnp.where(sizes[:, None] > 0, sums / jnp.maximum(sizes, 1)[:, None], c)

    final = jax.lax.fori_loop(0, iters, step, centers)
    d2 = _sq_dist(x, final)
    labels = jnp.argmin(d2, axis=1).astype(jnp.int32)
    return KMeansFit(final, labels, jnp.sum(jnp.min(d2, axis=1)))


@tm.stage
def kmeans_predict(x: Q[Float[Array, "m d"], "'u"], fit: KMeansFit) -> Int[Array, "m"]:
    """Index of the nearest centre of a k-means fit for each row of ``x`` (converted to the centres' unit)."""
    return jnp.argmin(_sq_dist(x, fit.centers), axis=1).astype(jnp.int32)


# --- nearest neighbours ---------------------------------------------------------------


def _neighbours(x_train: Array, x: Array, k: int) -> Array:
    return jax.lax.top_k(-_sq_dist(x, x_train), k)[1]


@tm.stage
def knn_classify(
    x_train: Q[Float[Array, "n d"], "'u"],
    y_train: Int[Array, "n"],
    x: Q[Float[Array, "m d"], "'u"],
    k: int = 5,
    num_classes: int = 2,
) -> Int[Array, "m"]:
    """Majority label among the ``k`` nearest training rows (Euclidean, one unit ``'u``).

    Labels are ``0 .. num_classes-1``; a tied vote goes to the smallest label.
    """
    votes = jax.nn.one_hot(y_train[_neighbours(x_train, x, k)], num_classes, dtype=jnp.int32).sum(axis=1)
    return jnp.argmax(votes, axis=1).astype(jnp.int32)


@tm.stage
def knn_regress(
    x_train: Q[Float[Array, "n d"], "'u"],
    y_train: Q[Float[Array, "n"], "'y"],
    x: Q[Float[Array, "m d"], "'u"],
    k: int = 5,
) -> Q[Float[Array, "m"], "'y"]:
    """Mean of ``y_train`` over the ``k`` nearest training rows, in ``'y``."""
    return jnp.mean(y_train[_neighbours(x_train, x, k)], axis=1)
