"""Shared fixtures (a quantity helper bound to the registry in use), hypothesis profiles, and
the isolation every test gets: the unit registry and the kind tree in use are what they were
before it (so the suite passes in any order)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import typedml as tm


@contextlib.contextmanager
def global_state_kept(what: str = "the test") -> Generator[None]:
    """Put back the registry and kind tree in use after the block; refuse what cannot be put back.

    Switching the registry (``tm.set_registry``, a page's example doing so) is undone. Defining
    units or dimensions on the shared registry, or kinds on the shared tree, cannot be undone:
    it is an error naming ``what``, since a later test would see the definitions (use a
    registry of your own, ``tm.use_registry``, or ``tm.kinds.copy()`` with ``tm.use_kinds``).
    """
    registry = tm.get_registry()
    kinds = tm.get_kinds()
    units, dimensions = set(registry._units), set(registry._dimensions)  # pyright: ignore
    entries = set(tm.kinds._entries)  # pyright: ignore
    try:
        yield
    finally:
        if tm.get_registry() is not registry:
            tm.set_registry(registry)
        leaked = [f"unit {n!r}" for n in sorted(set(registry._units) - units) if _defined(registry, n)]  # pyright: ignore
        leaked += [f"dimension {d!r}" for d in sorted(set(registry._dimensions) - dimensions)]  # pyright: ignore
        leaked += [f"kind {k!r}" for k in sorted(set(tm.kinds._entries) - entries)]  # pyright: ignore
        assert tm.get_kinds() is kinds, f"{what} left another kind tree in use"
        assert not leaked, f"{what} defined {', '.join(leaked)} on the shared registry or kind tree"


def _defined(registry: Any, name: str) -> bool:
    """A unit name that was defined, not one pint cached after parsing a prefixed unit (``mK``)."""
    return all(not prefix for prefix, _, _ in registry.parse_unit_name(name))


@pytest.fixture(autouse=True)
def _isolated_global_state(request: pytest.FixtureRequest) -> Generator[None]:
    with global_state_kept(request.node.nodeid):
        yield


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
