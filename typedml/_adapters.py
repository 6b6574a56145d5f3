"""Values of other data libraries at the boundary: converted to what the core takes, and back.

The core takes quantities (pint's or typedml's) and arrays. A value of another library, such
as an xarray ``DataArray``, is recognised by the top-level module of its type (looked up once
per type, so a plain array costs one set lookup) and handed to that library's adapter, a
private module that imports its library lazily (``typedml._xarray``, ``typedml._tables``).
The adapter converts it for the port it is given to: the magnitude in the port's axis order,
with the unit the value carries. The core then checks and converts it like any quantity.
When the adapter says so, the outputs go back into the library's type (DataArrays with the
declared dims); a value the adapter cannot take is an :class:`~typedml.InputError` saying how
to pass it.
"""

from __future__ import annotations

import dataclasses
import importlib
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from ._errors import Diagnostic
from ._spec import Port, Spec

__all__ = ["PLAIN", "Adapter", "adapt", "adapt_named", "is_foreign", "remember_source", "require", "with_sources"]

# the top-level module of a type -> the adapter that takes its values
_ADAPTERS = {
    "xarray": "typedml._xarray",
    # tables: refused as port values, mapped to ports by tm.columns
    "pandas": "typedml._tables",
    "polars": "typedml._tables",
    "pyarrow": "typedml._tables",
    "pint_pandas": "typedml._tables",
}
# types known to be no other library's data (filled as types are met)
PLAIN: set[type] = {np.ndarray, float, int, bool, complex}
_FOREIGN: dict[type, str] = {}

Restore = Callable[[Any], Any]


class Adapter(Protocol):
    """What an adapter module provides."""

    def inputs(self, spec: Spec, items: list[tuple[Port, Any]]) -> tuple[list[Any], Restore | None]:
        """The values converted for their ports, and how to convert the outputs back (or None)."""
        ...


def is_foreign(value: Any) -> bool:
    """Whether ``value`` belongs to a library an adapter takes (cached per type)."""
    t: Any = type(value)  # pyright: ignore[reportUnknownVariableType]
    if t in PLAIN:
        return False
    if t in _FOREIGN:
        return True
    root = (t.__module__ or "").partition(".")[0]
    module = _ADAPTERS.get(root)
    if module is None:
        PLAIN.add(t)
        return False
    _FOREIGN[t] = module
    return True


def _adapter(value: Any) -> Adapter:
    return importlib.import_module(_FOREIGN[type(value)])  # pyright: ignore[reportReturnType]


def adapt(spec: Spec, values: list[Any]) -> tuple[list[Any], Restore | None]:
    """``values`` (in ``spec.inputs`` order) with other libraries' data converted, and the
    function that converts the outputs back (None: return them as they are)."""
    foreign = [i for i, v in enumerate(values) if is_foreign(v)]
    if not foreign:
        return values, None
    out = list(values)
    restore: Restore | None = None
    by_module: dict[str, list[int]] = {}
    for i in foreign:
        by_module.setdefault(_FOREIGN[type(values[i])], []).append(i)
    for indices in by_module.values():
        adapter = _adapter(values[indices[0]])
        converted, back = adapter.inputs(spec, [(spec.inputs[i], values[i]) for i in indices])
        for i, v in zip(indices, converted, strict=True):
            out[i] = v
        restore = restore or back
    return out, restore


def adapt_named(spec: Spec, values: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping of input names to values with other libraries' data converted (a stream's
    chunk: the outputs are states, never converted back)."""
    names = spec.input_names
    known = [k for k in values if k in names]
    if not any(is_foreign(values[k]) for k in known):
        return dict(values)
    ports = {p.name: p for p in spec.inputs}
    out = dict(values)
    for k in known:
        v = values[k]
        if is_foreign(v):
            out[k] = _adapter(v).inputs(spec, [(ports[k], v)])[0][0]
    return out


def require(module: str, extra: str, what: str) -> Any:
    """Import an optional dependency, or say which extra brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModuleNotFoundError(
            f"{what} needs {module.partition('.')[0]}, which is not installed: pip install 'typedml[{extra}]'",
            name=module,
        ) from None


# -- where an array came from, for messages ----------------------------------------------

# id of an array made from another library's data -> where it came from ("column 'd' of a
# pandas DataFrame"); an entry lives as long as its array
_SOURCES: dict[int, str] = {}


def remember_source(array: Any, source: str) -> None:
    """Remember that ``array`` was read from ``source``, while it lives (for messages)."""
    key = id(array)
    try:
        weakref.finalize(array, _SOURCES.pop, key, None)
    except TypeError:  # not weak-referenceable: not remembered
        return
    _SOURCES[key] = source


def with_sources(problems: list[Diagnostic], ports: Sequence[Port], values: Sequence[Any]) -> list[Diagnostic]:
    """``problems`` with a note saying where each faulty input was read from, when known."""
    if not _SOURCES:
        return problems
    source = {p.name: _SOURCES.get(id(v)) for p, v in zip(ports, values, strict=False)}
    out: list[Diagnostic] = []
    for d in problems:
        came = source.get(d.port) if d.port is not None else None
        out.append(d if came is None else dataclasses.replace(d, notes=(*d.notes, f"{d.port!r} was read from {came}")))
    return out
