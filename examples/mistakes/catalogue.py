"""A catalogue of glue mistakes: each a small pipeline that runs in plain JAX and returns
plausible numbers, and the diagnostic typedml gives before any data exists.

``typedml check examples/`` skips this file (every pipeline here is wrong on purpose); run
``python -m examples.mistakes.main`` to see each mistake next to its diagnostic.
"""
# typedml: skip-file

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q

# -- stages, each correct on its own ---------------------------------------------------------


@tm.stage
def calibrate(
    raw: Q[Float[Array, "batch channel"], "mV"], gain: Q[Float[Array, "channel"], "K/mV"]
) -> Q[Float[Array, "batch channel"], "K"]:
    return raw * gain


@tm.stage
def speed(distance: Q[Float[Array, "n"], "m"], duration: Q[Float[Array, "n"], "s"]) -> Q[Float[Array, "n"], "m/s"]:
    return distance / duration


@tm.stage
def heat_loss(inside: Q[Float[Array, "n"], "K"], outside: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "W"]:
    return 120.0 * (inside - outside)  # 120 W per kelvin of difference


@tm.stage
def per_item_norm(x: Q[Float[Array, "batch d"], "m"]) -> Q[Float[Array, "batch"], "m"]:
    return jnp.linalg.norm(x, axis=-1)


@tm.stage
def average_count(counts: Int[Array, "n"]) -> Float[Array, ""]:
    return counts.sum() / counts.shape[0]


@tm.stage
def zscore(
    x: Q[Float[Array, "n"], "'u"], mean: Q[Float[Array, ""], "'u"], std: Q[Float[Array, ""], "delta('u)"]
) -> Float[Array, "n"]:
    return (x - mean) / std


@tm.stage
def batch_mean(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, ""], "'u"]:
    return x.mean()


@tm.stage
def batch_variance(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, ""], "delta('u)**2"]:
    return x.var()


@tm.stage
def per_sample_mean(x: Q[Float[Array, "batch d"], "'u"]) -> Q[Float[Array, "batch"], "'u"]:
    return x.mean(axis=1)


@tm.stage
def centre_features(
    x: Q[Float[Array, "batch d"], "'u"], mean: Q[Float[Array, "d"], "'u"]
) -> Q[Float[Array, "batch d"], "delta('u)"]:
    return x - mean


# -- the mistakes ----------------------------------------------------------------------------


@tm.pipeline
def transposed_axes(
    raw: Q[Float[Array, "c b"], "V"], gain: Q[Float[Array, "c"], "K/mV"]
) -> Q[Float[Array, "b c"], "K"]:
    """Readings arrive channel-first; the stage wants batch-first."""
    return calibrate(raw, gain)


@tm.pipeline
def milliseconds_as_seconds(
    distance: Q[Float[Array, "n"], "m"], duration: Q[Float[Array, "n"], "ms"]
) -> Q[Float[Array, "n"], "m/s"]:
    """Not a mistake here: ms is converted to s on the edge (x0.001). In plain code it is one."""
    return speed(distance, duration)


@tm.pipeline
def a_mass_for_a_time(
    distance: Q[Float[Array, "n"], "m"], duration: Q[Float[Array, "n"], "kg"]
) -> Q[Float[Array, "n"], "m/s"]:
    """The wrong column wired: kilograms where seconds were meant."""
    return speed(distance, duration)


@tm.pipeline
def celsius_difference_as_kelvin(
    inside: Q[Float[Array, "n"], "degC"], outside: Q[Float[Array, "n"], "degC"]
) -> Q[Float[Array, "n"], "W"]:
    """Not a mistake here either: degC converts to K with its offset on each input."""
    return heat_loss(inside, outside)


@tm.pipeline
def missing_batch_axis(x: Q[Float[Array, "d"], "m"]) -> Q[Float[Array, "batch"], "m"]:
    """One item passed where a batch was expected: the norm would be over the wrong axis."""
    return per_item_norm(x)


@tm.pipeline
def float_into_int(counts: Float[Array, "n"]) -> Float[Array, ""]:
    """Floats fed to a stage declared on integer counts."""
    return average_count(counts)


@tm.pipeline
def variance_as_spread(x: Q[Float[Array, "n"], "m"]) -> Float[Array, "n"]:
    """A variance passed where a standard deviation was meant: m² is not m."""
    return zscore(x, batch_mean(x), batch_variance(x))


@tm.pipeline
def statistics_of_another_quantity(
    x: Q[Float[Array, "n"], "m"], reference: Q[Float[Array, "n"], "s"]
) -> Float[Array, "n"]:
    """Standardising with the statistics of another column (stale wiring)."""
    return zscore(x, batch_mean(reference), batch_mean(reference))


@tm.pipeline
def per_sample_for_per_feature(x: Q[Float[Array, "b f"], "m"]) -> Q[Float[Array, "b f"], "m"]:
    """Per-sample means used where per-feature (batch) means were meant."""
    return centre_features(x, per_sample_mean(x))


MISTAKES = [
    (transposed_axes, "TM105"),
    (a_mass_for_a_time, "TM102"),
    (missing_batch_axis, "TM104"),
    (float_into_int, "TM101"),
    (variance_as_spread, "TM102"),
    (statistics_of_another_quantity, "TM102"),
    (per_sample_for_per_feature, "TM105"),
]
HANDLED = [milliseconds_as_seconds, celsius_difference_as_kelvin]
