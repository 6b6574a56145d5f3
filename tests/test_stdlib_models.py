"""stdlib models against scikit-learn, on seeded random data and on the Palmer penguins."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q
from typedml import stdlib as sl

sklearn_linear = pytest.importorskip("sklearn.linear_model")
sklearn_cluster = pytest.importorskip("sklearn.cluster")
sklearn_neighbors = pytest.importorskip("sklearn.neighbors")


def mag(value):
    return np.asarray(getattr(value, "magnitude", value), dtype=np.float64)


@pytest.fixture(scope="module")
def penguins():
    palmerpenguins = pytest.importorskip("palmerpenguins")
    frame = palmerpenguins.load_penguins().dropna(subset=["flipper_length_mm", "body_mass_g", "bill_length_mm"])
    return frame


def regression_data(seed: int, n: int = 60, d: int = 3):
    rng = np.random.default_rng(seed)
    x = rng.normal(10.0, 3.0, (n, d)).astype(np.float32)
    y = (x @ rng.normal(0.0, 2.0, d) + 4.0 + rng.normal(0.0, 0.5, n)).astype(np.float32)
    return x, y


def test_penguins_body_mass_on_flipper_length_matches_sklearn(q, penguins):
    x = penguins[["flipper_length_mm"]].to_numpy(np.float32)
    y = penguins["body_mass_g"].to_numpy(np.float32)
    fit = sl.linear_regression(q(x, "mm"), q(y, "g"))
    assert fit.coef.units == tm.get_registry().Unit("g/mm")
    assert fit.intercept.units == tm.get_registry().Unit("g")
    ref = sklearn_linear.LinearRegression().fit(x.astype(np.float64), y.astype(np.float64))
    np.testing.assert_allclose(mag(fit.coef), ref.coef_, rtol=1e-4)
    np.testing.assert_allclose(mag(fit.intercept), ref.intercept_, rtol=1e-3)
    # the same fit with the flipper length in cm: the coefficient is the same quantity
    fit_cm = sl.linear_regression(q(x / 10, "cm"), q(y / 1000, "kg"))
    np.testing.assert_allclose(mag(fit_cm.coef.to("g/mm")), ref.coef_, rtol=1e-4)


def test_penguins_two_features_and_ridge_match_sklearn(q, penguins):
    x = penguins[["flipper_length_mm", "bill_length_mm"]].to_numpy(np.float32)
    y = penguins["body_mass_g"].to_numpy(np.float32)
    fit = sl.ridge_regression(q(x, "mm"), q(y, "g"), q(50.0, "mm**2"))
    ref = sklearn_linear.Ridge(alpha=50.0).fit(x.astype(np.float64), y.astype(np.float64))
    np.testing.assert_allclose(mag(fit.coef), ref.coef_, rtol=1e-3)
    np.testing.assert_allclose(mag(fit.intercept), ref.intercept_, rtol=1e-3)
    # alpha has a unit: the same penalty written in cm**2 gives the same fit
    again = sl.ridge_regression(q(x, "mm"), q(y, "g"), q(0.5, "cm**2"))
    np.testing.assert_allclose(mag(again.coef), mag(fit.coef), rtol=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_and_ridge_on_random_data_match_sklearn(q, seed):
    x, y = regression_data(seed)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    fit = sl.linear_regression(q(x, "s"), q(y, "m"))
    ref = sklearn_linear.LinearRegression().fit(x64, y64)
    np.testing.assert_allclose(mag(fit.coef), ref.coef_, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(mag(fit.intercept), ref.intercept_, rtol=1e-3, atol=1e-3)
    pred = sl.linear_predict(q(x[:5], "s"), fit)
    np.testing.assert_allclose(mag(pred), ref.predict(x64[:5]), rtol=1e-3, atol=1e-3)
    ridge = sl.ridge_regression(q(x, "s"), q(y, "m"), q(3.0, "s**2"))
    rref = sklearn_linear.Ridge(alpha=3.0).fit(x64, y64)
    np.testing.assert_allclose(mag(ridge.coef), rref.coef_, rtol=1e-3, atol=1e-4)


def test_logistic_regression_matches_sklearn(q):
    rng = np.random.default_rng(4)
    x = rng.normal(0.0, 1.0, (120, 2)).astype(np.float32) * 5 + 20
    y = (x @ np.array([0.6, -0.4]) - 4.0 + rng.logistic(size=120) > 0).astype(np.int32)
    fit = sl.logistic_regression(q(x, "cm"), y, q(2.0, "cm**2"))
    assert fit.coef.units == tm.get_registry().Unit("1/cm")
    ref = sklearn_linear.LogisticRegression(C=1 / 2.0, tol=1e-10, max_iter=10_000).fit(x.astype(np.float64), y)
    np.testing.assert_allclose(mag(fit.coef), ref.coef_[0], rtol=2e-3, atol=1e-4)
    np.testing.assert_allclose(mag(fit.intercept), ref.intercept_[0], rtol=2e-3, atol=1e-3)
    proba = sl.logistic_predict_proba(q(x, "cm"), fit)
    np.testing.assert_allclose(mag(proba), ref.predict_proba(x.astype(np.float64))[:, 1], atol=1e-3)


def test_kmeans_matches_sklearn_from_the_same_start(q):
    rng = np.random.default_rng(5)
    blobs = np.array([[0.0, 0.0], [6.0, 1.0], [2.0, 7.0]])
    x = (blobs[rng.integers(0, 3, 150)] + rng.normal(0, 1.0, (150, 2))).astype(np.float32)
    start = sl.kmeans_init(jax.random.PRNGKey(0), q(x, "m"), k=3)
    assert start.units == tm.get_registry().m and mag(start).shape == (3, 2)
    # k-means++ picks rows of x
    assert all(np.any(np.all(np.isclose(x, c), axis=1)) for c in mag(start))
    fit = sl.kmeans(q(x, "m"), start)
    ref = sklearn_cluster.KMeans(3, init=mag(start), n_init=1, algorithm="lloyd", tol=0).fit(x.astype(np.float64))
    np.testing.assert_allclose(mag(fit.centers), ref.cluster_centers_, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(np.asarray(fit.labels), ref.labels_)
    np.testing.assert_allclose(mag(fit.inertia), ref.inertia_, rtol=1e-4)
    assert fit.inertia.units == tm.get_registry().Unit("m**2")
    np.testing.assert_array_equal(np.asarray(sl.kmeans_predict(q(x * 100, "cm"), fit)), ref.labels_)


@tm.stage
def two_columns(a: Q[Float[Array, "n"], "'u"], b: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n 2"], "'u"]:
    import jax.numpy as jnp

    return jnp.stack([a, b], axis=1)


def test_kmeans_mixing_metres_and_kilograms_is_a_build_time_error():
    @tm.pipeline
    def mixed(
        height: Q[Float[Array, "n"], "m"], mass: Q[Float[Array, "n"], "kg"], centers: Q[Float[Array, "k 2"], "m"]
    ) -> Int[Array, "n"]:
        return sl.kmeans(two_columns(height, mass), centers).labels

    report = mixed.check()
    assert not report.ok and "TM102" in {d.code for d in report.errors}

    @tm.pipeline
    def standardized(
        height: Q[Float[Array, "n"], "m"], mass: Q[Float[Array, "n"], "kg"], centers: Float[Array, "k 2"]
    ) -> Int[Array, "n"]:
        h, m = sl.standardize(height), sl.standardize(mass)
        return sl.kmeans(two_columns(h, m), centers).labels

    assert standardized.check().ok


def test_nearest_neighbours_match_sklearn(q):
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1, (80, 3)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int32)
    t = rng.normal(0, 1, (20, 3)).astype(np.float32)
    labels = sl.knn_classify(q(x, "m"), y, q(t * 1000, "mm"), k=5)
    ref = sklearn_neighbors.KNeighborsClassifier(5).fit(x, y)
    np.testing.assert_array_equal(np.asarray(labels), ref.predict(t))
    yr = (x @ np.array([1.0, 2.0, -1.0])).astype(np.float32)
    out = sl.knn_regress(q(x, "m"), q(yr, "s"), q(t, "m"), k=4)
    rref = sklearn_neighbors.KNeighborsRegressor(4).fit(x, yr)
    np.testing.assert_allclose(mag(out), rref.predict(t), rtol=1e-5, atol=1e-5)
    assert out.units == tm.get_registry().s


def test_penguins_kmeans_and_logistic_on_standardized_features_match_sklearn(q, penguins):
    sk_pre = pytest.importorskip("sklearn.preprocessing")
    cols = ["bill_length_mm", "flipper_length_mm"]
    x = penguins[cols].to_numpy(np.float32)
    z = sl.scaler_apply(q(x, "mm"), sl.standardize_fit(q(x, "mm")))
    z64 = sk_pre.StandardScaler().fit_transform(x.astype(np.float64))
    np.testing.assert_allclose(np.asarray(z), z64, atol=1e-4)
    start = sl.kmeans_init(jax.random.PRNGKey(1), z, k=3)
    fit = sl.kmeans(z, start, iters=100)
    ref = sklearn_cluster.KMeans(3, init=np.asarray(start, np.float64), n_init=1, algorithm="lloyd", tol=0).fit(z64)
    np.testing.assert_allclose(np.asarray(fit.centers), ref.cluster_centers_, atol=1e-3)
    np.testing.assert_array_equal(np.asarray(fit.labels), ref.labels_)
    # sex from bill and flipper length: logistic regression on the raw millimetres
    sexed = penguins.dropna(subset=["sex"])
    xs = sexed[cols].to_numpy(np.float32)
    ys = (sexed["sex"] == "male").to_numpy().astype(np.int32)
    lfit = sl.logistic_regression(q(xs, "mm"), ys, q(1.0, "mm**2"))
    assert lfit.coef.units == tm.get_registry().Unit("1/mm")
    lref = sklearn_linear.LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(xs.astype(np.float64), ys)
    np.testing.assert_allclose(mag(lfit.coef), lref.coef_[0], rtol=2e-3, atol=1e-4)
    np.testing.assert_allclose(mag(lfit.intercept), lref.intercept_[0], rtol=2e-3, atol=1e-3)
    # and the classification metrics of that fit, against scikit-learn's
    skm = pytest.importorskip("sklearn.metrics")
    proba = np.asarray(sl.logistic_predict_proba(q(xs, "mm"), lfit), dtype=np.float64)
    np.testing.assert_allclose(proba, lref.predict_proba(xs.astype(np.float64))[:, 1], atol=2e-4)
    pred = (proba > 0.5).astype(np.int32)
    for ours, theirs in [(sl.precision, skm.precision_score), (sl.recall, skm.recall_score), (sl.f1, skm.f1_score)]:
        np.testing.assert_allclose(mag(ours(ys, pred)), theirs(ys, pred), rtol=1e-6)
    np.testing.assert_allclose(mag(sl.log_loss(ys, proba.astype(np.float32))), skm.log_loss(ys, proba), rtol=1e-4)
    np.testing.assert_allclose(mag(sl.roc_auc(ys, proba.astype(np.float32))), skm.roc_auc_score(ys, proba), rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(sl.kmeans_predict(z, fit)), ref.labels_)


def test_offset_units_refused_for_features_allowed_for_targets(q):
    x = np.arange(6, dtype=np.float32).reshape(6, 1)
    y = 2 * np.arange(6, dtype=np.float32) + 1
    with pytest.raises(tm.WiringError) as info:
        sl.linear_regression(q(x, "degC"), q(y, "s"))
    assert info.value.code == "TM108"
    fit = sl.linear_regression(q(x, "s"), q(y, "degC"))
    assert fit.intercept.units == tm.get_registry().degC
    assert fit.coef.units == tm.get_registry().Unit("delta_degC/s")
    np.testing.assert_allclose(mag(fit.coef.to("K/s")), [2.0], rtol=1e-5)  # a slope converts without the offset


def test_unit_mistakes_are_refused_before_any_computation(q):
    x, y = regression_data(7, n=20, d=2)
    with pytest.raises(tm.InputError) as info:
        sl.ridge_regression(q(x, "mm"), q(y, "g"), q(1.0, "s**2"))  # alpha must be in mm**2
    assert info.value.code == "TM203"
    fit = sl.linear_regression(q(x, "mm"), q(y, "g"))
    with pytest.raises(tm.InputError):
        sl.linear_predict(q(x, "s"), fit)  # the features changed dimension
    np.testing.assert_allclose(
        mag(sl.linear_predict(q(x / 10, "cm"), fit)), mag(sl.linear_predict(q(x, "mm"), fit)), rtol=1e-5
    )
