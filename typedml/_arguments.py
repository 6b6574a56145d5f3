"""A call's arguments: bound to a pipeline's inputs, stripped to magnitudes, converted.

Shared by every run mode that takes data (a plain call, ``debug``, ``record``, ``checked``,
``sharded``). What is precomputed from the signature lives in :class:`Arguments`, so a call
pays for a few attribute reads, not for a walk of the spec.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from ._convert import converter
from ._errors import Diagnostic, InputError, TypedMLWarning, user_location
from ._lru import LRU
from ._pytrees import by_reference, split
from ._records import RecordMismatch
from ._runtime import QUANTITY_TYPE, Boundary, check_inputs
from ._spec import Spec

__all__ = ["Arguments", "converters", "input_converter", "input_signature", "magnitude"]


class Arguments:
    """How the arguments of a call map onto one signature's inputs."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.names = spec.data_params  # a record parameter is one argument
        self.count = len(self.names)
        # arguments a call may pass by position (those declared after `*` must be named)
        self.positional = tuple(n for n in self.names if n not in spec.keyword_only)
        self.by_position = len(self.positional)
        self.flat = not spec.records  # every argument is one input port (the fast paths need it)
        self.static_names = frozenset(spec.static_names)
        ports = tuple(p.type is not None for p in spec.inputs)
        self.array_ports: tuple[bool, ...] | None = None if all(ports) else ports  # None: all arrays
        self._warned: set[tuple[str, tuple[str, ...]]] = set()

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        """The values of the input ports in order (records taken apart into their fields);
        every unknown, repeated or missing input, and every record that is not one, is reported."""
        if not kwargs and len(args) == self.by_position == self.count:
            return list(args) if self.flat else self._flatten(dict(zip(self.names, args, strict=True)))
        names = self.names
        bound = dict(zip(self.positional, args, strict=False))
        unknown = [k for k in kwargs if k not in names or k in bound]
        if not unknown and len(args) <= self.by_position:
            bound.update(kwargs)
            if len(bound) == len(names):
                return [bound[n] for n in names] if self.flat else self._flatten(bound)
        return self._refuse(args, kwargs)

    def _refuse(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> NoReturn:
        """Every problem of a call that does not bind (only now is the caller's place looked up)."""
        names = self.names
        spec = self.spec
        problems: list[Diagnostic] = []
        location = user_location()
        if len(args) > self.by_position:
            keyword_only = [n for n in names if n not in self.positional]
            problems.append(
                Diagnostic(
                    "TM202",
                    f"{spec.name}() takes {self.by_position} positional input{'s' * (self.by_position != 1)} "
                    f"but {len(args)} were given"
                    if keyword_only
                    else f"{spec.name}() takes {len(names)} inputs but {len(args)} were given",
                    location,
                    notes=(
                        f"inputs: {', '.join(names)}",
                        *([f"keyword-only: {', '.join(keyword_only)}"] * bool(keyword_only)),
                    ),
                    hint=f"pass {keyword_only[0]}=... by name" if keyword_only else None,
                    stage=spec.name,
                )
            )
        bound = dict(zip(self.positional, args, strict=False))
        for k, v in kwargs.items():
            if k not in names or k in bound:
                problems.append(
                    Diagnostic(
                        "TM202",
                        f"{spec.name}() got an unexpected input {k!r}"
                        if k not in names
                        else f"{spec.name}() got several values for {k!r}",
                        location,
                        notes=(f"inputs: {', '.join(names)}",),
                        stage=spec.name,
                        port=k,
                    )
                )
            else:
                bound[k] = v
        for n in names:
            if n not in bound:
                record = spec.record(n)
                expected = record.describe() if record is not None else spec.input(n).describe()
                problems.append(
                    Diagnostic(
                        "TM201",
                        f"{spec.name}() is missing input {n!r}",
                        location,
                        notes=(f"expected: {expected}",),
                        stage=spec.name,
                        port=n,
                    )
                )
        raise InputError(problems)

    def _flatten(self, bound: dict[str, Any]) -> list[Any]:
        spec = self.spec
        try:
            return spec.flatten_inputs(bound)
        except RecordMismatch as err:
            name = err.path[0] if err.path else "?"
            record = spec.record(name)
            what = f"input {name!r}" if len(err.path) <= 1 else f"field {'.'.join(err.path)!r}"
            raise InputError(
                Diagnostic(
                    "TM235",
                    f"{what} of {spec.name}() is {_a(err.found)}, not {_a(err.expected)}",
                    user_location(),
                    notes=(f"expected: {record.describe() if record is not None else err.expected}",),
                    hint=f"pass a {err.expected} (its fields may be pint or typedml quantities)",
                    stage=spec.name,
                    port=".".join(err.path) or None,
                )
            ) from None

    def values(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        """Like :meth:`bind`, for the modes that take no static configuration (debug, checked...)."""
        if self.static_names and any(k in self.static_names for k in kwargs):
            raise InputError(
                Diagnostic(
                    "TM202",
                    f"static configuration cannot be passed to {self.spec.name}.debug() or .checked()",
                    user_location(),
                    hint=f"use {self.spec.name}.configure(...).debug(...)",
                    stage=self.spec.name,
                )
            )
        return self.bind(args, kwargs)

    def magnitudes(self, values: Sequence[Any]) -> list[Any]:
        """The arrays to give the compiled function: magnitudes, and pytree values with their
        non-array leaves (an equinox module's activation functions) made static."""
        if self.array_ports is None:
            return [magnitude(v) for v in values]
        out = [
            magnitude(v) if is_array else self._split(port.name, v)
            for v, is_array, port in zip(values, self.array_ports, self.spec.inputs, strict=True)
        ]
        for i, is_array in enumerate(self.array_ports):
            if not is_array and (mutable := by_reference(out[i])):
                self._warn_static(self.spec.inputs[i].name, mutable)
        return out

    def _split(self, port: str, value: Any) -> Any:
        """A pytree input ready for ``jax.jit``; one JAX cannot flatten is refused (TM238)."""
        try:
            return split(value)
        except (ValueError, TypeError) as err:  # a dict whose keys do not sort (1 and "a")
            cause = err.__cause__ or err
            raise InputError(
                Diagnostic(
                    "TM238",
                    f"input {port!r} of {self.spec.name}() is a pytree JAX cannot flatten: {err}",
                    user_location(),
                    notes=(f"{type(cause).__name__}: {cause}",) if cause is not err else (),
                    hint="give each dict in it keys of one sortable type (all strings, say)",
                    stage=self.spec.name,
                    port=port,
                )
            ) from None

    def _warn_static(self, port: str, leaves: list[Any]) -> None:
        """TM351, once per input and leaf type: a static leaf that can change in place unseen."""
        kinds = sorted({type(leaf).__name__ for leaf in leaves})
        key = (port, tuple(kinds))
        if key in self._warned:
            return
        self._warned.add(key)
        location = user_location()
        diagnostic = Diagnostic(
            "TM351",
            f"input {port!r} of {self.spec.name}() holds {', '.join(kinds)} values that are not arrays: "
            "they are fixed in the compiled function, which a change made to them in place does not reach",
            location or self.spec.location,
            severity="warning",
            notes=(
                "a pytree's arrays are traced; its other leaves are part of the compiled function's "
                "cache key, compared by identity or ==, as jax.jit's static arguments are",
                "numbers, strings, functions, frozen dataclasses and tuples of them are safe",
            ),
            hint="make such a value an array, or immutable (a frozen dataclass, a tuple); or pass a new "
            "object instead of changing one in place",
            stage=self.spec.name,
            port=port,
        )
        warning = TypedMLWarning(diagnostic)
        if location is not None:
            warnings.warn_explicit(warning, TypedMLWarning, location.path, location.line)
        else:
            warnings.warn(warning, stacklevel=4)


def _a(what: str) -> str:
    return what if what.startswith("a ") else f"a {what}"


def magnitude(value: Any) -> Any:
    """The array a compiled function takes: a quantity's magnitude, or the value; lists, tuples
    and scalars as NumPy arrays (as the input check reads them)."""
    if isinstance(value, QUANTITY_TYPE):
        value = value._magnitude
    if hasattr(value, "shape"):
        return value
    return np.asarray(value)


def input_converter(conv: tuple[float, float] | None, is_int: bool) -> Callable[[Any], Any] | None:
    """Multiply (and add, for affine units) into the declared unit; None when nothing changes."""
    return None if conv is None else converter(conv, is_int)


def converters(boundary: Boundary) -> list[Callable[[Any], Any] | None]:
    """One converter per input of a validated signature."""
    return [input_converter(c, i) for c, i in zip(boundary.conversions, boundary.integer, strict=True)]


def input_signature(pairs: list[tuple[Any, Any]]) -> tuple[object, ...] | None:
    """What the checked path remembers of inputs it checked: units, type, dtype and shape of
    each; None when one is not an array (a list, a scalar: checked on every call)."""
    found: list[object] = []
    for magnitude, units in pairs:
        dtype = getattr(magnitude, "dtype", None)
        shape = getattr(magnitude, "shape", None)
        if dtype is None or shape is None:
            return None
        found.append((units, magnitude.__class__, str(dtype), tuple(shape)))
    return tuple(found)


def check_inputs_once(
    spec: Spec,
    pairs: list[tuple[Any, Any]],
    constraints: Any,
    validated: LRU[tuple[object, ...], bool],
) -> None:
    """A later call's inputs checked as the first call's were, once per input signature
    (remembered in ``validated``; inputs without one are checked on every call)."""
    signature = input_signature(pairs)
    if signature is None or validated.get(signature) is None:
        check_inputs(spec, pairs, f"{spec.name}()", constraints, warn=False)
        if signature is not None:
            validated[signature] = True
