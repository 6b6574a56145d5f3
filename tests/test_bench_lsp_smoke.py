"""Smoke test of ``benchmarks/bench_lsp.py --quick``: the editor benchmark runs and prints its table.

No timing is asserted: timings belong to the benchmark run, not to the test suite.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_lsp.py"


def test_bench_lsp_quick_run() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    # one row per size: stages, saves, wall median/p95, CPU median/p95, the CLI baseline and the ratio
    row = re.search(r"^\s+10\s+3\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+([\d.]+)x$", out, re.M)
    assert row is not None, out
    wall_median, wall_p95 = float(row[1]), float(row[2])
    assert 0 < wall_median <= wall_p95
    assert int(row[5]) > 0  # the fresh-process baseline was measured
    # both memory figures, each with a growth line
    assert out.count("growth ") == 2, out
    assert "first diagnostics" in out and "initialize answered" in out
