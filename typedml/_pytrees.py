"""Pytree values at the ``jax.jit`` boundary: their arrays are traced, everything else is static.

A pytree input (an ``equinox.Module`` such as ``eqx.nn.MLP``, a dict of weights) may hold
leaves that are not arrays: activation functions, sizes, flags. ``jax.jit`` refuses those as
arguments, so the compiled function takes a :class:`Split`: its array leaves are the traced
children, the other leaves and the tree's structure are static (part of the compiled
function's cache key, compared by equality), and the stage body receives the value whole.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from typing import Any, cast

import jax
import numpy as np

__all__ = ["Split", "by_reference", "split", "whole"]

_VALUES = (int, float, complex, str, bytes, type(None), type, enum.Enum, range, slice, np.dtype)


def _is_array(leaf: object) -> bool:
    return isinstance(leaf, (jax.Array, np.ndarray, np.generic)) or (
        hasattr(leaf, "shape") and hasattr(leaf, "dtype") and not isinstance(leaf, type)
    )


@jax.tree_util.register_pytree_node_class
class Split:
    """A pytree value taken apart: traced arrays, and the static rest."""

    __slots__ = ("arrays", "static", "treedef")

    def __init__(self, arrays: list[Any], treedef: Any, static: tuple[tuple[int, Any], ...]) -> None:
        self.arrays = arrays
        self.treedef = treedef
        self.static = static

    def tree_flatten(self) -> tuple[list[Any], tuple[Any, tuple[tuple[int, Any], ...]]]:
        return self.arrays, (self.treedef, self.static)

    @classmethod
    def tree_unflatten(cls, aux: tuple[Any, tuple[tuple[int, Any], ...]], children: Any) -> Split:
        return cls(list(children), aux[0], aux[1])

    def whole(self) -> Any:
        leaves: list[Any] = []
        arrays = iter(self.arrays)
        static = dict(self.static)
        for i in range(len(self.arrays) + len(self.static)):
            leaves.append(static[i] if i in static else next(arrays))
        return jax.tree_util.tree_unflatten(self.treedef, leaves)  # pyright: ignore[reportUnknownMemberType]


def split(value: Any) -> Any:
    """``value`` ready for ``jax.jit``: itself when every leaf is an array, else a :class:`Split`."""
    leaves, treedef = jax.tree_util.tree_flatten(value)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if all(_is_array(leaf) for leaf in leaves):
        return value
    arrays = [leaf for leaf in leaves if _is_array(leaf)]
    static = tuple((i, leaf) for i, leaf in enumerate(leaves) if not _is_array(leaf))
    return Split(arrays, treedef, static)


def _by_value(leaf: object) -> bool:
    """Whether a static leaf is compared by a value that cannot change in place: numbers,
    strings, functions (an activation), frozen dataclasses and tuples of them."""
    if isinstance(leaf, _VALUES) or callable(leaf) or isinstance(leaf, types.ModuleType):
        return True
    if isinstance(leaf, (tuple, frozenset)):
        return all(_by_value(item) for item in cast("tuple[object, ...]", leaf))
    params = getattr(type(leaf), "__dataclass_params__", None)
    return dataclasses.is_dataclass(leaf) and bool(getattr(params, "frozen", False))


def by_reference(value: Any) -> list[Any]:
    """The static leaves of a :func:`split` value that can change in place unseen: the
    compiled function is looked up by them, compared by identity or by ``==``."""
    if not isinstance(value, Split):
        return []
    return [leaf for _, leaf in value.static if not _by_value(leaf)]


def whole(value: Any) -> Any:
    """The value a :func:`split` stood for."""
    return value.whole() if isinstance(value, Split) else value
