"""Functions a test worker process runs (``typedml._isolate.Worker`` targets)."""

from __future__ import annotations

import gc
import os
import time
import weakref
from typing import Any


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


_cycles: list[weakref.ref[_Node]] = []


def cycles(request: dict[str, Any]) -> dict[str, Any]:
    """Makes a garbage cycle each request and says how many of those made so far are still alive."""
    _cycles.append(weakref.ref(_Node()))
    alive = sum(ref() is not None for ref in _cycles)
    return {"alive": alive, "made": len(_cycles), "frozen": gc.get_freeze_count()}


def answer(request: dict[str, Any]) -> dict[str, Any]:
    if request.get("sleep"):
        time.sleep(request["sleep"])
    if request.get("exit") is not None:
        os._exit(request["exit"])
    if request.get("raise"):
        raise ValueError(request["raise"])
    if request.get("print"):
        print(request["print"])  # user output must not reach the protocol
    return {"pid": os.getpid(), "echo": request.get("echo")}


def fails(request: dict[str, Any]) -> dict[str, Any]:
    """A handler that fails on every request, as a bug in typedml's checking would."""
    raise ValueError(f"broken on {request.get('target')!r}")
