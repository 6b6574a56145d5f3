"""Records: classes whose fields are ports (``NamedTuple``, frozen dataclass, ``equinox.Module``).

A record port stands for its fields. The spec lists one port per field (``s.center``), the
graph carries one edge per field, and every check sees the fields as it sees any port: unit
variables and axis names are shared with the stage's other ports. This module knows the
structure of a record type: which classes are records, how to take a value apart into its
fields, and how to build one from its fields without calling the class's ``__init__`` (a
stage body receives the record whole; inside a pipeline being traced, a record's fields are
traced values).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast, get_type_hints

__all__ = ["Record", "RecordMismatch", "candidate_fields", "is_equinox_module", "record_field_hints"]


class RecordMismatch(Exception):
    """A value that is not the declared record: ``path`` is the field (``()`` for the value)."""

    def __init__(self, path: tuple[str, ...], expected: str, found: str) -> None:
        super().__init__(f"{'.'.join(path) or 'value'}: expected {expected}, found {found}")
        self.path = path
        self.expected = expected
        self.found = found


@dataclasses.dataclass(frozen=True)
class Record:
    """The structure of a record type: its class and its fields in order (a nested record, or
    None for a field that is a port)."""

    cls: type
    fields: tuple[tuple[str, Record | None], ...]
    plain: bool = False  # a plain ``tuple[A, B]``: fields named "0", "1"..., built as a plain tuple

    @property
    def name(self) -> str:
        return self.cls.__name__

    @property
    def is_tuple(self) -> bool:
        return issubclass(self.cls, tuple)

    def paths(self) -> list[tuple[str, ...]]:
        """Every field that is a port, as a path of field names, depth first."""
        found: list[tuple[str, ...]] = []
        for name, sub in self.fields:
            if sub is None:
                found.append((name,))
            else:
                found.extend((name, *rest) for rest in sub.paths())
        return found

    def flatten(self, value: Any, where: tuple[str, ...] = ()) -> list[Any]:
        """The values of ``value``'s fields, in :meth:`paths` order.

        A ``NamedTuple`` record also takes a plain tuple of its length (fields by position).
        Raises :class:`RecordMismatch` naming the field that does not fit.
        """
        if self.plain:
            if not isinstance(value, tuple) or len(cast("tuple[Any, ...]", value)) != len(self.fields):
                raise RecordMismatch(where, f"tuple of {len(self.fields)}", _type_name(cast(object, value)))
            parts = list(cast("tuple[Any, ...]", value))
        elif isinstance(value, self.cls):
            parts = [getattr(value, name) for name, _ in self.fields]
        elif self.is_tuple and type(value) is tuple and len(cast("tuple[Any, ...]", value)) == len(self.fields):
            parts = list(cast("tuple[Any, ...]", value))
        else:
            raise RecordMismatch(where, self.name, _type_name(cast(object, value)))
        leaves: list[Any] = []
        for (name, sub), part in zip(self.fields, parts, strict=True):
            if sub is None:
                leaves.append(part)
            else:
                leaves.extend(sub.flatten(part, (*where, name)))
        return leaves

    def build(self, leaves: Iterable[Any]) -> Any:
        """A record holding ``leaves`` (in :meth:`paths` order), made without ``__init__``."""
        return self._build(iter(leaves))

    def _build(self, leaves: Iterator[Any]) -> Any:
        values = [next(leaves) if sub is None else sub._build(leaves) for _, sub in self.fields]
        if self.plain:
            return tuple(values)
        if self.is_tuple:
            return cast("Any", self.cls)._make(values)
        # what jax and equinox do to unflatten a dataclass or a module: no __init__, no checks
        new: Any = object.__new__
        made: object = new(self.cls)
        for (name, _), value in zip(self.fields, values, strict=True):
            object.__setattr__(made, name, value)
        return cast(Any, made)

    def describe(self, types: Mapping[str, str] | None = None) -> str:
        """``Scaler(center, scale)``, or with each field's type when ``types`` maps paths to text."""
        if self.plain:
            inner = [sub.describe(None) if sub is not None else "array" for _, sub in self.fields]
            if types is None:
                return f"a tuple ({', '.join(inner)})"
        if types is None:
            return f"{self.name}({', '.join(name for name, _ in self.fields)})"
        parts = [f"{'.'.join(path)}: {types.get('.'.join(path), '?')}" for path in self.paths()]
        return f"{self.name}({', '.join(parts)})"


def candidate_fields(annotation: Any) -> tuple[str, list[str]] | None:
    """``(kind, field names)`` of a class that could be a record, else None.

    ``kind`` is ``"namedtuple"``, ``"dataclass"`` (frozen or not: the caller decides) or
    ``"module"`` (an ``equinox.Module``, a frozen dataclass underneath).
    """
    if not isinstance(annotation, type):
        return None
    cls = cast(object, annotation)
    fields: object = getattr(cls, "_fields", None)
    if isinstance(cls, type) and issubclass(cls, tuple) and isinstance(fields, tuple):
        return "namedtuple", [str(f) for f in cast("tuple[object, ...]", fields)]
    if isinstance(cls, type) and dataclasses.is_dataclass(cast(Any, cls)):
        kind = "module" if is_equinox_module(cast(type, cls)) else "dataclass"
        return kind, [f.name for f in dataclasses.fields(cast(Any, cls))]
    return None


def record_field_hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of a record class's fields (raises what ``get_type_hints`` raises)."""
    return get_type_hints(cls, include_extras=True)


def is_equinox_module(cls: type) -> bool:
    """Whether ``cls`` subclasses ``equinox.Module`` (equinox is never imported here: a module
    class exists only once its user imported equinox)."""
    eqx = sys.modules.get("equinox")
    module = getattr(eqx, "Module", None)
    return isinstance(module, type) and issubclass(cls, module)


def is_frozen(cls: type) -> bool:
    params = getattr(cls, "__dataclass_params__", None)
    return bool(getattr(params, "frozen", False))


def _type_name(value: object) -> str:
    if isinstance(value, tuple):
        return f"a tuple of {len(cast('tuple[Any, ...]', value))}"
    return type(value).__name__
