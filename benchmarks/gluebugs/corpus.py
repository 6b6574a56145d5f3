"""The glue-bug corpus as data: one `Case` per bug, each written four ways.

A case is a class registered with `@case(...)`. It holds three plain functions (no ``self``),
each taking ``fixed: bool`` so the buggy program and its fixed twin share every line but the
mistake:

- ``typedml(fixed)`` declares stages and a pipeline and returns ``(pipeline, args)``: the
  inputs the pipeline is called with (pint Quantities, in the units the data comes in).
- ``jax(fixed, check)`` writes the same computation as plain JAX functions annotated with
  jaxtyping; ``check`` is the identity for the plain-JAX baseline and
  ``jaxtyped(typechecker=beartype)`` for the jaxtyping+beartype baseline. It returns a
  zero-argument function that runs the program on its data.
- ``pint(fixed)`` writes it with pint Quantities on numpy (functions wrapped with
  ``ureg.wraps`` where they take or give quantities) and returns a zero-argument function.

Data is generated inside each case with a fixed seed, so every run sees the same numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

import typedml as tm

FAMILIES = ("units", "axes", "sizes", "dtypes", "broadcasting", "statistics", "wiring")

# Verdicts. typedml: where the buggy twin is stopped; baselines: the same with their own phases.
BUILD = "build"  # typedml: definition (TM0xx) or wiring (TM1xx) error, no data
BODY = "body"  # typedml: stage body check (TM3xx), no data
RUN = "run"  # an exception once data is passed (typedml: input check, contract, or the call)
CONVERTED = "converted"  # typedml: the mismatch is a unit conversion it inserted; numbers equal the fixed twin's
MISSED = "missed"  # the program runs and returns a (wrong) number
DEFINITION = "definition"  # baselines: at decoration/definition, before data
CALL = "call"  # baselines: when called with data

CASES: list[type] = []


@dataclasses.dataclass(frozen=True)
class Meta:
    id: str
    family: str
    title: str
    cite: tuple[str, ...]
    expect: str  # typedml's verdict on the buggy twin, as recorded; the smoke test pins it


def case(id: str, family: str, title: str, *, cite: tuple[str, ...], expect: str) -> Callable[[type], type]:
    assert family in FAMILIES, family
    assert expect in (BUILD, BODY, RUN, CONVERTED, MISSED), expect

    def register(cls: type) -> type:
        cls.meta = Meta(id, family, title, cite, expect)  # type: ignore[attr-defined]
        CASES.append(cls)
        return cls

    return register


# -- helpers shared by the cases -------------------------------------------------------------


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def f32(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def q(x: Any, unit: str, dtype: Any = np.float32) -> Any:
    """A pint Quantity in typedml's registry (the registry the pint baseline uses too)."""
    return tm.get_registry().Quantity(np.asarray(x, dtype=dtype), unit)


def ureg() -> Any:
    return tm.get_registry()


def pick(fixed: bool, good: Any, bad: Any) -> Any:
    """The fixed twin's choice, or the buggy twin's."""
    return good if fixed else bad
