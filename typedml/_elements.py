"""The values of a drawn array: finite, in the port's dtype, within its contracts.

Part of :mod:`typedml.strategies`: which dtype a port's family is drawn in (JAX's defaults
first), the default elements (finite, away from subnormals), elements within bounds
(:func:`elements_within`, public there), the hook a value constraint may offer
(``__typedml_elements__``), and bounds moved inwards so that a value drawn on a bound keeps
its contract through a unit conversion and back.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, get_args, get_origin

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ._spec import Port

__all__ = [
    "ELEMENT_HOOK",
    "default_elements",
    "elements_within",
    "hooked_elements",
    "inward",
    "numpy_dtype",
    "pick_dtype",
]

ELEMENT_HOOK = "__typedml_elements__"

_TINY = 1e-6  # default float elements are 0 or at least this large in magnitude

# Preferred dtypes, in order, for a family that allows several: JAX's defaults first.
_DTYPE_PREFERENCE = (
    "float32",
    "int32",
    "bool",
    "uint32",
    "complex64",
    "float64",
    "int64",
    "uint64",
    "complex128",
    "float16",
    "int16",
    "uint16",
    "int8",
    "uint8",
    "bfloat16",
)


def pick_dtype(port: Port) -> np.dtype[Any]:
    assert port.type is not None
    allowed = port.type.dtypes
    if allowed is None:
        return np.dtype("float32")
    for name in _DTYPE_PREFERENCE:
        if name in allowed or (name == "bool" and "bool_" in allowed):
            return numpy_dtype(name)
    return numpy_dtype(allowed[0])


def numpy_dtype(name: str) -> np.dtype[Any]:
    import jax.numpy as jnp

    return np.dtype(jnp.dtype(name))


def default_elements(dtype: np.dtype[Any]) -> st.SearchStrategy[Any]:
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind == "i":
        return st.integers(-100, 100)
    if dtype.kind == "u":
        return st.integers(0, 100)
    if dtype.kind == "c":
        return st.complex_numbers(
            max_magnitude=1e3, allow_nan=False, allow_infinity=False, width=64 if dtype.itemsize == 8 else 128
        )
    width = 8 * dtype.itemsize if dtype.itemsize in (2, 4, 8) and dtype.kind == "f" else 32
    floats = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=width)
    # magnitudes near the smallest normal number turn into subnormals (flushed to zero by XLA)
    # after one multiplication: that tests the float format, not the stage
    return floats.map(_flush_tiny)


def _flush_tiny(x: float) -> float:
    return x if abs(x) >= _TINY else 0.0


_SPAN = 2e3  # the width of the default float range, kept when only one bound is given


@st.composite
def elements_within(
    draw: st.DrawFn,
    dtype: Any,
    *,
    lower: float | None = None,
    upper: float | None = None,
    lower_open: bool = False,
    upper_open: bool = False,
    integer: bool = False,
) -> Any:
    """Elements of ``dtype`` with values in the given bounds (``None``: unbounded).

    The default range ([-1000, 1000] for floats, [-100, 100] for integers) is kept where it
    meets the bounds; a one-sided bound far from it gets a range of the same width next to the
    bound. Open bounds exclude the bound itself; ``integer`` asks for whole numbers. For a
    value constraint's ``__typedml_elements__(dtype)`` to return, or for ``elements=``.
    """
    strategy = _within(dtype, lower, upper, lower_open, upper_open, integer)
    return draw(strategy)


def _within(
    dtype: Any,
    lower: float | None,
    upper: float | None,
    lower_open: bool,
    upper_open: bool,
    integer: bool,
) -> st.SearchStrategy[Any]:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise InvalidArgument(f"dtype={dtype!r} is not a dtype") from None
    if lower is not None and upper is not None and (lower > upper or (lower == upper and (lower_open or upper_open))):
        raise InvalidArgument(f"lower={lower!r} and upper={upper!r} leave no value (open: {lower_open}, {upper_open})")
    if dt.kind == "b":
        return st.booleans()
    default_lo, default_hi = (-1e3, 1e3) if dt.kind in "fc" else ((-100.0, 100.0) if dt.kind == "i" else (0.0, 100.0))
    lo: float = default_lo if lower is None else max(float(lower), default_lo)
    hi: float = default_hi if upper is None else min(float(upper), default_hi)
    if lo > hi:  # the bounds lie outside the default range: stay next to them
        span = _SPAN if dt.kind in "fc" else 200.0
        if upper is None:
            lo, hi = float(lower or 0.0), float(lower or 0.0) + span
        elif lower is None:
            lo, hi = float(upper) - span, float(upper)
    excl_lo: bool = lower_open and lower is not None and lo == lower
    excl_hi: bool = upper_open and upper is not None and hi == upper
    if integer or dt.kind in "iu":
        info = np.iinfo(dt) if dt.kind in "iu" else None
        first = math.floor(lo) + 1 if excl_lo and float(lo).is_integer() else math.ceil(lo)
        last = math.ceil(hi) - 1 if excl_hi and float(hi).is_integer() else math.floor(hi)
        if info is not None:
            first, last = max(first, int(info.min)), min(last, int(info.max))
        if first > last:
            raise InvalidArgument(f"no whole number of {dt} lies within lower={lower!r}, upper={upper!r}")
        whole = st.integers(first, last)
        return whole if dt.kind in "iu" else whole.map(float)
    width = 8 * dt.itemsize if dt.kind == "f" and dt.itemsize in (2, 4, 8) else 32
    if width < 64:  # hypothesis wants bounds representable at the width: round them inwards
        narrow = np.float16 if width == 16 else np.float32
        lo_r, hi_r = narrow(lo), narrow(hi)
        if float(lo_r) < lo:
            lo_r = np.nextafter(lo_r, narrow(np.inf))
        if float(hi_r) > hi:
            hi_r = np.nextafter(hi_r, narrow(-np.inf))
        excl_lo = excl_lo and float(lo_r) == lo
        excl_hi = excl_hi and float(hi_r) == hi
        lo, hi = float(lo_r), float(hi_r)
    floats = st.floats(
        lo, hi, exclude_min=excl_lo, exclude_max=excl_hi, allow_nan=False, allow_subnormal=False, width=width
    )

    def away_from_tiny(x: float) -> float:
        if abs(x) >= _TINY or x == 0.0:
            return x
        for candidate in (0.0, math.copysign(_TINY, x), -math.copysign(_TINY, x)):
            if (lo < candidate or (lo == candidate and not excl_lo)) and (
                candidate < hi or (candidate == hi and not excl_hi)
            ):
                return candidate
        return x

    return floats.map(away_from_tiny)


def hooked_elements(port: Port, dtype: np.dtype[Any]) -> st.SearchStrategy[Any] | None:
    annotation = port.annotation
    if get_origin(annotation) is not Annotated:
        return None
    for meta in get_args(annotation)[1:]:
        hook = getattr(meta, ELEMENT_HOOK, None)
        if callable(hook):
            strategy = hook(dtype)
            if not isinstance(strategy, st.SearchStrategy):
                raise InvalidArgument(f"{meta!r}.{ELEMENT_HOOK}({dtype}) returned {strategy!r}, not a strategy")
            return strategy  # pyright: ignore[reportUnknownVariableType]
    return None


def inward(lower: float | None, upper: float | None, dtype: np.dtype[Any]) -> tuple[float | None, float | None]:
    """Bounds moved inwards by a few rounding steps of ``dtype``: a value drawn on a bound and
    converted to another unit and back (``convert_units=True``) must still keep the contract."""
    if dtype.kind != "f":
        return lower, upper
    eps = float(np.finfo(dtype).eps) * 16

    def margin(bound: float) -> float:
        return eps * max(1.0, abs(bound))

    new_lower = None if lower is None or math.isinf(lower) else lower + margin(lower)
    new_upper = None if upper is None or math.isinf(upper) else upper - margin(upper)
    if new_lower is not None and new_upper is not None and new_lower > new_upper:
        return lower, upper  # too narrow to move: the bounds themselves
    return (lower if new_lower is None else new_lower), (upper if new_upper is None else new_upper)
