"""Unit stages: an explicit conversion, and the two doors out of and into the unit world.

typedml converts units on edges by itself; ``convert_to`` makes a conversion visible as a
node of its own (for a pipeline's picture, or to pin the unit of an intermediate result).
``strip_units_to`` and ``attach_units_unchecked`` are for the rare places where data must
leave units behind (a library that takes plain arrays) or enter them (raw numbers read from
a file): their names say what they do, so they stand out in review.

Each function builds (once per unit text, then cached) a stage for one concrete unit:
the unit is part of the stage's signature, so it is checked at build time like any other.
"""

from __future__ import annotations

import re
from typing import Any

from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

_cache: dict[tuple[str, str], tm.Stage[..., Any]] = {}


def _make(kind: str, unit: str, doc: str, inp: Any, out: Any) -> tm.Stage[..., Any]:
    key = (kind, unit)
    made = _cache.get(key)
    if made is None:

        def body(x: Any) -> Any:
            return x

        suffix = re.sub(r"\W+", "_", unit).strip("_") or "dimensionless"
        body.__name__ = body.__qualname__ = f"{kind}_{suffix}"
        body.__doc__ = doc
        body.__annotations__ = {"x": inp, "return": out}
        made = _cache[key] = tm.stage(body)
    return made


def convert_to(unit: str) -> tm.Stage[..., Any]:
    """A stage ``x -> x`` whose output is in ``unit``: data in any convertible unit comes out
    converted (affine units such as degC included); other dimensions are a unit error.

    ``convert_to("km/h")(speed)``; invalid unit text raises ``StageDefinitionError``.
    """
    q = Q[Float[Array, "*shape"], unit]
    return _make("convert_to", unit, f"Convert to {unit} (the conversion happens on the input edge).", q, q)


def strip_units_to(unit: str) -> tm.Stage[..., Any]:
    """A stage that converts ``x`` to ``unit`` and returns the bare magnitude (no unit).

    The one sanctioned way out of the unit world: the unit is named at the call site, so the
    numbers have a known meaning when they leave. ``strip_units_to("mm")(length)``.
    """
    return _make(
        "strip_units_to",
        unit,
        f"Convert to {unit}, then drop the unit: the result is a plain array of magnitudes in {unit}.",
        Q[Float[Array, "*shape"], unit],
        Float[Array, "*shape"],
    )


def attach_units_unchecked(unit: str) -> tm.Stage[..., Any]:
    """A stage that declares plain numbers to be in ``unit``; nothing can verify this.

    The one way into the unit world for raw magnitudes: ``attach_units_unchecked("g")(raw)``.
    Use it where data enters, once, next to the documentation of where the numbers came from.
    """
    return _make(
        "attach_units_unchecked",
        unit,
        f"Declare plain magnitudes to be in {unit} (unchecked: typedml trusts the caller).",
        Float[Array, "*shape"],
        Q[Float[Array, "*shape"], unit],
    )
