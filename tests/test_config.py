"""Static configuration checked against its annotation, naming the parameter, before any body runs."""

from __future__ import annotations

import enum
from typing import Literal

import jax
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm


class Norm(enum.Enum):
    L1 = "l1"
    L2 = "l2"


@tm.stage
def top(x: Float[Array, "n"], k: int = 3, mode: Literal["largest", "smallest"] = "largest") -> Float[Array, "k"]:
    return jax.lax.top_k(x, k)[0] if mode == "largest" else -jax.lax.top_k(-x, k)[0]


@tm.stage
def scale(x: Float[Array, "n"], factor: float = 1.0, norm: Norm = Norm.L2) -> Float[Array, "n"]:
    return x * factor


X = np.arange(6, dtype=np.float32)


@pytest.mark.parametrize(
    ("call", "param", "found"),
    [
        (lambda: top(X, k="3"), "k", "expected int, got str '3'"),
        (lambda: top(X, mode="c"), "mode", "expected Literal['largest', 'smallest'], got str 'c'"),
        (lambda: scale(X, norm="l2"), "norm", "expected Norm ('l1', 'l2'), got str 'l2'"),
        (lambda: top.as_pipeline(k=2.5), "k", "expected int, got float 2.5"),
    ],
)
def test_a_call_with_configuration_its_annotation_refuses_is_an_input_error(call, param, found):
    with pytest.raises(tm.InputError) as err:
        call()
    d = err.value.diagnostic
    assert d.code == "TM237" and d.port == param
    assert f"static parameter {param!r} of" in d.message and found in d.message


def test_right_configuration_runs_and_ints_are_floats():
    np.testing.assert_array_equal(np.asarray(top(X, k=2, mode="smallest")), [0.0, 1.0])
    np.testing.assert_array_equal(np.asarray(scale(X, factor=2)), X * 2)  # an int is a float (PEP 484)


def test_configuration_in_a_pipeline_body_is_a_wiring_error_not_a_body_failure():
    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "k"]:
        return top(x, k="3")

    (d,) = p.check().errors
    assert d.code == "TM136" and d.port == "k"
    assert "static parameter top.k: expected int, got str '3'" in d.message
    with pytest.raises(tm.WiringError):
        p(X)


def test_configure_and_stage_check_refuse_it_too():
    @tm.pipeline
    def q(x: Float[Array, "n"], k: int = 2) -> Float[Array, "k"]:
        return top(x, k=k)

    with pytest.raises(tm.InputError) as err:
        q.configure(k=None)
    assert err.value.code == "TM237" and "expected int, got NoneType None" in err.value.diagnostic.message
    with pytest.raises(tm.InputError):
        q(X, k="2")
    (d,) = top.check(k="2").errors
    assert d.code == "TM237"


def test_a_default_its_annotation_refuses_is_a_definition_error():
    with pytest.raises(tm.StageDefinitionError) as err:

        @tm.stage
        def f(x: Float[Array, "n"], k: int = "3") -> Float[Array, "n"]:  # pyright: ignore[reportArgumentType]
            return x

    d = err.value.diagnostic
    assert d.code == "TM026" and d.port == "k"
    assert "default of static parameter 'k' of stage 'f': expected int, got str '3'" in d.message
