"""Smoke test of ``benchmarks/bench_host.py``: it runs, its honesty check passes, every ratio is reported.

No timing is asserted: timings belong to the benchmark run, not to the test suite.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_host.py"


def test_bench_host_quick_run(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_host_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    out = tmp_path / "host.json"
    result = bench.main(["--sizes", "64", "--repeat", "1", "--min-time", "0.0005", "--warmup", "1", "--json", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == result
    (row,) = result["results"]
    assert row["n"] == 64 and all(c["ok"] for c in row["correctness"])
    assert set(row["variants"]) == {"a_host_stage", "b_numpy_direct", "c_bare_pure_callback", "d_plain_stage"}
    for v in row["variants"].values():
        assert v["median_us"] > 0 and {"ratio_to_numpy", "ratio_to_bare_callback", "ratio_to_plain_stage"} <= set(v)
    assert row["variants"]["b_numpy_direct"]["ratio_to_numpy"] == 1.0
    assert "| 64 | a_host_stage |" in capsys.readouterr().out
