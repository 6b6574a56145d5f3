"""typedml's standard library of ready stages, importable as ``typedml.stdlib``.

Built only on typedml's public API, like ``equinox.nn``: one private module per family of
stages (``_summaries``, ``_sketches``, ``_preprocessing``, ``_models``, ``_metrics``,
``_units``, ``_angles``), re-exported here. Underscore modules are private; use the names below.
Every export is listed, with a line each, in ``docs/reference/stdlib.md``.
"""

from ._angles import arccos as arccos
from ._angles import arcsin as arcsin
from ._angles import arctan2 as arctan2
from ._angles import circular_mean as circular_mean
from ._angles import cos as cos
from ._angles import sin as sin
from ._angles import tan as tan
from ._angles import wrap_angle as wrap_angle
from ._metrics import accuracy as accuracy
from ._metrics import confusion_matrix as confusion_matrix
from ._metrics import f1 as f1
from ._metrics import log_loss as log_loss
from ._metrics import mae as mae
from ._metrics import mse as mse
from ._metrics import precision as precision
from ._metrics import r2 as r2
from ._metrics import recall as recall
from ._metrics import rmse as rmse
from ._metrics import roc_auc as roc_auc
from ._models import KMeansFit as KMeansFit
from ._models import LinearFit as LinearFit
from ._models import LogisticFit as LogisticFit
from ._models import kmeans as kmeans
from ._models import kmeans_init as kmeans_init
from ._models import kmeans_predict as kmeans_predict
from ._models import knn_classify as knn_classify
from ._models import knn_regress as knn_regress
from ._models import linear_predict as linear_predict
from ._models import linear_regression as linear_regression
from ._models import logistic_predict_proba as logistic_predict_proba
from ._models import logistic_regression as logistic_regression
from ._models import ridge_regression as ridge_regression
from ._preprocessing import PCAFit as PCAFit
from ._preprocessing import Scaler as Scaler
from ._preprocessing import Split as Split
from ._preprocessing import bin_index as bin_index
from ._preprocessing import impute_apply as impute_apply
from ._preprocessing import impute_mean_fit as impute_mean_fit
from ._preprocessing import kfold as kfold
from ._preprocessing import log_softmax as log_softmax
from ._preprocessing import minmax_fit as minmax_fit
from ._preprocessing import one_hot as one_hot
from ._preprocessing import pca_fit as pca_fit
from ._preprocessing import pca_transform as pca_transform
from ._preprocessing import robust_fit as robust_fit
from ._preprocessing import scaler_apply as scaler_apply
from ._preprocessing import scaler_invert as scaler_invert
from ._preprocessing import softmax as softmax
from ._preprocessing import standardize as standardize
from ._preprocessing import standardize_fit as standardize_fit
from ._preprocessing import train_test_split as train_test_split
from ._sketches import Bloom as Bloom
from ._sketches import CountMin as CountMin
from ._sketches import HyperLogLog as HyperLogLog
from ._sketches import MinHash as MinHash
from ._sketches import QuantileSketch as QuantileSketch
from ._sketches import Reservoir as Reservoir
from ._sketches import bloom_init as bloom_init
from ._sketches import bloom_merge as bloom_merge
from ._sketches import bloom_query as bloom_query
from ._sketches import bloom_update as bloom_update
from ._sketches import count_min_init as count_min_init
from ._sketches import count_min_merge as count_min_merge
from ._sketches import count_min_query as count_min_query
from ._sketches import count_min_update as count_min_update
from ._sketches import hll_estimate as hll_estimate
from ._sketches import hll_init as hll_init
from ._sketches import hll_merge as hll_merge
from ._sketches import hll_update as hll_update
from ._sketches import minhash_init as minhash_init
from ._sketches import minhash_jaccard as minhash_jaccard
from ._sketches import minhash_merge as minhash_merge
from ._sketches import minhash_update as minhash_update
from ._sketches import quantile_sketch_init as quantile_sketch_init
from ._sketches import quantile_sketch_merge as quantile_sketch_merge
from ._sketches import quantile_sketch_query as quantile_sketch_query
from ._sketches import quantile_sketch_update as quantile_sketch_update
from ._sketches import reservoir_init as reservoir_init
from ._sketches import reservoir_merge as reservoir_merge
from ._sketches import reservoir_update as reservoir_update
from ._summaries import CoMoments as CoMoments
from ._summaries import CoMomentsResult as CoMomentsResult
from ._summaries import Extrema as Extrema
from ._summaries import Moments as Moments
from ._summaries import MomentsResult as MomentsResult
from ._summaries import comoments_finalize as comoments_finalize
from ._summaries import comoments_init as comoments_init
from ._summaries import comoments_merge as comoments_merge
from ._summaries import comoments_update as comoments_update
from ._summaries import correlation as correlation
from ._summaries import count as count
from ._summaries import covariance as covariance
from ._summaries import extrema_init as extrema_init
from ._summaries import extrema_merge as extrema_merge
from ._summaries import extrema_update as extrema_update
from ._summaries import histogram as histogram
from ._summaries import histogram_init as histogram_init
from ._summaries import histogram_merge as histogram_merge
from ._summaries import histogram_update as histogram_update
from ._summaries import max as max
from ._summaries import mean as mean
from ._summaries import min as min
from ._summaries import moments_finalize as moments_finalize
from ._summaries import moments_init as moments_init
from ._summaries import moments_merge as moments_merge
from ._summaries import moments_update as moments_update
from ._summaries import quantile as quantile
from ._summaries import std as std
from ._summaries import sum as sum
from ._summaries import sum_init as sum_init
from ._summaries import sum_merge as sum_merge
from ._summaries import sum_update as sum_update
from ._summaries import variance as variance
from ._summaries import weighted_comoments_update as weighted_comoments_update
from ._summaries import weighted_correlation as weighted_correlation
from ._summaries import weighted_covariance as weighted_covariance
from ._summaries import weighted_mean as weighted_mean
from ._summaries import weighted_moments_update as weighted_moments_update
from ._summaries import weighted_std as weighted_std
from ._summaries import weighted_variance as weighted_variance
from ._units import attach_units_unchecked as attach_units_unchecked
from ._units import convert_to as convert_to
from ._units import strip_units_to as strip_units_to

__all__ = [
    "Bloom",
    "CoMoments",
    "CoMomentsResult",
    "CountMin",
    "Extrema",
    "HyperLogLog",
    "KMeansFit",
    "LinearFit",
    "LogisticFit",
    "MinHash",
    "Moments",
    "MomentsResult",
    "PCAFit",
    "QuantileSketch",
    "Reservoir",
    "Scaler",
    "Split",
    "accuracy",
    "arccos",
    "arcsin",
    "arctan2",
    "attach_units_unchecked",
    "bin_index",
    "bloom_init",
    "bloom_merge",
    "bloom_query",
    "bloom_update",
    "circular_mean",
    "comoments_finalize",
    "comoments_init",
    "comoments_merge",
    "comoments_update",
    "confusion_matrix",
    "convert_to",
    "correlation",
    "cos",
    "count",
    "count_min_init",
    "count_min_merge",
    "count_min_query",
    "count_min_update",
    "covariance",
    "extrema_init",
    "extrema_merge",
    "extrema_update",
    "f1",
    "histogram",
    "histogram_init",
    "histogram_merge",
    "histogram_update",
    "hll_estimate",
    "hll_init",
    "hll_merge",
    "hll_update",
    "impute_apply",
    "impute_mean_fit",
    "kfold",
    "kmeans",
    "kmeans_init",
    "kmeans_predict",
    "knn_classify",
    "knn_regress",
    "linear_predict",
    "linear_regression",
    "log_loss",
    "log_softmax",
    "logistic_predict_proba",
    "logistic_regression",
    "mae",
    "max",
    "mean",
    "min",
    "minhash_init",
    "minhash_jaccard",
    "minhash_merge",
    "minhash_update",
    "minmax_fit",
    "moments_finalize",
    "moments_init",
    "moments_merge",
    "moments_update",
    "mse",
    "one_hot",
    "pca_fit",
    "pca_transform",
    "precision",
    "quantile",
    "quantile_sketch_init",
    "quantile_sketch_merge",
    "quantile_sketch_query",
    "quantile_sketch_update",
    "r2",
    "recall",
    "reservoir_init",
    "reservoir_merge",
    "reservoir_update",
    "ridge_regression",
    "rmse",
    "robust_fit",
    "roc_auc",
    "scaler_apply",
    "scaler_invert",
    "sin",
    "softmax",
    "standardize",
    "standardize_fit",
    "std",
    "strip_units_to",
    "sum",
    "sum_init",
    "sum_merge",
    "sum_update",
    "tan",
    "train_test_split",
    "variance",
    "weighted_comoments_update",
    "weighted_correlation",
    "weighted_covariance",
    "weighted_mean",
    "weighted_moments_update",
    "weighted_std",
    "weighted_variance",
    "wrap_angle",
]
