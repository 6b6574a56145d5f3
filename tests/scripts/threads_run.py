"""First calls from many threads at once, in a fresh process: every call gets the right answer.

Usage: ``threads_run.py THREADS ROUNDS``. Each round defines fresh pipelines (nothing built,
nothing compiled), then THREADS threads wait at a barrier and call them at the same moment,
with inputs in mixed units and shapes (and a few bad inputs, which must raise typed errors).
Each result is compared with NumPy. Prints one JSON line: calls, failures and the first few.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from typing import Any

import numpy as np
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

UNITS = {"m": 1.0, "km": 1000.0, "mm": 0.001}


def fresh() -> tuple[Any, Any]:
    """Two new pipelines (and a new stage): built and compiled by whichever thread comes first."""

    @tm.stage
    def scale(x: Q[Float[Array, "n"], "m"], k: Q[Float[Array, ""], ""]) -> Q[Float[Array, "n"], "m"]:
        return x * k

    @tm.pipeline
    def scaled(x: Q[Float[Array, "n"], "m"], k: Q[Float[Array, ""], ""]) -> Q[Float[Array, "n"], "mm"]:
        return scale(x, k)

    @tm.pipeline
    def total(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, ""], "'u"]:
        return tm.stdlib.mean(x)

    return scaled, total


def main() -> None:
    threads, rounds = int(sys.argv[1]), int(sys.argv[2])
    registry = tm.get_registry()
    failures: list[str] = []
    calls = 0
    lock = threading.Lock()
    for r in range(rounds):
        scaled, total = fresh()
        barrier = threading.Barrier(threads)

        def work(
            i: int, scaled: Any = scaled, total: Any = total, barrier: threading.Barrier = barrier, r: int = r
        ) -> None:
            nonlocal calls
            unit = list(UNITS)[i % len(UNITS)]
            n = 3 + (i % 4)
            x = np.arange(1, n + 1, dtype=np.float32)
            k = np.float32(2.0)
            problems: list[str] = []
            barrier.wait()
            try:
                got = scaled(registry.Quantity(x, unit), registry.Quantity(k, ""))
                want = x * UNITS[unit] * 2.0 * 1000.0
                if str(got.units) != "millimeter" or not np.allclose(np.asarray(got.magnitude), want, rtol=1e-5):
                    problems.append(f"scaled {unit} n={n}: {got} != {want} mm")
                mean = total(registry.Quantity(x, unit))
                if str(mean.units) != str(registry.Unit(unit)) or not np.isclose(float(mean.magnitude), x.mean()):
                    problems.append(f"total {unit} n={n}: {mean} != {x.mean()} {unit}")
                try:
                    scaled(registry.Quantity(x, "s"), registry.Quantity(k, ""))
                    problems.append("seconds into a length port: no error")
                except tm.InputError as err:
                    if err.code != "TM203":
                        problems.append(f"seconds: {err.code}")
                try:
                    scaled(registry.Quantity(np.array(["a"] * n), unit), registry.Quantity(k, ""))
                    problems.append("strings: no error")
                except tm.InputError as err:
                    if err.code != "TM208":
                        problems.append(f"strings: {err.code}")
            except BaseException:  # every failure is counted and shown
                problems.append(traceback.format_exc(limit=4))
            with lock:
                calls += 4
                failures.extend(f"round {r} thread {i}: {p}" for p in problems)

        pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    print(json.dumps({"calls": calls, "failures": len(failures), "first": failures[:3]}))


if __name__ == "__main__":
    main()
