"""A mapping with a size limit: typedml's caches never grow without bound.

Every cache keyed by something a caller controls (static configuration values, input units,
shapes, unit strings) is one of these, with its size documented in
``docs/explanation/guarantees.md``. When full, the entry used least recently is dropped; what
was dropped is made again if needed (traced, checked, compiled: slower, never wrong).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = [
    "LRU",
    "MAX_EXECUTABLES",
    "MAX_SHAPES",
    "MAX_UNIT_VARIANTS",
    "MAX_VALIDATED",
    "MAX_VARIANTS",
]

# The documented sizes (docs/explanation/guarantees.md, "Bounded memory").
MAX_VARIANTS = 32
"""Static-configuration variants kept per pipeline (``configure`` or a static keyword at call)
and per stage called directly: each is a traced, checked and compiled pipeline."""
MAX_EXECUTABLES = 32
"""Executables kept per pipeline and run mode, one per set of input units."""
MAX_UNIT_VARIANTS = 32
"""Plans kept per pipeline for the bindings of its own unit variables."""
MAX_SHAPES = 32
"""Compiled shape/dtype signatures per executable (JAX's cache of one jitted function): one more
empties it, and the shapes in use compile again."""
MAX_VALIDATED = 256
"""Input signatures (units, types, dtypes, shapes) whose check passed, per pipeline, for inputs
the compiled call's fast path does not take as they are (Python scalars, lists, float64 NumPy
data without x64)."""

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A dict of at most ``size`` entries (thread-safe; reads refresh an entry's age)."""

    __slots__ = ("_data", "_lock", "size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"an LRU cache holds at least one entry, not {size}")
        self.size = size
        self._data: collections.OrderedDict[K, V] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __getitem__(self, key: K) -> V:
        with self._lock:
            value = self._data[key]
            self._data.move_to_end(key)
            return value

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._data))

    def keys(self) -> list[K]:
        with self._lock:
            return list(self._data)

    def values(self) -> list[V]:
        with self._lock:
            return list(self._data.values())

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
