"""Pictures of a pipeline's graph: Graphviz DOT, Mermaid, and a self-contained HTML/SVG page.

All three draw the same model: one node per input, stage call, nested pipeline and output;
one edge per value passed, labelled ``unit shape dtype`` (``V (b, c) Float``), with the
conversion inserted on it (``V→mV: ×1000``) and, on a failing edge, the diagnostic codes.
The HTML page lays the graph out itself (topological layers, left to right) so it needs no
Graphviz and no network.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._cost import si as _si
from ._errors import Diagnostic
from ._graph import value_label
from ._layout import Layout, layout
from ._text import html_text, visible

if TYPE_CHECKING:
    from ._cost import CostReport
    from ._plan import CheckedPlan

__all__ = ["LEGEND_CSS", "LEGEND_HTML", "graph_svg", "to_dot", "to_html", "to_mermaid"]

COLORS = {"ok": "#455a64", "converted": "#1565c0", "error": "#c62828", "unverified": "#ef6c00"}
FILLS = {"input": "#e3f2fd", "output": "#e8f5e9", "stage": "#ffffff", "pipeline": "#f3e5f5", "error": "#ffebee"}
KIND_NAMES = {"input": "input", "output": "output", "stage": "stage", "pipeline": "nested pipeline"}


@dataclasses.dataclass
class _Node:
    id: str  # the graph's node id (``input:raw``, ``calibrate``)
    kind: str
    title: str
    subtitle: str
    diagnostics: list[Diagnostic]

    @property
    def status(self) -> str:
        if any(d.severity == "error" for d in self.diagnostics):
            return "error"
        return "unverified" if self.diagnostics else "ok"

    @property
    def tooltip(self) -> str:
        head = f"{KIND_NAMES[self.kind]} {self.title}" + (f"\n{self.subtitle}" if self.subtitle else "")
        return "\n".join([head, *(str(d) for d in self.diagnostics)])


@dataclasses.dataclass
class _Edge:
    src: str
    dst: str
    port: str
    label: list[str]  # lines
    status: str  # ok, error, unverified
    converted: bool
    diagnostics: list[Diagnostic]
    where: str  # ``calibrate -> mean.x``

    @property
    def color(self) -> str:
        if self.status in ("error", "unverified"):
            return COLORS[self.status]
        return COLORS["converted"] if self.converted else COLORS["ok"]

    @property
    def tooltip(self) -> str:
        return "\n".join([self.where, *self.label[:2], *(str(d) for d in self.diagnostics)])


@dataclasses.dataclass
class _Model:
    name: str
    nodes: list[_Node]
    edges: list[_Edge]
    diagnostics: list[Diagnostic]  # the whole report


def _model(plan: CheckedPlan) -> _Model:
    report = plan.report
    graph = plan.graph
    on_edges: set[int] = set()
    edges: list[_Edge] = []
    for u, v, key, data in graph.edges(keys=True, data=True):
        diags: list[Diagnostic] = list(data.get("diagnostics", []))
        on_edges.update(id(d) for d in diags)
        label = [_edge_text(data)]
        conv: tuple[float, float] | None = data.get("conversion")
        if conv is not None:
            label.append(_conversion_text(data.get("unit", "?"), data.get("dst_unit", "?"), conv))
        if diags:
            mark = "✗" if data.get("status") == "error" else "?"
            label.append(f"{mark} " + " ".join(dict.fromkeys(d.code for d in diags)))
        dst_kind = graph.nodes[v]["kind"]
        where = f"{value_label(u, data['src_port'])} → " + (
            f"output {data['dst_port']}" if dst_kind == "output" else f"{v}.{data['dst_port']}"
        )
        edges.append(_Edge(u, v, str(key), label, data.get("status", "ok"), conv is not None, diags, where))
    # each node's own diagnostics (those not shown on an edge): by stage, or by input name
    own: dict[str, list[Diagnostic]] = {}
    for d in report.diagnostics:
        if id(d) not in on_edges and (d.stage is not None or d.port is not None):
            own.setdefault(d.stage if d.stage is not None else f"input:{d.port}", []).append(d)
    nodes: list[_Node] = []
    for node, data in graph.nodes(data=True):
        kind: str = data["kind"]
        diags = list(own.get(node, []))
        if kind in ("input", "output"):
            subtitle = data["port"].describe()
        else:
            static: dict[str, Any] = data.get("static") or {}
            parts = [f"{k}={v!r}" for k, v in static.items()]
            if data["name"] != node:
                parts.insert(0, f"calls {data['name']}")
            if kind == "pipeline":
                parts.insert(0, "pipeline")
            subtitle = ", ".join(parts)
            if kind == "pipeline":
                callee = data["callee"]
                inner = callee.configure(**static) if static else callee
                diags += [d for d in inner.check().errors if d not in diags]
        nodes.append(_Node(node, kind, data["name"] if kind in ("input", "output") else node, subtitle, diags))
    return _Model(plan.spec.name, nodes, edges, list(report.diagnostics))


def _edge_text(data: dict[str, Any]) -> str:
    src_type = data.get("src_type")
    if src_type is None:
        return "pytree"
    unit = data.get("unit") or (str(src_type.unit) if src_type.unit is not None else "no unit")
    shape = data.get("shape") or "(" + ", ".join(src_type.dim_str.split()) + ")"
    contracts = "".join(f" {r.name}" for r in src_type.refinements)  # what the value is promised to keep
    return f"{unit} {shape} {src_type.dtype_family}{contracts}"


def _conversion_text(unit: str, dst_unit: str, conv: tuple[float, float]) -> str:
    scale, offset = conv
    text = f"{unit}→{dst_unit}: ×{scale:g}"
    if offset:
        text += f" {'+' if offset > 0 else '−'}{abs(offset):g}"
    return text


def _summary(model: _Model) -> str:
    errors = sum(d.severity == "error" for d in model.diagnostics)
    warnings = len(model.diagnostics) - errors
    if not model.diagnostics:
        return "ok: no problems found"
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


# -- DOT -----------------------------------------------------------------------------------

_DOT_SHAPES = {"input": "ellipse", "output": "ellipse", "stage": "box", "pipeline": "box3d"}


def _dot_quote(text: str) -> str:
    # DOT reads backslash escapes in quoted strings: \n is a line break, \" a quote
    lines = text.replace("\\", "\\\\").replace('"', '\\"').split("\n")
    return '"' + "\\n".join(visible(line) for line in lines) + '"'


def _dot_attrs(**attrs: str | int | float) -> str:
    return "[" + ", ".join(f"{k}={_dot_quote(str(v))}" for k, v in attrs.items()) + "]"


def to_dot(plan: CheckedPlan) -> str:
    """Graphviz DOT: stages as boxes, inputs and outputs as (double) ellipses, failing edges red."""
    model = _model(plan)
    ids = {n.id: f"n{i}" for i, n in enumerate(model.nodes)}
    lines = [
        f"digraph {_dot_quote(model.name)} {{",
        "  "
        + "graph "
        + _dot_attrs(
            rankdir="LR",
            label=f"pipeline {model.name}: {_summary(model)}",
            labelloc="t",
            fontname="Helvetica",
            tooltip="\n".join(str(d) for d in model.diagnostics) or "ok",
        ),
        "  " + "node " + _dot_attrs(fontname="Helvetica", fontsize=11, style="filled"),
        "  " + "edge " + _dot_attrs(fontname="Helvetica", fontsize=9),
    ]
    for node in model.nodes:
        label = node.title + (f"\n{node.subtitle}" if node.subtitle else "")
        attrs: dict[str, str | int | float] = {
            "label": label,
            "shape": _DOT_SHAPES[node.kind],
            "fillcolor": FILLS["error"] if node.status == "error" else FILLS[node.kind],
            "tooltip": node.tooltip,
            "id": node.id,
        }
        if node.kind == "output":
            attrs["peripheries"] = 2
        if node.kind == "stage":
            attrs["style"] = "rounded,filled"
        if node.status != "ok":
            attrs["color"] = COLORS[node.status]
        lines.append(f"  {ids[node.id]} {_dot_attrs(**attrs)};")
    for edge in model.edges:
        attrs = {
            "label": "\n".join(edge.label),
            "color": edge.color,
            "fontcolor": edge.color,
            "tooltip": edge.tooltip,
            "labeltooltip": edge.tooltip,
        }
        if edge.status == "error":
            attrs["penwidth"] = 2.5
        elif edge.status == "unverified":
            attrs["style"] = "dashed"
        lines.append(f"  {ids[edge.src]} -> {ids[edge.dst]} {_dot_attrs(**attrs)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- Mermaid -------------------------------------------------------------------------------

_MERMAID_SHAPES = {"input": ('(["', '"])'), "output": ('{{"', '"}}'), "stage": ('["', '"]'), "pipeline": ('[["', '"]]')}


def _mermaid_text(lines: Sequence[str]) -> str:
    """Label text: Mermaid's entity codes for what would end or restyle a quoted label."""

    def escape(text: str) -> str:
        text = text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
        return visible(text.replace("|", "#124;").replace("`", "#96;"))

    return "<br/>".join(escape(part) for line in lines for part in line.split("\n"))


def to_mermaid(plan: CheckedPlan) -> str:
    """A Mermaid ``flowchart LR``: paste it into Markdown (GitHub, mkdocs-material) to draw it."""
    model = _model(plan)
    ids = {n.id: f"n{i}" for i, n in enumerate(model.nodes)}
    # a statement ends at a line break: user text in comments is kept on its line
    lines = ["flowchart LR", f"  %% pipeline {visible(model.name)}: {_summary(model)}"]
    for node in model.nodes:
        left, right = _MERMAID_SHAPES[node.kind]
        text = _mermaid_text([node.title, *([node.subtitle] if node.subtitle else [])])
        lines.append(f"  {ids[node.id]}{left}{text}{right}")
    for edge in model.edges:
        lines.append(f'  {ids[edge.src]} -->|"{_mermaid_text(edge.label)}"| {ids[edge.dst]}')
    for kind, fill in FILLS.items():
        if kind != "error":
            lines.append(f"  classDef {kind} fill:{fill},stroke:#546e7a")
    lines.append(f"  classDef failing fill:{FILLS['error']},stroke:{COLORS['error']},stroke-width:2px")
    for node in model.nodes:
        lines.append(f"  class {ids[node.id]} {'failing' if node.status == 'error' else node.kind}")
    for i, edge in enumerate(model.edges):
        width = "2.5px" if edge.status == "error" else "1.5px"
        dash = ",stroke-dasharray:4 3" if edge.status == "unverified" else ""
        lines.append(f"  linkStyle {i} stroke:{edge.color},stroke-width:{width},color:{edge.color}{dash}")
    for edge in model.edges:
        for d in edge.diagnostics:
            lines.append(f"  %% {visible(edge.where)}: {d.severity}[{d.code}] {visible(d.message)}")
    return "\n".join(lines) + "\n"


# -- HTML ----------------------------------------------------------------------------------


def graph_svg(plan: CheckedPlan) -> str:
    """The checked graph as an inline SVG element (what ``to_html`` and run reports show)."""
    return _placed_svg(_model(plan))


def _placed_svg(model: _Model) -> str:
    placed = layout(
        [(n.id, _node_lines(n)) for n in model.nodes],
        [(e.src, e.dst, e.label) for e in model.edges],
        outputs={n.id for n in model.nodes if n.kind == "output"},
    )
    return _svg(model, placed)


def to_html(plan: CheckedPlan, cost: CostReport | None = None) -> str:
    """A self-contained page: the graph as inline SVG, a legend, and every diagnostic."""
    model = _model(plan)
    if cost is not None:
        figures = {c.name: c for c in cost.stages}
        for node in model.nodes:
            found = figures.get(node.id)
            if found is not None:
                node.subtitle = ", ".join(
                    p for p in (node.subtitle, f"{_si(found.flops)}FLOP, {_si(found.peak_bytes)}B peak") if p
                )
    svg = _placed_svg(model)
    items = (
        "\n".join(f'<pre class="diagnostic {d.severity}">{html_text(str(d))}</pre>' for d in model.diagnostics)
        or '<p class="ok">No problems found.</p>'
    )
    title = html_text(f"pipeline {model.name}")
    return _PAGE.format(
        title=title,
        summary=html_text(_summary(model)),
        status="error" if any(d.severity == "error" for d in model.diagnostics) else "ok",
        svg=svg,
        legend=_LEGEND,
        legend_css=LEGEND_CSS,
        diagnostics=items,
    )


def _node_lines(node: _Node) -> list[str]:
    return [node.title, *([node.subtitle] if node.subtitle else [])]


def _svg(model: _Model, placed: Layout) -> str:
    out: list[str] = [
        f'<svg class="graph" width="{placed.width:.0f}" height="{placed.height:.0f}" '
        f'viewBox="0 0 {placed.width:.0f} {placed.height:.0f}" role="img" aria-label="{html_text(model.name)}" '
        'font-family="ui-monospace, DejaVu Sans Mono, Menlo, monospace" font-size="12">',
        "<defs>",
    ]
    for status, color in COLORS.items():
        out.append(
            f'<marker id="arrow-{status}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
            'markerUnits="userSpaceOnUse" '
            f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{color}"/></marker>'
        )
    out.append("</defs>")
    for i, edge in enumerate(model.edges):
        route = placed.edges[i]
        status = edge.status
        marker = status if status != "ok" else ("converted" if edge.converted else "ok")
        out.append(
            f'<g class="edge" data-status="{status}" data-src="{html_text(edge.src)}" '
            f'data-dst="{html_text(edge.dst)}" data-port="{html_text(edge.port)}">'
        )
        out.append(f"<title>{html_text(edge.tooltip)}</title>")
        dash = ' stroke-dasharray="5 4"' if status == "unverified" else ""
        width = 2.5 if status == "error" else 1.5
        out.append(
            f'<path d="{route.path}" fill="none" stroke="{edge.color}" stroke-width="{width}"{dash} '
            f'marker-end="url(#arrow-{marker})"/>'
        )
        x, y = route.label_at
        w, h = placed.text_size(edge.label)
        out.append(
            f'<rect class="label-bg" x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" rx="3" '
            'fill="#fafafa" fill-opacity="0.92"/>'
        )
        for j, line in enumerate(edge.label):
            ty = y - h / 2 + placed.pad + (j + 0.8) * placed.line_height
            out.append(
                f'<text x="{x:.1f}" y="{ty:.1f}" text-anchor="middle" fill="{edge.color}">{html_text(line)}</text>'
            )
        out.append("</g>")
    for node in model.nodes:
        box = placed.nodes[node.id]
        fill = FILLS["error"] if node.status == "error" else FILLS[node.kind]
        stroke = COLORS[node.status] if node.status != "ok" else "#546e7a"
        out.append(
            f'<g class="node" data-stage="{html_text(node.id)}" data-kind="{node.kind}" data-status="{node.status}">'
        )
        out.append(f"<title>{html_text(node.tooltip)}</title>")
        rx = box.h / 2 if node.kind in ("input", "output") else 6
        out.append(
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="{rx:.1f}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{2 if node.status == "error" else 1.2}"/>'
        )
        if node.kind == "output":
            out.append(
                f'<rect x="{box.x + 3:.1f}" y="{box.y + 3:.1f}" width="{box.w - 6:.1f}" height="{box.h - 6:.1f}" '
                f'rx="{rx - 3:.1f}" fill="none" stroke="{stroke}"/>'
            )
        if node.kind == "pipeline":
            out.append(
                f'<rect x="{box.x + 4:.1f}" y="{box.y - 4:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="6" '
                f'fill="none" stroke="{stroke}" stroke-dasharray="3 2"/>'
            )
        lines = _node_lines(node)
        top = box.y + (box.h - len(lines) * placed.line_height) / 2
        for j, line in enumerate(lines):
            ty = top + (j + 0.8) * placed.line_height
            look = 'class="title" font-weight="700" fill="#263238"' if j == 0 else 'class="subtitle" fill="#546e7a"'
            out.append(
                f'<text {look} x="{box.x + box.w / 2:.1f}" y="{ty:.1f}" text-anchor="middle">{html_text(line)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


_LEGEND = "\n".join(
    [
        '<ul class="legend">',
        f'<li><span class="swatch pill" style="background:{FILLS["input"]}"></span> input</li>',
        '<li><span class="swatch box"></span> stage</li>',
        f'<li><span class="swatch box" style="background:{FILLS["pipeline"]};border-style:dashed"></span> nested pipeline</li>',
        f'<li><span class="swatch pill double" style="background:{FILLS["output"]}"></span> output</li>',
        f'<li><span class="line" style="border-color:{COLORS["ok"]}"></span> value: unit (shape) dtype</li>',
        f'<li><span class="line" style="border-color:{COLORS["converted"]}"></span> unit converted on the edge</li>',
        f'<li><span class="line thick" style="border-color:{COLORS["error"]}"></span> failing edge (✗ codes)</li>',
        f'<li><span class="line dashed" style="border-color:{COLORS["unverified"]}"></span> unverified (? codes)</li>',
        "<li>hover an edge or a node for details</li>",
        "</ul>",
    ]
)

LEGEND_HTML = _LEGEND
# The legend's and the canvas's styles, shared by every page that shows the graph picture.
LEGEND_CSS = """.canvas { overflow: auto; border: 1px solid #cfd8dc; border-radius: 6px; padding: 0.5rem; background: #fafafa; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; padding: 0; font-size: 0.85rem; }
.legend li { display: flex; align-items: center; gap: 0.35rem; }
.swatch { display: inline-block; width: 26px; height: 14px; border: 1px solid #546e7a; background: #fff; }
.swatch.box { border-radius: 3px; }
.swatch.pill { border-radius: 7px; }
.swatch.double { outline: 1px solid #546e7a; outline-offset: 1px; }
.line { display: inline-block; width: 28px; border-top: 2px solid; }
.line.thick { border-top-width: 3px; }
.line.dashed { border-top-style: dashed; }"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; color: #263238; }}
h1 {{ font-size: 1.25rem; margin: 0 0 0.25rem; }}
.summary {{ margin: 0 0 1rem; font-weight: 600; }}
.summary.error {{ color: #c62828; }}
.summary.ok {{ color: #2e7d32; }}
svg.graph g.edge:hover path {{ stroke-width: 3.5; }}
svg.graph g.edge:hover text {{ font-weight: 700; }}
svg.graph g.node:hover rect {{ stroke-width: 2.5; }}
{legend_css}
pre.diagnostic {{ background: #f5f5f5; padding: 0.5rem 0.75rem; border-left: 4px solid #ef6c00; overflow-x: auto; }}
pre.diagnostic.error {{ border-left-color: #c62828; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p class="summary {status}">{summary}</p>
{legend}
<div class="canvas">
{svg}
</div>
<h2>Diagnostics</h2>
{diagnostics}
</body>
</html>
"""
