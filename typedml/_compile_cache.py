"""Compiled executables kept on disk between runs: JAX's persistent compilation cache.

typedml compiles each pipeline into one ``jax.jit`` function; the first call of a fresh
process pays XLA's compilation. :func:`enable_compilation_cache` points JAX's own persistent
cache at a folder, so a later process running the same pipeline on the same input signature
loads the executable instead. It sets JAX's process-wide configuration, nothing of typedml's:
the checks before a call run exactly as without it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import jax

from ._errors import Diagnostic, InputError, user_location

__all__ = ["CompilationCache", "enable_compilation_cache"]


def _error(message: str, hint: str | None = None) -> InputError:
    return InputError(Diagnostic("TM252", message, user_location(), hint=hint, stage="enable_compilation_cache"))


class CompilationCache:
    """What :func:`enable_compilation_cache` returns: the ``folder`` in use, and
    :meth:`restore`, which puts back JAX's previous settings. Used as a context manager, it
    restores them when the block ends."""

    def __init__(self, folder: Path, previous: dict[str, Any]) -> None:
        self.folder = folder
        self._previous = previous

    def restore(self) -> None:
        """Put back the cache settings JAX had before (no persistent cache, by default)."""
        _apply(self._previous)

    def __enter__(self) -> CompilationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()

    def __repr__(self) -> str:
        return f"CompilationCache({str(self.folder)!r})"


_OPTIONS = (
    "jax_compilation_cache_dir",
    "jax_persistent_cache_min_compile_time_secs",
    "jax_persistent_cache_min_entry_size_bytes",
)


def _apply(settings: dict[str, Any]) -> None:
    from jax.experimental.compilation_cache import compilation_cache

    config: Any = jax.config
    for name, value in settings.items():
        config.update(name, value)
    # JAX decides once per process whether the cache is in use, at the first compilation:
    # without a reset, a change after any jit had run would silently do nothing
    compilation_cache.reset_cache()


def enable_compilation_cache(path: str | os.PathLike[str], *, min_compile_seconds: float = 0.0) -> CompilationCache:
    """Keep compiled executables in the folder ``path`` (created if missing) for later runs.

    Sets JAX's ``jax_compilation_cache_dir`` and lowers its thresholds so that even a pipeline
    compiling in milliseconds is kept (JAX keeps only compilations of 1 s or more by default;
    ``min_compile_seconds`` restores such a floor). Takes effect for compilations from now on,
    in this process, until ``.restore()`` on the returned object; ``with
    tm.enable_compilation_cache(path):`` restores the previous settings when the block ends.
    The same comes from the environment, before Python starts:
    ``JAX_COMPILATION_CACHE_DIR=path JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0``.
    A path that is a file, or a folder this process cannot write, is an :class:`InputError`
    (TM252).
    """
    folder = Path(path).expanduser()
    if min_compile_seconds < 0:
        raise _error(f"min_compile_seconds must be 0 or more, got {min_compile_seconds}")
    if folder.exists() and not folder.is_dir():
        raise _error(f"the compilation cache path {str(folder)!r} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise _error(
            f"cannot write to the compilation cache folder {str(folder)!r}: {err.strerror or err}",
            hint="choose a folder this process can write (on a cluster, one per user or job)",
        ) from None
    config: Any = jax.config
    previous = {name: getattr(config, name) for name in _OPTIONS}
    _apply(
        {
            "jax_compilation_cache_dir": str(folder.resolve()),
            "jax_persistent_cache_min_compile_time_secs": float(min_compile_seconds),
            "jax_persistent_cache_min_entry_size_bytes": 0,
        }
    )
    return CompilationCache(folder, previous)
