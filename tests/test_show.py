"""Graph pictures: DOT parsed back, Mermaid, and the HTML page rendered in a real headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pydot
import pytest

from examples.sensor.broken import sensor_transposed
from examples.sensor.pipeline import sensor
from tests.fixtures.shapes import nested, unused, wrong_unit


def parse_dot(text: str) -> pydot.Dot:
    with warnings.catch_warnings():  # pydot's parser calls pyparsing's deprecated camelCase names
        warnings.simplefilter("ignore", DeprecationWarning)
        graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1, text
    return graphs[0]


def unquote(value: str | None) -> str:
    assert value is not None
    return value[1:-1] if value.startswith('"') else value


def test_dot_parses_back_with_every_stage_and_labelled_edges():
    graph = parse_dot(sensor.to_dot())
    labels = {unquote(n.get("label")).split("\\n")[0] for n in graph.get_nodes() if re.fullmatch(r"n\d+", n.get_name())}
    assert labels == {"raw", "gain", "offset", "calibrate", "mean", "return"}
    edge_labels = [unquote(e.get("label")) for e in graph.get_edges()]
    assert len(edge_labels) == sensor.graph.number_of_edges()
    # the V -> mV conversion typedml inserts is visible on its edge, and K -> degC on the output
    assert any("V→mV: ×1000" in label for label in edge_labels), edge_labels
    assert any("K→°C" in label for label in edge_labels), edge_labels
    assert all(re.search(r"\(.*\) (Float|Int|Bool)", label) for label in edge_labels)


def test_failing_edge_is_red_with_its_code_and_diagnostic():
    graph = parse_dot(wrong_unit.to_dot())
    red = [e for e in graph.get_edges() if unquote(e.get("color")) == "#c62828"]
    assert len(red) == 1
    assert "TM102" in unquote(red[0].get("label"))
    assert "return expects kg" in unquote(red[0].get("tooltip"))
    others = [e for e in graph.get_edges() if e not in red]
    assert others and all("TM" not in unquote(e.get("label")) for e in others)


def test_transposed_flagship_marks_every_failing_edge():
    graph = parse_dot(sensor_transposed.to_dot())
    failing = sorted(
        unquote(e.get("label")).split("✗ ")[1] for e in graph.get_edges() if "✗" in unquote(e.get("label"))
    )
    assert failing == ["TM105", "TM105", "TM105"]


def test_mermaid_has_nodes_edges_and_failing_style():
    text = wrong_unit.to_mermaid()
    assert text.startswith("flowchart LR")
    assert len(re.findall(r"-->\|", text)) == wrong_unit.graph.number_of_edges()
    assert re.search(r"linkStyle \d+ stroke:#c62828", text)
    assert "TM102" in text
    ok = nested.to_mermaid()
    assert "#c62828" not in ok.split("classDef failing")[1].split("\n", 1)[1]


class _Dom(HTMLParser):
    """The parts of the page the tests look at: nodes, edges and scripts or remote references."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[dict[str, str | None]] = []
        self.edges: list[dict[str, str | None]] = []
        self.remote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "g" and "node" in cls:
            self.nodes.append(a)
        if tag == "g" and "edge" in cls:
            self.edges.append(a)
        for key in ("src", "href"):
            value = a.get(key) or ""
            if value.startswith(("http:", "https:", "//")):
                self.remote.append(value)


def dom_of(html: str) -> _Dom:
    dom = _Dom()
    dom.feed(html)
    return dom


def test_html_is_self_contained_with_one_node_per_stage():
    html = wrong_unit.to_html()
    dom = dom_of(html)
    assert dom.remote == []
    stages = sorted(str(n["data-stage"]) for n in dom.nodes if n["data-kind"] == "stage")
    assert stages == ["fit", "predict"]
    assert [e["data-status"] for e in dom.edges].count("error") == 1
    assert "warning[TM153]" in unused.to_html()


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium where it can)")


@pytest.mark.parametrize("pipeline", [wrong_unit, nested, sensor_transposed], ids=lambda p: p.spec.name)
def test_html_renders_in_headless_chromium(pipeline, tmp_path: Path):
    exe = browser()
    page = tmp_path / "page.html"
    page.write_text(pipeline.to_html(), encoding="utf-8")
    done = subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    dom = dom_of(done.stdout)  # the DOM after rendering, as the browser built it
    expected = sorted(n for n, d in pipeline.graph.nodes(data=True) if d["kind"] in ("stage", "pipeline"))
    assert sorted(str(n["data-stage"]) for n in dom.nodes if n["data-kind"] in ("stage", "pipeline")) == expected
    failing = len([d for *_, d in pipeline.graph.edges(data=True) if d.get("status") == "error"])
    assert [e["data-status"] for e in dom.edges].count("error") == failing
