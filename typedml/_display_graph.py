"""Rich display in notebooks, for what draws the pipeline's graph: pipelines, stages, check
reports and runs.

The graph is ``_show``'s picture of the checked plan (inline SVG: unit, shape and dtype on every
edge, conversions in blue, failing edges red with their codes), under its legend, in a folding
``<details>``; the run's table is ``_report_html``'s. The parts and the stylesheet are
``_display``'s. A display takes the plan, never the pipeline.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from typing import TYPE_CHECKING, Any

from . import _display
from ._display import defined_at, diagnostics, doc, frame, head, signature, status
from ._show import LEGEND_CSS, LEGEND_HTML, graph_svg
from ._text import html_text

if TYPE_CHECKING:
    from ._check import CheckReport
    from ._debug import DebugRun
    from ._plan import CheckedPlan
    from ._stage import Stage
    from ._summary import RunReport

__all__ = ["MAX_NODES", "check_html", "debug_html", "pipeline_html", "run_html", "stage_html"]

MAX_NODES = 400
"""A bigger graph is not drawn in a notebook (a note says so and names ``to_html()``): the
layout's time grows faster than the graph, and the output would pass 1 MB."""


def pipeline_html(plan: CheckedPlan, docstring: str | None) -> str:
    """A pipeline: the check's verdict, its signature, its checked graph, what the check found."""
    report, spec, graph = plan.report, plan.spec, plan.graph
    stages = sum(1 for _, data in graph.nodes(data=True) if data["kind"] in ("stage", "pipeline"))
    body = [
        head("pipeline", spec.name, status(report.diagnostics), "ok" if report.ok else "error"),
        doc(docstring),
        defined_at(spec.location),
        signature(spec),
        _graph(plan, f"graph: {stages} stage{'s' * (stages != 1)}, {graph.number_of_edges()} values"),
    ]
    if report.diagnostics:
        body.append(diagnostics(report.diagnostics, _display.MAX_ROWS))
    return frame("pipeline", body, LEGEND_CSS)


def stage_html(stage: Stage[..., Any]) -> str:
    """A stage: its signature, its body's check, and the stage alone as a graph (when it needs
    no static configuration to be traced)."""
    spec = stage.spec
    required = [p.name for p in spec.static if p.name not in spec.defaults]
    report = stage.as_pipeline().check() if not required else None
    plan: CheckedPlan | None = report.plan if report is not None else None
    verdict, state = ("", "plain") if report is None else (status(report.diagnostics), "ok" if report.ok else "error")
    body = [head("stage", spec.name, verdict, state), doc(stage.__doc__), defined_at(spec.location), signature(spec)]
    if stage.budget is not None:
        b = stage.budget
        limits = [f"{x:g} B" for x in (b.bytes_per_item,) if x is not None]
        limits += [f"{x:g} FLOP" for x in (b.flops_per_item,) if x is not None]
        body.append(f'<p class="tm-note">budget: {_e(" and ".join(limits))} per item of {_e(b.per)}</p>')
    if required:
        body.append(
            f'<p class="tm-note">static parameters without a default ({_e(", ".join(required))}): '
            "<code>stage.as_pipeline(...)</code> with their values checks the body and draws the graph</p>"
        )
    if plan is not None:
        body.append(_graph(plan, "graph: the stage alone", open_=False))
    if report is not None and report.diagnostics:
        body.append(diagnostics(report.diagnostics, _display.MAX_ROWS))
    return frame("stage", body, LEGEND_CSS)


def check_html(report: CheckReport) -> str:
    """A check's report: the counts, the graph with its failing edges, and every diagnostic."""
    found = report.diagnostics
    plan: CheckedPlan | None = report.plan
    body = [head("check", plan.spec.name if plan is not None else "", status(found), "ok" if report.ok else "error")]
    if plan is not None:
        failing = sum(1 for *_, data in plan.graph.edges(data=True) if data.get("status") == "error")
        title = f"graph: {failing} failing edge{'s' * (failing != 1)}" if failing else "graph"
        body.append(_graph(plan, title, open_=bool(found)))
    body.append(diagnostics(found, _display.MAX_ROWS) if found else '<p class="tm-ok">No problems found.</p>')
    return frame("check", body, LEGEND_CSS)


def run_html(report: RunReport, undrawn: int = 0) -> str:
    """A run's report: the graph (folded), then each value's statistics and histogram.

    ``undrawn``: the node count of a graph left out for its size (a note says so)."""
    from ._report_html import values_table

    bad = sum(1 for v in report.values.values() if v.nan + v.inf)
    verdict = f"{len(report.values)} values" + (f", {bad} with NaN or Inf" if bad else "")
    body = [head(report.title, "", verdict, "error" if bad else "plain")]
    nodes = report.picture.count('<g class="node"') if report.picture else undrawn
    if report.picture and nodes <= MAX_NODES:
        body.append(_picture(report.picture, "graph", open_=False))
    elif nodes:
        body.append(_not_drawn(nodes, "the report's <code>to_html()</code>"))
    shown, limit = report, _display.MAX_ROWS
    if len(report.values) > limit:
        first = dict(itertools.islice(report.values.items(), limit))
        shown = dataclasses.replace(report, values=first)
    body.append(values_table(shown))
    if shown is not report:
        body.append(
            f'<p class="tm-note">the first {limit} of {len(report.values)} values; '
            "<code>to_html()</code> writes a page with all of them</p>"
        )
    return frame("run", body, LEGEND_CSS)


def debug_html(run: DebugRun) -> str:
    """A debug run shows its summary (every value kept, with a histogram); a graph too big to
    show is not drawn for it either."""
    plan: CheckedPlan | None = run.plan
    if plan is None or plan.graph.number_of_nodes() <= MAX_NODES:
        return run_html(run.summary())
    report = dataclasses.replace(run, plan=None).summary()
    report = dataclasses.replace(report, title=f"run of pipeline {plan.spec.name}")
    return run_html(report, undrawn=plan.graph.number_of_nodes())


def _e(text: object) -> str:
    return html_text(str(text))  # escaped, control characters shown as escapes


def _graph(plan: CheckedPlan, title: str, *, open_: bool = True) -> str:
    nodes = plan.graph.number_of_nodes()
    if nodes > MAX_NODES:
        return _not_drawn(nodes, "the pipeline's <code>to_html()</code>")
    return _picture(graph_svg(plan), title, open_=open_)


def _not_drawn(nodes: int, where: str) -> str:
    return (
        f'<p class="tm-note">the graph has {nodes} nodes, more than a notebook display draws ({MAX_NODES}): '
        f"{where} draws it as a page</p>"
    )


def _picture(svg: str, title: str, *, open_: bool) -> str:
    return (
        f'<details class="tm-graph"{" open" if open_ else ""}><summary>{_e(title)}</summary>'
        f'{LEGEND_HTML}<div class="canvas">{_unique_ids(svg)}</div></details>'
    )


def _unique_ids(svg: str) -> str:
    """Give the picture's arrow markers ids of their own: a notebook page holds many pictures,
    and a marker found in a folded (hidden) one would not draw in the others."""
    token = f"tm{uuid.uuid4().hex[:10]}-arrow-"
    return svg.replace('id="arrow-', f'id="{token}').replace("url(#arrow-", f"url(#{token}")
