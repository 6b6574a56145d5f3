"""typedml's standard library of ready stages, importable as ``typedml.stdlib``.

Built only on typedml's public API, like ``equinox.nn``: one private module per family of
stages (``_summaries``, ``_sketches``, ``_preprocessing``, ``_models``, ``_metrics``,
``_units``), re-exported here. Underscore modules are private; use the names below.
Every export is listed, with a line each, in ``docs/reference/stdlib.md``.
"""

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
from ._summaries import weighted_mean as weighted_mean
from ._summaries import weighted_moments_update as weighted_moments_update
from ._summaries import weighted_std as weighted_std
from ._summaries import weighted_variance as weighted_variance

__all__ = [
    "CoMoments",
    "CoMomentsResult",
    "Extrema",
    "Moments",
    "MomentsResult",
    "comoments_finalize",
    "comoments_init",
    "comoments_merge",
    "comoments_update",
    "correlation",
    "count",
    "covariance",
    "extrema_init",
    "extrema_merge",
    "extrema_update",
    "histogram",
    "histogram_init",
    "histogram_merge",
    "histogram_update",
    "max",
    "mean",
    "min",
    "moments_finalize",
    "moments_init",
    "moments_merge",
    "moments_update",
    "quantile",
    "std",
    "sum",
    "sum_init",
    "sum_merge",
    "sum_update",
    "variance",
    "weighted_mean",
    "weighted_moments_update",
    "weighted_std",
    "weighted_variance",
]
