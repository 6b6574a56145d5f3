"""The example notebook runs in a real Jupyter kernel, and its cells show what the tour says.

The notebook is executed once (nbclient + ipykernel, as Jupyter would run it) and every test
reads the outputs of that one run.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_display import dom

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "notebook" / "tour.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, list[Any]]]:
    """(source, outputs) of each code cell, after one run of the notebook in a kernel."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # a kernel of this interpreter, under a name no installed kernel has (a system "python3"
    # would be another Python, without typedml)
    kernels = tmp_path_factory.mktemp("jupyter")
    spec = kernels / "kernels" / "typedml-tests"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "typedml tests", "language": "python"}))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(kernels))
        mp.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's own paths, without its deprecation warning
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name="typedml-tests", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
        )
        client.execute()
    return [(cell.source, cell.outputs) for cell in notebook.cells if cell.cell_type == "code"]


def cell(executed: list[tuple[str, list[Any]]], starts: str, *, exact: bool = False) -> list[Any]:
    found = [outputs for source, outputs in executed if (source == starts if exact else source.startswith(starts))]
    assert len(found) == 1, f"no single cell starts with {starts!r}"
    return found[0]


def html_of(outputs: list[Any]) -> str:
    found = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(found) == 1, [o.get("output_type") for o in outputs]
    return found[0]


def test_the_committed_notebook_has_no_outputs() -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert all(
        not c.get("outputs") and c.get("execution_count") is None for c in notebook.cells if c.cell_type == "code"
    )


def test_every_display_comes_with_html_and_plain_text(executed) -> None:
    for source, outputs in executed:
        for output in outputs:
            if output["output_type"] in ("execute_result", "display_data") and WIDGET not in output["data"]:
                assert {"text/html", "text/plain"} <= set(output["data"]), source
                assert "<script" not in output["data"]["text/html"], source


def test_the_stage_and_the_pipeline_show_signature_and_graph(executed) -> None:
    stage = dom(html_of(cell(executed, "calibrate", exact=True)))
    assert "(batch, channel)" in stage.all_text and "ok: no problems found" in stage.all_text
    outputs = cell(executed, "sensor", exact=True)
    pipeline = dom(html_of(outputs))
    assert {n["data-stage"] for n in pipeline.find("g", class_="node")} >= {"calibrate", "mean", "input:raw"}
    assert "V→mV: ×1000" in pipeline.all_text
    assert [o["data"]["text/plain"] for o in outputs] == ["<typedml.Pipeline sensor (3 inputs, 1 outputs)>"]


def test_the_check_shows_the_code_linked_and_the_failing_edge(executed) -> None:
    page = dom(html_of(cell(executed, "@tm.pipeline\ndef mislabelled")))
    assert [a["data-code"] for a in page.find("tr") if "data-code" in a] == ["TM102"]
    assert any(a["href"].endswith("errors/#tm102") for a in page.find("a"))
    assert [e["data-status"] for e in page.find("g", class_="edge")].count("error") == 1
    assert re.search(r"Cell In\[\d+\], line 7", page.all_text)  # a place in the notebook, not a temp file


def test_an_error_in_a_cell_shows_the_traceback_and_the_table(executed) -> None:
    outputs = cell(executed, "rng = ")
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["WiringError"] and "error[TM102]" in errors[0]["evalue"]
    table = dom(html_of(outputs))
    assert [a["data-code"] for a in table.find("tr") if "data-code" in a] == ["TM102"]


def test_the_debug_run_has_a_histogram_per_value(executed) -> None:
    page = dom(html_of(cell(executed, "run = sensor.debug")))
    values = [a["data-value"] for a in page.find("tr", class_="value")]
    assert values == ["raw", "gain", "offset", "calibrate", "mean"]  # three inputs, two stage outputs
    assert [a["data-value"] for a in page.find("svg", class_="histogram")] == values


def test_the_comparison_flags_the_drift(executed) -> None:
    page = dom(html_of(cell(executed, "drifted = ")))
    assert {a["data-value"] for a in page.find("tr", class_="shifted")} >= {"raw", "calibrate", "mean"}
    assert "gain" not in {a["data-value"] for a in page.find("tr", class_="shifted")}
    assert len(page.find("svg", class_="histogram")) == 2 * 5


def test_the_cost_and_the_stream(executed) -> None:
    cost = dom(html_of(cell(executed, "sensor.cost")))
    assert [a["data-stage"] for a in cost.find("tr") if "data-stage" in a] == ["calibrate", "mean"]
    stream = cell(executed, "chunks = ")
    assert any(WIDGET in o.get("data", {}) for o in stream), "the progress bar is not a widget"
    assert stream[-1]["data"]["text/plain"].endswith("'volt')>")  # the mean of the raw readings, in their unit
