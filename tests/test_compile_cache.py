"""JAX's persistent compilation cache through ``tm.enable_compilation_cache``: a second fresh
process loads the flagship pipeline's executable instead of compiling it, computes the same
result, and still refuses what the first refused (the cache sits under the checks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import typedml as tm

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_first_call.py"


def fresh_process(cache: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--child", str(cache)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_second_process_loads_the_pipeline_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "jax-cache"
    first = fresh_process(cache)
    assert first["cache_hits"] == 0 and first["cache_misses"] >= 1
    assert any(cache.iterdir())  # the executable was written
    second = fresh_process(cache)
    assert second["cache_hits"] >= 1  # ...and loaded instead of compiled
    assert second["output"] == first["output"] and second["unit"] == "degree_Celsius"
    assert first["wrong_unit_refused"] == second["wrong_unit_refused"] == "TM203"


def test_a_cache_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cache"
    path.write_text("not a folder")
    with pytest.raises(tm.InputError) as info:
        tm.enable_compilation_cache(path)
    assert info.value.code == "TM252"
    assert info.value.diagnostic.message == f"the compilation cache path {str(path)!r} is a file, not a folder"


def test_a_negative_floor_is_refused(tmp_path: Path) -> None:
    with pytest.raises(tm.InputError, match="min_compile_seconds must be 0 or more"):
        tm.enable_compilation_cache(tmp_path, min_compile_seconds=-1)


def test_the_settings_come_back_after_the_block(tmp_path: Path) -> None:
    import jax

    before = jax.config.jax_compilation_cache_dir  # pyright: ignore[reportAttributeAccessIssue]
    with tm.enable_compilation_cache(tmp_path / "cache") as cache:
        assert jax.config.jax_compilation_cache_dir == str(cache.folder.resolve())  # pyright: ignore[reportAttributeAccessIssue]
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.0  # pyright: ignore[reportAttributeAccessIssue]
    assert jax.config.jax_compilation_cache_dir == before  # pyright: ignore[reportAttributeAccessIssue]
