"""Precision at the boundary: 64-bit data that JAX computes in 32 bits is said, never silent.

Without ``jax_enable_x64``, JAX turns float64, int64, uint64 and complex128 data into their
32-bit kinds as it enters a computation, and says nothing: 6.19568245 becomes 6.1956787,
2**40 + 5 becomes 5. Every run mode gives its input magnitudes to :func:`guard` when one of
them is a 64-bit numpy array or scalar (:func:`is_wide`, cheap enough for the hot path):

- integers outside the 32-bit range, and finite floats beyond float32's, are refused on every
  call (TM244, an :class:`~typedml.InputError` naming the port, the index and the value),
  since JAX would wrap or overflow them;
- otherwise a :class:`~typedml.PrecisionWarning` (TM243) names the ports and dtypes, once per
  pipeline and input signature (which ports carry which dtypes).

With x64 enabled, the data is computed in the dtype it has and nothing is said. JAX arrays are
never wide without x64 (JAX made them), so only numpy data is looked at.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._errors import Diagnostic, InputError, PrecisionWarning, user_location
from ._runtime import split_value
from ._spec import Spec

__all__ = ["WIDE_SCALARS", "guard", "guard_values", "is_wide", "narrowed"]

NDARRAY = np.ndarray
# numpy scalars of 64 bits or more (np.float64(x) is narrowed like an array)
WIDE_SCALARS: frozenset[type] = frozenset(
    {np.float64, np.int64, np.uint64, np.complex128, np.longdouble, np.clongdouble}
)
_COMPLEX64 = np.dtype(np.complex64)


def is_wide(magnitude: Any) -> bool:
    """Whether ``magnitude`` is numpy data of 64 bits or more per number (no dtype lookup on
    the common 32-bit case)."""
    t: Any = type(magnitude)  # pyright: ignore[reportUnknownVariableType]
    if t is NDARRAY:
        return magnitude.itemsize > 4 and magnitude.dtype != _COMPLEX64
    return t in WIDE_SCALARS


def narrowed(spec: Spec, magnitudes: Sequence[Any]) -> list[tuple[int, np.dtype[Any], np.dtype[Any]]]:
    """``(input index, dtype given, dtype JAX computes in)`` for each input JAX would narrow."""
    import jax

    found: list[tuple[int, np.dtype[Any], np.dtype[Any]]] = []
    for i, (port, m) in enumerate(zip(spec.inputs, magnitudes, strict=True)):
        if port.type is None or not is_wide(m):
            continue
        given = np.asarray(m).dtype
        if given.kind not in "fiuc":
            continue
        computed = np.dtype(jax.dtypes.canonicalize_dtype(given))
        if computed != given:
            found.append((i, given, computed))
    return found


def guard_values(spec: Spec, values: Sequence[Any], seen: set[tuple[Any, ...]], owner: str) -> None:
    """:func:`guard` for the values of a call (quantities or arrays), when one of them is wide."""
    raws = [split_value(v)[0] for v in values]
    if any(is_wide(m) for m in raws):
        guard(spec, raws, seen, owner)


def guard(spec: Spec, magnitudes: Sequence[Any], seen: set[tuple[Any, ...]], owner: str) -> None:
    """Refuse values the narrowing would change beyond precision; warn once per signature.

    ``seen`` holds the signatures already warned about (kept by the caller, per pipeline).
    """
    found = narrowed(spec, magnitudes)
    if not found:
        return
    problems = [d for i, given, computed in found if (d := _overflow(spec, i, magnitudes[i], given, computed, owner))]
    if problems:
        raise InputError(problems)
    key = tuple((i, given.str) for i, given, _ in found)
    if key in seen:
        return
    seen.add(key)
    ports = [f"{spec.inputs[i].name!r} ({given} as {computed})" for i, given, computed in found]
    location = user_location()
    diagnostic = Diagnostic(
        "TM243",
        f"64-bit data computed in 32 bits by {owner}: {'input' if len(found) == 1 else 'inputs'} {', '.join(ports)}",
        location or spec.location,
        severity="warning",
        notes=(
            "jax_enable_x64 is off: JAX converts float64, int64, uint64 and complex128 data to 32 bits",
            "said once per pipeline and input dtypes; integers and floats beyond the 32-bit range are refused",
        ),
        hint="to compute in 64 bits, call jax.config.update('jax_enable_x64', True) at start-up; "
        "to keep 32 bits, convert the data first (x.astype(np.float32))",
        stage=spec.name,
        port=spec.inputs[found[0][0]].name,
    )
    warning = PrecisionWarning(diagnostic)
    if location is not None:
        warnings.warn_explicit(warning, PrecisionWarning, location.path, location.line)
    else:
        warnings.warn(warning, stacklevel=3)


def _overflow(
    spec: Spec, index: int, magnitude: Any, given: np.dtype[Any], computed: np.dtype[Any], owner: str
) -> Diagnostic | None:
    """TM244 when a value of this input does not fit the dtype JAX computes in."""
    array = np.asarray(magnitude)
    if array.size == 0 or given.kind == "c":
        return None
    if given.kind in "iu":
        info = np.iinfo(computed)
        if int(array.min()) >= info.min and int(array.max()) <= info.max:
            return None
        bad = (array < info.min) | (array > info.max)
        limit = f"{computed} holds {info.min}..{info.max}: JAX would wrap it"
    else:
        top = float(np.finfo(computed).max)
        hi, lo = np.fmax.reduce(array, axis=None), np.fmin.reduce(array, axis=None)
        if not (hi > top or lo < -top):  # NaN compares False: NaN alone is kept as NaN
            return None
        bad = np.isfinite(array) & (np.abs(array) > top)
        if not bad.any():
            return None  # only infinities, which stay infinite
        limit = f"{computed} reaches ±{top:.4g}: JAX would make it infinite"
    where = np.unravel_index(int(np.flatnonzero(bad)[0]), array.shape)
    port = spec.inputs[index]
    position = f"[{', '.join(str(int(w)) for w in where)}]" if array.ndim else ""
    return Diagnostic(
        "TM244",
        f"input {port.name!r} of {owner} holds {array[where].item()!r} at {position or 'its only value'}, "
        f"which {given} data loses when JAX computes it as {computed}",
        user_location() or spec.location,
        notes=(limit, f"{int(bad.sum())} value(s) out of range"),
        hint="enable 64-bit computation (jax.config.update('jax_enable_x64', True)) or rescale the data",
        stage=spec.name,
        port=port.name,
    )
