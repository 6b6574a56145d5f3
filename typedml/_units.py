"""Units: the pint registry in use, unit expressions with variables, and conversions.

A unit expression is pint's syntax plus *unit variables*: tokens starting with ``'``
(``"'u"``, ``"'y/'x"``, ``"m/'t**2"``). It is parsed once into a registry-independent
:class:`UnitExpr` (concrete pint text + variable exponents) and resolved against a registry
on demand. A resolved unit is a :class:`UType`: a pint unit times a product of *rigid*
variables (the unit variables of a pipeline's own signature, unknown until data arrives).

Conversion factors are computed once per (registry, unit pair) and cached: looking a
conversion up through pint costs ~170 µs, far more than a compiled call.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import math
import re
import weakref
from collections.abc import Generator, Mapping
from fractions import Fraction
from typing import Any, TypeAlias, cast

import pint

__all__ = [
    "UType",
    "UnitExpr",
    "UnitParseError",
    "conversion",
    "get_registry",
    "set_registry",
    "use_registry",
]

# pint's own annotations are partial (most members are untyped); its registry and unit
# objects are typed ``Any`` here on purpose so strict checking stays meaningful elsewhere.
Registry: TypeAlias = Any
PintUnit: TypeAlias = Any

_VAR_RE = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)")
_VAR_PREFIX = "__tmvar_"

_registry: Registry | None = None


def get_registry() -> Registry:
    """The pint registry typedml uses: pint's application registry, unless one was set.

    Being pint's application registry is what makes quantities cross process boundaries: pint
    unpickles a quantity into its application registry, so the outputs a worker process sends
    back arrive in the registry in use here (``set_registry`` moves both).
    """
    global _registry
    if _registry is None:
        registry: Registry = cast(Registry, pint.get_application_registry()).get()
        registry.Unit  # noqa: B018 - pint's lazy registry loads its definitions on first use
        _registry = registry
    return _registry


def set_registry(registry: Registry) -> None:
    """Use ``registry`` for all unit parsing, conversion and outputs from now on.

    Define custom units on it (``registry.define("click = [clicks]")``) before or after; stages
    keep their unit *text* and resolve it against whichever registry is in use.
    """
    global _registry
    if not isinstance(registry, cast(type, pint.UnitRegistry)):
        raise TypeError(f"set_registry expects a pint.UnitRegistry, got {type(registry).__name__}")
    _switch(registry)


def _switch(registry: Registry) -> None:
    global _registry
    if registry is not _registry:
        _registry = registry
        pint.set_application_registry(registry)  # pyright: ignore[reportUnknownMemberType] - quantities unpickled from now on land in it
        for watcher in list(_watchers):
            watcher.registry_switched()


# Objects told when the registry in use changes (compiled pipelines drop per-unit caches).
_watchers: weakref.WeakSet[Any] = weakref.WeakSet()


def watch_registry(watcher: Any) -> None:
    """Call ``watcher.registry_switched()`` whenever the registry changes (held weakly)."""
    _watchers.add(watcher)


@contextlib.contextmanager
def use_registry(registry: Registry) -> Generator[Registry]:
    """Temporarily use ``registry`` (restores the previous one on exit)."""
    previous = _registry
    set_registry(registry)
    try:
        yield registry
    finally:
        if previous is not None:
            _switch(previous)


class UnitParseError(Exception):
    """A unit expression could not be parsed; ``kind`` is ``"unknown"`` or ``"syntax"``."""

    def __init__(self, text: str, kind: str, detail: str) -> None:
        super().__init__(text, kind, detail)
        self.text = text
        self.kind = kind
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class UType:
    """A resolved unit: ``unit * prod(var**exp for var, exp in rigid)``."""

    unit: PintUnit
    rigid: tuple[tuple[str, Fraction], ...] = ()

    def __mul__(self, other: UType) -> UType:
        return UType(self.unit * other.unit, _merge(self.rigid, other.rigid, 1))

    def __truediv__(self, other: UType) -> UType:
        return UType(self.unit / other.unit, _merge(self.rigid, other.rigid, -1))

    def __pow__(self, exp: Fraction) -> UType:
        power = int(exp) if exp.denominator == 1 else float(exp)
        unit = self.unit if exp == 1 else self.unit**power
        return UType(unit, tuple((v, e * exp) for v, e in self.rigid if e * exp != 0))

    @property
    def dimensionless(self) -> bool:
        return not self.rigid and bool(self.unit.dimensionless)

    def same_dimension(self, other: UType) -> bool:
        return self.rigid == other.rigid and self.unit.dimensionality == other.unit.dimensionality

    def dimension_text(self) -> str:
        dims = str(self.unit.dimensionality)
        return dims + "".join(f" * '{v}**{e}" for v, e in self.rigid)

    def __str__(self) -> str:
        text = unit_text(self.unit)
        for var, exp in self.rigid:
            text += f"*'{var}" + ("" if exp == 1 else f"**{exp}")
        return text


def _merge(
    a: tuple[tuple[str, Fraction], ...], b: tuple[tuple[str, Fraction], ...], sign: int
) -> tuple[tuple[str, Fraction], ...]:
    out: dict[str, Fraction] = dict(a)
    for var, exp in b:
        out[var] = out.get(var, Fraction(0)) + sign * exp
    return tuple(sorted((v, e) for v, e in out.items() if e != 0))


@dataclasses.dataclass(frozen=True)
class UnitExpr:
    """A parsed unit annotation: concrete pint text times unit variables to powers."""

    text: str
    concrete: str
    variables: tuple[tuple[str, Fraction], ...] = ()
    # variables written delta('u): a difference of 'u (degC becomes delta_degC)
    deltas: frozenset[str] = frozenset()

    @property
    def is_plain(self) -> bool:
        """True for exactly ``'u`` (one variable to the first power, nothing else)."""
        return len(self.variables) == 1 and self.variables[0][1] == 1 and self.concrete in ("", "dimensionless")

    @property
    def var_names(self) -> tuple[str, ...]:
        return tuple(v for v, _ in self.variables)

    def resolve_concrete(self, registry: Registry) -> PintUnit:
        return _parse_units(registry, self.concrete)

    def substitute(self, registry: Registry, bindings: Mapping[str, UType]) -> UType:
        """The unit with every variable replaced by its binding (all must be bound)."""
        result = UType(self.resolve_concrete(registry))
        for var, exp in self.variables:
            bound = bindings[var]
            if var in self.deltas:
                bound = UType(delta_unit(bound.unit), bound.rigid)
            result = result * (bound**exp)
        return result

    def affine_unsafe(self, var: str) -> bool:
        """True if an affine unit bound to ``var`` would be meaningless here (e.g. 'u**2)."""
        return var in self.var_names and not self.is_plain and var not in self.deltas

    def __str__(self) -> str:
        return self.text or "dimensionless"


def parse_unit_expr(text: str, registry: Registry) -> UnitExpr:
    """Parse a unit annotation, validating its units against ``registry``.

    Raises :class:`UnitParseError` on unknown units or bad syntax.
    """
    if not isinstance(text, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UnitParseError(repr(text), "syntax", "a unit must be given as a string")
    _check_text(text)
    stripped = text.strip()
    if "'" not in stripped:
        _parse_units(registry, stripped, original=text)
        return UnitExpr(text, stripped)
    # Unit variables: parse the expression ourselves, units through pint.
    touching = _TOUCHING_RE.search(stripped)
    if touching is not None:
        raise UnitParseError(
            text,
            "syntax",
            f"`{touching.group(0)}`: a unit variable and what touches it need an operator between them "
            '(e.g. "\'u*\'v", "m*\'u")',
        )
    source = _VAR_RE.sub(lambda m: _VAR_PREFIX + m.group(1), stripped).replace("^", "**")
    if "'" in source:
        raise UnitParseError(text, "syntax", "a unit variable is ' followed by a name, e.g. 'u or 'x")
    try:
        tree = ast.parse(source, mode="eval")
        deltas: set[str] = set()
        concrete, variables = _walk(tree.body, text, registry, deltas)
    except SyntaxError as err:
        raise UnitParseError(
            text,
            "syntax",
            f'{err.msg}; with unit variables, write operators explicitly (e.g. "m*\'u")',
        ) from None
    except (RecursionError, MemoryError):
        raise UnitParseError(text, "syntax", "the expression is nested too deeply") from None
    if any(abs(e) > MAX_EXPONENT for e in variables.values()):
        raise UnitParseError(text, "syntax", f"an exponent must be a number between -{MAX_EXPONENT} and {MAX_EXPONENT}")
    concrete_text = "" if str(concrete) == "dimensionless" else str(concrete)
    return UnitExpr(
        text,
        concrete_text,
        tuple(sorted((v, e) for v, e in variables.items() if e != 0)),
        frozenset(deltas),
    )


MAX_UNIT_LENGTH = 256
"""The longest unit expression accepted: real ones are a few dozen characters, and pint's
parser takes time that grows with the square of the length of what it cannot read."""

# a unit variable directly after a name or another variable, or directly before a name
_TOUCHING_RE = re.compile(r"[A-Za-z0-9_]'[A-Za-z_]|'[A-Za-z_][A-Za-z0-9_]*'[A-Za-z_]?")


_UNIT_SIGNS = frozenset("_*/^().-+%°·⋅")  # and letters, digits, spaces


def odd_sign(text: str, variables: bool = True) -> str | None:
    """The first character of ``text`` that no unit expression is written with, if any.

    pint's reader skips what it does not know (``"m,s"`` is read as ms, ``"m; x"`` and
    ``"m # x"`` as m), so such text is refused before pint sees it. ``'`` starts a unit
    variable, allowed where ``variables`` are.
    """
    return next(
        (c for c in text if not (c.isalnum() or c.isspace() or c in _UNIT_SIGNS or (variables and c == "'"))),
        None,
    )


def _check_text(text: str) -> None:
    """Refuse what no unit expression contains, before pint spends time on it."""
    if len(text) > MAX_UNIT_LENGTH:
        raise UnitParseError(
            text[:40] + "...",
            "syntax",
            f"a unit expression of {len(text)} characters (at most {MAX_UNIT_LENGTH} are accepted)",
        )
    bad = next((c for c in text if not c.isprintable()), None)
    if bad is not None:
        raise UnitParseError(text, "syntax", f"it contains the control or invisible character {bad!r}")
    odd = odd_sign(text)
    if odd is not None:
        raise UnitParseError(text, "syntax", f"{odd!r} is no part of a unit expression")


def _walk(
    node: ast.expr, text: str, registry: Registry, deltas: set[str] | None = None
) -> tuple[PintUnit, dict[str, Fraction]]:
    deltas = set() if deltas is None else deltas
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "delta"
        and len(node.args) == 1
        and not node.keywords
    ):
        arg = node.args[0]
        if isinstance(arg, ast.Name) and arg.id.startswith(_VAR_PREFIX):
            deltas.add(arg.id[len(_VAR_PREFIX) :])
            return registry.dimensionless, {arg.id[len(_VAR_PREFIX) :]: Fraction(1)}
        raise UnitParseError(text, "syntax", "delta(...) takes one unit variable, e.g. delta('u)")
    if isinstance(node, ast.Name):
        if node.id.startswith(_VAR_PREFIX):
            return registry.dimensionless, {node.id[len(_VAR_PREFIX) :]: Fraction(1)}
        return _parse_units(registry, node.id, original=text), {}
    if isinstance(node, ast.Constant) and node.value == 1:
        return registry.dimensionless, {}
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            base_unit, base_vars = _walk(node.left, text, registry, deltas)
            exp = _exponent(node.right, text)
            power = int(exp) if exp.denominator == 1 else float(exp)
            return base_unit**power, {v: e * exp for v, e in base_vars.items()}
        if isinstance(node.op, (ast.Mult, ast.Div)):
            lu, lv = _walk(node.left, text, registry, deltas)
            ru, rv = _walk(node.right, text, registry, deltas)
            sign = 1 if isinstance(node.op, ast.Mult) else -1
            merged = dict(lv)
            for v, e in rv.items():
                merged[v] = merged.get(v, Fraction(0)) + sign * e
            return (lu * ru if sign == 1 else lu / ru), merged
    raise UnitParseError(
        text,
        "syntax",
        "only unit names, unit variables, *, / and ** with a number are allowed "
        f"(got `{ast.unparse(node).replace(_VAR_PREFIX, chr(39))}`)",
    )


def _exponent(node: ast.expr, text: str) -> Fraction:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        value = None
    if value is None and isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        num, den = _exponent(node.left, text), _exponent(node.right, text)
        if den == 0:
            raise UnitParseError(text, "syntax", "an exponent divides by zero")
        return num / den
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or abs(value) > MAX_EXPONENT:
            raise UnitParseError(
                text, "syntax", f"an exponent must be a number between -{MAX_EXPONENT} and {MAX_EXPONENT}"
            )
        return Fraction(value).limit_denominator(1000)
    raise UnitParseError(text, "syntax", "an exponent must be a number, e.g. 'u**2")


MAX_EXPONENT = 64


_unit_cache: dict[tuple[int, str], PintUnit] = {}


def _parse_units(registry: Registry, text: str, original: str | None = None) -> PintUnit:
    key = (id(registry), text)
    cached = _unit_cache.get(key)
    if cached is not None:
        return cached
    try:
        unit = registry.parse_units(text)
    except pint.UndefinedUnitError as err:
        names = ", ".join(repr(n) for n in _as_names(err.unit_names))
        raise UnitParseError(original or text, "unknown", f"{names} is not defined in the unit registry") from None
    except Exception as err:  # noqa: BLE001 - pint's parser raises several unrelated types
        detail = str(err) or "incomplete expression"
        raise UnitParseError(original or text, "syntax", f"{type(err).__name__}: {detail}") from None
    exponents = [float(e) for e in unit._units.values()]
    if not all(math.isfinite(e) and abs(e) <= MAX_EXPONENT for e in exponents):
        raise UnitParseError(
            original or text, "syntax", f"an exponent must be a number between -{MAX_EXPONENT} and {MAX_EXPONENT}"
        )
    _unit_cache[key] = unit
    return unit


def _as_names(names: str | tuple[str, ...] | list[str]) -> list[str]:
    return [names] if isinstance(names, str) else list(names)


# --- conversions -----------------------------------------------------------------------

_conversion_cache: dict[tuple[int, PintUnit, PintUnit], tuple[float, float] | None] = {}


class OffsetUnitError(Exception):
    """Pint refused an affine (offset) unit inside a compound unit."""


def conversion(src: UType, dst: UType) -> tuple[float, float] | None:
    """``(scale, offset)`` with ``dst_value = src_value * scale + offset``.

    ``None`` when the dimensions differ. Cached per (registry, unit pair).
    """
    if src.rigid != dst.rigid:
        return None
    if src.unit == dst.unit:
        return (1.0, 0.0)
    registry = src.unit._REGISTRY
    key = (id(registry), src.unit, dst.unit)
    if key in _conversion_cache:
        return _conversion_cache[key]
    result: tuple[float, float] | None
    if src.unit.dimensionality != dst.unit.dimensionality:
        result = None
    else:
        try:
            zero = float(registry.Quantity(0.0, src.unit).to(dst.unit).magnitude)
            one = float(registry.Quantity(1.0, src.unit).to(dst.unit).magnitude)
        except (pint.OffsetUnitCalculusError, pint.DimensionalityError) as err:
            # pint refuses offset units in products and powers (degC**2): not convertible
            raise OffsetUnitError(str(err)) from None
        if src.rigid and zero != 0.0:
            raise OffsetUnitError(f"affine unit conversion {src} -> {dst} under unit variables")
        # Pint's direct factor is exact where (1 - 0) may round; factors that float
        # arithmetic left a hair off an integer (s -> ns: 999999999.9999999) are snapped.
        result = (_snap(one), 0.0) if zero == 0.0 else (_snap(one - zero), _snap(zero))
    _conversion_cache[key] = result
    return result


_delta_cache: dict[tuple[int, PintUnit], PintUnit] = {}


def delta_unit(unit: PintUnit) -> PintUnit:
    """The unit of a difference of two values in ``unit``: delta_degC for degC, else itself."""
    if not is_affine(unit):
        return unit
    registry = unit._REGISTRY
    key = (id(registry), unit)
    if key not in _delta_cache:
        _delta_cache[key] = (registry.Quantity(1.0, unit) - registry.Quantity(0.0, unit)).units
    return _delta_cache[key]


def _snap(x: float) -> float:
    nearest = round(x)
    return float(nearest) if nearest != 0 and abs(x - nearest) <= 1e-12 * abs(x) else x


_affine_cache: dict[tuple[int, PintUnit], bool] = {}


def is_affine(unit: PintUnit) -> bool:
    """True for offset units such as degC and degF (their zero is not the base zero)."""
    registry = unit._REGISTRY
    key = (id(registry), unit)
    if key not in _affine_cache:
        try:
            base = registry.Quantity(0.0, unit).to_base_units().magnitude
            _affine_cache[key] = float(base) != 0.0
        except pint.OffsetUnitCalculusError:
            _affine_cache[key] = True
    return _affine_cache[key]


_text_cache: weakref.WeakKeyDictionary[Any, dict[Any, str]] = weakref.WeakKeyDictionary()


def unit_text(unit: PintUnit) -> str:
    # cached per registry (pint refuses to compare units of two registries): formatting is
    # slow, and a check formats the units of every edge
    per_registry = _text_cache.setdefault(unit._REGISTRY, {})
    text = per_registry.get(unit._units)
    if text is None:
        text = format(unit, "~") or "dimensionless"
        per_registry[unit._units] = text
    return text


def solve_unit_vars(
    equations: list[tuple[UType, UnitExpr, str]],
    registry: Registry,
    bindings: dict[str, tuple[UType, str]] | None = None,
) -> tuple[dict[str, tuple[UType, str]], list[tuple[UType, UnitExpr, str]]]:
    """Solve unit variables from ``found == expr`` equations (``origin`` labels each).

    Plain ``'u`` equations go first, then any equation with a single unknown variable, until
    nothing changes (F#-style inference restricted to one unknown at a time). Returns the
    bindings, each with the origin that fixed it, and the equations left unsolved.
    """
    solved: dict[str, tuple[UType, str]] = dict(bindings or {})
    pending = sorted(equations, key=lambda e: (not e[1].is_plain, len(e[1].variables)))
    progress = True
    while pending and progress:
        progress = False
        for eq in list(pending):
            found, expr, origin = eq
            unknown = [(v, e) for v, e in expr.variables if v not in solved]
            if len(unknown) > 1:
                continue
            pending.remove(eq)
            progress = True
            if not unknown:
                continue
            var, exp = unknown[0]
            if expr.is_plain:
                solved[var] = (found, origin)
                continue
            known = UType(expr.resolve_concrete(registry))
            for v, e in expr.variables:
                if v != var:
                    known = known * (solved[v][0] ** e)
            solved[var] = ((found / known) ** (1 / exp), origin)
    return solved, pending
