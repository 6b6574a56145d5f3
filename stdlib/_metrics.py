"""Metrics: regression errors with units, classification scores, ROC AUC, log-loss and the
confusion matrix.

Regression errors are differences: ``mse`` is in ``delta('y)**2``, ``rmse`` and ``mae`` in
``delta('y)``, so they convert correctly (an MSE of temperatures in degC is in delta_degC**2).
Classification stages take integer labels; binary ones take labels 0 and 1 (1 positive), a
value contract: a label 2 is refused, not counted as negative.
"""

from __future__ import annotations

from typing import Annotated

import jax.numpy as jnp
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q

_Binary = Annotated[Int[Array, "n"], tm.Bounded(0, 1)]
"""Binary labels: 0 or 1 (1 positive)."""


@tm.stage
def mse(y: Q[Float[Array, "n"], "'y"], y_pred: Q[Float[Array, "n"], "'y"]) -> Q[Float[Array, ""], "delta('y)**2"]:
    """Mean squared error, in the square of the target's unit."""
    return jnp.mean((y - y_pred) ** 2)


@tm.stage
def rmse(y: Q[Float[Array, "n"], "'y"], y_pred: Q[Float[Array, "n"], "'y"]) -> Q[Float[Array, ""], "delta('y)"]:
    """Root mean squared error, in the target's unit."""
    return jnp.sqrt(jnp.mean((y - y_pred) ** 2))


@tm.stage
def mae(y: Q[Float[Array, "n"], "'y"], y_pred: Q[Float[Array, "n"], "'y"]) -> Q[Float[Array, ""], "delta('y)"]:
    """Mean absolute error, in the target's unit."""
    return jnp.mean(jnp.abs(y - y_pred))


@tm.stage
def r2(y: Q[Float[Array, "n"], "'y"], y_pred: Q[Float[Array, "n"], "'y"]) -> Float[Array, ""]:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (dimensionless)."""
    return 1 - jnp.sum((y - y_pred) ** 2) / jnp.sum((y - jnp.mean(y)) ** 2)


@tm.stage
def accuracy(y: Int[Array, "n"], y_pred: Int[Array, "n"]) -> Float[Array, ""]:
    """Share of predicted labels equal to the true ones (dimensionless)."""
    return jnp.mean(y == y_pred).astype(jnp.float32)


def _counts(y: Array, y_pred: Array) -> tuple[Array, Array, Array]:
    pos, hit = y == 1, y_pred == 1
    return jnp.sum(pos & hit), jnp.sum(~pos & hit), jnp.sum(pos & ~hit)


def _ratio(num: Array, den: Array) -> Array:
    # an empty denominator scores 0 (scikit-learn's zero_division=0)
    return jnp.where(den > 0, num / jnp.maximum(den, 1), 0.0).astype(jnp.float32)


@tm.stage
def precision(y: _Binary, y_pred: _Binary) -> Float[Array, ""]:
    """_Binary precision ``tp / (tp + fp)`` for positive label 1 (0 when nothing is predicted 1)."""
    tp, fp, _ = _counts(y, y_pred)
    return _ratio(tp, tp + fp)


@tm.stage
def recall(y: _Binary, y_pred: _Binary) -> Float[Array, ""]:
    """_Binary recall ``tp / (tp + fn)`` for positive label 1 (0 when no label is 1)."""
    tp, _, fn = _counts(y, y_pred)
    return _ratio(tp, tp + fn)


@tm.stage
def f1(y: _Binary, y_pred: _Binary) -> Float[Array, ""]:
    """_Binary F1 score ``2 tp / (2 tp + fp + fn)`` for positive label 1."""
    tp, fp, fn = _counts(y, y_pred)
    return _ratio(2 * tp, 2 * tp + fp + fn)


@tm.stage
def roc_auc(y: _Binary, score: Q[Float[Array, "n"], "'u", tm.Finite]) -> Float[Array, ""]:
    """Area under the ROC curve of scores for binary labels (1 positive); dimensionless.

    Only the order of the scores matters, so they may carry any unit. Ties count one half
    (the Mann-Whitney statistic). NaN when only one class is present.
    """
    ordered = jnp.sort(score)
    below = jnp.searchsorted(ordered, score, side="left")
    upto = jnp.searchsorted(ordered, score, side="right")
    ranks = (below + upto + 1) / 2  # average 1-based rank of tied scores
    pos = y == 1
    n_pos = jnp.sum(pos)
    n_neg = y.shape[0] - n_pos
    return ((jnp.sum(jnp.where(pos, ranks, 0.0)) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).astype(jnp.float32)


@tm.stage
def log_loss(y: _Binary, p: Q[Float[Array, "n"], "", tm.Probability], eps: float = 1e-7) -> Float[Array, ""]:
    """Mean binary cross-entropy of probabilities ``p`` of label 1 (clipped to [eps, 1-eps])."""
    pc = jnp.clip(p, eps, 1 - eps)
    return -jnp.mean(jnp.where(y == 1, jnp.log(pc), jnp.log1p(-pc)))


@tm.stage
def confusion_matrix(
    y: Int[Array, "n"], y_pred: Int[Array, "n"], num_classes: int
) -> Int[Array, "num_classes num_classes"]:
    """Counts ``[true, predicted]`` over labels ``0 .. num_classes-1`` (scikit-learn's layout)."""
    t = y[:, None] == jnp.arange(num_classes)[None, :]
    pr = y_pred[:, None] == jnp.arange(num_classes)[None, :]
    return (t.astype(jnp.int32).T @ pr.astype(jnp.int32)).astype(jnp.int32)
