"""The stdlib on a real data set: the Palmer penguins (lengths in mm, body mass in g, with
real missing values), against numpy, pandas and scikit-learn.

Complements the per-family test files, which compare the same stages on seeded random data.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

import typedml as tm
from typedml import stdlib as sl

palmerpenguins = pytest.importorskip("palmerpenguins")
skm = pytest.importorskip("sklearn.metrics")
sk_pre = pytest.importorskip("sklearn.preprocessing")
sk_imp = pytest.importorskip("sklearn.impute")
sk_lin = pytest.importorskip("sklearn.linear_model")
sk_nb = pytest.importorskip("sklearn.neighbors")

LENGTHS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]


def mag(value):
    return np.asarray(getattr(value, "magnitude", value), dtype=np.float64)


@pytest.fixture(scope="module")
def raw():
    return palmerpenguins.load_penguins()


@pytest.fixture(scope="module")
def clean(raw):
    return raw.dropna(subset=[*LENGTHS, "body_mass_g", "sex"]).reset_index(drop=True)


def test_remaining_summaries(q, clean):
    mass = clean["body_mass_g"].to_numpy(np.float32)
    ref = mass.astype(np.float64)
    mq = q(mass, "g")
    np.testing.assert_allclose(mag(sl.count(mq)), len(mass))
    np.testing.assert_allclose(mag(sl.sum(mq).to("kg")), ref.sum() / 1000, rtol=1e-5)
    assert mag(sl.min(mq)) == ref.min() and mag(sl.max(mq)) == ref.max()
    w = (clean["year"].to_numpy() - 2006).astype(np.float32)  # later years weigh more
    wm = np.average(ref, weights=w)
    np.testing.assert_allclose(mag(sl.weighted_mean(mq, w)), wm, rtol=1e-5)
    np.testing.assert_allclose(mag(sl.weighted_variance(mq, w)), np.average((ref - wm) ** 2, weights=w), rtol=1e-4)
    np.testing.assert_allclose(
        mag(sl.weighted_std(mq, w)), math.sqrt(np.average((ref - wm) ** 2, weights=w)), rtol=1e-4
    )


def test_scalers_encoding_binning_and_real_missing_values(q, raw, clean):
    x = clean[LENGTHS].to_numpy(np.float32)
    for fit, ref in [(sl.minmax_fit, sk_pre.MinMaxScaler()), (sl.robust_fit, sk_pre.RobustScaler())]:
        z = sl.scaler_apply(q(x, "mm"), fit(q(x / 10, "cm")))
        np.testing.assert_allclose(np.asarray(z), ref.fit_transform(x.astype(np.float64)), atol=2e-5)
    species = clean["species"].astype("category")
    codes = species.cat.codes.to_numpy().astype(np.int32)
    dummies = np.asarray(species.cat.codes.to_frame().pipe(lambda f: np.eye(3)[f.iloc[:, 0]]))
    np.testing.assert_array_equal(np.asarray(sl.one_hot(codes, num_classes=3)), dummies)
    edges = np.array([170.0, 190.0, 200.0, 215.0, 235.0], dtype=np.float32)
    flipper = clean["flipper_length_mm"].to_numpy(np.float32)
    np.testing.assert_array_equal(
        np.asarray(sl.bin_index(q(flipper, "mm"), q(edges, "mm"))), np.digitize(flipper, edges[1:-1])
    )
    with_gaps = raw[LENGTHS].to_numpy(np.float32)  # two penguins have no measurements
    assert np.isnan(with_gaps).any()
    filled = sl.impute_apply(q(with_gaps, "mm"), sl.impute_mean_fit(q(with_gaps, "mm")))
    np.testing.assert_allclose(
        mag(filled), sk_imp.SimpleImputer().fit_transform(with_gaps.astype(np.float64)), rtol=1e-5
    )


def test_regression_predictions_and_errors(q, clean):
    x = clean[["flipper_length_mm", "bill_depth_mm"]].to_numpy(np.float32)
    y = clean["body_mass_g"].to_numpy(np.float32)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    fit = sl.linear_regression(q(x, "mm"), q(y, "g"))
    pred = sl.linear_predict(q(x, "mm"), fit)
    ref = sk_lin.LinearRegression().fit(x64, y64).predict(x64)
    np.testing.assert_allclose(mag(pred), ref, rtol=1e-4)
    mse = sl.mse(q(y, "g"), pred)
    assert mse.units == tm.get_registry().Unit("g**2")
    np.testing.assert_allclose(mag(mse), skm.mean_squared_error(y64, ref), rtol=1e-3)
    np.testing.assert_allclose(
        mag(sl.rmse(q(y / 1000, "kg"), pred).to("g")), math.sqrt(skm.mean_squared_error(y64, ref)), rtol=1e-3
    )
    np.testing.assert_allclose(mag(sl.mae(q(y, "g"), pred)), skm.mean_absolute_error(y64, ref), rtol=1e-3)
    np.testing.assert_allclose(mag(sl.r2(q(y, "g"), pred)), skm.r2_score(y64, ref), rtol=1e-4)
    knn = mag(sl.knn_regress(q(x, "mm"), q(y, "g"), q(x[:40], "mm"), k=5))
    ref_knn = sk_nb.KNeighborsRegressor(5).fit(x, y64).predict(x[:40])
    # measurements are rounded to 0.1 mm, so distances tie; compare where the 5 nearest are unique
    d = np.sort(((x64[:40, None, :] - x64[None, :, :]) ** 2).sum(-1), axis=1)
    unique = d[:, 5] - d[:, 4] > 1e-3
    assert unique.sum() >= 20
    np.testing.assert_allclose(knn[unique], ref_knn[unique], rtol=1e-4)


def test_sketches_of_penguin_columns(clean):
    mass = clean["body_mass_g"].to_numpy(np.float32)
    key = jax.random.PRNGKey(0)
    ids = mass.astype(np.int32)  # masses are whole grams: distinct values as ids
    hll = sl.hll_update(sl.hll_init(key, precision=10), ids)
    distinct = len(np.unique(ids))
    assert abs(float(sl.hll_estimate(hll)) - distinct) <= 4 * 1.04 / 32 * distinct
    cms = sl.count_min_update(sl.count_min_init(key, depth=4, width=64), ids)
    values, counts = np.unique(ids, return_counts=True)
    est_counts = np.asarray(sl.count_min_query(cms, values))
    assert np.all(est_counts >= counts) and np.mean(est_counts - counts > math.e / 64 * len(ids)) <= math.exp(-4) + 0.05
