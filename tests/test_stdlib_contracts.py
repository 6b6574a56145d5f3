"""The standard library declares the contracts its documentation states (quantile levels are
probabilities, weights are non-negative), so a value outside them is refused with a typed error
instead of a plausible wrong number."""

import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q
from typedml import stdlib as sl


def quantity(values, unit):
    return tm.get_registry().Quantity(np.asarray(values, dtype=np.float32), unit)


@pytest.mark.parametrize(
    ("stage", "port", "contract"),
    [
        (sl.quantile, "q", "Probability"),
        (sl.quantile_sketch_query, "q", "Probability"),
        (sl.log_loss, "p", "Probability"),
        (sl.weighted_mean, "w", "NonNegative"),
        (sl.weighted_variance, "w", "NonNegative"),
        (sl.weighted_std, "w", "NonNegative"),
        (sl.weighted_covariance, "w", "NonNegative"),
        (sl.weighted_correlation, "w", "NonNegative"),
        (sl.weighted_moments_update, "w", "NonNegative"),
        (sl.weighted_comoments_update, "w", "NonNegative"),
    ],
)
def test_documented_contracts_are_declared(stage, port, contract) -> None:
    declared = stage.spec.input(port).type
    assert declared is not None
    assert [r.name for r in declared.refinements] == [contract]


def test_quantile_levels_in_percent_are_refused() -> None:
    latency = quantity(np.linspace(10, 500, 200), "ms")
    with pytest.raises(tm.InputError) as info:
        sl.quantile(latency, np.array([50.0, 95.0, 99.0], dtype=np.float32))
    assert "Probability" in str(info.value)
    fine = sl.quantile(latency, np.array([0.5, 0.95, 0.99], dtype=np.float32))
    assert np.allclose(fine.magnitude[0], 255.0, rtol=1e-3)


def test_percent_levels_inside_a_pipeline_break_the_stage_contract() -> None:
    @tm.pipeline
    def tail(latency: Q[Float[Array, "n"], "ms"], levels: Float[Array, "k"]) -> Q[Float[Array, "k"], "ms"]:
        return sl.quantile(latency, levels)

    with pytest.raises(tm.ContractError, match="Probability"):
        tail(quantity(np.linspace(10, 500, 200), "ms"), np.array([50.0, 95.0], dtype=np.float32))


def test_levels_declared_in_percent_are_converted() -> None:
    @tm.pipeline
    def tail(
        latency: Q[Float[Array, "n"], "ms"], levels: Q[Float[Array, "k"], "percent"]
    ) -> Q[Float[Array, "k"], "ms"]:
        return sl.quantile(latency, levels)

    out = tail(quantity(np.linspace(10, 500, 200), "ms"), quantity([50.0], "percent"))
    assert np.allclose(out.magnitude, [255.0], rtol=1e-3)


def test_negative_weights_are_refused() -> None:
    x = quantity([1.0, 2.0, 3.0], "m")
    with pytest.raises(tm.InputError, match="NonNegative"):
        sl.weighted_mean(x, np.array([1.0, -1.0, 1.0], dtype=np.float32))
    assert float(sl.weighted_mean(x, np.array([1.0, 0.0, 1.0], dtype=np.float32)).magnitude) == pytest.approx(2.0)
