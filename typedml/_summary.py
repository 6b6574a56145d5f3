"""Per-value statistics of a run, and how two runs' distributions differ.

A :class:`RunReport` holds, for each value of a run (by edge name), its count, min, max,
mean, std, NaN and Inf counts and a few quantiles, in the value's unit. ``table()`` prints it
for the terminal; ``compare(other)`` measures, per value present in both, how far the
distribution moved:

- the **standardized mean difference** (SMD), ``(mean_new - mean_ref) / pooled_std`` with
  ``pooled_std = sqrt((std_ref² + std_new²) / 2)`` — dimensionless, so comparable across
  values of any unit; and
- a **quantile distance**: the largest difference between the two runs' 5 %, 25 %, 50 %,
  75 % and 95 % quantiles, divided by the reference's interquartile range (IQR) — robust to
  outliers.

A value is flagged as shifted when ``|SMD| > smd_threshold`` (default 0.2, the conventional
"small effect") or the quantile distance exceeds ``quantile_threshold`` (default 0.5 IQR).
The other run's numbers are converted into the reference's unit first (``mm`` against ``m``
compares like with like); values whose units are not convertible are reported as such.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._runtime import is_key_dtype
from ._units import UType, conversion, get_registry

__all__ = ["Comparison", "RunReport", "ValueSummary"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclasses.dataclass(frozen=True)
class ValueSummary:
    """Statistics of one value of a run, over its finite elements, in ``unit``."""

    name: str
    unit: str | None
    shape: tuple[int, ...]
    dtype: str
    count: int
    nan: int
    inf: int
    min: float
    max: float
    mean: float
    std: float
    quantiles: tuple[float, ...]  # at QUANTILES
    histogram: tuple[tuple[float, ...], tuple[int, ...]]  # (edges, counts), 12 bins

    @classmethod
    def of(cls, name: str, value: Any, unit: str | None) -> ValueSummary:
        if is_key_dtype(getattr(value, "dtype", None)):  # PRNG keys: no numbers to summarise, only their shape
            shape = tuple(int(d) for d in value.shape)
            nan = math.nan
            quantiles = (nan,) * len(QUANTILES)
            return cls(name, unit, shape, "prng_key", math.prod(shape), 0, 0, nan, nan, nan, nan, quantiles, ((), ()))
        array = np.asarray(value)
        if array.dtype.kind == "b":
            array = array.astype(np.int8)
        numeric = array.dtype.kind in "iuf"
        flat = array.astype(np.float64).ravel() if numeric else np.zeros(0)
        nan = int(np.isnan(flat).sum())
        inf = int(np.isinf(flat).sum())
        finite = flat[np.isfinite(flat)]
        if finite.size:
            stats = (float(finite.min()), float(finite.max()), float(finite.mean()), float(finite.std()))
            quantiles = tuple(float(q) for q in np.quantile(finite, QUANTILES))
            counts, edges = np.histogram(finite, bins=12)
            histogram = (tuple(float(e) for e in edges), tuple(int(c) for c in counts))
        else:
            stats = (math.nan,) * 4
            quantiles = (math.nan,) * len(QUANTILES)
            histogram = ((), ())
        low, high, average, spread = stats
        return cls(
            name=name,
            unit=unit,
            shape=tuple(int(d) for d in array.shape),
            dtype=str(array.dtype),
            count=int(array.size),
            nan=nan,
            inf=inf,
            min=low,
            max=high,
            mean=average,
            std=spread,
            quantiles=quantiles,
            histogram=histogram,
        )


@dataclasses.dataclass(frozen=True)
class Shift:
    """How one value's distribution differs between a reference run and another."""

    name: str
    unit: str | None
    smd: float
    quantile_distance: float
    shifted: bool
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The result of ``reference.compare(other)``: one :class:`Shift` per value in both runs."""

    shifts: tuple[Shift, ...]
    only_in_reference: tuple[str, ...]
    only_in_other: tuple[str, ...]
    reference: RunReport | None = dataclasses.field(default=None, repr=False, compare=False)
    other: RunReport | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def shifted(self) -> list[str]:
        """Names of the values whose distribution moved."""
        return [s.name for s in self.shifts if s.shifted]

    def __getitem__(self, name: str) -> Shift:
        return next(s for s in self.shifts if s.name == name)

    def table(self) -> str:
        rows = [("value", "unit", "SMD", "quantile dist.", "")]
        for s in self.shifts:
            rows.append(
                (s.name, s.unit or "-", _num(s.smd), _num(s.quantile_distance), "SHIFTED" if s.shifted else s.note)
            )
        return _render(rows)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        from ._display import comparison_html

        return comparison_html(self)


@dataclasses.dataclass(frozen=True)
class RunReport:
    """Statistics of every value of a run, by name (see the module documentation)."""

    values: Mapping[str, ValueSummary]
    title: str = "run"
    picture: str | None = dataclasses.field(default=None, repr=False)  # the graph, as inline SVG

    @classmethod
    def from_values(
        cls,
        values: Mapping[str, Any],
        units: Mapping[str, str | None],
        *,
        title: str = "run",
        picture: str | None = None,
    ) -> RunReport:
        """Summarise each value (magnitudes, by name) in its unit (None: no unit)."""
        summaries = {name: ValueSummary.of(name, value, units.get(name)) for name, value in values.items()}
        return cls(summaries, title, picture)

    def to_html(self, *, reference: RunReport | None = None) -> str:
        """A self-contained HTML page: the pipeline's graph, and per value its statistics and a histogram.

        With ``reference`` (another run's report), each value also shows how far it moved from
        the reference (``reference.compare(self)``), and the values that moved are marked.
        """
        from ._report_html import report_html
        from ._show import LEGEND_CSS, LEGEND_HTML

        comparison = reference.compare(self) if reference is not None else None
        return report_html(self, self.title, self.picture, LEGEND_HTML, comparison, LEGEND_CSS)

    def __getitem__(self, name: str) -> ValueSummary:
        return self.values[name]

    def _repr_html_(self) -> str:
        from ._display_graph import run_html

        return run_html(self)

    def table(self) -> str:
        """A plain-text table, one row per value."""
        rows = [("value", "unit", "shape", "count", "min", "max", "mean", "std", "NaN", "Inf")]
        for v in self.values.values():
            rows.append(
                (
                    v.name,
                    v.unit or "-",
                    str(v.shape),
                    str(v.count),
                    _num(v.min),
                    _num(v.max),
                    _num(v.mean),
                    _num(v.std),
                    str(v.nan),
                    str(v.inf),
                )
            )
        return _render(rows)

    def __str__(self) -> str:
        return self.table()

    def compare(self, other: RunReport, *, smd_threshold: float = 0.2, quantile_threshold: float = 0.5) -> Comparison:
        """How each value's distribution in ``other`` differs from this (reference) run."""
        shifts: list[Shift] = []
        for name, ref in self.values.items():
            new = other.values.get(name)
            if new is None:
                continue
            factor = _factor(new.unit, ref.unit)
            if factor is None:
                shifts.append(
                    Shift(name, ref.unit, math.nan, math.nan, True, f"units differ: {new.unit} vs {ref.unit}")
                )
                continue
            scale, offset = factor
            mean_new = new.mean * scale + offset
            std_new = new.std * abs(scale)
            q_new = [q * scale + offset for q in new.quantiles]
            pooled = math.sqrt((ref.std**2 + std_new**2) / 2)
            diff = mean_new - ref.mean
            smd = 0.0 if diff == 0 else diff / pooled if pooled > 0 else math.inf
            iqr = ref.quantiles[3] - ref.quantiles[1]
            gap = max(abs(a - b) for a, b in zip(q_new, ref.quantiles, strict=True))
            qdist = 0.0 if gap == 0 else gap / iqr if iqr > 0 else math.inf
            shifted = abs(smd) > smd_threshold or qdist > quantile_threshold
            shifts.append(Shift(name, ref.unit, smd, qdist, shifted))
        return Comparison(
            tuple(shifts),
            tuple(n for n in self.values if n not in other.values),
            tuple(n for n in other.values if n not in self.values),
            reference=self,
            other=other,
        )


def _factor(unit: str | None, reference: str | None) -> tuple[float, float] | None:
    if unit == reference:
        return (1.0, 0.0)
    if unit is None or reference is None:
        return None
    registry = get_registry()
    try:
        return conversion(UType(registry.Unit(unit)), UType(registry.Unit(reference)))
    except Exception:  # noqa: BLE001 - not convertible
        return None


def _num(x: float) -> str:
    if math.isnan(x):
        return "nan"
    return f"{x:.4g}"


def _render(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines: list[str] = []
    for k, row in enumerate(rows):
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
