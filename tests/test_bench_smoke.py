"""Smoke test of ``benchmarks/bench_fused.py``: it runs, produces results and its honesty check passes.

No timing is asserted: timings belong to the benchmark run, not to the test suite.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_fused.py"


def load_script(script: Path = SCRIPT) -> ModuleType:
    name = f"{script.stem}_under_test"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, script)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def test_bench_fused_quick_run(tmp_path: Path, capsys) -> None:
    bench = load_script()
    out = tmp_path / "bench.json"
    sizes = [8, 64]
    result = bench.main(
        [
            "--quick",
            "--sizes",
            *map(str, sizes),
            "--repeat",
            "1",
            "--min-time",
            "0.0005",
            "--warmup",
            "1",
            "--json",
            str(out),
        ]
    )

    assert out.exists()
    assert json.loads(out.read_text(encoding="utf-8")) == result
    assert [r["n"] for r in result["results"]] == sizes
    assert len(result["edge_conversions"]) >= 5  # the chain really converts units on its edges
    for size in result["results"]:
        assert set(size["variants"]) == {"a", "b", "c", "d", "e"}
        for variant in size["variants"].values():
            assert variant["median_us"] > 0 and len(variant["samples_us"]) == 1
        checks = {c["variant"]: c["ok"] for c in size["correctness"]}
        assert checks == {"a": True, "c": True, "d": True, "e": True}  # (a) computes what (b) computes
        assert size["variants"]["a"]["output_dtype"] == "float32"
    assert [f["n"] for f in result["forms"]] == sizes  # the call forms, each honesty-checked against (b)
    for size in result["forms"]:
        assert set(size["forms"]) == set(bench.FORMS)
        for form in size["forms"].values():
            assert form["median_us"] > 0 and form["baseline_median_us"] > 0 and len(form["samples_us"]) == 1
        assert set(size["extra_input_us"]) == {"positional", "keywords", "tm.Quantity"}
    assert set(result["boundary"]["overhead_us"]) == set(bench.FORMS)  # typedml's own cost, stubbed out
    assert result["imports"] is None  # --quick spawns no fresh processes
    printed = capsys.readouterr().out
    assert "(a)/(b)" in printed and "call forms" in printed


def test_bench_fused_import_times() -> None:
    bench = load_script()
    result = bench.import_times(1)
    assert result["runs"] == 1
    for clock in ("wall", "cpu"):
        steps = result["median_s"][clock]
        assert set(steps) == {"jax", "typedml after jax", "first get_registry()", "first tm.stdlib"}
        assert all(v > 0 for v in steps.values())


def test_bench_check_quick_run(tmp_path: Path, capsys) -> None:
    bench = load_script(SCRIPT.with_name("bench_check.py"))
    out = tmp_path / "check.json"
    result = bench.main(["--quick", "--json", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == result
    rows = result["rows"]
    assert [(r["form"], r["stages"]) for r in rows] == [
        ("distinct", 20),
        ("distinct", 100),
        ("reused", 20),
        ("reused", 100),
    ]
    for row in rows:
        assert row["check_s"] > 0 and row["per_stage_ms"] > 0
    printed = capsys.readouterr().out
    assert "growth N^k" in printed and printed.count("distinct") >= 2


def test_bench_trace_check_quick_run(tmp_path: Path, capsys) -> None:
    bench = load_script(SCRIPT.with_name("bench_trace_check.py"))  # refuses to run if the check is off
    out = tmp_path / "trace.json"
    result = bench.main(["--quick", "--json", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == result
    assert [(r["form"], r["stages"]) for r in result] == [("distinct", 10), ("reused", 10)]
    for row in result:
        assert row["trace_ratio"] > 0 and row["first_ratio"] > 0
    assert "first call" in capsys.readouterr().out


def test_bench_debug_quick_run(tmp_path: Path, capsys) -> None:
    bench = load_script(SCRIPT.with_name("bench_debug.py"))
    out = tmp_path / "debug.json"
    result = bench.main(["--quick", "--sizes", "64", "--json", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == result
    (size,) = result["results"]
    assert size["n"] == 64 and set(size["variants"]) == {"plain", "checked", "debug"}
    for variant in size["variants"].values():
        assert variant["median_us"] > 0 and len(variant["samples_us"]) == 3
    assert size["variants"]["plain"]["ratio_paired"] == 1.0
    assert "÷ plain" in capsys.readouterr().out


def test_perf_suite_quick_run(tmp_path: Path, capsys) -> None:
    bench = load_script(SCRIPT.parent / "perf" / "run.py")
    out = tmp_path / "perf.json"
    result = bench.main(["--quick", "--json", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(result))
    (size,) = result["steady"]
    expected = {"typedml", "jax.jit", "pint+numpy", "jaxtyping+beartype per stage"}
    assert expected <= set(size["variants"])
    assert ("hamilton+numpy" in size["variants"]) == size["hamilton"]
    for row in size["variants"].values():
        assert row["median_us"] > 0 and len(row["samples_us"]) == 2
    first = result["first_call"]["median_ms"]
    assert set(first) == {"jax_first", "typedml_first", "check", "typedml_after_check"}
    assert all(v > 0 for v in first.values())
    assert [(r["form"], r["stages"]) for r in result["check_scaling"]] == [
        ("distinct", 10),
        ("distinct", 40),
        ("reused", 10),
        ("reused", 40),
    ]
    assert result["memory"]["bytes_per_stage"] > 0
    printed = capsys.readouterr().out
    for part in ("1. steady state", "2. first call", "3. static check time", "4. memory"):
        assert part in printed


def test_perf_suite_gpu_skips_cleanly_without_a_gpu(tmp_path: Path, capsys) -> None:
    import jax

    bench = load_script(SCRIPT.parent / "perf" / "run.py")
    try:
        has_gpu = bool(jax.devices("gpu"))
    except RuntimeError:
        has_gpu = False
    if has_gpu:
        pytest.skip("a GPU is present: the GPU run is a measurement, not a smoke test")
    result = bench.main(["--device", "gpu", "--quick", "--json", str(tmp_path / "gpu.json")])
    assert result["skipped"].startswith("no GPU")
    assert "steady" not in result
    assert "skipped" in capsys.readouterr().out


def test_gpu_check_script_skips_cleanly_without_a_gpu(tmp_path: Path) -> None:
    import subprocess

    import jax

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is present: the script would run the GPU checks for real")
    script = SCRIPT.parent / "gpu_check.sh"
    env = dict(os.environ, PYTHON=sys.executable, GPU_CHECK_OUT=str(tmp_path))
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "gpu_check: skipped, no GPU available to JAX"
    assert not any(tmp_path.iterdir())  # nothing ran


def test_bench_stream_quick_run(tmp_path: Path, capsys) -> None:
    bench = load_script(SCRIPT.with_name("bench_stream.py"))
    out = tmp_path / "stream.json"
    result = bench.main(["--quick", "--json", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == result
    assert result["streamed"]["rows"] == 200_003 and result["streamed"]["chunks"] == 11
    assert result["max_rel_diff_mean"] < 1e-5 and result["max_rel_diff_std"] < 1e-4  # streamed equals in memory
    assert result["streamed"]["unit"] == "meter"
    assert "rows/s" in capsys.readouterr().out


def test_bench_data_quick_run(tmp_path: Path, capsys) -> None:
    pytest.importorskip("xarray")
    bench = load_script(SCRIPT.with_name("bench_data.py"))
    out = tmp_path / "data.json"
    rows = bench.main(["--quick", "--json", str(out)])
    assert set(rows) == {"plain", "dataarray", "float64"}
    assert json.loads(out.read_text(encoding="utf-8"))["rows"] == rows
    assert rows["plain"]["ratio_to_plain"] == 1.0
    assert "paired" in capsys.readouterr().out


def test_bench_layout_quick_run(capsys) -> None:
    bench = load_script(SCRIPT.with_name("bench_layout.py"))
    result = bench.main(["--sizes", "10", "20", "--repeat", "1"])
    assert [r["stages"] for r in result["rows"]] == [10, 20]
    assert all(r["to_html_s"] > 0 and r["page_bytes"] > 0 for r in result["rows"])
    assert isinstance(result["exponent"], float)
    assert "growth exponent of to_html()" in capsys.readouterr().out


def test_bench_parquet_quick_run(tmp_path: Path, capsys) -> None:
    pytest.importorskip("pyarrow")
    bench = load_script(SCRIPT.with_name("bench_parquet.py"))
    out = tmp_path / "parquet.json"
    result = bench.main(["--quick", "--json", str(out)])
    assert json.loads(out.read_text(encoding="utf-8"))["ratio_seconds"] == result["ratio_seconds"]
    assert result["typedml"]["rows"] == result["baseline"]["rows"] == result["rows"] > 0
    assert result["max_rel_diff_mean"] < 1e-4
    assert "typedml / baseline seconds" in capsys.readouterr().out
