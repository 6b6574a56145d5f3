"""Angles as a dimension: a pint registry where the radian is a base unit of ``[angle]``.

pint's default registry, like the SI, defines ``radian = []``: an angle is a pure number, so
``Hz`` converts to ``rad/s`` by 1 (the 2π of ω = 2πf is lost) and ``rpm`` (2π rad/min) to
``Hz`` by 2π/60 (1 rpm = 0.105 Hz instead of 1/60 Hz). :func:`angle_registry` builds a
registry from pint's own definitions with one change, ``radian = [angle]``, so that radian,
degree, revolution (turn, cycle) and everything defined from them (``rpm``, ``steradian``)
carry the dimension: Hz into a rad/s port is a unit error, and rpm converts to rad/s with its
2π/60. The cost: quantities that the SI defines through angles carry them too (``lumen`` is
``cd*sr``, ``[luminosity]*[angle]**2``), and a formula such as v = ω·r gives ``m*rad/s``,
which a port in ``m/s`` refuses; a stage that turns an angle into a length declares it.

Under a registry where the radian is a pure number (pint's default), a conversion between a
unit that carries an angle and one that does not (``rpm`` -> ``Hz``, ``Hz`` -> ``rad/s``,
``deg`` -> a port without unit) is exact arithmetic on a convention the user may not share:
:func:`angle_assumption` finds such a conversion and :func:`assumed_angle_diagnostic` says it
(TM142, a warning: a deliberate ``rad/s`` -> ``1/s`` is legitimate code).

Each :func:`angle_registry` call returns a registry of its own, copied from a template built
once per set of keyword arguments: a copy costs about a quarter of a build, and units defined
on one registry are never seen by another.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import threading
import warnings
import weakref
from fractions import Fraction
from typing import Any

import pint

__all__ = [
    "AngleAssumption",
    "angle_assumption",
    "angle_hint",
    "angle_power",
    "angle_registry",
    "factor_text",
    "has_angles",
    "say",
]


@functools.cache
def _definitions() -> tuple[str, ...]:
    folder = os.path.dirname(pint.__file__)
    with open(os.path.join(folder, "default_en.txt"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    out: list[str] = []
    replaced = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("@import "):
            with open(os.path.join(folder, stripped.split(None, 1)[1]), encoding="utf-8") as g:
                out.extend(g.read().splitlines())
            continue
        if stripped.startswith("radian = [] = rad"):
            line = "radian = [angle] = rad"
            replaced = True
        out.append(line)
    if not replaced:  # pragma: no cover - a pint release that defines the radian differently
        raise RuntimeError("pint's definitions no longer contain 'radian = [] = rad'; angles cannot be a dimension")
    return tuple(out)


_templates: dict[tuple[tuple[str, Any], ...], Any] = {}
_templates_lock = threading.Lock()


def angle_registry(**kwargs: Any) -> Any:
    """A new pint registry with pint's default units and the radian a base unit of ``[angle]``.

    Use it with ``tm.set_registry(tm.angle_registry())`` (or ``tm.use_registry``) before
    defining stages. Keyword arguments go to :class:`pint.UnitRegistry`.

    Each call returns a registry of its own (units defined on one are not seen by another),
    copied from a template built on the first call with the same keyword arguments: later
    calls cost a copy (about a quarter of a build), not a build.
    """
    try:
        key: tuple[tuple[str, Any], ...] | None = tuple(sorted(kwargs.items()))
        hash(key)
    except TypeError:  # an unhashable argument: no template to share
        key = None
    if key is None:
        return _build(kwargs)
    template = _templates.get(key)
    if template is None:
        with _templates_lock:
            template = _templates.get(key)
            if template is None:
                template = _templates[key] = _build(kwargs)
    return copy.deepcopy(template)  # pint's own deepcopy: new dynamic Quantity and Unit classes


def _build(kwargs: dict[str, Any]) -> Any:
    make: Any = pint.UnitRegistry
    try:
        registry: Any = make(None, **kwargs)  # None: start empty, then pint's definitions with the change
    except TypeError as err:  # an argument pint.UnitRegistry does not take
        raise TypeError(
            f"tm.angle_registry() takes pint.UnitRegistry's keyword arguments "
            f"(such as autoconvert_offset_to_baseunit=True); {err}"
        ) from None
    registry.load_definitions(list(_definitions()))
    return registry


def has_angles(registry: Any) -> bool:
    """Whether ``registry`` treats angles as a dimension (its radian is not dimensionless)."""
    try:
        return not bool(registry.parse_units("radian").dimensionless)
    except Exception:  # noqa: BLE001 - a registry without a radian
        return False


# -- conversions that take the radian as the number 1 ------------------------------------------

_powers: weakref.WeakKeyDictionary[Any, dict[Any, Fraction]] = weakref.WeakKeyDictionary()


def angle_power(unit: Any) -> Fraction:
    """How many radians ``unit`` carries in its definition (``rpm``: 1, ``sr``: 2, ``lux``: 2,
    ``Hz``: 0), whether or not its registry makes the radian a dimension."""
    registry = unit._REGISTRY
    per_registry = _powers.setdefault(registry, {})
    found = per_registry.get(unit._units)
    if found is None:
        try:
            _, root = registry.get_root_units(unit)
            found = Fraction(root._units.get("radian", 0)).limit_denominator(1000)
        except Exception:  # noqa: BLE001 - a registry without a radian, or a unit pint cannot root
            found = Fraction(0)
        per_registry[unit._units] = found
    return found


class AngleAssumption:
    """A conversion between units that differ only by angles, made with the radian as 1."""

    __slots__ = ("dst", "factor", "gained", "src")

    def __init__(self, src: str, dst: str, factor: float, gained: Fraction) -> None:
        self.src = src
        self.dst = dst
        self.factor = factor
        self.gained = gained  # radians the destination has that the source has not (negative: dropped)

    def factor_text(self) -> str:
        return factor_text(self.factor)

    def assumption(self) -> str:
        """What the conversion takes for granted, in words."""
        src, dst = _named(self.src), _named(self.dst)
        if self.gained > 0:
            return (
                f"{src} carries no angle and {dst} does: the value is read as radians (a frequency in Hz, "
                "cycles per second, becomes as many rad/s: the 2π of ω = 2πf is not applied)"
            )
        return (
            f"{src} carries an angle and {dst} does not: the angle is dropped as its number of radians "
            "(a revolution counts as 2π, a degree as π/180)"
        )

    def example(self) -> str:
        """``1 rpm = 0.10472 (π/30) Hz here; counting revolutions (a turn as 1), it would be ...``."""
        here = f"1 {_unit(self.src)} = {_number(self.factor)}{_after(self.dst)} here"
        if abs(self.gained) != 1:
            return here
        turns = self.factor * (2 * math.pi) ** float(self.gained)
        counted = "a cycle as 1" if self.gained > 0 else "revolutions (a turn as 1)"
        return f"{here}; counting {counted}, it would be {_number(turns)}{_after(self.dst)}"

    def notes(self) -> tuple[str, ...]:
        return (
            self.assumption(),
            self.example(),
            "the registry in use makes the radian the pure number 1, as pint's default and the SI do, so "
            "the conversion exists; typedml cannot tell whether the code means that convention",
        )


def angle_hint(silence: bool = True) -> str:
    """What to do about a TM142."""
    return (
        "declare both sides with their angles (rad/s, rpm, deg; turn/s for revolutions per second) so the "
        "conversion is between like units, or make angles a dimension with tm.set_registry(tm.angle_registry()), "
        "where this is a unit error"
        + ("; if the conversion is meant, add `# typedml: ignore[TM142]` to the line" if silence else "")
    )


def angle_assumption(src: Any, dst: Any) -> AngleAssumption | None:
    """The assumption behind converting pint unit ``src`` to ``dst`` (scale ``factor``), or None.

    Only under a registry whose radian is a pure number, and only when one unit carries more
    radians than the other (``rpm`` -> ``Hz``, ``Hz`` -> ``rad/s``, ``deg`` -> ``dimensionless``).
    """
    registry = src._REGISTRY
    if has_angles(registry):
        return None  # the dimensions differ: no conversion exists (TM102)
    gained = angle_power(dst) - angle_power(src)
    if not gained:
        return None
    from ._units import UType, conversion, unit_text

    try:
        conv = conversion(UType(src), UType(dst))
    except Exception:  # noqa: BLE001 - an offset unit: reported as such elsewhere
        return None
    if conv is None:
        return None
    return AngleAssumption(_unit(unit_text(src)), _unit(unit_text(dst)), conv[0], gained)


def _number(value: float) -> str:
    shown = factor_text(value)
    plain = f"{value:.6g}"
    if shown == plain:
        fraction = Fraction(value).limit_denominator(3600)
        if fraction.denominator > 1 and abs(float(fraction) - value) <= 1e-9 * abs(value):
            shown = f"{fraction.numerator}/{fraction.denominator}"
    return plain if shown == plain else f"{plain} ({shown})"


def _unit(text: str) -> str:
    """A unit as a message shows it: ``rad/s``, ``1/s``."""
    return text.replace(" / ", "/").replace(" * ", "*").replace(" ** ", "**")


def _named(text: str) -> str:
    return "a plain number" if text == "dimensionless" else _unit(text)


def _after(text: str) -> str:
    """A unit after a number: `` rad/s``, `` (1/s)``, `` as a plain number``."""
    text = _unit(text)
    if text == "dimensionless":
        return " as a plain number"
    return f" ({text})" if text[:1].isdigit() else f" {text}"


def factor_text(value: float) -> str:
    """``π/30``-style text for a multiple of π (or 1/π, π²) with a small rational coefficient,
    else ``%g``."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    for power, form in ((1, "π"), (-1, "π"), (2, "π²"), (-2, "π²")):
        ratio = Fraction(value / math.pi**power).limit_denominator(360)
        if not ratio or abs(float(ratio) * math.pi**power - value) > 1e-9 * abs(value):
            continue
        if power > 0:
            num = "" if ratio.numerator == 1 else str(ratio.numerator)
            den = "" if ratio.denominator == 1 else f"/{ratio.denominator}"
            return f"{num}{form}{den}"
        under = form if ratio.denominator == 1 else f"({ratio.denominator}{form})"
        return f"{ratio.numerator}/{under}"
    return f"{value:g}"


# Python's record of the warnings already shown (per message and line, under the "default"
# filter): a TM142 said by every run of a plan is shown once, as Python shows a warning once.
_shown: dict[Any, Any] = {}


def say(diagnostic: Any) -> None:
    """Give a TM142 diagnostic as a :class:`~typedml.ConversionWarning` at its place (an error
    where warnings are made errors)."""
    from ._errors import ConversionWarning

    warning = ConversionWarning(diagnostic)
    location = diagnostic.location
    if location is not None:
        warnings.warn_explicit(warning, ConversionWarning, location.path, location.line, registry=_shown)
    else:
        warnings.warn(warning, stacklevel=3)
