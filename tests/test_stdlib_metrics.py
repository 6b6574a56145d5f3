"""stdlib metrics against scikit-learn on seeded random data and on the Palmer penguins."""

from __future__ import annotations

import numpy as np
import pytest

import typedml as tm
from typedml import stdlib as sl

skm = pytest.importorskip("sklearn.metrics")


def mag(value):
    return np.asarray(getattr(value, "magnitude", value), dtype=np.float64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regression_metrics_match_sklearn(q, seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(20, 5, 40).astype(np.float32)
    p = (y + rng.normal(0, 2, 40)).astype(np.float32)
    y64, p64 = y.astype(np.float64), p.astype(np.float64)
    yq, pq = q(y, "degC"), q(p, "degC")
    err = sl.mse(yq, pq)
    assert err.units == tm.get_registry().Unit("delta_degC**2")
    np.testing.assert_allclose(mag(err), skm.mean_squared_error(y64, p64), rtol=1e-4)
    np.testing.assert_allclose(mag(sl.rmse(yq, pq)), np.sqrt(skm.mean_squared_error(y64, p64)), rtol=1e-4)
    np.testing.assert_allclose(mag(sl.mae(yq, pq)), skm.mean_absolute_error(y64, p64), rtol=1e-4)
    np.testing.assert_allclose(mag(sl.r2(yq, pq)), skm.r2_score(y64, p64), rtol=1e-4)
    # predictions in K are converted to degC (an affine conversion) before the error is taken
    np.testing.assert_allclose(mag(sl.mae(yq, q(p + 273.15, "K"))), skm.mean_absolute_error(y64, p64), rtol=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 60).astype(np.int32)
    score = (y + rng.normal(0, 0.8, 60)).astype(np.float32)
    score[:6] = np.round(score[:6])  # some ties
    pred = (score > 0.5).astype(np.int32)
    for ours, ref in [
        (sl.accuracy, skm.accuracy_score),
        (sl.precision, skm.precision_score),
        (sl.recall, skm.recall_score),
        (sl.f1, skm.f1_score),
    ]:
        np.testing.assert_allclose(mag(ours(y, pred)), ref(y, pred), rtol=1e-6)
    np.testing.assert_allclose(mag(sl.roc_auc(y, score)), skm.roc_auc_score(y, score), rtol=1e-5)
    prob = 1 / (1 + np.exp(-score))
    np.testing.assert_allclose(mag(sl.log_loss(y, prob.astype(np.float32))), skm.log_loss(y, prob), rtol=1e-4)
    np.testing.assert_array_equal(
        np.asarray(sl.confusion_matrix(y, pred, num_classes=2)), skm.confusion_matrix(y, pred)
    )
    np.testing.assert_allclose(mag(sl.precision(y, np.zeros_like(y))), 0.0)


def test_roc_auc_of_scores_with_a_unit(q):
    y = np.array([0, 0, 1, 1, 0, 1], dtype=np.int32)
    s = np.array([1.0, 2.0, 2.0, 5.0, 0.5, 3.0], dtype=np.float32)
    np.testing.assert_allclose(mag(sl.roc_auc(y, q(s, "km"))), skm.roc_auc_score(y, s), rtol=1e-6)


def test_penguin_species_metrics_match_sklearn(q):
    palmerpenguins = pytest.importorskip("palmerpenguins")
    frame = palmerpenguins.load_penguins().dropna(subset=["flipper_length_mm", "body_mass_g", "bill_length_mm"])
    x = frame[["flipper_length_mm", "bill_length_mm"]].to_numpy(np.float32)
    species = frame["species"].astype("category").cat.codes.to_numpy().astype(np.int32)
    pred = sl.knn_classify(q(x, "mm"), species, q(x / 10, "cm"), k=7, num_classes=3)
    pred = np.asarray(pred)
    np.testing.assert_allclose(mag(sl.accuracy(species, pred)), skm.accuracy_score(species, pred), rtol=1e-6)
    np.testing.assert_array_equal(
        np.asarray(sl.confusion_matrix(species, pred, num_classes=3)), skm.confusion_matrix(species, pred)
    )
    gentoo = (species == 2).astype(np.int32)
    flipper = q(x[:, 0], "mm")
    np.testing.assert_allclose(mag(sl.roc_auc(gentoo, flipper)), skm.roc_auc_score(gentoo, x[:, 0]), rtol=1e-5)
