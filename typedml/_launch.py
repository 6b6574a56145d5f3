"""Several local processes joined by ``jax.distributed``, to test multi-process code on one machine.

:func:`run_processes` starts the same Python script ``processes`` times with a coordinator on
a free port of 127.0.0.1 and ``devices`` simulated CPU devices each, waits for all of them
with a time limit, and leaves no process behind: on a failure, a timeout, an exception in the
caller or the caller's own death (Linux), every process of the group is killed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["ProcessRun", "run_processes"]


@dataclasses.dataclass(frozen=True)
class ProcessRun:
    """How one of the processes ended: its index, exit code, output, and whether it was killed
    (``timed_out``: still running at the time limit; ``stopped``: still running after another
    process had failed)."""

    index: int
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    stopped: bool = False

    def last_json(self) -> Any:
        """The last line of standard output that parses as JSON (what a worker reports)."""
        for line in reversed(self.stdout.splitlines()):
            with contextlib.suppress(ValueError):
                return json.loads(line)
        raise AssertionError(f"process {self.index} printed no JSON line; stderr ends:\n{self.stderr[-3000:]}")


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Each process starts here, then runs the script as __main__. Asking the kernel to kill it when
# the launching process dies is done after exec, in the fresh interpreter: code run between fork
# and exec in a multithreaded parent (JAX's) could deadlock.
_BOOT = """\
import os, runpy, signal, sys
parent, script = int(sys.argv[1]), sys.argv[2]
if sys.platform.startswith("linux"):
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
if os.getppid() != parent:
    os._exit(70)  # the launcher died before the line above
sys.argv = sys.argv[2:]
runpy.run_path(script, run_name="__main__")
"""


def run_processes(
    script: str | os.PathLike[str],
    *args: str,
    processes: int = 2,
    devices: int = 4,
    timeout: float = 60.0,
    grace: float = 10.0,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> list[ProcessRun]:
    """Run ``python script *args`` as ``processes`` processes of one ``jax.distributed`` job.

    Each process finds in its environment ``JAX_COORDINATOR_ADDRESS`` (read by
    ``jax.distributed.initialize``), ``TYPEDML_NUM_PROCESSES`` and ``TYPEDML_PROCESS_ID``, and
    runs on ``devices`` CPU devices (``XLA_FLAGS``, ``JAX_PLATFORMS=cpu``); the script calls::

        jax.distributed.initialize(
            num_processes=int(os.environ["TYPEDML_NUM_PROCESSES"]),
            process_id=int(os.environ["TYPEDML_PROCESS_ID"]),
        )

    Returns one :class:`ProcessRun` per process, in process order, once all have ended. When
    one fails, the others get ``grace`` seconds to end on their own (a typed error of their
    own, as typedml's agreement between processes gives) before they are killed; all are
    killed at ``timeout`` seconds.
    """
    if processes < 1 or devices < 1:
        raise ValueError(f"run_processes() needs processes >= 1 and devices >= 1, got {processes} and {devices}")
    port = free_port()
    base = dict(os.environ if env is None else env)
    base.update(
        JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
        JAX_COORDINATOR_BIND_ADDRESS=f"127.0.0.1:{port}",  # not every interface, as JAX's default
        TYPEDML_NUM_PROCESSES=str(processes),
        JAX_PLATFORMS="cpu",
        XLA_FLAGS=f"{base.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}".strip(),
        PYTHONUNBUFFERED="1",
    )
    outputs: list[tuple[IO[bytes], IO[bytes]]] = []
    running: list[subprocess.Popen[bytes]] = []
    killed: dict[int, str] = {}
    start = time.monotonic()
    try:
        for index in range(processes):
            out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
            outputs.append((out, err))
            running.append(
                subprocess.Popen(
                    [sys.executable, "-c", _BOOT, str(os.getpid()), os.fspath(Path(script)), *args],
                    env=dict(base, TYPEDML_PROCESS_ID=str(index)),
                    cwd=cwd,
                    stdout=out,
                    stderr=err,
                    process_group=0 if os.name == "posix" else None,  # killed as a group
                )
            )
        failed_at: float | None = None
        while any(p.poll() is None for p in running):
            now = time.monotonic()
            if failed_at is None and any(p.returncode not in (None, 0) for p in running):
                failed_at = now
            if now - start >= timeout:
                _kill(running, killed, "timed_out")
                break
            if failed_at is not None and now - failed_at >= grace:
                _kill(running, killed, "stopped")
                break
            time.sleep(0.05)
    finally:
        _kill(running, killed, "stopped")
    runs: list[ProcessRun] = []
    for index, (proc, (out, err)) in enumerate(zip(running, outputs, strict=True)):
        runs.append(
            ProcessRun(
                index,
                int(proc.returncode),
                _read(out),
                _read(err),
                timed_out=killed.get(index) == "timed_out",
                stopped=killed.get(index) == "stopped",
            )
        )
    return runs


def _kill(running: Sequence[subprocess.Popen[bytes]], killed: dict[int, str], why: str) -> None:
    for index, proc in enumerate(running):
        if proc.poll() is None:
            killed[index] = why
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL) if os.name == "posix" else proc.kill()
    for proc in running:
        proc.wait()


def _read(stream: IO[bytes]) -> str:
    stream.seek(0)
    text = stream.read().decode("utf-8", "replace")
    stream.close()
    return text
