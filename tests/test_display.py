"""Rich display: what a notebook shows for each typedml object (``_repr_html_``), its escaping,
its size, the ``%load_ext typedml`` exception handler, and the fragments rendered in Chromium."""

from __future__ import annotations

import json
import pickle
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from examples.sensor.broken import sensor_transposed
from examples.sensor.pipeline import calibrate, sensor
from tests.fixtures.shapes import nested, unused, wrong_unit
from typedml import Q


class Dom(HTMLParser):
    """Tags by kind, the text, and anything that would fetch, run or navigate."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.styles = 0
        self.active: list[str] = []  # scripts, event handlers, fetched resources

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        self.styles += tag == "style"
        if tag in ("script", "iframe", "object", "embed", "link", "img", "image", "use"):
            self.active.append(tag)
        self.active += [f"{tag}[{k}]" for k in a if k.startswith("on") or k in ("src", "srcset", "xlink:href")]
        if "href" in a and tag != "a":
            self.active.append(f"{tag}[href]")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **want: str) -> list[dict[str, str]]:
        found = []
        for t, a in self.tags:
            if t == tag and all(want[k] in a.get(k.rstrip("_").replace("_", "-"), "").split() for k in want):
                found.append(a)
        return found

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def dom(html: str) -> Dom:
    parsed = Dom()
    parsed.feed(html)
    return parsed


def data(seed: int = 0, scale: float = 1.0) -> dict[str, Any]:
    reg = tm.get_registry()
    rng = np.random.default_rng(seed)
    raw = (rng.normal(30.0, 1.0, size=(64, 4)) / 1000 * scale).astype(np.float32)
    return {
        "raw": reg.Quantity(raw, "V"),
        "gain": reg.Quantity(np.linspace(0.9, 1.1, 4, dtype=np.float32), "K/mV"),
        "offset": reg.Quantity(np.full(4, 263.15, dtype=np.float32), "K"),
    }


@pytest.fixture(scope="module")
def runs() -> tuple[tm.DebugRun, tm.DebugRun]:
    return sensor.debug(**data()), sensor.debug(**data(seed=1, scale=1.05))


def test_plain_reprs_are_unchanged(runs) -> None:
    assert repr(sensor) == "<typedml.Pipeline sensor (3 inputs, 1 outputs)>"
    assert repr(calibrate) == "<typedml.Stage calibrate>"
    assert repr(sensor.check()) == "CheckReport(diagnostics=[])"  # the pipeline it knows is not shown
    comparison = runs[0].summary().compare(runs[1].summary())
    assert repr(comparison).startswith("Comparison(shifts=(") and repr(comparison).endswith("only_in_other=())")
    assert str(comparison) == comparison.table()
    assert comparison == runs[0].summary().compare(runs[1].summary())  # the reports are not compared


def test_pipeline_shows_its_signature_and_its_graph() -> None:
    page = dom(sensor._repr_html_())
    rows = [a.get("class") for a in page.find("tr")]
    assert rows.count("tm-input") == 3 and rows.count("tm-output") == 1
    text = page.all_text
    for cell in ("raw", "V", "(b, c)", "gain", "K/mV", "degC", "Float", "Mean calibrated temperature"):
        assert cell in text, cell
    nodes = page.find("g", class_="node")
    assert sorted(n["data-stage"] for n in nodes) == sorted(sensor.graph.nodes)
    assert len(page.find("g", class_="edge")) == sensor.graph.number_of_edges()
    assert "V→mV: ×1000" in text  # the conversion typedml inserted, on its edge
    assert "ok: no problems found" in text
    assert page.styles == 1


def test_the_stylesheet_is_scoped_to_the_display() -> None:
    html = sensor._repr_html_()
    css = re.search(r"<style>(.*?)</style>", html, re.S)
    assert css is not None
    selectors = [s.strip() for rule in css.group(1).split("}") if "{" in rule for s in rule.split("{")[0].split(",")]
    assert selectors and all(s.startswith(".typedml") for s in selectors), [
        s for s in selectors if not s.startswith(".typedml")
    ]


def test_a_stage_shows_its_signature_and_body_check() -> None:
    text = dom(calibrate._repr_html_()).all_text
    assert "(batch, channel)" in text and "mV" in text and "ok: no problems found" in text

    @tm.stage
    def scale(x: Q[Float[Array, "n"], "m"], k: float) -> Q[Float[Array, "n"], "m"]:
        return x * k

    text = dom(scale._repr_html_()).all_text
    assert "static" in text and "required" in text and "as_pipeline" in text


def test_check_report_links_each_code_and_marks_the_failing_edges() -> None:
    report = sensor_transposed.check()
    page = dom(report._repr_html_())
    rows = [a for a in page.find("tr") if "data-code" in a]
    # one root cause (raw declared channel-major) is one diagnostic; it breaks three edges
    assert [r["data-code"] for r in rows] == [d.code for d in report.diagnostics] == ["TM105"]
    links = [a for a in page.find("a") if a.get("href", "").endswith("#tm105")]
    assert len(links) == 1 and all(a["target"] == "_blank" for a in links)
    assert links[0]["href"] == report.diagnostics[0].url
    failing = [e for e in page.find("g", class_="edge") if e["data-status"] == "error"]
    assert len(failing) == 3
    text = page.all_text
    assert "1 error" in text and "broken.py:21" in text and "hint: two axes" in text
    assert "gain declares 'c', resolved as (c)" in text  # the notes
    warned = dom(unused.check()._repr_html_()).all_text
    assert "1 warning" in warned and "TM153" in warned


def test_a_check_report_pickles_without_its_plan() -> None:
    report = sensor_transposed.check()
    assert report.plan is not None
    again = pickle.loads(pickle.dumps(report))
    assert again == report and again.plan is None and [d.code for d in again.errors] == ["TM105"]
    assert len(again.errors[0].related) == 3  # the declaration, and the two other edges it breaks


def test_check_report_without_a_pipeline_is_a_table() -> None:
    report = tm.CheckReport([tm.Diagnostic("TM102", "unit mismatch", severity="warning", hint="convert it")])
    page = dom(report._repr_html_())
    assert page.find("svg") == [] and "1 warning" in page.all_text and "hint: convert it" in page.all_text
    assert "No problems found." in dom(tm.CheckReport([])._repr_html_()).all_text


def test_debug_run_and_run_report_have_a_histogram_per_value(runs) -> None:
    run = runs[0]
    for html in (run._repr_html_(), run.summary()._repr_html_()):
        page = dom(html)
        values = [a["data-value"] for a in page.find("tr", class_="value")]
        assert values == list(run.values) == ["raw", "gain", "offset", "calibrate", "mean"]
        assert [a["data-value"] for a in page.find("svg", class_="histogram")] == values
        assert len(page.find("g", class_="node")) == sensor.graph.number_of_nodes()  # the graph, folded


def test_comparison_shows_both_histograms_and_what_moved(runs) -> None:
    comparison = runs[0].summary().compare(runs[1].summary())
    page = dom(comparison._repr_html_())
    moved = [a["data-value"] for a in page.find("tr", class_="shifted")]
    assert moved == comparison.shifted and "raw" in moved
    assert len(page.find("svg", class_="histogram")) == 2 * len(comparison.shifts)
    bare = tm.Comparison(comparison.shifts, (), ())  # built by hand: no reports, no histograms
    assert dom(bare._repr_html_()).find("svg") == []


def test_cost_report_is_a_table_per_stage() -> None:
    cost = sensor.cost(b=100, c=4)
    page = dom(cost._repr_html_())
    assert [a["data-stage"] for a in page.find("tr") if "data-stage" in a] == [s.name for s in cost.stages]
    assert "total (fused)" in page.all_text and "b=100, c=4" in page.all_text


def test_an_error_shows_its_diagnostics() -> None:
    with pytest.raises(tm.WiringError) as info:
        wrong_unit(tm.get_registry().Quantity(np.ones(3), "m"), tm.get_registry().Quantity(np.ones(3), "s"))
    page = dom(info.value._repr_html_())
    assert "WiringError" in page.all_text and [a["data-code"] for a in page.find("tr") if "data-code" in a] == ["TM102"]


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_every_user_string_is_escaped() -> None:
    diagnostic = tm.Diagnostic(
        "TM102",
        HOSTILE,
        tm.Location(HOSTILE, 3, 1),
        notes=(HOSTILE,),
        hint=HOSTILE,
        stage=HOSTILE,
        port=HOSTILE,
        related=(tm.Related(HOSTILE, tm.Location(HOSTILE, 1)),),
    )
    values = {HOSTILE: np.arange(5.0)}
    report = tm.RunReport.from_values(values, {HOSTILE: HOSTILE}, title=HOSTILE)

    @tm.pipeline
    def documented(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, ""], "m"]:
        return tm.stdlib.mean(x)

    documented.__doc__ = HOSTILE
    fragments = [
        tm.TypedMLError(diagnostic)._repr_html_(),
        tm.CheckReport([diagnostic])._repr_html_(),
        report._repr_html_(),
        report.compare(report)._repr_html_(),
        documented._repr_html_(),
    ]
    for html in fragments:
        page = dom(html)
        assert page.active == [], page.active
        assert HOSTILE in page.all_text  # shown as text, intact


def test_no_fragment_fetches_or_runs_anything(runs) -> None:
    fragments = [
        sensor._repr_html_(),
        calibrate._repr_html_(),
        nested._repr_html_(),
        sensor_transposed.check()._repr_html_(),
        runs[0]._repr_html_(),
        runs[0].summary().compare(runs[1].summary())._repr_html_(),
        sensor.cost(b=10, c=2)._repr_html_(),
    ]
    for html in fragments:
        assert dom(html).active == []
        assert "@import" not in html and "url(http" not in html
        hrefs = re.findall(r'href="([^"]*)"', html)
        assert all(h.startswith(tm.Diagnostic("TM001", "").url.split("#")[0]) for h in hrefs), hrefs


def test_each_picture_gets_its_own_marker_ids() -> None:
    first, second = sensor._repr_html_(), sensor._repr_html_()
    ids = re.findall(r'<marker id="([^"]+)"', first)
    assert ids and not set(ids) & set(re.findall(r'<marker id="([^"]+)"', second))
    assert all(f"url(#{i})" in first for i in ids if "error" not in i and "unverified" not in i)


def chain(stages: int) -> tm.Pipeline[..., Any]:
    @tm.stage
    def step(x: Q[Float[Array, "n"], "m"], k: float = 1.0) -> Q[Float[Array, "n"], "m"]:
        return x * k

    @tm.stage
    def mix(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "mm"]) -> Q[Float[Array, "n"], "m"]:
        return x + y

    @tm.pipeline
    def long(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        a = previous = x
        for _ in range(stages // 2):
            b = step(a)
            a, previous = mix(b, previous), b
        return a

    return long


def test_a_200_stage_pipeline_displays_in_under_a_megabyte() -> None:
    big = chain(200)
    html = big._repr_html_()
    assert len(html.encode()) <= 1_000_000
    assert len(dom(html).find("g", class_="node")) == big.graph.number_of_nodes() == 202
    assert len(big.check()._repr_html_().encode()) <= 1_000_000


def test_a_big_graph_or_table_is_cut_with_a_note(monkeypatch, runs) -> None:
    import typedml._display as parts
    import typedml._display_graph as graphs

    monkeypatch.setattr(graphs, "MAX_NODES", 5)
    monkeypatch.setattr(parts, "MAX_ROWS", 2)
    page = dom(sensor._repr_html_())  # 6 nodes
    assert page.find("svg") == [] and "the graph has 6 nodes, more than a notebook display draws (5)" in page.all_text
    page = dom(runs[0]._repr_html_())
    assert len(page.find("tr", class_="value")) == 2 and "the first 2 of 5 values" in page.all_text
    assert page.find("svg", class_="graph") == [] and "the graph has 6 nodes" in page.all_text
    assert "run of pipeline sensor" in page.all_text
    three = tm.CheckReport(sensor_transposed.check().diagnostics * 3)  # one root cause each, three rows
    page = dom(three._repr_html_())
    assert len([a for a in page.find("tr") if "data-code" in a]) == 2 and "and 1 more" in page.all_text
    monkeypatch.setattr(graphs, "MAX_NODES", 6)
    assert len(dom(sensor._repr_html_()).find("g", class_="node")) == 6  # at the limit: drawn


# -- %load_ext typedml -------------------------------------------------------------------


class Shell:
    """What the extension touches of an IPython shell (a kernel's, with ``kernel`` set)."""

    def __init__(self, kernel: bool = True) -> None:
        self.kernel = object() if kernel else None
        self.custom_exceptions: tuple[type[BaseException], ...] = ()
        self.CustomTB: Any = lambda *a, **k: None
        self.shown: list[str] = []
        self.published: list[dict[str, str]] = []
        self.display_pub = self

    def set_custom_exc(self, types: tuple[type[BaseException], ...], handler: Any) -> None:
        self.custom_exceptions = types
        self.CustomTB = lambda etype, value, tb, tb_offset=None: handler(self, etype, value, tb, tb_offset=tb_offset)

    def showtraceback(self, exc_tuple: Any, tb_offset: Any = None) -> None:
        self.shown.append(exc_tuple[0].__name__)

    def publish(self, data: dict[str, str], metadata: dict[str, Any]) -> None:
        self.published.append(data)

    def raise_(self, error: BaseException) -> None:
        assert isinstance(error, self.custom_exceptions)
        self.CustomTB(type(error), error, None)


def test_the_extension_shows_the_table_under_the_traceback() -> None:
    shell = Shell()
    tm.load_ipython_extension(shell)
    error = tm.WiringError(tm.Diagnostic("TM102", "unit mismatch"))
    shell.raise_(error)
    assert shell.shown == ["WiringError"]  # the usual traceback, still an error
    assert len(shell.published) == 1 and 'data-code="TM102"' in shell.published[0]["text/html"]
    assert shell.published[0]["text/plain"] == "WiringError: TM102"
    terminal = Shell(kernel=False)
    tm.load_ipython_extension(terminal)
    terminal.raise_(error)
    assert terminal.shown == ["WiringError"] and terminal.published == []  # text only in a terminal


def test_the_extension_keeps_a_previous_handler_and_gives_it_back() -> None:
    shell = Shell()
    seen: list[str] = []
    shell.set_custom_exc((KeyError,), lambda sh, etype, value, tb, tb_offset=None: seen.append(etype.__name__))
    previous = shell.CustomTB
    tm.load_ipython_extension(shell)
    tm.load_ipython_extension(shell)  # loading twice changes nothing
    assert shell.custom_exceptions == (KeyError, tm.TypedMLError)
    shell.raise_(KeyError("k"))
    shell.raise_(tm.InputError(tm.Diagnostic("TM201", "bad input")))
    assert seen == ["KeyError"] and shell.shown == ["InputError"]
    tm.unload_ipython_extension(shell)
    assert shell.custom_exceptions == (KeyError,) and shell.CustomTB is previous
    tm.unload_ipython_extension(shell)  # unloading twice too


# -- in a browser ------------------------------------------------------------------------

CSP = "default-src 'none'; style-src 'unsafe-inline'"


def render(tmp_path: Path, fragments: list[str], name: str) -> tuple[Dom, list[str]]:
    """Open the fragments in headless Chromium inside a page that forbids every request and
    script (a violation is logged to the console), as a notebook's output area holds them."""
    from tests.test_show import CHROMIUM_FLAGS, browser

    exe = browser()
    page = tmp_path / f"{name}.html"
    body = "\n".join(f'<div class="output">{f}</div>' for f in fragments)
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"/><meta http-equiv="Content-Security-Policy" '
        f'content="{CSP}"/></head><body>{body}</body></html>',
        encoding="utf-8",
    )
    done = subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    return dom(done.stdout), console


def test_the_browser_check_sees_a_request(tmp_path: Path) -> None:
    """The check below can fail: a fragment that fetches something is reported."""
    _, console = render(tmp_path, ['<img src="https://example.invalid/x.png">'], "control")
    assert any("Content Security Policy" in line for line in console), console


def test_the_displays_render_in_chromium_without_errors_or_requests(tmp_path: Path, runs) -> None:
    report = sensor_transposed.check()
    fragments = [
        sensor._repr_html_(),
        calibrate._repr_html_(),
        report._repr_html_(),
        runs[0]._repr_html_(),
        runs[0].summary().compare(runs[1].summary())._repr_html_(),
        sensor.cost(b=10, c=2)._repr_html_(),
        tm.WiringError(report.diagnostics)._repr_html_(),
    ]
    page, console = render(tmp_path, fragments, "displays")
    assert console == []
    assert len(page.find("div", class_="typedml")) == len(fragments)
    failing = [e for e in page.find("g", class_="edge") if e["data-status"] == "error"]
    assert len(failing) == 3  # the check report's graph, as the browser built it
    assert len(page.find("svg", class_="histogram")) == len(runs[0].values) * 3  # the run, then both sides
    assert len([a for a in page.find("tr") if a.get("data-code") == "TM105"]) == 2


def test_the_display_benchmark_runs(tmp_path: Path, capsys) -> None:
    """Smoke run of benchmarks/bench_display.py (no timing asserted: that is the benchmark's job)."""
    from tests.test_bench_smoke import SCRIPT, load_script

    bench = load_script(SCRIPT.parent / "bench_display.py")
    out = tmp_path / "display.json"
    result = bench.main(["--quick", "--json", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == result
    assert result["nodes"] == 22 and result["values"] == 21
    sizes = {name: row["bytes"] for name, row in result["rows"].items()}
    assert sizes["build + check"] is None and all(sizes[n] > 10_000 for n in ("Pipeline", "CheckReport", "DebugRun"))
    assert "every display" in capsys.readouterr().out
