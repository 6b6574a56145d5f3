"""Smoke test of the glue-bug corpus (``benchmarks/gluebugs``): the catch table is complete,
typedml raises no false alarm on a fixed twin, and every case's typedml verdict is the one the
corpus records (so a change in what typedml catches shows up here, in either direction).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gluebugs" / "run.py"


def load_runner() -> ModuleType:
    name = "gluebugs_run_under_test"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, dict[str, Any], str]:
    runner = load_runner()
    out = tmp_path_factory.mktemp("gluebugs") / "gluebugs.json"
    capture = pytest.MonkeyPatch()
    printed: list[str] = []
    capture.setattr("builtins.print", lambda *a, **k: printed.append(" ".join(map(str, a))))
    try:
        result = runner.main(["--json", str(out)])
    finally:
        capture.undo()
    assert json.loads(out.read_text(encoding="utf-8"))["summary"] == json.loads(json.dumps(result["summary"]))
    return runner, result, "\n".join(printed)


def test_corpus_size_and_families(corpus_run) -> None:
    runner, result, _ = corpus_run
    rows = result["cases"]
    assert len(rows) >= 60
    assert len({r["id"] for r in rows}) == len(rows)
    per_family = {f: sum(r["family"] == f for r in rows) for f in runner.corpus.FAMILIES}
    assert min(per_family.values()) >= 6, per_family
    assert all(r["cite"] for r in rows)


def test_table_is_complete(corpus_run) -> None:
    runner, result, printed = corpus_run
    verdicts = {
        "typedml": {"build", "body", "warned", "run", "converted", "missed"},
        "jax": {"definition", "call", "missed"},
        "jaxtyping+beartype": {"definition", "call", "missed"},
        "pint": {"definition", "call", "converted", "missed"},
    }
    for row in result["cases"]:
        assert set(row["tools"]) == set(runner.TOOLS)
        for tool, allowed in verdicts.items():
            assert row["tools"][tool]["verdict"] in allowed, (row["id"], tool)
        assert row["id"] in printed
    summary = result["summary"]
    assert summary["overall"]["cases"] == len(result["cases"])
    for family in [*runner.corpus.FAMILIES, "overall"]:
        assert family in printed
        assert sum(summary[family]["typedml"].values()) == summary[family]["cases"]


def test_fixed_twins_raise_no_false_alarm(corpus_run) -> None:
    _, result, printed = corpus_run
    assert [(r["id"], r["false_alarms"]) for r in result["cases"] if r["false_alarms"]] == []
    assert "false alarms on fixed twins (typedml errors, or warnings that claim a mistake): 0" in printed


def test_every_case_behaves_as_recorded(corpus_run) -> None:
    # `problems` holds: a typedml verdict other than the recorded one, a baseline whose fixed
    # twin raises, or a plain-JAX buggy twin that computes the fixed twin's numbers (no bug shown).
    _, result, _ = corpus_run
    assert [(r["id"], r["problems"]) for r in result["cases"] if r["problems"]] == []
    for row in result["cases"]:
        assert row["tools"]["typedml"]["verdict"] == row["expect"], row["id"]
