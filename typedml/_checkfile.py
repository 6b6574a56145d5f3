"""``tm.check_file`` and ``tm.check_source``: every stage and pipeline of one file, checked.

What an editor integration calls on each save or pause in typing. The text is run afresh as
the module its path would be imported as (see :mod:`typedml._fresh`), its pipelines and
stages are found and checked (build time and bodies), and the module is dropped again. The
result is a :class:`FileReport`: a :class:`CheckReport` that also names what was checked.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import difflib
import os
import sys
import threading
from pathlib import Path
from typing import Any

from ._check import CheckReport
from ._discover import EXCLUDE_FLAG, SKIP_COMMENT, check_found, find_objects, import_failure
from ._errors import Diagnostic, Fix, Location, TypedMLError
from ._fresh import exec_source, fresh_imports
from ._isolate import Worker, WorkerError, WorkerTimeout
from ._pipeline import Pipeline
from ._source import argument_at, keyword_name_at
from ._stage import Stage

__all__ = ["FileReport", "check_file", "check_source", "checked_in_worker"]

_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclasses.dataclass
class FileReport(CheckReport):
    """The report of :func:`check_file` / :func:`check_source`: every diagnostic of one file.

    Besides the diagnostics (errors, warnings and infos, errors first), it names the file
    (``path``, absolute), the module it was run as, and the pipelines and stages checked, by
    their module-level names (``pipeline_names``, ``stage_names``; ``pipelines`` and ``stages``
    hold the objects when the check ran in this process). ``skipped`` is True for a file marked
    ``# typedml: skip-file`` or ``__typedml_exclude__ = True`` (an info diagnostic, TM410, says so).
    """

    path: str = ""
    module: str = ""
    pipelines: dict[str, Pipeline[..., Any]] = dataclasses.field(default_factory=dict[str, Pipeline[..., Any]])
    stages: dict[str, Stage[..., Any]] = dataclasses.field(default_factory=dict[str, Stage[..., Any]])
    skipped: bool = False
    pipeline_names: list[str] = dataclasses.field(default_factory=list[str])
    stage_names: list[str] = dataclasses.field(default_factory=list[str])


FileReport.__module__ = "typedml"


def check_file(path: str | os.PathLike[str], *, skip: bool = True, timeout: float | None = None) -> FileReport:
    """Check every stage and pipeline defined in the Python file at ``path``.

    The file is read and run afresh on each call (no module reused from ``sys.modules``, no
    cached bytecode), as the module its package layout names (``pkg/sub/mod.py`` is
    ``pkg.sub.mod``, so relative imports work); user modules it imports are imported afresh
    too. Nothing is left in ``sys.modules`` afterwards. Never raises for problems in the
    file: a module that fails to import is a TM401 diagnostic. ``skip=False`` checks a file
    marked ``# typedml: skip-file`` too (as ``typedml check --no-skip``).

    With ``timeout`` (seconds), the file runs in a worker process instead (started once, then
    reused): a module that runs longer is stopped and reported (TM411), one that exits or
    crashes the interpreter too (TM412), and the caller's process is never at risk. The report
    then holds the diagnostics and, in ``pipeline_names``/``stage_names``, what was checked
    (the objects live in the worker: ``pipelines`` and ``stages`` are empty).
    """
    file = os.path.abspath(str(Path(path)))
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        diagnostic = Diagnostic(
            "TM401",
            f"cannot read {file}: {type(err).__name__}: {err}",
            None,
            hint="check_file takes the path of a Python source file (UTF-8)",
        )
        return FileReport([diagnostic], path=file)
    return check_source(text, file, skip=skip, timeout=timeout)


def check_source(
    text: str, path: str | os.PathLike[str] = "<string>", *, skip: bool = True, timeout: float | None = None
) -> FileReport:
    """Check every stage and pipeline defined in ``text``, as if it were the file at ``path``.

    ``path`` need not exist, and the text need not be saved: an editor passes the buffer it
    shows. Diagnostics point into ``text`` (line and character column, with the range of the
    call or annotation they concern). Otherwise as :func:`check_file`.
    """
    file = os.path.abspath(str(Path(path)))
    if timeout is not None:
        return _isolated(text, file, skip, timeout)
    mark = SKIP_COMMENT.search(text) if skip else None
    if mark is not None:
        line = text.count("\n", 0, mark.start()) + 1
        return FileReport([_skipped(Location(file, line), "a `# typedml: skip-file` comment")], path=file, skipped=True)
    diagnostics: list[Diagnostic] = []
    report = FileReport(diagnostics, path=file)
    with fresh_imports(), contextlib.redirect_stdout(sys.stderr):  # a print in user code is not output
        try:
            module = exec_source(text, file)
        except TypedMLError as err:  # e.g. a malformed @tm.stage: its own diagnostics say it best
            diagnostics.extend(err.diagnostics)
            return _finish(report)
        except (Exception, SystemExit) as err:  # noqa: BLE001 - any failure of user code is reported
            diagnostics.append(import_failure(file, Path(file), err))
            return _finish(report)
        report.module = module.__name__
        if skip and getattr(module, EXCLUDE_FLAG, False) is True:
            report.skipped = True
            diagnostics.append(_skipped(Location(file, 1), f"`{EXCLUDE_FLAG} = True`"))
            return _finish(report)
        found = list(find_objects(module, stages=True, containers=True))
        # pipelines first: their stage bodies are evaluated together, in one abstract trace,
        # and the stages' own checks then find them done
        found.sort(key=lambda f: not isinstance(f.obj, Pipeline))
        for entry in found:
            if isinstance(entry.obj, Pipeline):
                report.pipelines[entry.attr] = entry.obj
            else:
                report.stages[entry.attr] = entry.obj
            diagnostics.extend(check_found(entry))
        return _finish(report)  # inside: the text run is the source the ranges are read from


def _finish(report: FileReport) -> FileReport:
    report.pipeline_names = sorted(report.pipelines)
    report.stage_names = sorted(report.stages)
    unique = list(dict.fromkeys(report.diagnostics))  # a nested pipeline's findings reach its callers too
    if report.pipelines:
        unique = _narrowed(unique, report)
    unique.sort(key=lambda d: _ORDER.get(d.severity, 3))
    report.diagnostics[:] = unique
    return report


def _narrowed(diagnostics: list[Diagnostic], report: FileReport) -> list[Diagnostic]:
    """Diagnostics of a call narrowed to the argument they concern (what an editor underlines).

    ``typedml check`` points at the call; here a wrong value points at the argument passed to
    the port, a misspelt keyword at its name (with a fix naming the closest port).
    """
    calls: dict[tuple[str, int, int], tuple[str, ...]] = {}
    for pipeline in report.pipelines.values():
        for _, data in pipeline.graph.nodes(data=True):
            loc: Location | None = data.get("location")
            if data["kind"] in ("stage", "pipeline") and loc is not None:
                calls[(loc.path, loc.line, loc.col)] = data["spec"].param_order
    out: list[Diagnostic] = []
    for d in diagnostics:
        loc = d.location
        params = None if loc is None else calls.get((loc.path, loc.line, loc.col))
        if loc is None or params is None or d.port is None:
            out.append(d)
            continue
        if d.code == "TM110" and d.port not in params:
            name = keyword_name_at(loc, d.port)
            if name is not None:
                close = difflib.get_close_matches(d.port, params, n=3)
                fixes = tuple(Fix(f"Replace {d.port!r} with {c!r}", name, c) for c in close)
                d = dataclasses.replace(d, location=name, fixes=fixes)
        elif d.code not in ("TM110", "TM111", "TM112"):
            argument = argument_at(loc, params, d.port)
            if argument is not None:
                d = dataclasses.replace(d, location=argument)
        out.append(d)
    return out


def _skipped(location: Location, why: str) -> Diagnostic:
    return Diagnostic(
        "TM410",
        f"not checked: the file is marked with {why}",
        location,
        severity="info",
        hint="remove the mark to check this file's pipelines and stages",
    )


# -- in a worker process, with a time limit ------------------------------------------------

_worker: Worker | None = None
_worker_lock = threading.Lock()


def _isolated(text: str, file: str, skip: bool, timeout: float) -> FileReport:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = Worker("typedml._checkfile:checked_in_worker", timeout=timeout)
            atexit.register(_worker.close)
        try:
            answer = _worker.call({"text": text, "path": file, "skip": skip}, timeout=timeout)
        except WorkerTimeout:
            return FileReport([_stopped(file, timeout)], path=file)
        except WorkerError as err:
            return FileReport([_crashed(file, str(err))], path=file)
    if "error" in answer:
        return FileReport([_crashed(file, f"the check failed: {answer['error']}")], path=file)
    return FileReport(
        [Diagnostic.from_dict(d) for d in answer["diagnostics"]],
        path=file,
        module=answer["module"],
        skipped=answer["skipped"],
        pipeline_names=answer["pipelines"],
        stage_names=answer["stages"],
    )


def checked_in_worker(request: dict[str, Any]) -> dict[str, Any]:
    """What the worker process runs for :func:`check_source` with a time limit."""
    report = check_source(request["text"], request["path"], skip=request["skip"])
    return {
        "diagnostics": [d.to_dict() for d in report.diagnostics],
        "module": report.module,
        "skipped": report.skipped,
        "pipelines": report.pipeline_names,
        "stages": report.stage_names,
    }


def _stopped(file: str, timeout: float) -> Diagnostic:
    return Diagnostic(
        "TM411",
        f"checking {Path(file).name} took longer than {timeout:g} s: stopped",
        Location(file, 1),
        notes=("the file is run on each check: its module-level code (or a stage body) did not finish",),
        hint="look for a loop that never ends or work at import time; guard scripts with `if __name__ == '__main__':`",
    )


def _crashed(file: str, why: str) -> Diagnostic:
    return Diagnostic(
        "TM412",
        f"checking {Path(file).name} stopped the worker process: {why}",
        Location(file, 1),
        notes=("the file is run on each check, in a process of its own",),
        hint="the module exits the interpreter (os._exit, a crash in native code) when it is imported; "
        "guard scripts with `if __name__ == '__main__':`",
    )
