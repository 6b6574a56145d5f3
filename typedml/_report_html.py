"""A run report as one self-contained HTML page: the graph, then every value with a histogram.

The histograms are small hand-written SVG bar charts. A plotting library would add a large
dependency (and a font cache and a slow import) to draw twelve rectangles per value; inline SVG
keeps the page self-contained (no network, no scripts), small, searchable, and its structure
testable in a browser's DOM like the graph picture's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ._text import html_text

if TYPE_CHECKING:
    from ._summary import Comparison, RunReport, ValueSummary

__all__ = ["REPORT_CSS", "histogram_svg", "report_html", "values_table"]

_W, _H, _PAD = 180.0, 44.0, 2.0


def histogram_svg(value: ValueSummary) -> str:
    """A 180×56 bar chart of the value's finite elements, with its min and max under it."""
    edges, counts = value.histogram
    name = html_text(value.name)
    if not counts:
        return f'<svg class="histogram empty" width="{_W:.0f}" height="20" data-value="{name}"><text x="0" y="14" font-size="11" fill="#90a4ae">no finite values</text></svg>'
    top = max(counts) or 1
    width = (_W - _PAD * 2) / len(counts)
    parts = [
        f'<svg class="histogram" width="{_W:.0f}" height="{_H + 14:.0f}" viewBox="0 0 {_W:.0f} {_H + 14:.0f}" '
        f'role="img" aria-label="histogram of {name}" data-value="{name}" font-size="10" '
        'font-family="ui-monospace, DejaVu Sans Mono, Menlo, monospace">'
    ]
    unit = f" {value.unit}" if value.unit else ""
    for i, count in enumerate(counts):
        h = (_H - _PAD) * count / top
        x = _PAD + i * width
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{_H - h:.1f}" width="{max(width - 1, 0.5):.1f}" height="{h:.1f}" '
            f'fill="#4f7cac"><title>{_num(edges[i])} to {_num(edges[i + 1])}{html_text(unit)}: {count}</title></rect>'
        )
    parts.append(f'<line x1="0" y1="{_H:.1f}" x2="{_W:.0f}" y2="{_H:.1f}" stroke="#90a4ae"/>')
    parts.append(f'<text x="0" y="{_H + 12:.0f}" fill="#546e7a">{_num(edges[0])}</text>')
    parts.append(f'<text x="{_W:.0f}" y="{_H + 12:.0f}" text-anchor="end" fill="#546e7a">{_num(edges[-1])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _num(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.4g}"


def report_html(
    report: RunReport,
    title: str,
    picture: str | None,
    legend: str,
    comparison: Comparison | None = None,
    legend_css: str = "",
) -> str:
    """The page: title, the pipeline's graph (if known), one table row per value.

    With a comparison (this run against a reference), each row also shows the standardized
    mean difference and the quantile distance, and the values that moved are marked.
    """
    graph = f'{legend}<div class="canvas">{picture}</div>' if picture else ""
    return _PAGE.format(
        title=html_text(title),
        graph=graph,
        count=len(report.values),
        table=values_table(report, comparison),
        legend_css=legend_css,
        report_css=REPORT_CSS,
    )


def values_table(report: RunReport, comparison: Comparison | None = None) -> str:
    """The values part of a report (notes and one table row per value, with its histogram);
    the page above and the notebook display show the same table."""
    rows: list[str] = []
    shifts = {s.name: s for s in comparison.shifts} if comparison is not None else {}
    for v in report.values.values():
        classes = ["value"] + (["nonfinite"] if v.nan + v.inf else [])
        shift = shifts.get(v.name)
        extra = ""
        if comparison is not None:
            if shift is None:
                extra = '<td colspan="2">not in the reference</td>'
            else:
                classes += ["shifted"] if shift.shifted else []
                extra = f"<td>{_num(shift.smd)}</td><td>{_num(shift.quantile_distance)}</td>"
        quantiles = " / ".join(_num(q) for q in v.quantiles)
        rows.append(
            f'<tr class="{" ".join(classes)}" data-value="{html_text(v.name)}">'
            f'<th>{html_text(v.name)}</th><td class="unit">{html_text(v.unit or "—")}</td>'
            f"<td>{html_text(str(v.shape))} {html_text(v.dtype)}</td><td>{v.count}</td>"
            f"<td>{_num(v.min)}</td><td>{_num(v.max)}</td><td>{_num(v.mean)}</td><td>{_num(v.std)}</td>"
            f"<td>{quantiles}</td><td>{v.nan}</td><td>{v.inf}</td>{extra}<td>{histogram_svg(v)}</td></tr>"
        )
    if comparison is not None:
        moved = ", ".join(comparison.shifted) or "none"
        note = (
            f'<p class="note drift">Compared with a reference run: moved: <strong>{html_text(moved)}</strong>. '
            "SMD: standardized mean difference (flagged above 0.2); quantile distance: the largest gap "
            "between the 5–95 % quantiles, in reference IQRs (flagged above 0.5).</p>\n"
        )
        head = "<th>SMD</th><th>quantile dist.</th>"
    else:
        note, head = "", ""
    return _TABLE.format(note=note, compare_head=head, rows="\n".join(rows))


# The report's table styles, shared by the page and the notebook display.
REPORT_CSS = """table { border-collapse: collapse; font-size: 0.85rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #eceff1; text-align: right; vertical-align: middle; }
th { text-align: left; font-family: ui-monospace, Menlo, monospace; }
thead th { font-family: inherit; border-bottom: 2px solid #b0bec5; }
tr.nonfinite { background: #ffebee; }
tr.shifted { background: #fff3e0; }
tr.shifted th::after { content: " ⚠ moved"; color: #ef6c00; font-family: system-ui, sans-serif; font-size: 0.8rem; }
td.unit { text-align: left; }
svg.histogram rect.bar:hover { fill: #ef6c00; }
.note { font-size: 0.85rem; color: #546e7a; }"""

_TABLE = """{note}<p class="note">Statistics over each value's finite elements, in its unit; quantiles at 5, 25, 50, 75 and 95 %.
Rows with NaN or Inf are highlighted; hover a bar for its range and count.</p>
<table>
<thead><tr><th>value</th><th>unit</th><th>shape, dtype</th><th>count</th><th>min</th><th>max</th><th>mean</th><th>std</th>
<th>quantiles</th><th>NaN</th><th>Inf</th>{compare_head}<th>histogram</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; color: #263238; }}
h1 {{ font-size: 1.25rem; margin: 0 0 0.75rem; }}
h2 {{ font-size: 1.05rem; margin: 1.25rem 0 0.5rem; }}
{legend_css}
{report_css}
</style>
</head>
<body>
<h1>{title}</h1>
{graph}
<h2>Values ({count})</h2>
{table}
</body>
</html>
"""
