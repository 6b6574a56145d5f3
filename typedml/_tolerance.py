"""Comparing the outputs of two runs of a stage or pipeline, with dtype-aware tolerances.

The property checks of :mod:`typedml.testing` run the same computation two ways and compare.
Reductions reordered by XLA, conversions by factors such as 1000 (not exact in binary) and
fused versus eager evaluation all perturb the last bits, so the tolerance follows the dtype;
integer and boolean outputs must agree exactly.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["Mismatch", "compare", "default_rtol", "magnitude_of", "units_of"]

_RTOL_BY_BITS = {16: 1e-2, 32: 1e-4, 64: 1e-9}


def default_rtol(dtype: Any) -> float:
    """Relative tolerance for values of ``dtype`` (0 for integers and booleans: exact)."""
    dt = np.dtype(dtype)
    if dt.kind in "biu":
        return 0.0
    if dt.name == "bfloat16":
        return 5e-2
    bits = 8 * dt.itemsize // (2 if dt.kind == "c" else 1)
    return _RTOL_BY_BITS.get(bits, 1e-4)


def _floor(dtype: Any, rtol: float) -> float:
    """An absolute tolerance near the smallest normal number, where XLA flushes to zero."""
    dt = np.dtype(dtype)
    if rtol == 0 or dt.kind not in "fc":
        return 0.0
    return float(np.finfo(dt).tiny) * 2.0**20


def magnitude_of(value: Any) -> np.ndarray[Any, Any]:
    """The numbers of a pint/typedml quantity or an array, as a numpy array."""
    return np.asarray(getattr(value, "magnitude", value))


def units_of(value: Any) -> Any:
    """The pint unit of a quantity (a typedml Quantity's unit text), or None for plain data."""
    return getattr(value, "units", None)


@dataclasses.dataclass(frozen=True)
class Mismatch:
    """Where two results differ most: index, expected and found values, and how many differ."""

    index: tuple[int, ...]
    expected: Any
    found: Any
    count: int
    size: int
    rtol: float
    shape_found: tuple[int, ...] | None = None
    shape_expected: tuple[int, ...] | None = None

    def describe(self) -> str:
        if self.shape_found is not None:
            return f"shape {self.shape_found} where {self.shape_expected} was expected"
        where = f"[{', '.join(map(str, self.index))}]" if self.index else ""
        tol = "exactly" if self.rtol == 0 else f"within rtol={self.rtol:g}"
        return (
            f"{self.count} of {self.size} values differ ({tol}); worst at {where or 'the scalar'}: "
            f"expected {_num(self.expected)}, found {_num(self.found)}"
        )


def _num(x: Any) -> str:
    return f"{x:.7g}" if isinstance(x, float | complex) else repr(x)


def compare(found: Any, expected: Any, rtol: float | None = None) -> Mismatch | None:
    """None when ``found`` matches ``expected``; else where they differ most.

    Values match within ``rtol * (|expected| + max |expected|)``: relative to each value and to
    the output's scale, so a result that cancels to near zero is judged against its inputs' size.
    Non-finite values must match exactly (same infinities, NaN where NaN).
    """
    got = magnitude_of(found)
    want = magnitude_of(expected)
    if got.shape != want.shape:
        return Mismatch((), None, None, 0, 0, 0.0, got.shape, want.shape)
    tol = default_rtol(want.dtype) if rtol is None else rtol
    if got.size == 0:
        return None
    g = got.astype(np.complex128 if np.iscomplexobj(got) or np.iscomplexobj(want) else np.float64)
    w = want.astype(g.dtype)
    finite = np.isfinite(w) & np.isfinite(g)
    scale = float(np.max(np.abs(w[finite]), initial=0.0))
    with np.errstate(invalid="ignore"):
        err = np.where(finite, np.abs(g - w), 0.0)
        bound = tol * (np.abs(w) + scale) + _floor(want.dtype, tol)
        bad = np.where(finite, err > bound, ~((g == w) | (np.isnan(g) & np.isnan(w))))
    count = int(np.count_nonzero(bad))
    if count == 0:
        return None
    excess = np.where(bad, np.where(finite, err - bound, np.inf), -np.inf)
    flat = int(np.argmax(excess))
    index = tuple(int(i) for i in np.unravel_index(flat, w.shape)) if w.ndim else ()
    return Mismatch(index, w[index].item(), g[index].item(), count, int(w.size), tol)
