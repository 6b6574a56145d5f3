"""Calls a careless user makes whose answer could be silently wrong, or whose failure could be
an internal traceback: each is the right answer (checked against NumPy) or a typed error."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q
from typedml import stdlib as sl


def _q(values: object, unit: str) -> object:
    return tm.get_registry().Quantity(np.asarray(values, dtype=np.float32), unit)


# -- a body that cannot take the sizes of a call ---------------------------------------------


@tm.stage
def lowest(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, ""], "'u"]:
    return jnp.min(x)


@tm.pipeline
def lowest_of(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, ""], "m"]:
    return lowest(x)


@tm.pipeline
def lowest_outer(x: Q[Float[Array, "n"], "km"]) -> Q[Float[Array, ""], "m"]:
    return lowest_of(x)


@pytest.mark.parametrize(
    "run",
    [
        lambda x: lowest(x),
        lambda x: lowest_of(x),
        lambda x: lowest_of.checked(x),
        lambda x: lowest_of.debug(x),
        lambda x: lowest_outer(x),
        lambda x: jax.jit(lowest_of.jax_fn)(x.magnitude),
    ],
    ids=["stage", "pipeline", "checked", "debug", "nested", "jax_fn"],
)
def test_a_body_that_fails_on_an_empty_axis_is_a_typed_error_in_every_mode(run: object) -> None:
    # the check before data passes (symbolic sizes are at least 1); an empty axis is data's
    assert lowest_of.check().ok
    with pytest.raises(tm.BodyError) as caught:
        run(_q(np.zeros(0), "m"))  # type: ignore[operator]
    d = caught.value.diagnostic
    assert d.code == "TM305" and d.stage == "lowest" and "for the shapes of this call" in d.message
    assert d.location is not None and d.location.line == lowest.fn.__code__.co_firstlineno + 2
    assert "input 'x': shape (0,)" in d.notes and "axis of size 0" in (d.hint or "")
    # and data the body takes still gives numpy's answer
    assert float(lowest_outer(_q([0.003, 0.001], "km")).magnitude) == pytest.approx(1.0)


@pytest.mark.parametrize("summary", [sl.min, sl.max, lambda x: sl.quantile(x, np.array([0.5], np.float32))])
def test_stdlib_summaries_of_no_rows_are_typed_errors(summary: object) -> None:
    with pytest.raises(tm.BodyError) as caught:
        summary(_q(np.zeros(0), "m"))  # type: ignore[operator]
    assert caught.value.diagnostic.code == "TM305"
