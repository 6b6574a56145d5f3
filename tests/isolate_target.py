"""Functions a test worker process runs (``typedml._isolate.Worker`` targets)."""

from __future__ import annotations

import os
import time
from typing import Any


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
