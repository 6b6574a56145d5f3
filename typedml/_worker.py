"""Where ``typedml check`` runs user code: a worker process, one module at a time, time-limited.

Importing a module runs its top-level code, and checking a pipeline runs its body and its
stages' bodies: any of them may call ``sys.exit``, ``os._exit``, loop forever or crash the
interpreter. So the command line never imports user code itself. It sends one target at a
time to a worker process (:class:`typedml._isolate.Worker`, the same worker that
:func:`typedml.check_file` uses), which imports the target, checks what it defines and sends
back the diagnostics. A worker that ends, or that runs past the time limit (and is killed),
is reported for the module it was on (TM403, TM402), and a fresh worker checks the modules
after it. What user code prints goes to standard error; what it reads from standard input
is empty.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _isolate
from ._errors import Diagnostic, Location

if TYPE_CHECKING:
    from ._discover import Found

__all__ = ["Outcome", "Request", "Worker", "check_target"]

_START_LIMIT = 300.0  # seconds for a worker to import typedml and say it is ready


@dataclasses.dataclass(frozen=True)
class Request:
    """One target to import and check."""

    target: str
    skip: bool
    stages: bool
    done: frozenset[str]  # modules already checked (a second target naming one is not checked again)
    sys_path: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "skip": self.skip,
            "stages": self.stages,
            "done": sorted(self.done),
            "sys_path": list(self.sys_path),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Request:
        return cls(data["target"], data["skip"], data["stages"], frozenset(data["done"]), tuple(data["sys_path"]))


@dataclasses.dataclass
class Outcome:
    """What checking one target found (what the command line prints and counts)."""

    target: str
    module: str | None = None  # the module's name, if it was imported
    skipped: bool = False
    repeated: bool = False  # the module was already checked under another target
    stopped: bool = False  # the worker ended or ran out of time on it (TM402, TM403)
    diagnostics: list[Diagnostic] = dataclasses.field(default_factory=list[Diagnostic])
    pipelines: list[str] = dataclasses.field(default_factory=list[str])
    stages: list[str] = dataclasses.field(default_factory=list[str])
    package_files: list[str] = dataclasses.field(default_factory=list[str])

    def to_dict(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self)
        fields["diagnostics"] = [d.to_dict() for d in self.diagnostics]
        return fields

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        fields = dict(data)
        fields["diagnostics"] = [Diagnostic.from_dict(d) for d in data["diagnostics"]]
        return cls(**fields)


# -- the parent's side -----------------------------------------------------------------------


class Worker:
    """The command line's worker: :class:`typedml._isolate.Worker` running :func:`check_target`."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._process = _isolate.Worker(
            "typedml._worker:check_target", timeout=timeout, start_timeout=_START_LIMIT, cwd=os.getcwd()
        )

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self, request: Request) -> Outcome:
        try:
            answer = self._process.call(request.to_dict())
        except _isolate.WorkerTimeout:
            return _stopped(request.target, _timed_out(request.target, self.timeout))
        except _isolate.WorkerDied as err:
            return _stopped(request.target, _ended(request.target, err.status))
        if "error" in answer:  # typedml itself failed on the target: its traceback is on standard error
            sys.stderr.write(str(answer.get("traceback", "")))
            return _stopped(request.target, _failed(request.target, str(answer["error"])))
        return Outcome.from_dict(answer)

    def close(self) -> None:
        """Stop the worker (politely: it exits when its standard input closes)."""
        self._process.close()


def _stopped(target: str, diagnostic: Diagnostic) -> Outcome:
    return Outcome(target, stopped=True, diagnostics=[diagnostic])


def _place(target: str) -> Location | None:
    path = Path(target)
    return Location(str(path.resolve()), 1, 1) if target.endswith(".py") or path.is_file() else None


def _timed_out(target: str, timeout: float) -> Diagnostic:
    return Diagnostic(
        "TM402",
        f"checking {target} did not finish within {timeout:g} s: stopped",
        _place(target),
        notes=(
            "importing the module runs its top-level code, and checking a pipeline runs its body and its stages' bodies",
            "the modules after it, if any, are checked in a fresh process",
        ),
        hint="look for a loop or a blocking call at module level or in a body; if checking is only slow, "
        "raise the limit with --timeout SECONDS",
    )


def _ended(target: str, status: int | None) -> Diagnostic:
    if status is not None and status < 0:
        try:
            how = f"was killed by signal {signal.Signals(-status).name}"
        except ValueError:
            how = f"was killed by signal {-status}"
    elif status is not None:
        how = f"exited with status {status}"
    else:
        how = "ended"
    return Diagnostic(
        "TM403",
        f"the process checking {target} {how} before it was done: nothing in it was checked",
        _place(target),
        notes=(
            "its top-level code or a body it runs ended the interpreter (os._exit, a crash in native code)",
            "the modules after it, if any, are checked in a fresh process",
        ),
        hint="a module that is checked must be importable without side effects: keep such calls under "
        "`if __name__ == '__main__':`",
    )


def _failed(target: str, error: str) -> Diagnostic:
    return Diagnostic(
        "TM403",
        f"checking {target} failed inside typedml ({error}): nothing in it was checked",
        _place(target),
        notes=("the traceback is on standard error",),
        hint="this is an error in typedml: please report it with the traceback",
    )


# -- the worker's side -----------------------------------------------------------------------


def check_target(request: dict[str, Any]) -> dict[str, Any]:
    """What the worker process runs for one request (see :class:`typedml._isolate.Worker`)."""
    outcome = _check_target(Request.from_dict(request))
    sys.stdout.flush()
    sys.stderr.flush()
    return outcome.to_dict()


def _check_target(request: Request) -> Outcome:
    from ._discover import find_objects, iter_python_files, load
    from ._pipeline import Pipeline

    sys.path[:] = list(request.sys_path)
    item = load(request.target, skip=request.skip)
    outcome = Outcome(request.target, skipped=item.skipped, diagnostics=list(item.diagnostics))
    module = item.module
    if module is None:
        return outcome
    outcome.module = module.__name__
    if module.__name__ in request.done:
        outcome.repeated = True
        return outcome
    package_dirs: list[str] = list(getattr(module, "__path__", []))
    if package_dirs and not request.target.endswith(".py"):  # a package named by module: its files too
        outcome.package_files = [
            str(p) for d in package_dirs for p in iter_python_files(Path(d)) if p.name != "__init__.py"
        ]
    for found in find_objects(module, stages=request.stages, containers=True):
        if isinstance(found.obj, Pipeline):
            outcome.pipelines.append(found.qualname)
        else:
            outcome.stages.append(found.qualname)
        with contextlib.redirect_stdout(sys.stderr):
            outcome.diagnostics.extend(_check_one(found))
    return outcome


def _check_one(found: Found) -> list[Diagnostic]:
    from ._discover import check_found

    try:
        return list(check_found(found, say_unchecked=True))
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # noqa: BLE001 - SystemExit and anything else a body raises
        if not isinstance(err, SystemExit):
            traceback.print_exc()
        return [_raised(found.obj, found.qualname, err)]


def _raised(obj: Any, qualname: str, err: BaseException) -> Diagnostic:
    spec = obj.spec
    detail = f"{type(err).__name__}" + (f": {err}" if str(err) else "")
    # where it was raised, in the file that defines the pipeline (else the definition itself)
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == spec.location.path]
    location = Location(frames[-1].filename, frames[-1].lineno or 1) if frames else spec.location
    return Diagnostic(
        "TM403",
        f"checking {qualname} raised {detail}: it was not checked",
        location,
        notes=("checking a pipeline runs its body, and its stages' bodies without data",),
        hint="a body must not exit the program; raise an exception instead"
        if isinstance(err, SystemExit)
        else "this is an error in typedml or in a body it ran: the traceback is on standard error",
        stage=spec.name,
    )
