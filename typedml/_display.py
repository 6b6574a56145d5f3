"""Rich display in notebooks: the parts every display shares, and the displays without a graph.

Each class has a thin ``_repr_html_`` that calls one function here or in ``_display_graph``
(the displays that draw the pipeline's graph). A display is a ``<div class="typedml">`` with
one stylesheet: the run report's table styles (``_report_html``), the picture's legend styles
when it draws the graph (``_show``), and the few rules of its own below, every selector scoped
under ``.typedml`` so nothing restyles the notebook's page. No scripts, nothing fetched, every
user string escaped. Plain-text reprs are untouched.

This module imports nothing of typedml's at run time but the run report's (leaf) table: the
error classes and reports that display themselves through it sit upstream of everything else.
IPython is never imported; when it is already loaded, a place in a notebook cell is written the
way IPython's tracebacks write it (``Cell In[3], line 5``).
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from ._text import html_text

if TYPE_CHECKING:
    from ._cost import CostReport
    from ._errors import Diagnostic, Location, TypedMLError
    from ._spec import Port, Spec
    from ._summary import Comparison

__all__ = [
    "MAX_ROWS",
    "comparison_html",
    "cost_html",
    "defined_at",
    "diagnostics",
    "doc",
    "error_html",
    "frame",
    "head",
    "place",
    "signature",
    "status",
]


MAX_ROWS = 400
"""A table shows its first ``MAX_ROWS`` rows (values of a run, diagnostics) and says how many
more there are: a display stays small whatever the pipeline's size."""

# -- displays ------------------------------------------------------------------------------


def error_html(error: TypedMLError) -> str:
    """An error that reached a cell: its class and the same diagnostics table as a check."""
    return frame(
        "error",
        [head(type(error).__name__, "", status(error.diagnostics), "error"), diagnostics(error.diagnostics, MAX_ROWS)],
    )


def comparison_html(comparison: Comparison) -> str:
    """How far each value moved: SMD, quantile distance, and both runs' histograms side by side."""
    from ._report_html import histogram_svg

    reference, other = comparison.reference, comparison.other
    moved = comparison.shifted
    rows: list[str] = []
    for s in comparison.shifts:
        before = histogram_svg(reference.values[s.name]) if reference is not None else ""
        after = histogram_svg(other.values[s.name]) if other is not None else ""
        rows.append(
            f'<tr class="value{" shifted" if s.shifted else ""}" data-value="{_e(s.name)}"><th>{_e(s.name)}</th>'
            f'<td class="unit">{_e(s.unit or "—")}</td><td>{_num(s.smd)}</td><td>{_num(s.quantile_distance)}</td>'
            f'<td class="tm-left">{_e(s.note)}</td><td>{before}</td><td>{after}</td></tr>'
        )
    extra = [
        f'<p class="tm-note">only in the {side}: {_e(", ".join(names))}</p>'
        for side, names in (("reference", comparison.only_in_reference), ("other run", comparison.only_in_other))
        if names
    ]
    body = [
        head("comparison", "", f"moved: {', '.join(moved)}" if moved else "nothing moved", "error" if moved else "ok"),
        '<p class="note">SMD: standardized mean difference (flagged above 0.2 by default); quantile distance: '
        "the largest gap between the 5–95 % quantiles, in reference IQRs (flagged above 0.5).</p>",
        '<table class="tm-comparison"><thead><tr><th>value</th><th>unit</th><th>SMD</th><th>quantile dist.</th>'
        "<th>note</th><th>reference</th><th>this run</th></tr></thead><tbody>",
        *rows,
        "</tbody></table>",
        *extra,
    ]
    return frame("comparison", body)


def cost_html(cost: CostReport, si: Callable[[float], str]) -> str:
    """XLA's figures per stage and for the fused pipeline, with a bar for each stage's share
    (numbers written by ``si``, the report's own format: ``1.23 M``)."""
    sizes = ", ".join(f"{k}={v}" for k, v in cost.sizes.items())
    most_flops = max((s.flops for s in cost.stages), default=0.0) or 1.0
    most_bytes = max((s.peak_bytes for s in cost.stages), default=0) or 1
    rows: list[str] = []
    for s in cost.stages:
        rows.append(
            f'<tr data-stage="{_e(s.name)}"><th>{_e(s.name)}</th>'
            f"<td>{_e(si(s.flops))}{_bar(s.flops / most_flops)}</td><td>{_e(si(s.bytes_accessed))}B</td>"
            f"<td>{_e(si(s.peak_bytes))}B{_bar(s.peak_bytes / most_bytes)}</td></tr>"
        )
    t = cost.total
    rows.append(
        f'<tr class="tm-total"><th>{_e(t.name)}</th><td>{_e(si(t.flops))}</td>'
        f"<td>{_e(si(t.bytes_accessed))}B</td><td>{_e(si(t.peak_bytes))}B</td></tr>"
    )
    body = [
        head("cost", cost.pipeline, f"at {sizes}" if sizes else ""),
        '<p class="note">XLA\'s cost and memory analysis: each stage compiled alone, the total fused '
        "(usually less than the sum: fusion keeps intermediates out of memory).</p>",
        '<table class="tm-cost"><thead><tr><th>stage</th><th>FLOPs</th><th>bytes accessed</th>'
        "<th>peak memory</th></tr></thead><tbody>",
        *rows,
        "</tbody></table>",
    ]
    return frame("cost", body)


# -- parts ---------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html_text(str(text))  # escaped, control characters shown as escapes


def _num(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.4g}"


def frame(kind: str, parts: Iterable[str], legend_css: str = "") -> str:
    """The display's ``<div>``: its stylesheet (with the legend's styles when it draws a graph),
    then the parts."""
    style = _stylesheet() + ("\n" + _scoped(legend_css) if legend_css else "")
    return (
        f'<div class="typedml typedml-{kind}"><style>{style}</style>\n' + "\n".join(p for p in parts if p) + "\n</div>"
    )


def head(kind: str, name: str, verdict: str, state: str = "plain") -> str:
    """The first line: what it is, its name, and a verdict coloured by ``state`` (ok, error, plain)."""
    title = f"{_e(kind)} <strong>{_e(name)}</strong>" if name else f"<strong>{_e(kind)}</strong>"
    shown = f' <span class="tm-status {_e(state)}">{_e(verdict)}</span>' if verdict else ""
    return f'<div class="tm-head">{title}{shown}</div>'


def status(found: Sequence[Diagnostic]) -> str:
    """``ok: no problems found`` or ``2 errors, 1 warning``."""
    if not found:
        return "ok: no problems found"
    counts = {s: sum(d.severity == s for d in found) for s in ("error", "warning", "info")}
    return ", ".join(f"{n} {s}{'s' * (n != 1)}" for s, n in counts.items() if n)


def doc(text: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    first = (text or "").strip().split("\n\n")[0]
    return f'<p class="tm-doc">{_e(" ".join(first.split()))}</p>' if first else ""


def defined_at(location: Location) -> str:
    return f'<p class="tm-note">defined at {_e(place(location))}</p>' if location.line else ""


def place(location: Location | None) -> str:
    """Where a location is, as the user knows it: ``Cell In[3], line 5`` for a notebook cell
    (when IPython is running), else ``path:line:col``."""
    if location is None:
        return ""
    cell = _cell_name(location.path)
    return f"{cell}, line {location.line}" if cell is not None else str(location)


def _cell_name(path: str) -> str | None:
    module = sys.modules.get("IPython")
    get_ipython = getattr(module, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    name_of = getattr(getattr(shell, "compile", None), "format_code_name", None)
    if not callable(name_of):
        return None
    try:
        found = name_of(path)
    except Exception:  # noqa: BLE001 - an IPython without cell names: the path is shown instead
        return None
    if isinstance(found, tuple) and len(found) == 2:  # pyright: ignore[reportUnknownArgumentType]
        label, name = found  # pyright: ignore[reportUnknownVariableType]
        return f"{label} {name}"
    return None


def signature(spec: Spec) -> str:
    """One row per port (unit, shape, dtype, contracts), static parameters with their defaults."""
    rows = [_port_row("input", port) for port in spec.inputs]
    for p in spec.static:
        default = repr(spec.defaults[p.name]) if p.name in spec.defaults else "required"
        annotation = getattr(p.annotation, "__name__", None) or str(p.annotation)
        rows.append(
            f'<tr class="tm-static"><td class="tm-left">static</td><th>{_e(p.name)}</th>'
            f'<td class="tm-left" colspan="4">{_e(annotation)} = {_e(default)}</td></tr>'
        )
    rows += [_port_row("output", port) for port in spec.outputs]
    return (
        '<table class="tm-signature"><thead><tr><th></th><th>port</th><th>unit</th><th>shape</th><th>dtype</th>'
        "<th>contracts</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _port_row(kind: str, port: Port) -> str:
    t = port.type
    if t is None:
        cells = '<td class="tm-left" colspan="4">pytree value</td>'
    else:
        shape = "(" + ", ".join(t.dim_str.split()) + ")"
        unit = str(t.unit) if t.unit is not None else "no unit"
        dtype = t.dtype_family + (f" ({', '.join(t.dtypes)})" if t.dtypes and len(t.dtypes) <= 3 else "")
        contracts = ", ".join(r.name for r in t.refinements) or "—"
        cells = "".join(f'<td class="tm-left">{_e(c)}</td>' for c in (unit, shape, dtype, contracts))
    return f'<tr class="tm-{kind}"><td class="tm-left">{kind}</td><th>{_e(port.name)}</th>{cells}</tr>'


def diagnostics(found: Sequence[Diagnostic], limit: int | None = None) -> str:
    """The diagnostics table: severity, code linked to its documentation, message, place, notes
    (and related places) and hint; the first ``limit`` of them, and a note saying how many more."""
    rows = [_diagnostic_row(d) for d in found[:limit]]
    more = len(found) - len(rows)
    note = f'<p class="tm-note">and {more} more: <code>print()</code> shows every one</p>' if more else ""
    return (
        '<table class="tm-diagnostics"><thead><tr><th>severity</th><th>code</th><th>message</th><th>where</th>'
        "<th>notes and hint</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>" + note
    )


def _diagnostic_row(d: Diagnostic) -> str:
    where = [place(d.location)]
    if d.stage is not None and d.stage.startswith(("input:", "output:")):
        where.append(d.stage.replace(":", " ", 1))
    elif d.stage is not None:
        where.append(f"stage {d.stage}" + (f", port {d.port}" if d.port else ""))
    elif d.port is not None:
        where.append(f"port {d.port}")
    facts = [f"<li>{_e(note)}</li>" for note in d.notes]
    facts += [f"<li>{_e(r.message)}{_e(f' ({place(r.location)})' if r.location else '')}</li>" for r in d.related]
    details = f"<ul>{''.join(facts)}</ul>" if facts else ""
    if d.hint:
        details += f'<p class="tm-hint">hint: {_e(d.hint)}</p>'
    return (
        f'<tr class="tm-{_e(d.severity)}" data-code="{_e(d.code)}"><td class="tm-left">'
        f'<span class="tm-badge {_e(d.severity)}">{_e(d.severity)}</span></td>'
        f'<td class="tm-left"><a href="{_e(d.url)}" target="_blank" rel="noopener noreferrer">{_e(d.code)}</a></td>'
        f'<td class="tm-left tm-message">{_e(d.message)}</td>'
        f'<td class="tm-left">{"<br/>".join(_e(w) for w in where if w)}</td><td class="tm-left">{details}</td></tr>'
    )


def _bar(share: float) -> str:
    width = max(0.0, min(1.0, share)) * 100
    return f'<span class="tm-bar"><span style="width:{width:.0f}%"></span></span>'


# -- the stylesheet ------------------------------------------------------------------------

_DISPLAY_CSS = """.typedml { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #263238; background: #fff; padding: 0.4rem 0.6rem; line-height: 1.35; }
.typedml .tm-head { font-size: 1rem; margin: 0.1rem 0 0.3rem; }
.typedml .tm-status { font-weight: 600; margin-left: 0.6rem; color: #546e7a; }
.typedml .tm-status.ok { color: #2e7d32; }
.typedml .tm-status.error { color: #c62828; }
.typedml .tm-doc { margin: 0.2rem 0; }
.typedml .tm-note, .typedml .tm-ok { font-size: 0.85rem; color: #546e7a; margin: 0.2rem 0; }
.typedml .tm-ok { color: #2e7d32; }
.typedml details { margin: 0.4rem 0; }
.typedml summary { cursor: pointer; color: #37474f; font-size: 0.9rem; }
.typedml .canvas { max-height: 34rem; }
.typedml svg.graph g.edge:hover path { stroke-width: 3.5; }
.typedml svg.graph g.edge[data-status="error"] rect.label-bg { fill: #ffebee; }
.typedml td.tm-left, .typedml th.tm-left { text-align: left; }
.typedml table.tm-diagnostics td { vertical-align: top; }
.typedml table.tm-diagnostics ul { margin: 0; padding-left: 1.1rem; }
.typedml table.tm-diagnostics .tm-message { font-weight: 600; }
.typedml .tm-hint { margin: 0.2rem 0 0; color: #1565c0; }
.typedml .tm-badge { border-radius: 3px; padding: 0 0.35rem; color: #fff; background: #ef6c00; font-size: 0.8rem; }
.typedml .tm-badge.error { background: #c62828; }
.typedml .tm-badge.info { background: #1565c0; }
.typedml tr.tm-total th, .typedml tr.tm-total td { border-top: 2px solid #b0bec5; }
.typedml .tm-bar { display: inline-block; width: 4rem; height: 0.55rem; margin-left: 0.4rem; background: #eceff1; }
.typedml .tm-bar span { display: block; height: 100%; background: #4f7cac; }"""


@functools.cache
def _stylesheet() -> str:
    from ._report_html import REPORT_CSS

    return _scoped(REPORT_CSS) + "\n" + _DISPLAY_CSS


def _scoped(css: str) -> str:
    """The project's page styles with every selector put under ``.typedml``."""
    rules: list[str] = []
    for rule in css.split("}"):
        if "{" not in rule:
            continue
        selectors, declarations = rule.split("{", 1)
        scoped = ", ".join(f".typedml {s.strip()}" for s in selectors.split(","))
        rules.append(f"{scoped} {{{declarations}}}")
    return "\n".join(rules)
