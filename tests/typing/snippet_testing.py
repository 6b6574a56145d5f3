"""Type-checked only (pyright strict, mypy): property tests as a user writes them.

Not collected by pytest: the file name does not start with ``test_``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, assert_type

from hypothesis import given
from hypothesis import strategies as st
from jaxtyping import Array, Float

import typedml as tm
import typedml.strategies as tms
import typedml.testing as tmt
from typedml import Q


@tm.stage
def fall(t: Q[Float[Array, "n"], "s"], g: Q[Float[Array, ""], "m/s**2"]) -> Q[Float[Array, "n"], "m"]:
    return 0.5 * g * t**2


strategy = tms.inputs(fall, sizes={"n": 3}, elements=st.floats(0, 1, width=32), convert_units=True)
assert_type(strategy, st.SearchStrategy[tms.Inputs])


@given(strategy)
def test_fall(ins: tms.Inputs) -> None:
    assert_type(ins.sizes, dict[str, Any])  # ints, and tuples for variadic axes
    tmt.assert_dimensionally_homogeneous(fall, ins)
    tmt.assert_unit_invariant(fall, ins, units={"t": "ms"})


test_fall_factory = tmt.property_test(tmt.assert_modes_agree, fall)
assert_type(test_fall_factory, Callable[[], None])
