"""TM143: arguments in swapped order, told by their names (the exact-name rule of Rice et al.)."""

import warnings

import jax.numpy as jnp
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]


@tm.stage
def mape(pred: Q[V, "kW"], target: Q[V, "kW"]) -> Float[Array, ""]:
    return jnp.mean(jnp.abs(pred - target) / target)


def swaps(pipeline: tm.Pipeline) -> list[str]:
    report = pipeline.check()
    assert report.ok, str(report)
    return [d.message for d in report.warnings if d.code == "TM143"]


def test_a_value_named_like_the_other_parameter_is_flagged() -> None:
    @tm.pipeline
    def evaluate(pred: Q[V, "kW"], load: Q[V, "kW"]) -> Float[Array, ""]:
        return mape(load, pred)

    (warning,) = evaluate.check().warnings
    assert warning.code == "TM143" and warning.severity == "warning"
    assert "'pred' is passed to parameter 'target' of mape(), which has a parameter named 'pred' (given 'load')" in (
        warning.message
    )
    assert warning.location is not None and warning.location.path == __file__
    assert warning.location.col == warning.location.end_col - len("pred")  # the argument itself
    assert "mape() takes (pred, target); this call passes pred=load, target=pred" in warning.notes
    # a warning: the pipeline still runs
    registry = tm.get_registry()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate(registry.Quantity(jnp.ones(3), "kW"), registry.Quantity(jnp.ones(3), "kW"))


def test_names_that_match_or_say_nothing_are_quiet() -> None:
    @tm.pipeline
    def same(pred: Q[V, "kW"], target: Q[V, "kW"]) -> Float[Array, ""]:
        return mape(pred, target)

    @tm.pipeline
    def other_names(forecast: Q[V, "kW"], load: Q[V, "kW"]) -> Float[Array, ""]:
        return mape(forecast, load)

    @tm.pipeline
    def keywords(pred: Q[V, "kW"], load: Q[V, "kW"]) -> Float[Array, ""]:
        return mape(target=load, pred=pred)

    @tm.pipeline
    def similar(y_pred: Q[V, "kW"], y_target: Q[V, "kW"]) -> Float[Array, ""]:
        return mape(y_target, y_pred)  # only exact names count

    @tm.pipeline
    def twice(pred: Q[V, "kW"]) -> Float[Array, ""]:
        return mape(pred, pred)  # the same value to both: not a swap

    for p in (same, other_names, keywords, similar, twice):
        assert swaps(p) == [], p


def test_a_swap_by_keyword_is_flagged_too() -> None:
    @tm.pipeline
    def evaluate(pred: Q[V, "kW"], load: Q[V, "kW"]) -> Float[Array, ""]:
        return mape(pred=load, target=pred)

    assert len(swaps(evaluate)) == 1


def test_an_ignore_comment_silences_it() -> None:
    @tm.pipeline
    def backwards(pred: Q[V, "kW"], load: Q[V, "kW"]) -> Float[Array, ""]:
        return mape(load, pred)  # typedml: ignore[TM143]

    assert swaps(backwards) == []
