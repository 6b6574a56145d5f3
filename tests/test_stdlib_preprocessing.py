"""stdlib preprocessing against scikit-learn and numpy, on seeded random data and penguins."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import typedml as tm
from typedml import stdlib as sl

sk_pre = pytest.importorskip("sklearn.preprocessing")
sk_dec = pytest.importorskip("sklearn.decomposition")
sk_imp = pytest.importorskip("sklearn.impute")


def mag(value):
    return np.asarray(getattr(value, "magnitude", value), dtype=np.float64)


def features(seed: int, n: int = 50, d: int = 3):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 1, (n, d)) @ rng.normal(0, 1, (d, d)) * 4 + 10).astype(np.float32)


@pytest.mark.parametrize(
    ("fit", "reference"),
    [
        (sl.standardize_fit, lambda: sk_pre.StandardScaler()),
        (sl.minmax_fit, lambda: sk_pre.MinMaxScaler()),
        (sl.robust_fit, lambda: sk_pre.RobustScaler()),
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_scalers_match_sklearn(q, fit, reference, seed):
    x = features(seed)
    scaler = fit(q(x, "kg"))
    assert scaler.center.units == tm.get_registry().kg and scaler.scale.units == tm.get_registry().kg
    z = sl.scaler_apply(q(x * 1000, "g"), scaler)  # converted to kg on the way in
    assert not hasattr(z, "units")
    np.testing.assert_allclose(np.asarray(z), reference().fit_transform(x.astype(np.float64)), rtol=1e-4, atol=1e-4)
    back = sl.scaler_invert(z, scaler)
    np.testing.assert_allclose(mag(back), x, rtol=1e-4, atol=1e-3)


def test_standardize_one_shot_and_constant_feature(q):
    x = features(2)
    x[:, 1] = 3.0
    np.testing.assert_allclose(
        np.asarray(sl.standardize(q(x, "m"))), sk_pre.StandardScaler().fit_transform(x.astype(np.float64)), atol=1e-4
    )


def test_one_hot_and_bin_index_match_numpy(q):
    labels = np.array([0, 2, 1, 2, 0], dtype=np.int32)
    np.testing.assert_array_equal(np.asarray(sl.one_hot(labels, num_classes=3)), np.eye(3)[labels])
    x = np.random.default_rng(3).uniform(0, 10, 40).astype(np.float32)
    x[0] = 10.0  # the last edge belongs to the last bin
    edges = np.array([0.0, 2.5, 5.0, 10.0], dtype=np.float32)
    idx = sl.bin_index(q(x, "m"), q(edges * 1000, "mm"))
    np.testing.assert_array_equal(np.asarray(idx), np.digitize(x, edges[1:-1]))
    out = sl.bin_index(q([-1.0, 11.0], "m"), q(edges, "m"))
    np.testing.assert_array_equal(np.asarray(out), [-1, 3])


def test_pca_matches_sklearn_on_standardized_penguins(q):
    palmerpenguins = pytest.importorskip("palmerpenguins")
    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
    frame = palmerpenguins.load_penguins().dropna(subset=[*cols, "body_mass_g"])
    x = frame[cols].to_numpy(np.float32)
    z = sl.standardize(q(x, "mm"))
    fit = sl.pca_fit(z, k=2)
    ref = sk_dec.PCA(2).fit(sk_pre.StandardScaler().fit_transform(x.astype(np.float64)))
    signs = np.sign(mag(fit.components) @ ref.components_.T).diagonal()
    np.testing.assert_allclose(mag(fit.components), ref.components_ * signs[:, None], atol=1e-4)
    np.testing.assert_allclose(mag(fit.explained_variance), ref.explained_variance_, rtol=1e-4)
    np.testing.assert_allclose(mag(fit.explained_variance_ratio), ref.explained_variance_ratio_, rtol=1e-4)
    proj = sl.pca_transform(z, fit)
    np.testing.assert_allclose(np.abs(mag(proj)), np.abs(ref.transform(np.asarray(z, np.float64))), atol=1e-3)


def test_pca_with_a_unit(q):
    x = features(4)
    fit = sl.pca_fit(q(x, "m"), k=3)
    assert fit.explained_variance.units == tm.get_registry().Unit("m**2")
    ref = sk_dec.PCA(3).fit(x.astype(np.float64))
    np.testing.assert_allclose(mag(fit.explained_variance), ref.explained_variance_, rtol=1e-3)
    assert sl.pca_transform(q(x, "m"), fit).units == tm.get_registry().m


def test_train_test_split_and_kfold_are_seeded_partitions():
    like = np.zeros((23, 2), np.float32)
    split = sl.train_test_split(jax.random.PRNGKey(1), like, n_test=5)
    train, test = np.asarray(split.train), np.asarray(split.test)
    assert len(test) == 5 and len(train) == 18
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(23))
    again = sl.train_test_split(jax.random.PRNGKey(1), like, n_test=5)
    np.testing.assert_array_equal(np.asarray(again.test), test)
    other = sl.train_test_split(jax.random.PRNGKey(2), like, n_test=5)
    assert not np.array_equal(np.asarray(other.test), test)
    folds = np.asarray(sl.kfold(jax.random.PRNGKey(3), like, k=4))
    sizes = np.bincount(folds, minlength=4)
    assert sizes.sum() == 23 and sizes.max() - sizes.min() <= 1 and set(folds) == {0, 1, 2, 3}
    assert not np.array_equal(folds, np.asarray(sl.kfold(jax.random.PRNGKey(4), like, k=4)))


def test_mean_imputation_matches_sklearn(q):
    x = features(5)
    x[[1, 7, 9], 0] = np.nan
    x[3, 2] = np.nan
    fill = sl.impute_mean_fit(q(x, "s"))
    out = sl.impute_apply(q(x * 1000, "ms"), fill)
    assert out.units == tm.get_registry().ms
    ref = sk_imp.SimpleImputer(strategy="mean").fit_transform(x.astype(np.float64))
    np.testing.assert_allclose(mag(out) / 1000, ref, rtol=1e-5)
