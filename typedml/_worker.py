"""Where ``typedml check`` runs user code: a worker process, one module at a time, time-limited.

Importing a module runs its top-level code, and checking a pipeline runs its body and its
stages' bodies: any of them may call ``sys.exit``, ``os._exit``, loop forever or crash the
interpreter. So the command line never imports user code itself. It starts this module as a
worker (a fresh Python that runs :func:`serve`) and sends it one target at a time; the worker imports
the target, checks what it defines and sends back the diagnostics. A worker that ends, or
that runs past the time limit (and is killed), is reported for the module it was on
(TM403, TM402), and a fresh worker checks the modules after it.

The two processes speak through the worker's standard input and output, in length-prefixed
pickles; at start the worker moves those streams aside, so what user code prints goes to
standard error and what it reads from standard input is empty.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ._errors import Diagnostic, Location

if TYPE_CHECKING:
    from ._discover import Found

__all__ = ["Outcome", "Request", "Worker"]

_HEADER = struct.Struct("!Q")
_START_LIMIT = 300.0  # seconds for a worker to import typedml and say it is ready
_READY = "ready"


@dataclasses.dataclass(frozen=True)
class Request:
    """One target to import and check."""

    target: str
    skip: bool
    stages: bool
    done: frozenset[str]  # modules already checked (a second target naming one is not checked again)
    sys_path: tuple[str, ...]


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


def _write(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream: IO[bytes]) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    return pickle.loads(data) if len(data) == size else None


# -- the parent's side -----------------------------------------------------------------------


class Worker:
    """A worker process, started on first use and started again after it ended or was killed."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._replies: queue.Queue[Any] = queue.Queue()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            # by its import name, not as __main__, so what it pickles unpickles here
            [sys.executable, "-c", "from typedml._worker import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=os.getcwd(),
        )
        replies: queue.Queue[Any] = queue.Queue()
        stdout = proc.stdout
        assert stdout is not None

        def pump() -> None:  # a thread, so the parent can wait with a time limit on any platform
            while True:
                reply = _read(stdout)
                replies.put(reply)
                if reply is None:
                    return

        threading.Thread(target=pump, daemon=True, name="typedml-check-reader").start()
        self._proc, self._replies = proc, replies
        # typedml and JAX load before the first module's time starts (an ended start is reported
        # for that module, like any ended worker)
        try:
            first = replies.get(timeout=_START_LIMIT)
        except queue.Empty:  # pragma: no cover - a machine too loaded to start Python at all
            first = None
        if first != _READY:  # it ended while starting: the request will find it so
            replies.put(None)
        return proc

    def check(self, request: Request) -> Outcome:
        proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
        try:
            assert proc.stdin is not None
            _write(proc.stdin, request)
            reply = self._replies.get(timeout=self.timeout)
        except queue.Empty:
            self._kill()
            return _stopped(request.target, _timed_out(request.target, self.timeout))
        except OSError:  # the worker ended before it read the request
            reply = None
        if reply is None:
            status = self._reap()
            return _stopped(request.target, _ended(request.target, status))
        outcome: Outcome = reply
        return outcome

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._reap()

    def _reap(self) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a kill that did not take
            proc.kill()
            return proc.wait()

    def close(self) -> None:
        """Stop the worker (politely: it exits when its standard input closes)."""
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        self._reap()


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
    else:
        how = f"exited with status {status}"
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


# -- the worker's side -----------------------------------------------------------------------


def serve() -> None:
    """The worker's loop: read a request, import and check, reply; until standard input closes."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # user code that reads standard input reads nothing
    os.dup2(2, 1)  # and what it prints (from Python or native code) goes to standard error
    os.close(devnull)
    from . import _discover  # noqa: F401  # pyright: ignore[reportUnusedImport] - typedml and JAX, before the first time limit

    _write(replies, _READY)
    while True:
        request: Request | None = _read(requests)
        if request is None:
            return
        outcome = _check_target(request)
        sys.stdout.flush()
        sys.stderr.flush()
        _write(replies, outcome)


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
    for found in find_objects(module, stages=request.stages):
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
        return list(check_found(found))
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
