"""A function's fingerprint: what its behaviour depends on, comparable across imports.

An editor checks a file afresh on every save: each time its functions are new objects, so a
cache keyed by function identity never hits, and every stage body is evaluated again. Two
functions with equal fingerprints compute the same thing: the same code (compiled from the
same file, at the same lines), the same defaults and closure values, and the same values for
every global name their code (and the code nested in it) reads — recursively for the user's
own functions, by module and name for objects of Python, of libraries and of typedml, which are never
re-imported (by the name that leads to them). A value that cannot be fingerprinted (a list, an array, a class of the user's, an
instance) makes the whole fingerprint ``None``: the caller keys by identity instead, so a
fingerprint never claims two functions are equal when they might differ.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any, cast

from ._fresh import is_user_module

__all__ = ["fingerprint"]

_SCALARS = (type(None), bool, int, float, complex, str, bytes)


class _Unknown(Exception):
    """A value whose equality across imports cannot be decided."""


def fingerprint(fn: Any) -> tuple[Any, ...] | None:
    """A hashable fingerprint of ``fn``, or None when it cannot be made."""
    try:
        return _function(fn, set())
    except (_Unknown, RecursionError):
        return None


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _function(fn: Any, active: set[int]) -> tuple[Any, ...]:
    if not isinstance(fn, types.FunctionType):
        raise _Unknown
    if id(fn) in active:  # recursion: the code and globals are fingerprinted where it started
        return ("recursive", fn.__qualname__)
    active.add(id(fn))
    try:
        code = fn.__code__
        namespace = fn.__globals__
        reads = tuple(
            (name, _value(namespace[name], active)) for name in sorted(set(_names(code))) if name in namespace
        )
        closure = tuple(_value(cell.cell_contents, active) for cell in fn.__closure__ or ())
        defaults = tuple(_value(v, active) for v in fn.__defaults__ or ())
        kwdefaults = tuple(sorted((k, _value(v, active)) for k, v in (fn.__kwdefaults__ or {}).items()))
        return ("function", code.co_filename, code, reads, closure, defaults, kwdefaults)
    finally:
        active.discard(id(fn))


def _value(value: Any, active: set[int]) -> Any:
    if isinstance(value, _SCALARS):
        return (type(value).__name__, repr(value))
    if isinstance(value, tuple | frozenset):
        members = cast("tuple[Any, ...] | frozenset[Any]", value)
        items = [_value(v, active) for v in members]
        return (type(members).__name__, tuple(sorted(items, key=repr) if isinstance(members, frozenset) else items))
    if isinstance(value, types.ModuleType):
        if is_user_module(value.__name__, value):
            raise _Unknown  # the user's module: imported afresh, its contents may differ
        return ("module", value.__name__)
    module_name: object = getattr(value, "__module__", None)
    if not isinstance(module_name, str) or module_name not in sys.modules:
        raise _Unknown
    module = sys.modules[module_name]
    if is_user_module(module_name, module):
        if isinstance(value, types.FunctionType):
            return _function(value, active)
        raise _Unknown  # a class or an object of the user's
    # Python's, a library's or typedml's: by name, when the name leads back to this very object
    # (an instance built by the user's code, even of a library type, is not named there)
    qualname = getattr(value, "__qualname__", None)
    if not isinstance(qualname, str):
        raise _Unknown
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not value:
        raise _Unknown
    return ("named", module_name, qualname)
