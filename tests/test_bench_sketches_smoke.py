"""Smoke test of ``benchmarks/bench_sketches.py``: it runs in reduced mode and produces the
complete accuracy table. No timing is asserted; the observed errors are checked against the
stated bounds by the sketch tests, not here."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_sketches.py"


def test_bench_sketches_reduced_run(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_sketches_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    out = tmp_path / "sketches.json"
    result = bench.main(["--sizes", "200", "--repeats", "1", "--json", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == result
    rows = result["rows"]
    assert {r["sketch"] for r in rows} == {"count-min", "hyperloglog", "minhash", "bloom", "quantile", "reservoir"}
    for row in rows:
        assert row["n"] == 200 and row["bound"] > 0 and row["observed"] >= 0
    printed = capsys.readouterr().out
    assert printed.count("\n") == len(rows) + 2 and "| stated bound |" in printed
