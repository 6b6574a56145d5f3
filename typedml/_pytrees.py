"""Pytree values at the ``jax.jit`` boundary: their arrays are traced, everything else is static.

A pytree input (an ``equinox.Module`` such as ``eqx.nn.MLP``, a dict of weights) may hold
leaves that are not arrays: activation functions, sizes, flags. ``jax.jit`` refuses those as
arguments, so the compiled function takes a :class:`Split`: its array leaves are the traced
children, the other leaves and the tree's structure are static (part of the compiled
function's cache key, compared by equality), and the stage body receives the value whole.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

__all__ = ["Split", "split", "whole"]


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


def whole(value: Any) -> Any:
    """The value a :func:`split` stood for."""
    return value.whole() if isinstance(value, Split) else value
