"""Shared fixtures (a quantity helper bound to the registry in use) and hypothesis profiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import typedml as tm


@pytest.fixture
def q() -> Callable[[Any, str], Any]:
    """``q(values, "unit")``: a pint Quantity with a float32 numpy magnitude."""

    def make(values: Any, unit: str) -> Any:
        return tm.get_registry().Quantity(np.asarray(values, dtype=np.float32), unit)

    return make


# Hypothesis profiles: `ci` (the default) keeps example counts small; select the other with
# `pytest --hypothesis-profile=thorough`. Tests that fix their own counts keep them; the builder
# fuzzing in tests/test_fuzz.py scales with the profile. No deadline: the first call of a
# pipeline compiles it with JAX, which takes far longer than any later call.
settings.register_profile("ci", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")
