"""Chunk sources made of files, which ``tm.stream`` can split between processes.

:class:`FileChunks` pairs a list of files with a reader (``path -> chunks``), so the same
splitting serves every format: ``.npy`` through :func:`typedml.npy_chunks`, and any other
reader that yields chunks of one file. Splitting is by file, in order, balanced by bytes, and
depends only on the list and the files' sizes, so every process computes the same split
without talking to the others (they do check afterwards that they saw the same list).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ._errors import Diagnostic, InputError, user_location

__all__ = ["FileChunks", "digest", "file_chunks"]

PathLike = str | os.PathLike[str]


def digest(data: bytes) -> str:
    """A short fingerprint of ``data`` (what processes compare, never what they exchange)."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _error(message: str, hint: str | None = None) -> InputError:
    return InputError(Diagnostic("TM251", message, user_location(), hint=hint, stage="file_chunks"))


class FileChunks:
    """The chunks of several files, read one file after the other with ``read(path)``.

    Iterating gives every chunk of every file. :meth:`share` gives the files of one process
    out of several; :func:`typedml.stream` uses it when JAX runs several processes.
    """

    def __init__(self, paths: Sequence[PathLike], read: Callable[[Any], Iterable[Any]]) -> None:
        if isinstance(paths, str | bytes | os.PathLike):
            raise _error(
                f"file_chunks() takes a list of paths, got the single path {os.fsdecode(paths)!r}",
                hint="wrap it in a list: file_chunks([path], read)",
            )
        if not callable(read):
            raise _error(
                f"file_chunks() needs a reader (path -> chunks), got {type(read).__name__}",
                hint="e.g. functools.partial(tm.npy_chunks, rows=4096, unit='K')",
            )
        self.paths: tuple[PathLike, ...] = tuple(paths)
        self.read = read

    def __iter__(self) -> Iterator[Any]:
        for path in self.paths:
            yield from self.read(path)

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return f"FileChunks({len(self.paths)} files, read={getattr(self.read, '__name__', self.read)!r})"

    def sizes(self) -> list[int]:
        """Each file's size in bytes (1 for a path that is not a local file, e.g. a URL)."""
        out: list[int] = []
        for path in self.paths:
            try:
                out.append(max(1, os.stat(path).st_size))
            except (OSError, TypeError, ValueError):
                out.append(1)
        return out

    def share(self, index: int, count: int) -> FileChunks:
        """The files of process ``index`` out of ``count``: consecutive files, cut so that
        each process gets about the same number of bytes (a file goes to the process in
        whose part of the total its middle byte falls). A process may get no file."""
        if not 0 <= index < count:
            raise _error(f"share({index}, {count}): process index out of range")
        sizes = self.sizes()
        total = sum(sizes)
        mine: list[PathLike] = []
        before = 0
        for path, size in zip(self.paths, sizes, strict=True):
            owner = min(count - 1, (2 * before + size) * count // (2 * total))
            before += size
            if owner == index:
                mine.append(path)
        return FileChunks(mine, self.read)

    def fingerprint(self) -> str:
        """The list as every process must see it: count, bytes, and a digest of paths and sizes."""
        sizes = self.sizes()
        listing = "\n".join(f"{os.fspath(p)}\t{s}" for p, s in zip(self.paths, sizes, strict=True))
        return f"{len(self.paths)} files, {sum(sizes)} bytes #{digest(listing.encode())}"


def file_chunks(paths: Sequence[PathLike], read: Callable[[Any], Iterable[Any]]) -> FileChunks:
    """The chunks of ``paths``, read file by file with ``read(path)``; see :class:`FileChunks`.

    ``tm.file_chunks(paths, functools.partial(tm.npy_chunks, rows=4096, unit="K"))`` streams
    several ``.npy`` files; under ``jax.distributed``, :func:`typedml.stream` folds only this
    process's share of them.
    """
    return FileChunks(paths, read)
