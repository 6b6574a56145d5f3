"""Importing user code afresh: no stale module, no stale bytecode, nothing left behind.

An editor checks the same file again and again as it is edited, in one long-lived process.
Python's import system is built to do the opposite: a module imported once is reused from
``sys.modules``, and a ``.pyc`` whose source has the same size and modification second is
trusted. :func:`fresh_imports` makes a window in which

- every *user* module (one that is not part of Python, of an installed distribution, or of
  typedml) is imported again from its source: those already imported are set aside, and
- their source is compiled anew (no ``__pycache__`` is read or written for them),

and restores ``sys.modules``, ``sys.path`` and ``linecache`` as they were when it closes, so
the caller's own imports are untouched. :func:`exec_source` runs a text as the module a path
would be imported as (relative imports, ``fn.__module__`` and ``inspect.getsource`` work).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.machinery
import linecache
import os
import site
import sys
import sysconfig
import types
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

__all__ = ["exec_source", "fresh_imports", "is_user_module", "module_name_for"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _library_dirs() -> tuple[str, ...]:
    dirs: set[str] = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            dirs.add(sysconfig.get_paths()[key])
    with contextlib.suppress(AttributeError):  # site.getsitepackages is missing in some virtualenvs
        dirs.update(site.getsitepackages())
    with contextlib.suppress(AttributeError):
        dirs.add(site.getusersitepackages())
    dirs.update({sys.prefix, sys.base_prefix, sys.exec_prefix})
    return tuple(os.path.realpath(d) + os.sep for d in dirs if d)


_LIBRARY = _library_dirs()


@functools.lru_cache(maxsize=16384)  # asked for every module on each check: realpath is slow
def _is_library_path(path: str) -> bool:
    real = os.path.realpath(path)
    return real.startswith(_LIBRARY) or real.startswith(_PACKAGE + os.sep) or real == _PACKAGE


def is_user_module(name: str, module: types.ModuleType | None) -> bool:
    """Whether ``module`` is the user's code (imported afresh), not Python's, a library's or typedml's."""
    if module is None or name == "__main__" or name == "typedml" or name.startswith("typedml."):
        return False
    file = getattr(module, "__file__", None)
    if isinstance(file, str):
        return not _is_library_path(file)
    paths: list[str] = list(getattr(module, "__path__", None) or [])  # a namespace package
    return bool(paths) and not any(_is_library_path(p) for p in paths)


class _SourceLoader(importlib.machinery.SourceFileLoader):
    """Reads user modules from their source every time: bytecode caches are neither read nor written."""

    def path_stats(self, path: str) -> dict[str, Any]:
        raise OSError("typedml compiles user code from source")  # no mtime: no .pyc is used or written


def _fresh_hook(path: str) -> importlib.machinery.FileFinder:
    if not path or _is_library_path(path) or not os.path.isdir(path):
        raise ImportError("not a user folder")  # the next hook (the usual FileFinder) handles it
    return importlib.machinery.FileFinder(
        path,
        (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
        (_SourceLoader, importlib.machinery.SOURCE_SUFFIXES),
        (importlib.machinery.SourcelessFileLoader, importlib.machinery.BYTECODE_SUFFIXES),
    )


@contextlib.contextmanager
def fresh_imports() -> Generator[None]:
    """A window in which user modules are imported afresh from source; everything is restored after."""
    saved_modules = dict(sys.modules)
    saved_path = list(sys.path)
    saved_hooks = list(sys.path_hooks)
    saved_finders = dict(sys.path_importer_cache)
    saved_lines = dict(linecache.cache)
    for name, module in saved_modules.items():
        if is_user_module(name, module):
            del sys.modules[name]
    for entry in list(sys.path_importer_cache):
        if entry and not _is_library_path(entry):
            del sys.path_importer_cache[entry]
    sys.path_hooks.insert(0, _fresh_hook)
    importlib.invalidate_caches()
    linecache.checkcache()  # sources edited on disk since they were last read
    try:
        yield
    finally:
        sys.path_hooks[:] = saved_hooks
        sys.path_importer_cache.clear()
        sys.path_importer_cache.update(saved_finders)
        sys.path[:] = saved_path
        for name in list(sys.modules):
            if name not in saved_modules and is_user_module(name, sys.modules[name]):
                del sys.modules[name]
        for name, module in saved_modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
        linecache.cache.clear()
        linecache.cache.update(saved_lines)


def module_name_for(path: Path) -> tuple[str, Path]:
    """The dotted name of a file and the folder to put on ``sys.path`` to import it by that name."""
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def exec_source(
    text: str, path: str | os.PathLike[str], *, on_module: Callable[[types.ModuleType], None] | None = None
) -> types.ModuleType:
    """Run ``text`` as the module that ``path`` would be imported as, and return it.

    Call inside :func:`fresh_imports` (which removes the module and the source registered
    for ``path`` again). The text need not be saved: ``inspect.getsource`` and diagnostics
    read it, not the file on disk. ``on_module`` sees the module before its code runs.
    """
    file = os.path.abspath(str(Path(path)))
    name, root = module_name_for(Path(file))
    if not name or not all(part.isidentifier() for part in name.split(".")):
        name = "_typedml_source_" + "".join(c if c.isalnum() else "_" for c in file)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    linecache.cache[file] = (len(text), None, lines, file)  # no mtime: linecache keeps it as given
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = types.ModuleType(name)
    module.__file__ = file
    module.__package__ = name.rpartition(".")[0]
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, origin=file)
    module.__spec__.has_location = True
    if on_module is not None:
        on_module(module)
    code = compile(text, file, "exec", dont_inherit=True)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
