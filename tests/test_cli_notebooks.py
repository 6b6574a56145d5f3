"""``typedml check`` on Jupyter notebooks: code cells run in order, diagnostics placed in cells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from typedml._cli import main

ROOT = Path(__file__).resolve().parent.parent

HEADER = """\
%load_ext typedml
import numpy as np
from jaxtyping import Array, Float
import typedml as tm
from typedml import Q
"""

STAGE = """\
@tm.stage
def speed(d: Q[Float[Array, "n"], "m"], t: Q[Float[Array, "n"], "s"]) -> Q[Float[Array, "n"], "m/s"]:
    return d / t
"""

WRONG = """\
@tm.pipeline
def pace(d: Q[Float[Array, "n"], "m"], t: Q[Float[Array, "n"], "kg"]) -> Q[Float[Array, "n"], "m/s"]:
    return speed(d, t)
"""

RIGHT = WRONG.replace('"kg"', '"ms"')


def notebook(path: Path, *cells: str, markdown_first: bool = True) -> Path:
    """A notebook file of code cells (after one markdown cell, as notebooks usually start)."""
    entries = [{"cell_type": "markdown", "metadata": {}, "source": ["# A notebook\n"]}] if markdown_first else []
    for source in cells:
        lines = source.splitlines(keepends=True)
        entries.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": lines})
    document = {"cells": entries, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    out, _ = capsys.readouterr()
    return status, out


def test_a_notebook_is_checked_cell_by_cell_and_places_diagnostics_in_cells(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebook(tmp_path / "analysis.ipynb", HEADER, STAGE, "files = !ls\n%time 1 + 1\nnp.mean?\n", WRONG)
    status, out = run(capsys, "check", "analysis.ipynb")
    assert status == 1, out
    head = out.splitlines()[0]
    # cell 5 (a markdown cell first): the pipeline's line 3, where t reaches speed.t
    assert head.startswith("analysis.ipynb#cell5:3:") and "error[TM102]" in head, out
    assert "analysis.ipynb#cell5:2:" in out  # where the pipeline input is declared
    assert out.strip().splitlines()[-1] == "checked 1 pipeline in 1 module: 1 error, 0 warnings"

    notebook(tmp_path / "analysis.ipynb", HEADER, STAGE, RIGHT)
    status, out = run(capsys, "check", "analysis.ipynb")
    assert status == 0, out
    assert out.strip().splitlines()[-1] == "checked 1 pipeline in 1 module: 0 errors, 0 warnings"


def test_a_cell_magic_cell_is_not_run_and_a_failing_cell_is_TM401_in_that_cell(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebook(tmp_path / "shell.ipynb", "%%bash\nexit 3\n", HEADER, STAGE, RIGHT)
    status, out = run(capsys, "check", "shell.ipynb")
    assert status == 0, out

    notebook(tmp_path / "fails.ipynb", HEADER, "x = 1\nraise RuntimeError('no data here')\n", STAGE)
    status, out = run(capsys, "check", "fails.ipynb")
    assert status == 2, out
    assert out.startswith(
        "fails.ipynb#cell3:2:1: error[TM401] cannot run notebook 'fails.ipynb': RuntimeError: no data here"
    )

    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    status, out = run(capsys, "check", "broken.ipynb")
    assert status == 2 and "error[TM401]" in out and "is not a Jupyter notebook" in out, out


def test_skip_comment_and_folders(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebook(tmp_path / "draft.ipynb", "# typedml: skip-file\n", HEADER, STAGE, WRONG)
    status, out = run(capsys, "check", "draft.ipynb")
    assert status == 0 and "skipped 1" in out, out

    notebook(tmp_path / "wrong.ipynb", HEADER, STAGE, WRONG)
    (tmp_path / "plain.py").write_text(HEADER.replace("%load_ext typedml\n", "") + STAGE + RIGHT, encoding="utf-8")
    status, out = run(capsys, "check", ".")  # a folder: its .py files only
    assert status == 0 and "checked 1 pipeline in 1 module" in out, out
    status, out = run(capsys, "check", ".", "--notebooks")  # and its notebooks
    assert status == 1 and "wrong.ipynb#cell4:3:" in out and "checked 2 pipelines in 2 modules" in out, out


def test_the_tour_notebook_stops_where_it_shows_an_error(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, out = run(capsys, "check", "examples/notebook/tour.ipynb", "--format", "json")
    document = json.loads(out)
    # the tour calls a mislabelled pipeline on purpose (cell 12): Run all stops there, and so does the check
    assert status == 2 and document["summary"]["not_imported"] == 1
    (found,) = document["diagnostics"]
    assert found["code"] == "TM102" and found["path"] == "examples/notebook/tour.ipynb#cell10"


def test_sarif_names_the_notebook_file_and_the_cell(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebook(tmp_path / "analysis.ipynb", HEADER, STAGE, WRONG)
    status, out = run(capsys, "check", "analysis.ipynb", "--format", "sarif")
    assert status == 1
    (result,) = json.loads(out)["runs"][0]["results"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == (tmp_path / "analysis.ipynb").resolve().as_uri()
    assert physical["properties"] == {"cell": 4, "line": 3, "column": physical["properties"]["column"]}
    assert "region" not in physical  # a cell's line is no line of the notebook's JSON text
