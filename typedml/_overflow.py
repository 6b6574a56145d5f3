"""Unit conversions that could overflow their dtype: which are checked, where, and their errors.

A conversion multiplies (and, for affine units, adds) in the value's own dtype: ``3000 km``
in int32 becomes ``3e9 mm``, which int32 cannot hold. What typedml does about it, by dtype:

- **Integers** wrap around silently: a wrong finite number, the worst failure. Every integer
  conversion that can overflow (a factor other than 1, or an offset) is checked on the values
  in every run mode: one fused reduction per converting input or edge, inside the compiled
  function, and the call raises TM229 (a pipeline input) or TM505 (an edge between stages)
  naming the place, the conversion, the first value that does not fit and the dtype's range.
- **Floats** overflow to ±inf, never to a wrong finite number. A plain call checks a float
  conversion when the dtype is so narrow that ordinary values overflow: when a value of
  magnitude below ``ORDINARY`` (2**24) in the source unit would (float16 with a factor above
  about 0.004; float32 only with a factor above about 2e31). ``checked()`` and ``debug()``
  check every float conversion, so an inf made by a conversion is reported as TM229/TM505 and
  never blamed on the data (TM502) or a stage (TM501).
- **Narrowing at JAX's boundary** (int64 data beyond int32's range without ``jax_enable_x64``)
  happens before any conversion: ``typedml._precision`` refuses it (TM244) in every mode.

Refusing such conversions when the pipeline is built was the other choice; it would refuse
every int32 ``km -> m`` edge, most of which only ever see values that fit. Checking the values
costs one reduction per checked conversion, paid only by pipelines that have one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import ContractError, Diagnostic, InputError, Location, TypedMLError, user_location
from ._spec import Spec
from ._traced import check_traced, is_tracer

__all__ = [
    "ORDINARY",
    "Converting",
    "Flagged",
    "Guard",
    "check_now",
    "checked",
    "edge_place",
    "input_places",
    "not_fitting",
    "overflow_error",
    "settle",
]

ORDINARY = 2.0**24
"""A float conversion is checked in plain calls when values below this magnitude would overflow."""


@dataclasses.dataclass(frozen=True)
class Converting:
    """A place where values are converted: a pipeline input, or an edge between stages."""

    label: str  # "input 'x' of p()" or "edge calibrate -> fit.x"
    src_unit: str
    dst_unit: str
    conversion: tuple[float, float]
    location: Location | None  # None for an input: the call that gave it is the place
    stage: str | None
    port: str | None
    input: bool

    def describe(self) -> str:
        scale, offset = self.conversion
        text = f"{self.src_unit} → {self.dst_unit}, ×{scale:g}"
        return text + (f" {'+' if offset > 0 else '−'} {abs(offset):g}" if offset else "")


def _range(dtype: Any) -> tuple[float, float]:
    """The smallest and largest finite values of ``dtype`` (exact for integers: Python ints)."""
    if jnp.issubdtype(dtype, jnp.integer):
        info = jnp.iinfo(dtype)
        return int(info.min), int(info.max)
    top = float(jnp.finfo(dtype).max)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    return -top, top


def needs_check(dtype: Any, conversion: tuple[float, float], every_float: bool) -> bool:
    """Whether converting values of ``dtype`` by ``conversion`` is checked (see the module doc)."""
    scale, offset = conversion
    if jnp.issubdtype(dtype, jnp.integer):
        return scale != 1 or offset != 0
    if not jnp.issubdtype(dtype, jnp.floating):
        return False  # bool, complex: not converted in units here
    if every_float:
        return True
    high = _range(dtype)[1]
    return (high - abs(offset)) / max(abs(scale), 1e-300) < ORDINARY


def checked(value: Any, conversion: tuple[float, float], every_float: bool) -> bool:
    """Whether converting ``value`` (an array of some dtype) by ``conversion`` gets a check."""
    dtype = getattr(value, "dtype", None)
    return dtype is not None and bool(getattr(value, "size", 0)) and needs_check(dtype, conversion, every_float)


def not_fitting(value: Any, converted: Any, conversion: tuple[float, float]) -> Any:
    """Elementwise: the values whose conversion does not fit their dtype (JAX arrays or tracers)."""
    if jnp.issubdtype(value.dtype, jnp.integer):
        lo, hi = _int_limits(value.dtype, conversion)
        return (value < lo) | (value > hi)
    return ~jnp.isfinite(converted) & jnp.isfinite(value)


def check_now(place: Converting, value: Any, converted: Any) -> None:
    """On concrete values (a debug run): raise TM229/TM505 for the first value that did not fit."""
    if not checked(value, place.conversion, True):
        return
    bad = np.asarray(not_fitting(value, converted, place.conversion))
    if bad.any():
        first = np.asarray(value)[bad].flat[0]
        raise overflow_error(place, first.item(), np.asarray(value).dtype)


def _int_limits(dtype: Any, conversion: tuple[float, float]) -> tuple[int, int]:
    """The source values whose conversion fits ``dtype``: ``lo <= x <= hi``."""
    low, high = (int(x) for x in _range(dtype))
    scale, offset = int(conversion[0]), int(conversion[1])
    if scale == 0:
        return int(low), int(high)
    a, b = (low - offset), (high - offset)
    if scale < 0:
        a, b = b, a
    lo = -((-a) // abs(scale)) if scale > 0 else -((-b) // abs(scale))
    hi = b // abs(scale) if scale > 0 else a // abs(scale)
    return max(low, lo), min(high, hi)


@jax.tree_util.register_pytree_node_class
class Flagged:
    """What a compiled run returns when it checked conversions: the outputs and the checks."""

    def __init__(self, out: Any, bad: Any, first: Any) -> None:
        self.out = out
        self.bad = bad  # one bool per check: a value did not fit
        self.first = first  # per check, the first value that did not fit (or any value)

    def tree_flatten(self) -> tuple[tuple[Any, Any, Any], None]:
        return (self.out, self.bad, self.first), None

    @classmethod
    def tree_unflatten(cls, aux: None, children: tuple[Any, Any, Any]) -> Flagged:
        return cls(*children)


def edge_place(graph: Any, edge: tuple[str, str, str], conversion: tuple[float, float]) -> Converting:
    """The converting place of one edge of a checked graph (its resolved units and call site)."""
    from ._graph import value_label

    u, v, key = edge
    data = graph.edges[u, v, key]
    output = graph.nodes[v]["kind"] == "output"
    target = f"output {data['dst_port']!r}" if output else f"{v}.{data['dst_port']}"
    return Converting(
        f"edge {value_label(u, data['src_port'])} -> {target}",
        str(data.get("unit") or "?"),
        str(data.get("dst_unit") or "?"),
        conversion,
        data.get("location"),
        None if output else v,
        data["dst_port"],
        False,
    )


def input_places(
    spec: Spec, units: list[Any], conversions: list[tuple[float, float] | None], bindings: Any, owner: str
) -> list[Converting | None]:
    """The converting place of each pipeline input whose unit is converted (None for the others)."""
    from ._units import get_registry, unit_text

    registry = get_registry()
    places: list[Converting | None] = []
    for port, found, conversion in zip(spec.inputs, units, conversions, strict=True):
        t = port.type
        if conversion is None or t is None:
            places.append(None)
            continue
        src = unit_text(registry.Unit(found)) if found is not None else "dimensionless"
        dst = str(t.unit.substitute(registry, bindings)) if t.unit is not None else "dimensionless"
        places.append(
            Converting(
                f"input {port.name!r} of {owner}", src, dst, conversion, user_location(), spec.name, port.name, True
            )
        )
    return places


class Guard:
    """The conversion checks of one compiled function, collected while it traces.

    ``every_float`` checks every float conversion (``checked()``), else only narrow ones.
    """

    def __init__(self, every_float: bool = False) -> None:
        self.every_float = every_float
        self.places: list[Converting] = []
        self._bad: list[Any] = []
        self._first: list[Any] = []

    def reset(self) -> None:
        self.places.clear()
        self._bad.clear()
        self._first.clear()

    def convert(self, place: Converting, converter: Callable[[Any], Any], value: Any) -> Any:
        """``converter(value)``, with a check recorded when the conversion could overflow."""
        converted = converter(value)
        if checked(value, place.conversion, self.every_float):
            flat = jnp.ravel(not_fitting(value, converted, place.conversion))
            self.places.append(place)
            self._bad.append(jnp.any(flat))
            self._first.append(jnp.ravel(value)[jnp.argmax(flat)])
        return converted

    def edges(
        self, graph: Any
    ) -> Callable[[tuple[str, str, str], Callable[[Any], Any], tuple[float, float], Any], Any]:
        """The hook that converts (and checks) each edge's value (``build_function``'s ``convert``)."""

        def convert(
            edge: tuple[str, str, str], converter: Callable[[Any], Any], conversion: tuple[float, float], value: Any
        ) -> Any:
            return self.convert(edge_place(graph, edge, conversion), converter, value)

        return convert

    def inputs(self, places: list[Converting | None], converters: list[Any], values: list[Any]) -> list[Any]:
        """The pipeline's inputs converted to their declared units, each conversion checked."""
        return [
            v if c is None else c(v) if place is None else self.convert(place, c, v)
            for place, c, v in zip(places, converters, values, strict=True)
        ]

    def result(self, out: Any) -> Any:
        """The compiled function's result: ``out``, or ``out`` with the checks made."""
        if not self._bad:
            return out
        return Flagged(out, jnp.stack(self._bad), list(self._first))


def settle(result: Any, places: list[Converting], owner: str) -> Any:
    """The outputs of a run whose result may carry conversion checks; raises for the first failed.

    Under a user's own ``jax.jit`` (the checks are tracers) they go through ``checkify``.
    """
    if type(result) is not Flagged:
        return result
    if is_tracer(result.bad):
        for i, place in enumerate(places):
            check_traced(
                ~result.bad[i],
                f"{place.label} overflows its dtype when converted ({place.describe()})",
                lambda place=place: overflow_error(place, None, None),
                owner,
            )
        return result.out
    bad = np.asarray(result.bad)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = np.asarray(result.first[i])
        raise overflow_error(places[i], value.item(), value.dtype)
    return result.out


def overflow_error(place: Converting, value: float | None, dtype: Any) -> TypedMLError:
    """TM229 (a pipeline input) or TM505 (an edge): a converted value its dtype cannot hold.

    ``value`` and ``dtype`` are None when the check ran under a user's transformation (only the
    place is known).
    """
    scale, offset = place.conversion
    notes = [f"conversion: {place.describe()}"]
    if value is None or dtype is None:
        message = f"{place.label} overflows its dtype when converted"
    else:
        low, high = _range(dtype)
        becomes = value * scale + offset if math.isfinite(float(value)) else value
        shown = f"{becomes:g}" if isinstance(becomes, float) else str(becomes)
        name = np.dtype(dtype).name
        notes.append(f"{name} holds values in [{low:g}, {high:g}]")
        message = f"{place.label} overflows {name} when converted: {value} becomes {shown}"
    if place.input:
        return InputError(
            Diagnostic(
                "TM229",
                message,
                place.location or user_location(),
                notes=tuple(notes),
                hint=f"pass the data in {place.dst_unit} already, or in a wider dtype (float32, or int64 with "
                "jax_enable_x64)",
                stage=place.stage,
                port=place.port,
            )
        )
    return ContractError(
        Diagnostic(
            "TM505",
            message,
            place.location,
            notes=tuple(notes),
            hint="the value is too large for the conversion this edge makes in its dtype: widen the dtype "
            "upstream, or declare both ends in one unit so that no conversion is needed",
            stage=place.stage,
            port=place.port,
        )
    )
