"""Shared fixtures: a quantity helper bound to the registry in use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import typedml as tm


@pytest.fixture
def q() -> Callable[[Any, str], Any]:
    """``q(values, "unit")``: a pint Quantity with a float32 numpy magnitude."""

    def make(values: Any, unit: str) -> Any:
        return tm.get_registry().Quantity(np.asarray(values, dtype=np.float32), unit)

    return make
