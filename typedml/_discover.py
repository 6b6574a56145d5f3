"""Finding pipelines in user code: files, directories and modules, imported for checking.

Used by the ``typedml`` command line and the pytest plugin. A file is imported under the
dotted name its package layout gives it (``examples/sensor/pipeline.py`` is
``examples.sensor.pipeline``, with the folder above the outermost package on ``sys.path``),
so relative imports and ``fn.__module__`` are what they are when the code is used normally.
A module that cannot be imported becomes a ``TM401`` diagnostic; a malformed stage found
while importing keeps its own diagnostics.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import os
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, cast

from ._errors import Diagnostic, Location, TypedMLError
from ._fresh import module_name_for
from ._notebook import import_notebook, is_notebook, notebook_has_skip_comment
from ._pipeline import Pipeline
from ._stage import Stage

__all__ = [
    "Found",
    "Loaded",
    "check_found",
    "find_objects",
    "import_failure",
    "is_excluded",
    "iter_python_files",
    "load",
    "module_name_for",
]

SKIP_COMMENT = re.compile(r"^[ \t]*#[ \t]*typedml:[ \t]*skip-file\b", re.M)
EXCLUDE_FLAG = "__typedml_exclude__"
# never searched: environments, caches, build outputs, hidden folders
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "build", "dist", "venv"})


@dataclasses.dataclass
class Loaded:
    """One target after import: the module, or why it was skipped or failed."""

    target: str  # the file path or module name as given or found
    module: ModuleType | None = None
    skipped: bool = False
    diagnostics: list[Diagnostic] = dataclasses.field(default_factory=list[Diagnostic])


@dataclasses.dataclass(frozen=True)
class Found:
    """A pipeline or stage bound to a module-level name."""

    module: str
    attr: str
    obj: Pipeline[..., Any] | Stage[..., Any]

    @property
    def qualname(self) -> str:
        return f"{self.module}:{self.attr}"


def iter_python_files(directory: Path, notebooks: bool = False) -> list[Path]:
    """Every ``*.py`` file under ``directory`` (and ``*.ipynb`` with ``notebooks``), sorted,
    outside hidden folders and environments."""
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d not in _SKIPPED_DIRS and not Path(root, d, "pyvenv.cfg").exists()
        )
        kinds = (".py", ".ipynb") if notebooks else (".py",)
        found.extend(Path(root, f) for f in sorted(files) if f.endswith(kinds) and not f.startswith("."))
    return found


def has_skip_comment(path: Path) -> bool:
    if is_notebook(str(path)):
        return notebook_has_skip_comment(path)
    try:
        return SKIP_COMMENT.search(path.read_text(encoding="utf-8", errors="replace")) is not None
    except OSError:
        return False


def is_excluded(module: ModuleType) -> bool:
    """``__typedml_exclude__ = True`` at module level, or a ``# typedml: skip-file`` comment."""
    if getattr(module, EXCLUDE_FLAG, False) is True:
        return True
    path = getattr(module, "__file__", None)
    return isinstance(path, str) and has_skip_comment(Path(path))


def load(target: str, *, skip: bool = True) -> Loaded:
    """Import a file (by path) or a module (by dotted name); never raises for the module's errors."""
    path = Path(target)
    is_path = target.endswith((".py", ".ipynb")) or os.sep in target or "/" in target or path.exists()
    if is_path:
        if skip and has_skip_comment(path):
            return Loaded(target, skipped=True)
        importer = (lambda: import_notebook(path)) if is_notebook(target) else (lambda: _import_file(path))
        loaded = _guarded(target, importer, path)
    else:
        loaded = _guarded(target, lambda: importlib.import_module(target), None)
    if skip and loaded.module is not None and is_excluded(loaded.module):
        return Loaded(target, skipped=True)
    return loaded


def _guarded(target: str, importer: Any, path: Path | None) -> Loaded:
    # a module printing while it is imported must not corrupt machine-readable output
    with contextlib.redirect_stdout(sys.stderr):
        try:
            return Loaded(target, module=importer())
        except TypedMLError as err:  # e.g. a malformed @tm.stage: its own diagnostics say it best
            return Loaded(target, diagnostics=list(err.diagnostics))
        except (Exception, SystemExit) as err:  # noqa: BLE001 - any failure of user code is reported
            return Loaded(target, diagnostics=[import_failure(target, path, err)])


def _import_file(path: Path) -> ModuleType:
    name, root = module_name_for(path)
    importable = bool(name) and all(part.isidentifier() for part in name.split("."))
    existing = sys.modules.get(name) if importable else None
    if existing is not None and _same_file(existing, path):
        return existing
    if importable and existing is None:
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        module = importlib.import_module(name)
        if _same_file(module, path):
            return module
    # the name is taken by another module (or is not a valid name): load the file on its own
    private = "_typedml_file_" + re.sub(r"\W", "_", str(path.resolve()))
    spec = importlib.util.spec_from_file_location(private, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[private] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[private]
        raise
    return module


def _same_file(module: ModuleType, path: Path) -> bool:
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return False
    try:
        return os.path.samefile(file, path)
    except OSError:
        return False


def import_failure(target: str, path: Path | None, err: BaseException) -> Diagnostic:
    """``TM401``: the module could not be imported; located at the failing line when it is in the file."""
    if path is not None and is_notebook(str(path)):
        return _notebook_failure(path, err)
    name, root = module_name_for(path) if path is not None else (target, Path())
    shadowed = path is not None and name in sys.modules and not _same_file(sys.modules[name], path)
    text = str(err).strip()
    first, *rest = text.splitlines() or [""]
    location: Location | None = None
    notes: list[str] = [f"  {line}" for line in rest[:5]]
    if isinstance(err, SyntaxError) and err.filename and err.lineno:
        location = Location(err.filename, err.lineno, err.offset or 1)
        first = err.msg
    elif path is not None:
        frame = _deepest_frame(err.__traceback__, path)
        location = Location(str(path), frame[1] if frame else 1, 1)
        last = traceback.extract_tb(err.__traceback__)[-1:] if err.__traceback__ else []
        if last and not (frame and last[0].filename == frame[0] and last[0].lineno == frame[1]):
            notes.append(f"raised at {Location(last[0].filename, last[0].lineno or 1)}")
    elif isinstance(err, ModuleNotFoundError) and err.name == target:
        notes.append("not a file or folder either")
    message = f"cannot import module {name or target!r}: {type(err).__name__}" + (f": {first}" if first else "")
    if shadowed:
        notes.append(f"loaded from the file on its own: the name {name!r} belongs to another module")
    elif path is not None:
        notes.append(f"imported as {name!r} with {_short(root)} on sys.path; its module-level code runs")
    return Diagnostic(
        "TM401",
        message,
        location,
        notes=tuple(notes),
        hint="fix the error, or mark a file that is not meant to be imported with `# typedml: skip-file`",
    )


def _notebook_failure(path: Path, err: BaseException) -> Diagnostic:
    """``TM401`` for a notebook: located at the failing line of the cell it is in."""
    text = str(err).strip()
    first, *rest = text.splitlines() or [""]
    notes = [f"  {line}" for line in rest[:5]]
    location = Location(str(path), 1)
    cells = f"{path}#cell"
    if isinstance(err, SyntaxError) and err.filename and err.lineno:
        location, first = Location(err.filename, err.lineno, err.offset or 1), err.msg
    else:
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith(cells)]
        if frames:
            location = Location(frames[-1].filename, frames[-1].lineno or 1)
    if isinstance(err, ValueError) and "is not a Jupyter notebook" in text:
        notes.append("a notebook is nbformat 4 JSON with a list of cells")
    notes.append("its code cells run in order, as 'Run all' runs them; IPython magics and shell lines are not run")
    return Diagnostic(
        "TM401",
        f"cannot run notebook {str(path)!r}: {type(err).__name__}" + (f": {first}" if first else ""),
        location,
        notes=tuple(notes),
        hint="fix the cell, or mark a notebook that is not meant to be run with `# typedml: skip-file` in a cell",
    )


def _short(path: Path) -> str:
    return str(Location(str(path), 1)).rsplit(":", 2)[0] or "."


def _deepest_frame(tb: TracebackType | None, path: Path) -> tuple[str, int] | None:
    found: tuple[str, int] | None = None
    for summary in traceback.extract_tb(tb):
        if os.path.abspath(summary.filename) == os.path.abspath(path):  # also a text not saved yet
            found = (summary.filename, summary.lineno or 1)
            continue
        with contextlib.suppress(OSError):
            if os.path.samefile(summary.filename, path):
                found = (summary.filename, summary.lineno or 1)
    return found


def find_objects(
    module: ModuleType, *, stages: bool = False, seen: set[int] | None = None, containers: bool = False
) -> Iterator[Found]:
    """Pipelines (and stages) bound at module level and defined in ``module`` itself, once each.

    With ``containers``, also those held in a module-level ``dict``, ``list`` or ``tuple`` (one
    level down: ``PIPELINES["daily"]``, ``VARIANTS[2]``), named by their key or index.
    """
    seen = set() if seen is None else seen
    kinds: tuple[type, ...] = (Pipeline, Stage) if stages else (Pipeline,)
    namespace: dict[str, object] = vars(module)
    entries: list[tuple[str, object]] = list(namespace.items())
    if containers:
        for attr, value in list(namespace.items()):
            if attr.startswith("__"):
                continue
            held: list[tuple[str, object]] = []
            if isinstance(value, dict):
                mapping = cast("dict[object, object]", value)
                held = [(f"{attr}[{key!r}]", v) for key, v in list(mapping.items())]
            elif isinstance(value, list | tuple):
                sequence: list[object] = list(cast("list[object]", value))
                held = [(f"{attr}[{i}]", v) for i, v in enumerate(sequence)]
            for name, held_value in held:
                if isinstance(held_value, kinds):
                    entries.append((name, cast(object, held_value)))
    for attr, value in entries:
        if id(value) in seen or not isinstance(value, kinds):
            continue
        obj = cast("Pipeline[..., Any] | Stage[..., Any]", value)
        if getattr(obj.fn, "__module__", None) != module.__name__:
            continue
        seen.add(id(obj))
        yield Found(module.__name__, attr, obj)


def expand_targets(targets: Sequence[str], notebooks: bool = False) -> tuple[list[str], list[str]]:
    """Files and modules to import (folders expanded: their ``.py`` files, and with
    ``notebooks`` their ``.ipynb`` files too), and the targets that do not exist."""
    out: list[str] = []
    missing: list[str] = []
    for target in targets:
        path = Path(target)
        if path.is_dir():
            out.extend(str(p) for p in iter_python_files(path, notebooks=notebooks))
        elif path.is_file() or not (target.endswith((".py", ".ipynb")) or "/" in target or os.sep in target):
            out.append(target)
        else:
            missing.append(target)
    return list(dict.fromkeys(out)), missing


def check_found(entry: Found, *, say_unchecked: bool = False) -> list[Diagnostic]:
    """The checks of one pipeline (build time and bodies) or stage (its body, when it needs no
    configuration; with ``say_unchecked``, one that needs it is said not to be checked, TM404)."""
    obj = entry.obj
    if isinstance(obj, Stage):
        spec = obj.spec
        needed = [p.name for p in spec.static if p.name not in spec.defaults]
        if needed:  # its configuration is only known where it is called: checked in those pipelines
            return [_needs_configuration(entry, needed)] if say_unchecked else []
        return obj.check().diagnostics  # its body, checked for every size
    return obj.check().diagnostics


def _needs_configuration(entry: Found, needed: list[str]) -> Diagnostic:
    """TM404: a stage ``--stages`` cannot check on its own, said rather than counted as checked."""
    spec = entry.obj.spec
    names = ", ".join(repr(n) for n in needed)
    return Diagnostic(
        "TM404",
        f"stage {entry.qualname} was not checked on its own: its static configuration {names} has no default",
        spec.location,
        severity="info",
        notes=("its body is checked in each pipeline that calls it, with the configuration that pipeline gives",),
        hint=f"give {names} a default to check the stage on its own, or check a pipeline that calls it",
        stage=spec.name,
    )
