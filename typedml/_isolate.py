"""Running user code in a worker process, with a time limit and a memory bound.

Checking a module runs its module-level code, which may loop forever, exit the interpreter,
crash it, or grow without end. A :class:`Worker` is a long-lived child Python process (warm:
jax and typedml imported once) that answers requests one at a time through pipes, as JSON
lines. A request that takes longer than its time limit gets the child killed and a fresh one
started (:class:`WorkerTimeout`); a child that dies while answering is reported
(:class:`WorkerDied`) and replaced; a child is replaced after ``recycle_after`` requests or
when its resident memory passes ``max_rss_mb``, so memory stays bounded however long the
parent runs.

The child runs :func:`serve` with ``MODULE:FUNCTION``: it imports ``MODULE`` (its warm-up),
then calls ``FUNCTION(request) -> dict`` for each request. The protocol uses copies
of the child's standard streams; user code sees ``/dev/null`` as stdin and the parent's stderr
as both stdout and stderr, so nothing it prints or reads can corrupt the protocol.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import IO, Any, cast

__all__ = ["Worker", "WorkerDied", "WorkerError", "WorkerTimeout", "serve"]

_READY = "typedml-worker-ready"
_FULL_PASS = 100  # requests between two full passes of the garbage collector over everything
# The child loads this file on its own (not the typedml package): only the target's module
# decides what is imported before the first request.
_BOOT = (
    "import importlib.util, sys; "
    "spec = importlib.util.spec_from_file_location('_typedml_isolate', sys.argv[1]); "
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
    "module.serve(sys.argv[2])"
)


class WorkerError(Exception):
    """The child could not answer a request."""


class WorkerTimeout(WorkerError):
    """The request ran past its time limit; the child was killed (a fresh one is starting)."""


class WorkerDied(WorkerError):
    """The child exited or crashed before answering (a fresh one is starting)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the child's exit status (negative: the signal that killed it), if known


class Worker:
    """A child process that runs ``target`` (``"module:function"``) on requests, one at a time."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 10.0,
        start_timeout: float = 120.0,
        recycle_after: int = 1000,
        max_rss_mb: float = 1024.0,
        python: str = sys.executable,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.recycle_after = recycle_after
        self.max_rss_mb = max_rss_mb
        self.python = python
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.served = 0  # requests answered by the current child
        self.restarts = 0  # children replaced (time limit, death, recycling)
        self.rss_mb = 0.0  # the current child's resident memory after its last answer
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._ready = False
        self._eof = False

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the child now (it warms up in the background); a no-op if it is running."""
        if self._proc is not None and self._proc.poll() is None:
            return
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._proc = subprocess.Popen(
            [self.python, "-c", _BOOT, __file__, self.target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the parent's: tracebacks and prints of user code stay visible there
            cwd=self.cwd,
            env=env,
        )
        self._buffer = b""
        self._ready = False
        self._eof = False
        self.served = 0

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def close(self) -> None:
        """Stop the child."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def _replace(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        self.restarts += 1
        self.start()

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------
    def call(self, request: Mapping[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send ``request`` and wait for the answer, at most ``timeout`` seconds (the default
        limit if None) after the child is ready. Raises :class:`WorkerTimeout` or
        :class:`WorkerDied`; the next call gets a fresh child either way."""
        self.start()
        if not self._ready:
            self._wait_ready()
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(dict(request)).encode("utf-8") + b"\n")
            proc.stdin.flush()
        except OSError:
            code = proc.poll()
            self._replace()
            raise WorkerDied("the worker process exited before it was given the request", code) from None
        limit = self.timeout if timeout is None else timeout
        line = self._read_line(time.monotonic() + limit)
        if line is None:
            code = self._exit_status(proc)
            self._replace()
            if code is None:
                raise WorkerTimeout(f"no answer within {limit:g} s: the worker was stopped")
            raise WorkerDied(f"the worker process exited with status {code} while answering", code)
        answer = cast("dict[str, Any]", json.loads(line))
        self.served += 1
        self.rss_mb = float(answer.pop("_rss_mb", 0.0))
        if self.served >= self.recycle_after or self.rss_mb > self.max_rss_mb:
            self._replace()  # bounded memory: a fresh child, warming up before the next request
        return answer

    def _exit_status(self, proc: subprocess.Popen[bytes]) -> int | None:
        """The child's exit status if its output ended because it exited, else None (it is running)."""
        if not self._eof:
            return proc.poll()
        try:
            return proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # closed its output but lives on: treated as stuck
            return None

    def _wait_ready(self) -> None:
        line = self._read_line(time.monotonic() + self.start_timeout)
        proc = self._proc
        if line is None or json.loads(line) != _READY:
            code = None if proc is None else self._exit_status(proc)
            self._replace()
            raise WorkerDied(
                f"the worker process did not start (status {code})"
                if code is not None
                else f"the worker process did not start within {self.start_timeout:g} s",
                code,
            )
        self._ready = True

    def _read_line(self, deadline: float) -> bytes | None:
        """One line from the child, or None at the deadline or at the end of its output."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                self._eof = True
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line


# -- the child ----------------------------------------------------------------------------


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError, AttributeError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
        return peak / (2**20 if sys.platform == "darwin" else 2**10)


def _resolve(target: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    module_name, _, name = target.partition(":")
    return getattr(importlib.import_module(module_name), name)


def serve(target: str) -> None:
    """The child's loop: answer requests read from stdin with ``target``'s function, until EOF."""
    # the protocol keeps private copies of stdin/stdout; user code gets /dev/null and stderr
    requests: IO[bytes] = os.fdopen(os.dup(0), "rb")
    answers: IO[bytes] = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    handler = _resolve(target)
    # what the warm-up imported lives as long as the worker: out of the collector's way, so
    # each request's garbage is collected without walking JAX's and typedml's objects again
    gc.collect()
    gc.freeze()

    def send(value: object) -> None:
        answers.write(json.dumps(value).encode("utf-8") + b"\n")
        answers.flush()

    send(_READY)
    served = 0
    for line in requests:
        try:
            answer = handler(json.loads(line))
        except Exception as err:  # noqa: BLE001 - the parent gets the failure as data
            answer = {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
        answer = {**answer, "_rss_mb": _rss_mb()}
        send(answer)
        # Between requests, what outlives one (caches) is set aside like the warm-up, so the
        # collector's passes during a request walk only what later requests made (a full pass
        # over everything, every few checks of a large file, doubled that check's time). Set
        # aside, garbage cycles among those objects would stay: every _FULL_PASS requests the
        # collector walks everything once, after an answer is sent.
        served += 1
        if served % _FULL_PASS == 0:
            gc.unfreeze()
        gc.collect()
        gc.freeze()
