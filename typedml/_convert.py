"""A unit conversion as arithmetic: multiply (and add, for affine units) by Python constants.

The constants fold into the compiled computation, so a conversion costs what writing the
factor by hand costs. Integers are multiplied by integers (a lossy integer conversion is
refused before it gets here). A float16 or bfloat16 value is converted in float32 and cast
back: a factor such as 1e6 (km -> mm) does not fit float16 itself, and multiplying by it there
would make every value inf, even one whose result fits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["converter"]


def converter(conv: tuple[float, float] | None, integer: bool) -> Callable[[Any], Any]:
    """The function that converts a value by ``conv`` (``(scale, offset)``; None: unchanged)."""
    if conv is None:
        return _identity
    scale, offset = conv
    if integer:
        iscale, ioffset = int(scale), int(offset)
        if ioffset == 0:
            return lambda x: x * iscale
        return lambda x: x * iscale + ioffset

    def convert(x: Any) -> Any:
        dtype = getattr(x, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < 4:
            wide = x.astype("float32") * scale
            return (wide + offset if offset else wide).astype(dtype)
        return x * scale + offset if offset else x * scale

    return convert


def _identity(x: Any) -> Any:
    return x
