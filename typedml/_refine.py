"""Value contracts (refinements): ``Q[Float[Array, "n"], "m", tm.Positive]``.

A refinement states what the *values* of an array port may be: a sign, bounds (with a unit,
``Bounded(0, 100, "degC")``), probabilities, finiteness, whole numbers, an order along the
leading axis (bin edges, time stamps). It rides in the
annotation's metadata next to the unit, so static checkers still see the plain array type.

Several refinements on one port combine into one :class:`Bounds`, in the magnitude of the
port's unit: a bound given in another unit is converted once (affine units included, so
``Bounded(0, 100, "degC")`` on a port in K is ``273.15 ≤ x ≤ 373.15``). Every contract also
rejects NaN. The checks themselves are element-wise comparisons, written once for numpy (host
side, to name the offending indices) and jax.numpy (inside a compiled run).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from ._errors import Diagnostic, StageDefinitionError, user_location
from ._units import Registry, UnitExpr, UType, conversion

__all__ = [
    "Bounded",
    "Bounds",
    "Finite",
    "Increasing",
    "Integer",
    "NonNegative",
    "Positive",
    "Probability",
    "Refinement",
    "problems_with",
    "resolve",
    "violation_notes",
    "violations",
]


@dataclasses.dataclass(frozen=True)
class Refinement:
    """A value contract on an array port: put it in ``Q[..., "unit", <refinement>]``.

    ``lower``/``upper`` are bounds (``None``: unbounded), open when ``lower_open``/``upper_open``,
    in ``unit`` (``None``: the port's own unit). ``finite`` excludes ±Inf, ``integer`` requires
    whole numbers, ``increasing`` requires values that never decrease along the leading axis,
    ``dimensionless`` restricts the contract to dimensionless ports. Every contract excludes
    NaN. Use the ready ones (``Positive``, ``NonNegative``, ``Probability``, ``Finite``,
    ``Integer``, ``Increasing``) or :func:`Bounded`.
    """

    name: str
    lower: float | None = None
    upper: float | None = None
    lower_open: bool = False
    upper_open: bool = False
    unit: str | None = None
    finite: bool = False
    integer: bool = False
    dimensionless: bool = False
    increasing: bool = False

    def __repr__(self) -> str:
        return self.name

    @property
    def needs_unit_free_bounds(self) -> bool:
        """Whether the bounds mean the same number in every unit (only 0 and ±inf do)."""
        return all(b is None or b == 0 or math.isinf(b) for b in (self.lower, self.upper))


Positive = Refinement("Positive", lower=0.0, lower_open=True)
NonNegative = Refinement("NonNegative", lower=0.0)
Probability = Refinement("Probability", lower=0.0, upper=1.0, dimensionless=True)
Finite = Refinement("Finite", finite=True)
Integer = Refinement("Integer", integer=True)
Increasing = Refinement("Increasing", increasing=True)
"""Values that never decrease along the leading axis (``x[i] <= x[i+1]``): bin edges, time
stamps. A value below the one before it breaks the contract, and is the index named."""


def Bounded(lower: float | None = None, upper: float | None = None, unit: str | None = None) -> Refinement:
    """``lower ≤ x ≤ upper`` (either may be ``None``), the bounds in ``unit`` or the port's unit.

    ``Q[Float[Array, "n"], "K", tm.Bounded(0, 100, "degC")]`` accepts 273.15 K to 373.15 K.
    """
    problem = _bad_bounds(lower, upper, unit)
    if problem is not None:
        raise StageDefinitionError(
            Diagnostic(
                "TM014",
                f"bad refinement Bounded({lower!r}, {upper!r}{'' if unit is None else f', {unit!r}'}): {problem}",
                user_location(),
                hint='write Bounded(lower, upper, "unit") with numbers, lower <= upper; None leaves a side open',
            )
        )
    parts = [_fmt(lower), _fmt(upper)] + ([repr(unit)] if unit is not None else [])
    return Refinement(
        f"Bounded({', '.join(parts)})",
        lower=None if lower is None else float(lower),
        upper=None if upper is None else float(upper),
        unit=unit,
    )


def _bad_bounds(lower: object, upper: object, unit: object) -> str | None:
    for side, value in (("lower", lower), ("upper", upper)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return f"the {side} bound must be a number or None, got {type(value).__name__}"
        if isinstance(value, float) and math.isnan(value):
            return f"the {side} bound is NaN"
    if lower is None and upper is None:
        return "no bound given"
    if isinstance(lower, int | float) and isinstance(upper, int | float) and lower > upper:
        return "the lower bound is above the upper bound"
    if unit is not None and not isinstance(unit, str):
        return f"the unit must be a string, got {type(unit).__name__}"
    return None


def _fmt(value: float | None) -> str:
    if value is None:
        return "None"
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


@dataclasses.dataclass(frozen=True)
class Bounds:
    """The contracts of one port combined, in the magnitude of the port's unit."""

    refinements: tuple[Refinement, ...]
    lower: float | None
    upper: float | None
    lower_open: bool
    upper_open: bool
    finite: bool
    integer: bool
    unit: str | None  # the port's unit, for messages
    increasing: bool = False  # never decreasing along the leading axis

    def describe(self) -> str:
        """``Positive: x > 0 m`` or ``Bounded(0, 100, 'degC'): 273.15 K <= x <= 373.15 K``."""
        names = " and ".join(r.name for r in self.refinements)
        conditions: list[str] = []
        unit = f" {self.unit}" if self.unit else ""
        below = "<" if self.lower_open else "<="
        above = "<" if self.upper_open else "<="
        if self.lower is not None and self.upper is not None:
            conditions.append(f"{_num(self.lower)}{unit} {below} x {above} {_num(self.upper)}{unit}")
        elif self.lower is not None:
            conditions.append(f"x {'>' if self.lower_open else '>='} {_num(self.lower)}{unit}")
        elif self.upper is not None:
            conditions.append(f"x {above} {_num(self.upper)}{unit}")
        if self.finite:
            conditions.append("finite")
        if self.integer:
            conditions.append("whole numbers")
        if self.increasing:
            conditions.append("x[i] <= x[i+1] along the first axis")
        return f"{names}: {', '.join(conditions)}" if conditions else names

    def implies(self, other: Bounds) -> bool:
        """Whether every value keeping this contract keeps ``other`` (both in the same unit)."""
        if other.lower is not None:
            if self.lower is None or self.lower < other.lower:
                return False
            if self.lower == other.lower and other.lower_open and not self.lower_open:
                return False
        if other.upper is not None:
            if self.upper is None or self.upper > other.upper:
                return False
            if self.upper == other.upper and other.upper_open and not self.upper_open:
                return False
        finite = self.finite or (self.lower is not None and self.upper is not None)
        return (
            (finite or not other.finite)
            and (self.integer or not other.integer)
            and (self.increasing or not other.increasing)
        )

    def converted(self, scale: float, offset: float) -> Bounds:
        """The same contract after an edge conversion ``x * scale + offset`` (scale > 0)."""

        def move(x: float | None) -> float | None:
            return None if x is None else x * scale + offset

        integer = self.integer and float(scale).is_integer() and float(offset).is_integer()
        return dataclasses.replace(self, lower=move(self.lower), upper=move(self.upper), integer=integer)

    def ok(self, x: Any, xp: Any) -> Any:
        """Element-wise: which values keep the contract (``xp`` is numpy or jax.numpy)."""
        floating = xp.issubdtype(x.dtype, xp.inexact)
        good = ~xp.isnan(x) if floating else xp.ones(x.shape, dtype=bool)
        if self.lower is not None:
            good = good & ((x > self.lower) if self.lower_open else (x >= self.lower))
        if self.upper is not None:
            good = good & ((x < self.upper) if self.upper_open else (x <= self.upper))
        if self.finite and floating:
            good = good & xp.isfinite(x)
        if self.integer and floating:
            good = good & (x == xp.round(x))
        if self.increasing and x.ndim >= 1 and x.shape[0] > 1:
            # a value below the one before it breaks the order (the first value cannot)
            rises = x[1:] >= x[:-1]
            good = good & xp.concatenate([xp.ones((1, *x.shape[1:]), dtype=bool), rises], axis=0)
        return good


def _num(x: float) -> str:
    return f"{x:.6g}"


def resolve(refinements: tuple[Refinement, ...], unit: UType | None, registry: Registry) -> Bounds:
    """Combine a port's refinements in the magnitude of ``unit`` (its resolved unit)."""
    lower: float | None = None
    upper: float | None = None
    lower_open = upper_open = finite = integer = increasing = False
    for ref in refinements:
        scale, offset = 1.0, 0.0
        if ref.unit is not None:
            target = unit if unit is not None else UType(registry.dimensionless)
            factor = conversion(UType(registry.Unit(ref.unit)), target)
            if factor is None:  # pragma: no cover - rejected when the stage is defined
                raise ValueError(f"{ref.name} cannot apply to a value in {target.unit}")
            scale, offset = factor
        if ref.lower is not None:
            value = ref.lower * scale + offset
            if lower is None or value > lower or (value == lower and ref.lower_open):
                lower, lower_open = value, ref.lower_open
        if ref.upper is not None:
            value = ref.upper * scale + offset
            if upper is None or value < upper or (value == upper and ref.upper_open):
                upper, upper_open = value, ref.upper_open
        finite = finite or ref.finite
        integer = integer or ref.integer
        increasing = increasing or ref.increasing
    text = None if unit is None or unit.unit.dimensionless else f"{unit.unit:~}"
    return Bounds(refinements, lower, upper, lower_open, upper_open, finite, integer, text, increasing)


def problems_with(ref: object, unit: UnitExpr | None, registry: Registry) -> tuple[str, str] | None:
    """Why a refinement cannot apply to a port with this unit, and a hint (None: it can)."""
    why = _problem(ref, unit, registry)
    if why is None:
        return None
    if "dimensionless values only" in why:
        return why, 'Probability is for dimensionless ports (unit ""); bound other values with Bounded(lo, hi, "unit")'
    if "is a variable" in why:
        return why, "on a unit variable only bounds at 0 mean the same in every unit: use Positive or NonNegative"
    return why, 'give the bounds in a unit of the port\'s dimension: Bounded(0, 100, "degC") on a port in K'


def _problem(ref: object, unit: UnitExpr | None, registry: Registry) -> str | None:
    if not isinstance(ref, Refinement):  # pragma: no cover - only Refinements are collected
        return f"{ref!r} is not a refinement"
    variable = unit is not None and bool(unit.var_names)
    if ref.dimensionless:
        if variable or (unit is not None and not registry.Unit(unit.concrete).dimensionless):
            return f"{ref.name} applies to dimensionless values only, and this port is in {unit}"
    if variable and (ref.unit is not None or not ref.needs_unit_free_bounds):
        return (
            f"{ref.name} gives bounds in a fixed unit, but this port's unit {unit} is a variable: "
            "the bounds would mean different values for different units"
        )
    if ref.unit is not None:
        try:
            bound_unit = registry.Unit(ref.unit)
        except Exception as err:  # noqa: BLE001 - pint's many parse errors
            return f"unknown unit {ref.unit!r} in {ref.name}: {err}"
        port_unit = registry.dimensionless if unit is None else registry.Unit(unit.concrete)
        if conversion(UType(bound_unit), UType(port_unit)) is None:
            return f"the bounds of {ref.name} are in {ref.unit}, which does not convert to the port's {port_unit or 'dimensionless'}"
    return None


def violations(x: Any, bounds: Bounds) -> Any:
    """Inside a compiled run: how many values of ``x`` break the contract (a jax scalar)."""
    import jax.numpy as jnp

    return jnp.sum(~bounds.ok(x, jnp))


def violation_notes(x: Any, bounds: Bounds) -> tuple[str, ...]:
    """Host side: how many values break the contract, and the first few with their indices."""
    import numpy as np

    array = np.asarray(x)
    bad = ~np.asarray(bounds.ok(array, np))
    where = np.argwhere(bad)
    notes = [f"{int(bad.sum())} of {array.size} values break it (shape {array.shape})"]
    if len(where):
        unit = f" {bounds.unit}" if bounds.unit else ""
        shown = ", ".join(f"{_index(idx)} = {_num(float(array[tuple(idx)]))}{unit}" for idx in where[:5])
        notes.append(f"first: {shown}" + (" …" if len(where) > 5 else ""))
    return tuple(notes)


def _index(idx: Any) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"
