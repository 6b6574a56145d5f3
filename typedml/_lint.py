"""Body lints: glue bugs that keep every declared unit, shape and dtype right.

Each stage body is traced once more into a jaxpr, with the body check's symbolic sizes (no
data), and read for five patterns. Each warns only under a rule precise enough to keep
ordinary correct code quiet (a false alarm is worse than a miss):

- **TM160** a ``reshape`` that permutes named axes: a reshape keeps memory order, so it can
  merge or split neighbouring axes but never move one past another. Flagged when the output
  puts a named axis (a signature symbol) before one that came before it in the input, e.g.
  ``(h, w, b) -> (b, h*w)``. Splits and merges in order, reshapes of unnamed (fixed-size)
  axes, and axes whose names appear more than once are never flagged.
- **TM161** a unit-conversion factor written in the body and applied to a port's value.
  Dimensional analysis of the jaxpr (units of the ports, an unknown unit for every literal)
  must *prove* the literal a pure number — otherwise it may be a physical constant, like the
  60 s of ``exp(-t / 60)`` or the 1000 kg/m³ of water — and its value, times the scale the
  analysis requires, must be a conversion factor (100, 1000, 10⁶, 60, 3600, 86400, 3.6, 1.8,
  π/180, 2π with angles as a dimension, or a reciprocal) on a quantity of the dimension it converts. A
  factor that the declared units require (a body that takes ``ms`` and returns ``s``
  dividing by 1000) is consistent and not flagged. Adding 273.15 or 459.67 to a temperature
  is flagged unless a pair of ports differs by that offset.
- **TM162** in a stage whose signature summarises over an axis (an input axis absent from
  every output), centring values on a statistic over an axis every output keeps
  (``x - x.mean(axis=1, keepdims=True)`` where the outputs keep axis 1): per-sample
  statistics where per-feature ones were meant. Division by such a statistic (normalising
  each row to proportions) is not flagged.
- **TM163** NumPy's rank promotion, inside one operation the body writes, lining an axis up
  with a different axis of the same size: an axis of the same input (``a / a.sum(axis=1)`` on
  a square ``a``: row sums on the columns), or a size-1 axis the signature declares while the
  other operand has that size elsewhere (``(n, 1) - (n,)`` is ``(n, n)``). Each axis of a value
  carries the input axis it came from (through reductions, transposes, elementwise operations
  and ``broadcast_in_dim``); size-1 axes written in the body (``x[:, None] - x``), values of
  different inputs and ``keepdims=True`` statistics are never flagged.
- **TM164** a statistic over one axis divided by the size of another axis it keeps, or by
  its root (``x.std(axis=0) / jnp.sqrt(x.shape[1])``): a count, mean or standard error over
  ``n`` takes the size of ``n``. Sizes of axes reduced over, contractions (``q @ k.T /
  sqrt(d)``, not a reduction) and multiplication are not flagged.

Lints look only at operations written in the body itself (not inside ``jnp`` functions it
calls). A line with ``# typedml: ignore[TM161]`` (or a bare ``# typedml: ignore``) is
silenced. A body that cannot be traced with symbolic sizes is not linted: the body check
reports it already.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import math
import os
import re
import textwrap
import tokenize
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction
from types import CodeType
from typing import Any, cast

import jax
from jax.extend import core as jcore

from ._errors import Diagnostic, Location
from ._source import silenced
from ._spec import Port, Spec
from ._units import UnitExpr, get_registry

__all__ = ["JaxprView", "body_codes", "lint_traced", "owner"]

_cache: dict[tuple[Any, ...], tuple[Diagnostic, ...]] = {}

# -- where an operation was written -----------------------------------------------------------

# JAX's own dispatch between a body's `x / 1000` (or `jnp.divide`) and the primitive it binds:
# an operation reached only through these files was written in the body itself.
_DISPATCH = frozenset(
    {
        "source_info_util.py",
        "partial_eval.py",
        "core.py",
        "pjit.py",
        "traceback_util.py",
        "api.py",
        "api_util.py",
        "linear_util.py",
        "dispatch.py",
        "array_methods.py",
        "ufunc_api.py",
        "ufuncs.py",
        "lax.py",
        "util.py",
        "dtypes.py",
        "profiler.py",
    }
)
_JAX_SRC = f"{os.sep}jax{os.sep}_src{os.sep}"


@functools.lru_cache(maxsize=2048)
def _is_dispatch(filename: str) -> bool:
    return _JAX_SRC in filename and os.path.basename(filename) in _DISPATCH


@dataclasses.dataclass(frozen=True)
class _Site:
    """Where the body wrote an operation: its code object, location, and whether directly."""

    code: CodeType
    location: Location
    direct: bool  # written in the body, not inside a library function the body called


def _body_codes(code: CodeType) -> frozenset[CodeType]:
    """The body's code object and those nested in it (lambdas, comprehensions, inner defs)."""
    found = {code}
    for const in code.co_consts:
        if isinstance(const, CodeType):
            found |= _body_codes(const)
    return frozenset(found)


def _site(eqn: Any, codes: frozenset[CodeType], through: frozenset[str] = frozenset()) -> _Site | None:
    """Where the body wrote ``eqn``; ``through``: names of library functions that only
    forward to the primitive (``jnp.reshape``), so an operation reached through them is direct."""
    tb = eqn.source_info.traceback
    if tb is None:
        return None
    frames, lastis = tb.raw_frames()
    direct = True
    for code, lasti in zip(frames, lastis, strict=False):
        if code in codes:
            return _Site(code, _location(code, lasti), direct)
        if not (_is_dispatch(code.co_filename) or (_JAX_SRC in code.co_filename and code.co_name in through)):
            direct = False
    return None


_RESHAPES = frozenset({"reshape", "ravel", "_reshape", "_compute_newshape"})


def _location(code: CodeType, lasti: int) -> Location:
    line, col, end_line, end_col = code.co_firstlineno, 1, None, None
    positions = list(code.co_positions())
    if 0 <= lasti // 2 < len(positions):
        start, end, start_col, stop_col = positions[lasti // 2]
        if start is not None:
            line = start
            col = (start_col or 0) + 1
            end_line = end
            end_col = None if stop_col is None else stop_col + 1
    return Location(code.co_filename, line, col, end_line, end_col)


def _has_source(path: str) -> bool:
    """Whether ``path`` names a Python file (code compiled from a string or a page has no
    source to read, and a same-named file in the working directory is not it)."""
    return path.endswith(".py") and os.path.isfile(path)


# -- symbolic dimensions as monomials --------------------------------------------------------


def _only(names: frozenset[str] | None) -> str | None:
    """The one symbol of a whole named axis, else None."""
    return next(iter(names)) if names is not None and len(names) == 1 else None


_FACTOR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\^(\d+))?$")


def _monomial(dim: Any) -> frozenset[str] | None:
    """The symbols of a dimension that is a product of symbols (``3*h*w``), else None.

    A fixed size has no symbols; ``n + 1`` or ``floordiv(n, 2)`` is not a monomial.
    """
    if isinstance(dim, int):
        return frozenset()
    names: set[str] = set()
    for factor in str(dim).replace(" ", "").split("*"):
        if factor.isdigit():
            continue
        match = _FACTOR.match(factor)
        if match is None:
            return None
        names.add(match[1])
    return frozenset(names)


# -- units as vectors: dimension exponents and log10 of the scale -----------------------------

Dims = tuple[tuple[str, Fraction], ...]


@dataclasses.dataclass(frozen=True)
class _Vec:
    dims: Dims = ()
    log: float = 0.0  # log10 of the unit's size in base units

    def __add__(self, other: _Vec) -> _Vec:
        return _Vec(_dims_add(self.dims, other.dims, Fraction(1)), self.log + other.log)

    def __sub__(self, other: _Vec) -> _Vec:
        return _Vec(_dims_add(self.dims, other.dims, Fraction(-1)), self.log - other.log)

    def scale(self, k: Fraction) -> _Vec:
        return _Vec(tuple((d, e * k) for d, e in self.dims if e * k), self.log * float(k))

    @property
    def zero(self) -> bool:
        return not self.dims and abs(self.log) < 1e-9

    def has(self, dim: str) -> bool:
        return any(d == dim for d, _ in self.dims)


def _dims_add(a: Dims, b: Dims, sign: Fraction) -> Dims:
    out = dict(a)
    for d, e in b:
        out[d] = out.get(d, Fraction(0)) + sign * e
    return tuple(sorted((d, e) for d, e in out.items() if e))


_PURE = _Vec()


@dataclasses.dataclass(frozen=True)
class _Form:
    """A unit known up to unknowns: ``const + sum(coef * unknown)``."""

    const: _Vec
    coeffs: tuple[tuple[int, Fraction], ...] = ()

    def combine(self, other: _Form, sign: int) -> _Form:
        out = dict(self.coeffs)
        for i, c in other.coeffs:
            out[i] = out.get(i, Fraction(0)) + sign * c
        const = self.const + other.const if sign == 1 else self.const - other.const
        return _Form(const, tuple(sorted((i, c) for i, c in out.items() if c)))

    def scale(self, k: Fraction) -> _Form:
        return _Form(self.const.scale(k), tuple((i, c * k) for i, c in self.coeffs if c * k))


@functools.lru_cache(maxsize=512)
def _unit_vec(registry: Any, text: str) -> _Vec | None:
    try:
        unit = registry.parse_units(text.strip() or "dimensionless")
        factor, _ = registry.get_base_units(unit)
        dims = tuple(sorted((str(d), Fraction(e).limit_denominator(1000)) for d, e in unit.dimensionality.items()))
        return _Vec(dims, math.log10(float(factor)))
    except Exception:  # noqa: BLE001 - a unit pint cannot reduce to base units: unknown
        return None


def _port_vec(expr: UnitExpr | None, registry: Any) -> _Vec | None:
    if expr is None:
        return _PURE
    base = _unit_vec(registry, expr.concrete)
    if base is None:
        return None
    return base + _Vec(tuple(sorted((f"'{v}", e) for v, e in expr.variables)))


# -- conversion factors ------------------------------------------------------------------------

_FACTORS: tuple[tuple[float, str, str], ...] = (
    # value, what it converts, the dimension the quantity must have ("" any dimension)
    (1000.0, "kilo/milli prefix", ""),
    (1.0e6, "mega/micro prefix", ""),
    (100.0, "hecto/centi prefix", ""),
    (60.0, "minutes/seconds", "[time]"),
    (3600.0, "hours/seconds", "[time]"),
    (86400.0, "days/seconds", "[time]"),
    (3.6, "km/h and m/s, or kWh and MJ", "speed-or-energy"),
    (1.8, "kelvin and degrees Rankine", "[temperature]"),
    (180.0 / math.pi, "degrees and radians", "angle"),
    (2.0 * math.pi, "revolutions and radians", "angle-or-frequency"),
)
_OFFSETS = (273.15, 459.67)


def _factor_match(value: float) -> tuple[float, str, str] | None:
    if value <= 0:
        return None
    for factor, what, dim in _FACTORS:
        for candidate in (factor, 1.0 / factor):
            if abs(value - candidate) <= 1e-5 * candidate:
                return factor, what, dim
    return None


_SPEED = (("[length]", Fraction(1)), ("[time]", Fraction(-1)))
_ENERGY = (("[length]", Fraction(2)), ("[mass]", Fraction(1)), ("[time]", Fraction(-2)))


def _dimension_fits(kind: str, vec: _Vec, angle_port: bool, angles: bool) -> bool:
    if kind == "":
        return bool(vec.dims)
    if kind == "speed-or-energy":
        return vec.dims in (_SPEED, _ENERGY)
    if kind == "angle":
        return vec.has("[angle]") if angles else angle_port
    if kind == "angle-or-frequency":  # pint's default radian is 1: 2π is then a rad-per-cycle constant
        return angles and (vec.has("[angle]") or vec.has("[time]"))
    return vec.has(kind)


_ANGLE_UNITS = frozenset({"radian", "degree", "turn", "arcminute", "arcsecond", "grade", "mil"})


def _is_angle_unit(expr: UnitExpr | None, registry: Any) -> bool:
    if expr is None or not expr.concrete:
        return False
    try:
        names = registry.parse_units(expr.concrete)._units
    except Exception:  # noqa: BLE001
        return False
    return any(str(n) in _ANGLE_UNITS for n in names)


# -- primitives ------------------------------------------------------------------------------

_SAME = frozenset({"add", "sub", "max", "min", "rem", "nextafter", "clamp", "concatenate", "pad", "add_any"})
_COMPARE = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
_FOLLOW = frozenset(
    {
        "reshape",
        "broadcast_in_dim",
        "transpose",
        "squeeze",
        "expand_dims",
        "slice",
        "dynamic_slice",
        "gather",
        "rev",
        "convert_element_type",
        "reduce_precision",
        "copy",
        "copy_p",
        "reduce_sum",
        "reduce_max",
        "reduce_min",
        "cumsum",
        "cummax",
        "cummin",
        "neg",
        "abs",
        "floor",
        "ceil",
        "round",
        "real",
        "imag",
        "conj",
        "stop_gradient",
        "sharding_constraint",
        "optimization_barrier",
    }
)
_PURE_FUNCS = frozenset(
    {
        "exp",
        "exp2",
        "log",
        "log1p",
        "expm1",
        "tanh",
        "sinh",
        "cosh",
        "asinh",
        "acosh",
        "atanh",
        "logistic",
        "erf",
        "erfc",
        "erf_inv",
        "lgamma",
        "digamma",
    }
)
_COUNTS = frozenset({"dim_as_value", "iota", "argmax", "argmin", "sign", "is_finite"})
_REDUCE = frozenset({"reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "argmax", "argmin"})
_STAT_FOLLOW = frozenset(
    {"broadcast_in_dim", "reshape", "expand_dims", "squeeze", "convert_element_type", "sqrt", "integer_pow", "neg"}
)


# elementwise primitives: each output axis is the operands' axis at the same position
_ELEMENTWISE = frozenset(
    {
        *_SAME,
        *_COMPARE,
        *_PURE_FUNCS,
        "mul",
        "div",
        "pow",
        "atan2",
        "and",
        "or",
        "xor",
        "not",
        "select_n",
        "integer_pow",
        "sqrt",
        "rsqrt",
        "cbrt",
        "square",
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "sign",
        "is_finite",
        "cumsum",
        "cumprod",
        "cummax",
        "cummin",
        "cumlogsumexp",
    }
    - {"concatenate", "pad"}
    | (
        _FOLLOW
        - {
            "reshape",
            "broadcast_in_dim",
            "transpose",
            "squeeze",
            "expand_dims",
            "gather",
            "reduce_sum",
            "reduce_max",
            "reduce_min",
        }
    )
)
# binary elementwise primitives, where NumPy's broadcasting meets two operands
_BROADCASTING = frozenset({"add", "sub", "mul", "div", "pow", "max", "min", "rem", "atan2", "nextafter", *_COMPARE})

Origin = tuple[tuple[int, int] | None, ...]  # per axis: (input leaf, its axis) it came from, or unknown
Frames = tuple[tuple[CodeType, ...], tuple[int, ...]]


@dataclasses.dataclass
class _LiteralUse:
    index: int  # its unknown
    value: float  # for a chain of factors (x * pi / 180), their product
    primitive: str
    operand: Any  # the value the factors apply to (a jaxpr Var)
    site: _Site
    group: dict[int, Fraction] = dataclasses.field(default_factory=dict[int, Fraction])  # the chain's unknowns
    superseded: bool = False  # a longer chain of factors continues it
    parts: tuple[float, ...] = ()  # the literals as written


@dataclasses.dataclass(frozen=True)
class _Stat:
    """A value derived from a reduction over kept axes of a value that has a dropped axis."""

    axes: tuple[str, ...]  # the reduced symbols
    dropped: str


class _Linter:
    def __init__(self, fn: Callable[..., Any], spec: Spec) -> None:
        self.fn = fn
        self.spec = spec
        self.registry = get_registry()
        self.angles = not bool(self.registry.parse_units("radian").dimensionless)
        self.codes = body_codes(fn)
        self.found: list[Diagnostic] = []
        self.rename: Callable[[str], str] = lambda s: s
        # unit inference
        self.forms: dict[Any, _Form] = {}
        self.taint: dict[Any, frozenset[str]] = {}
        self.stats: dict[Any, _Stat] = {}
        self.equations: list[tuple[_Form, _Form]] = []
        self.literals: list[_LiteralUse] = []
        self.additive: list[_LiteralUse] = []
        self.chains: dict[Any, _LiteralUse] = {}
        self.unknowns = 0
        self.kept: set[str] = set()
        self.dropped: set[str] = set()
        # TM163: which input axis each axis of a value comes from, and implicit rank promotions
        self.origins: dict[Any, Origin] = {}
        self.leaves: list[str] = []  # the port of each input leaf
        self.promoted: dict[Any, tuple[Frames, Any]] = {}  # value -> (its broadcast's frames, the value before)
        # TM164: values that are axis sizes (x.shape[1]), and the axes a value was reduced over
        self.sizes: dict[Any, frozenset[str]] = {}
        self.reduced: dict[Any, frozenset[str]] = {}

    # -- driver ---------------------------------------------------------------------------
    def run(
        self, jaxpr: Any, names: list[str], inputs: Mapping[str, Any], shape: Any, symbols: Any
    ) -> list[Diagnostic]:
        if not self.codes:
            return []
        self.rename = symbols.rename
        self._signature_axes(symbols.dims)
        self._bind_inputs(jaxpr, names, inputs)
        for var in jaxpr.constvars:
            self.forms[var] = self._fresh()
        self._walk(jaxpr)
        self._bind_outputs(jaxpr, shape)
        self._conversions()
        return self.found

    def _fresh(self) -> _Form:
        self.unknowns += 1
        return _Form(_PURE, ((self.unknowns - 1, Fraction(1)),))

    def _form(self, atom: Any) -> _Form:
        if isinstance(atom, jcore.Literal):
            return self._fresh()
        form = self.forms.get(atom)
        if form is None:
            form = self.forms[atom] = self._fresh()
        return form

    def _signature_axes(self, symbols: Mapping[str, str]) -> None:
        def names(port: Port) -> set[str]:
            if port.type is None:
                return set()
            return {symbols[i.text] for i in port.type.dims if i.text in symbols}

        arrays = [p for p in self.spec.outputs if p.type is not None]
        if not arrays:
            return
        kept = names(arrays[0])
        seen_out: set[str] = set()
        for port in arrays:
            kept &= names(port)
            seen_out |= names(port)
        seen_in: set[str] = set()
        for port in self.spec.inputs:
            seen_in |= names(port)
        self.kept = kept
        self.dropped = seen_in - seen_out

    def _bind_inputs(self, jaxpr: Any, names: list[str], inputs: Mapping[str, Any]) -> None:
        invars = iter(jaxpr.invars)
        for name in names:
            port = self.spec.input(name)
            leaves = jax.tree_util.tree_leaves(inputs[name])
            vec = _port_vec(port.type.unit, self.registry) if port.type is not None else None
            for _ in leaves:
                var = next(invars, None)
                if var is None:
                    return
                self.forms[var] = _Form(vec) if vec is not None else self._fresh()
                self.taint[var] = frozenset({name})
                self.origins[var] = tuple((len(self.leaves), k) for k in range(len(var.aval.shape)))
                self.leaves.append(name)

    def _bind_outputs(self, jaxpr: Any, shape: Any) -> None:
        ports = self.spec.outputs
        values: list[Any] = (
            list(cast("tuple[Any, ...]", shape))
            if self.spec.output_tuple is not None and isinstance(shape, tuple)
            else [shape]
        )
        if len(values) != len(ports):
            return
        outvars = iter(jaxpr.outvars)
        for port, value in zip(ports, values, strict=True):
            leaves = jax.tree_util.tree_leaves(value)
            for _ in leaves:
                var = next(outvars, None)
                if var is None or isinstance(var, jcore.Literal) or port.type is None:
                    continue
                vec = _port_vec(port.type.unit, self.registry)
                if vec is not None:
                    self.equations.append((self._form(var), _Form(vec)))

    # -- the walk -------------------------------------------------------------------------
    def _walk(self, jaxpr: Any) -> None:
        for eqn in jaxpr.eqns:
            prim = eqn.primitive.name
            site = _site(eqn, self.codes)
            if prim == "reshape":
                shaped = _site(eqn, self.codes, _RESHAPES)
                if shaped is not None and shaped.direct:
                    self._reshape(eqn, shaped)
            inner = _inner_jaxpr(eqn)
            if inner is not None:
                self._call(eqn, inner)
                continue
            for sub in _subjaxprs(eqn):  # control flow: units not followed, shapes still read
                self._walk(sub)
            self._units(eqn, prim, site)
            self._taints(eqn)
            self._stats(eqn, prim, site)
            self._origins(eqn, prim, site)
            self._reductions(eqn, prim, site)

    def _call(self, eqn: Any, inner: Any) -> None:
        jaxpr = inner.jaxpr if hasattr(inner, "jaxpr") else inner
        for outer, var in zip(eqn.invars, jaxpr.invars, strict=True):
            self.forms[var] = self._form(outer)
            if not isinstance(outer, jcore.Literal):
                if outer in self.taint:
                    self.taint[var] = self.taint[outer]
                if outer in self.stats:
                    self.stats[var] = self.stats[outer]
                if outer in self.origins:
                    self.origins[var] = self.origins[outer]
                if outer in self.sizes:
                    self.sizes[var] = self.sizes[outer]
                if outer in self.reduced:
                    self.reduced[var] = self.reduced[outer]
        for var in jaxpr.constvars:
            self.forms[var] = self._fresh()
        self._walk(jaxpr)
        for outer, var in zip(eqn.outvars, jaxpr.outvars, strict=True):
            if isinstance(var, jcore.Literal):
                self.forms[outer] = self._fresh()
                continue
            self.forms[outer] = self._form(var)
            if var in self.taint:
                self.taint[outer] = self.taint[var]
            if var in self.stats:
                self.stats[outer] = self.stats[var]
            if var in self.origins:
                self.origins[outer] = self.origins[var]
            if var in self.sizes:
                self.sizes[outer] = self.sizes[var]
            if var in self.reduced:
                self.reduced[outer] = self.reduced[var]

    def _taints(self, eqn: Any) -> None:
        sources: frozenset[str] = frozenset()
        for atom in eqn.invars:
            if not isinstance(atom, jcore.Literal):
                sources |= self.taint.get(atom, frozenset())
        if sources:
            for out in eqn.outvars:
                self.taint[out] = sources

    # -- TM160: reshape ---------------------------------------------------------------------
    def _reshape(self, eqn: Any, site: _Site) -> None:
        before = [_monomial(d) for d in eqn.invars[0].aval.shape]
        after = [_monomial(d) for d in eqn.outvars[0].aval.shape]
        if any(m is None for m in (*before, *after)):
            return
        position: dict[str, int] = {}
        for axis, names in enumerate(before):
            assert names is not None
            for name in names:
                if name in position:
                    return  # a name on two axes: which one moved is not known
                position[name] = axis
        previous: tuple[int, str] | None = None  # the furthest input axis used so far, and its name
        for names in after:
            assert names is not None
            if not names:
                continue
            if any(n not in position for n in names):
                return
            axes = sorted(position[n] for n in names)
            if previous is not None and axes[0] < previous[0]:
                moved = min(names, key=lambda n: position[n])
                self._warn(
                    "TM160",
                    site,
                    f"reshape in the body of stage {self.spec.name!r} moves axis {self.rename(moved)} past "
                    f"{self.rename(previous[1])}: {self._shape(eqn.invars[0])} -> {self._shape(eqn.outvars[0])}",
                    notes=(
                        "a reshape keeps the memory order: it can merge or split neighbouring axes, never reorder them",
                        "so this mixes values of different entries of the moved axis (a transpose written as a reshape)",
                    ),
                    hint="move the axis first (jnp.transpose, jnp.moveaxis or einops.rearrange), then reshape",
                )
                return
            last = max(names, key=lambda n: position[n])
            if previous is None or axes[-1] >= previous[0]:
                previous = (axes[-1], last)

    def _shape(self, var: Any) -> str:
        return "(" + ", ".join(self.rename(str(d)).replace(" ", "") for d in var.aval.shape) + ")"

    # -- TM162: statistics over a kept axis ----------------------------------------------------
    def _stats(self, eqn: Any, prim: str, site: _Site | None) -> None:
        if prim in _REDUCE and self.dropped and self.kept:
            operand = eqn.invars[0]
            shape: list[frozenset[str] | None] = [_monomial(d) for d in operand.aval.shape]
            axes: tuple[int, ...] = tuple(eqn.params.get("axes", ()))
            reduced = [shape[a] for a in axes] if all(0 <= a < len(shape) for a in axes) else []
            rest = [shape[a] for a in range(len(shape)) if a not in axes]
            single = [_only(m) for m in reduced if _only(m) is not None]
            dropped = [_only(m) for m in rest if _only(m) in self.dropped]
            if reduced and len(single) == len(reduced) and all(s in self.kept for s in single) and dropped:
                self.stats[eqn.outvars[0]] = _Stat(tuple(s for s in single if s is not None), str(dropped[0]))
                return
        if prim in _STAT_FOLLOW or prim in ("div", "mul"):
            marked = [self.stats[a] for a in eqn.invars if not isinstance(a, jcore.Literal) and a in self.stats]
            if marked and (prim in _STAT_FOLLOW or prim == "mul" or eqn.invars[0] in self.stats):
                self.stats[eqn.outvars[0]] = marked[0]
            return
        if prim not in ("sub", "add") or site is None or not site.direct:
            return
        for atom, other in ((eqn.invars[0], eqn.invars[1]), (eqn.invars[1], eqn.invars[0])):
            if isinstance(atom, jcore.Literal) or atom not in self.stats or isinstance(other, jcore.Literal):
                continue
            stat = self.stats[atom]
            full = {_only(_monomial(d)) for d in other.aval.shape}
            if not set(stat.axes) <= full:
                continue
            over = ", ".join(self.rename(a) for a in stat.axes)
            self._warn(
                "TM162",
                site,
                f"body of stage {self.spec.name!r} centres values on a statistic over axis {over}, "
                f"which every output keeps; its signature summarises over {self.rename(stat.dropped)}",
                notes=(
                    f"the outputs drop {', '.join(sorted(self.rename(d) for d in self.dropped))} and keep "
                    f"{', '.join(sorted(self.rename(k) for k in self.kept))}",
                    f"a statistic over {over} is per {self.rename(stat.dropped)}: per-sample where per-feature was meant?",
                ),
                hint=f"reduce over {self.rename(stat.dropped)} instead; if centring over {over} is intended, "
                "add `# typedml: ignore[TM162]` to the line",
            )
            return

    # -- TM163: broadcasting that lines an axis up with another ---------------------------------
    def _origins(self, eqn: Any, prim: str, site: _Site | None) -> None:
        if len(eqn.outvars) != 1:
            return
        out = eqn.outvars[0]
        rank = len(out.aval.shape)
        ins = [a for a in eqn.invars if not isinstance(a, jcore.Literal)]
        if prim in _BROADCASTING and len(ins) == 2 and site is not None and site.direct:
            self._misaligned(eqn, ins[0], ins[1], site)
        found: Origin | None = None
        if prim == "broadcast_in_dim" and ins and ins[0] in self.origins:
            source = self.origins[ins[0]]
            placed: list[tuple[int, int] | None] = [None] * rank
            for k, d in enumerate(eqn.params["broadcast_dimensions"]):
                placed[d] = source[k]
            found = tuple(placed)
            dims = tuple(eqn.params["broadcast_dimensions"])
            added = rank - len(source)
            if added > 0 and dims == tuple(range(added, rank)):  # NumPy's rank promotion adds leading axes
                tb = eqn.source_info.traceback
                if tb is not None:
                    codes, lastis = tb.raw_frames()
                    self.promoted[out] = ((tuple(codes), tuple(lastis)), ins[0])
        elif prim in _REDUCE and ins and ins[0] in self.origins:
            axes = set(eqn.params.get("axes", ()))
            found = tuple(o for k, o in enumerate(self.origins[ins[0]]) if k not in axes)
        elif prim == "transpose" and ins and ins[0] in self.origins:
            source = self.origins[ins[0]]
            permutation: tuple[int, ...] = tuple(eqn.params["permutation"])
            found = tuple(source[k] for k in permutation)
        elif prim == "squeeze" and ins and ins[0] in self.origins:
            gone = {d % max(len(self.origins[ins[0]]), 1) for d in eqn.params["dimensions"]}
            found = tuple(o for k, o in enumerate(self.origins[ins[0]]) if k not in gone)
        elif prim in _ELEMENTWISE and ins:
            merged: list[tuple[int, int] | None] = [None] * rank
            clash = [False] * rank
            for atom in ins:
                source = self.origins.get(atom)
                shape = atom.aval.shape
                if source is None or len(shape) != rank:
                    continue
                for k in range(rank):
                    if source[k] is None or (shape[k] is not out.aval.shape[k] and shape[k] != out.aval.shape[k]):
                        continue
                    if merged[k] is not None and merged[k] != source[k]:
                        clash[k] = True
                    merged[k] = source[k]
            found = tuple(None if c else m for m, c in zip(merged, clash, strict=True))
        if found is not None and len(found) == rank and any(o is not None for o in found):
            self.origins[out] = found

    def _misaligned(self, eqn: Any, a: Any, b: Any, site: _Site) -> None:
        """Flag an operand that NumPy's rank promotion (implicit, in this very operation) puts
        so that one of its axes meets a different axis of the same size: an axis of the same
        input (``a / a.sum(axis=1)`` on a square ``a``), or a size-1 axis the signature
        declares (``(n, 1) - (n,)``, which pairs every n with every n)."""
        tb = eqn.source_info.traceback
        if tb is None:
            return
        codes, lastis = tb.raw_frames()
        frames: Frames = (tuple(codes), tuple(lastis))
        for promoted, other in ((a, b), (b, a)):
            mark = self.promoted.get(promoted)
            if mark is None or mark[0] != frames:
                continue
            po, oo = self.origins.get(promoted), self.origins.get(other)
            if po is None or oo is None:
                continue
            pshape, oshape = promoted.aval.shape, other.aval.shape
            if len(pshape) != len(oshape):
                continue
            for k in range(len(pshape)):
                p, o = po[k], oo[k]
                if p is None or o is None or _monomial(pshape[k]) is None or not _only(_monomial(pshape[k])):
                    continue
                if p[0] == o[0] and p[1] != o[1] and str(pshape[k]) == str(oshape[k]):
                    self._broadcast_warning(site, promoted, other, k, p, f"axis {o[1]} of {self.leaves[o[0]]}")
                    return
                if oshape[k] == 1 and any(
                    str(oshape[m]) == str(pshape[k]) and k != m and po[m] is None for m in range(len(oshape))
                ):
                    declared = self.spec.input(self.leaves[o[0]])
                    if declared.type is not None and self._declares_one(declared, o[1]):
                        self._broadcast_warning(
                            site, promoted, other, k, p, f"the size-1 axis {o[1]} that {self.leaves[o[0]]} declares"
                        )
                        return

    @staticmethod
    def _declares_one(port: Port, axis: int) -> bool:
        dims = port.type.dims if port.type is not None else ()
        return 0 <= axis < len(dims) and dims[axis].text == "1"

    def _broadcast_warning(
        self, site: _Site, promoted: Any, other: Any, k: int, came: tuple[int, int], met: str
    ) -> None:
        name = self.leaves[came[0]]
        size = self.rename(str(promoted.aval.shape[k]))
        shown = f"size {size}"
        self._warn(
            "TM163",
            site,
            f"broadcasting in the body of stage {self.spec.name!r} lines axis {came[1]} of {name} ({shown}) up with "
            f"{met}: {self._shape(other)} with {self._shape(self.promoted[promoted][1])}, broadcast as "
            f"{self._shape(promoted)}",
            notes=(
                "NumPy's rank promotion adds leading axes to the operand of lower rank, so its axes meet the other "
                "operand's last axes, whatever they mean",
                f"here axis {came[1]} of {name} lands on a different axis of size {size}: the shapes fit, the values "
                "do not",
            ),
            hint="keep the reduced axis (keepdims=True), index the size-1 axis away (x[:, 0]), or add the axis "
            "explicitly where it belongs (x[:, None]); if this pairing is meant, add `# typedml: ignore[TM163]` "
            "to the line",
        )

    # -- TM164: a statistic divided by the size of an axis it was not taken over -----------------
    def _reductions(self, eqn: Any, prim: str, site: _Site | None) -> None:
        if len(eqn.outvars) != 1:
            return
        out = eqn.outvars[0]
        ins = [a for a in eqn.invars if not isinstance(a, jcore.Literal)]
        if prim == "dim_as_value":
            self.sizes[out] = _symbols(eqn.params["dim"])
            return
        if prim == "div" and len(eqn.invars) == 2 and len(ins) == 2 and site is not None and site.direct:
            self._rescaled(ins[0], ins[1], site)  # a statistic divided by a size (a count, or its root)
        if ins and all(a in self.sizes for a in ins) and (prim in _ELEMENTWISE or prim in _STAT_FOLLOW):
            self.sizes[out] = frozenset[str]().union(*(self.sizes[a] for a in ins))
        if prim in _REDUCE and ins:
            shape = ins[0].aval.shape
            axes = eqn.params.get("axes", ())
            over = frozenset[str]().union(*(_symbols(shape[a]) for a in axes if 0 <= a < len(shape)))
            self.reduced[out] = self.reduced.get(ins[0], frozenset()) | over
        elif prim in _ELEMENTWISE or prim in _STAT_FOLLOW or prim in _FOLLOW:
            reduced = [self.reduced[a] for a in ins if a in self.reduced]
            if reduced:
                self.reduced[out] = frozenset[str]().union(*reduced)

    def _rescaled(self, value: Any, size: Any, site: _Site) -> None:
        over = self.reduced.get(value)
        axes = self.sizes.get(size)
        if not over or not axes or value in self.sizes:
            return
        kept = frozenset[str]().union(*(_symbols(d) for d in value.aval.shape))
        if axes & over or not axes <= kept:
            return
        named = ", ".join(self.rename(a) for a in sorted(axes))
        taken = ", ".join(self.rename(a) for a in sorted(over))
        self._warn(
            "TM164",
            site,
            f"body of stage {self.spec.name!r} divides a statistic over axis {taken} by the size of axis {named}, "
            f"which the statistic keeps",
            notes=(
                f"the value was reduced over {taken}; its own axes are {self._shape(value)}",
                f"a count, mean or standard error over {taken} takes the size of {taken}: x.shape[0] where "
                "x.shape[1] was meant?",
            ),
            hint=f"use the size of the axis reduced over ({taken}); if this scaling is meant, add "
            "`# typedml: ignore[TM164]` to the line",
        )

    # -- units through the body ----------------------------------------------------------------
    def _units(self, eqn: Any, prim: str, site: _Site | None) -> None:
        ins = eqn.invars
        outs = eqn.outvars
        if prim in ("mul", "div", "add", "sub") and len(ins) == 2 and site is not None and site.direct:
            for pos, atom in enumerate(ins):
                if isinstance(atom, jcore.Literal) and not isinstance(ins[1 - pos], jcore.Literal):
                    self._literal(eqn, prim, pos, site)
                    return
        forms = [self._form(a) for a in ins]
        if prim in _SAME or prim == "atan2":
            for f in forms[1:]:
                self.equations.append((forms[0], f))
            out = forms[0] if prim != "atan2" else _Form(self._rad())
        elif prim in _COMPARE:
            self.equations.append((forms[0], forms[1]))
            out = self._fresh()
        elif prim == "select_n":
            for f in forms[2:]:
                self.equations.append((forms[1], f))
            out = forms[1]
        elif prim in ("dynamic_update_slice", "scatter-add", "scatter_add", "scatter"):
            other = forms[1] if prim == "dynamic_update_slice" else forms[-1]
            self.equations.append((forms[0], other))
            out = forms[0]
        elif prim in _FOLLOW:
            out = forms[0]
        elif prim in ("mul", "dot_general", "conv_general_dilated"):
            out = forms[0].combine(forms[1], 1)
        elif prim == "div":
            out = forms[0].combine(forms[1], -1)
        elif prim == "integer_pow":
            out = forms[0].scale(Fraction(int(eqn.params["y"])))
        elif prim in ("square", "sqrt", "rsqrt", "cbrt"):
            out = forms[0].scale(
                {"square": Fraction(2), "sqrt": Fraction(1, 2), "rsqrt": Fraction(-1, 2)}.get(prim, Fraction(1, 3))
            )
        elif prim == "pow" and isinstance(ins[1], jcore.Literal):
            exponent = float(ins[1].val)
            simple = Fraction(exponent).limit_denominator(4)
            if abs(float(simple) - exponent) <= 1e-6:
                out = forms[0].scale(simple)
            else:  # x**0.19: only a pure number has such a power (a dimension has no 0.19th power)
                self.equations.append((forms[0], _Form(_PURE)))
                out = _Form(_PURE)
        elif prim in _PURE_FUNCS:
            self.equations.append((forms[0], _Form(_PURE)))
            out = _Form(_PURE)
        elif prim in ("sin", "cos", "tan"):
            self.equations.append((forms[0], _Form(self._rad())))
            out = _Form(_PURE)
        elif prim in ("asin", "acos", "atan"):
            self.equations.append((forms[0], _Form(_PURE)))
            out = _Form(self._rad())
        elif prim in _COUNTS:
            out = _Form(_PURE)
        elif prim == "sort":
            for var, form in zip(outs, forms, strict=False):
                self.forms[var] = form
            return
        elif prim == "split":
            for var in outs:
                self.forms[var] = forms[0]
            return
        else:
            for var in outs:
                self.forms[var] = self._fresh()
            return
        for var in outs:
            self.forms[var] = out

    def _rad(self) -> _Vec:
        return _unit_vec(self.registry, "radian") or _PURE

    def _literal(self, eqn: Any, prim: str, pos: int, site: _Site) -> None:
        lit, other = eqn.invars[pos], eqn.invars[1 - pos]
        lit_form = self._fresh()
        index = lit_form.coeffs[0][0]
        other_form = self._form(other)
        try:
            value = float(lit.val)
        except (TypeError, ValueError):
            value = math.nan
        # value: the factor x is multiplied by (1/v for x / v)
        factor = value if prim != "div" else (1.0 / value if value else math.nan)
        use = _LiteralUse(
            index, factor, prim, other, site, {index: Fraction(1 if prim == "mul" else -1)}, parts=(value,)
        )
        previous = self.chains.get(other)
        if prim in ("mul", "div") and (prim == "mul" or pos == 1) and previous is not None:
            previous.superseded = True  # x * pi / 180: one factor, pi/180, applied to x
            group = dict(previous.group)
            group[index] = use.group[index]
            use = _LiteralUse(
                index, previous.value * factor, "mul", previous.operand, site, group, parts=(*previous.parts, value)
            )
        if prim == "mul":
            out = other_form.combine(lit_form, 1)
            self.literals.append(use)
        elif prim == "div":
            if pos == 1:
                out = other_form.combine(lit_form, -1)
                self.literals.append(use)
            else:  # 1000 / x: not a rescaling of x
                out = lit_form.combine(other_form, -1)
        else:
            self.equations.append((other_form, lit_form))
            out = other_form
            self.additive.append(use)
        for var in eqn.outvars:
            self.forms[var] = out
            if prim in ("mul", "div") and use in self.literals:
                self.chains[var] = use

    # -- TM161: conversion factors ---------------------------------------------------------
    def _conversions(self) -> None:
        candidates = [
            u for u in self.literals if not u.superseded and self.taint.get(u.operand) and math.isfinite(u.value)
        ]
        offsets = [u for u in self.additive if any(abs(abs(u.value) - o) < 1e-3 for o in _OFFSETS)]
        if not candidates and not offsets:
            return
        if self.unknowns > 600 or len(self.equations) > 4000:
            return  # too large to solve quickly; nothing is claimed
        solved = _solve(self.equations)
        if solved is None:
            return  # the body's arithmetic contradicts the declared units somewhere: claim nothing
        for use in candidates:
            unit = solved.value(use.group)
            if unit is None or unit.dims:
                continue  # not provably a pure number: it may be a physical constant
            factor = abs(use.value) * 10.0**unit.log
            match = _factor_match(factor)
            if match is None or not self._written(use):
                continue
            operand = self._value(use.operand, solved)
            if operand is None:
                continue
            ports = sorted(self.taint.get(use.operand, frozenset()))
            angle_port = any(
                _is_angle_unit(p.type.unit, self.registry)
                for p in (*self.spec.inputs, *self.spec.outputs)
                if p.type is not None and (p.name in ports or p in self.spec.outputs)
            )
            if not _dimension_fits(match[2], operand, angle_port, self.angles):
                continue
            verb, shown = ("divides", 1.0 / use.value) if use.primitive == "div" else ("multiplies", use.value)
            described = self._ports(ports)
            self._warn(
                "TM161",
                use.site,
                f"body of stage {self.spec.name!r} {verb} {described} by {_show(abs(shown))}, "
                f"a unit conversion factor ({match[1]}) written in code",
                notes=(
                    "the declared units already say what the body computes in, and typedml converts on the edges",
                    "dimensional analysis of the body proves this factor a pure number, so it rescales the quantity: "
                    "a second conversion, or one the signature should declare",
                ),
                hint="declare the unit the body expects on the port (e.g. ms) and drop the factor; if it is a "
                "physical constant, add `# typedml: ignore[TM161]` to the line",
            )
        for use in offsets:
            unit = solved.value({use.index: Fraction(1)})
            if unit is None or not unit.has("[temperature]") or not self._written(use):
                continue
            if self._explained_offset(abs(use.value)):
                continue
            verb = (
                "adds"
                if use.primitive == "add" and use.value > 0
                else "subtracts"
                if use.primitive == "sub"
                else "adds"
            )
            self._warn(
                "TM161",
                use.site,
                f"body of stage {self.spec.name!r} {verb} {_show(abs(use.value))} to "
                f"{self._ports(sorted(self.taint.get(use.operand, frozenset())))}: a temperature conversion written in code",
                notes=("no pair of the stage's ports differs by this offset: the signature does not explain it",),
                hint="declare the port in the unit the body expects (degC, K) and let typedml convert on the edge",
            )

    def _ports(self, ports: list[str]) -> str:
        if not ports:
            return "a value"
        shown: list[str] = []
        for name in ports:
            t = self.spec.input(name).type
            shown.append(f"{name!r} ({'pytree' if t is None else t.unit or 'no unit'})")
        return ("port " if len(shown) == 1 else "a value of ports ") + ", ".join(shown)

    def _value(self, var: Any, solved: _Solution) -> _Vec | None:
        form = self.forms.get(var)
        return None if form is None else solved.form(form)

    def _written(self, use: _LiteralUse) -> bool:
        """The literal's value is written in the body (not a size JAX folded in)."""
        written = _written_values(use.site.code, self.fn)
        return all(
            any(abs(abs(p) - v) <= 1e-6 * max(1.0, v) for v in written) or _is_angle_factor(p) for p in use.parts
        )

    def _explained_offset(self, offset: float) -> bool:
        from ._units import UType, conversion

        units = [p.type.unit for p in (*self.spec.inputs, *self.spec.outputs) if p.type is not None]
        concrete = [u for u in units if u is not None and not u.variables and u.concrete]
        for a in concrete:
            for b in concrete:
                try:
                    conv = conversion(
                        UType(a.resolve_concrete(self.registry)), UType(b.resolve_concrete(self.registry))
                    )
                except Exception:  # noqa: BLE001
                    continue
                if conv is not None and abs(abs(conv[1]) - offset) < 1e-3:
                    return True
        return False

    def _warn(self, code: str, site: _Site, message: str, notes: tuple[str, ...], hint: str) -> None:
        if silenced(site.location, code):
            return
        if any(d.code == code and d.location == site.location for d in self.found):
            return
        self.found.append(
            Diagnostic(
                code,
                message,
                site.location,
                severity="warning",
                notes=notes,
                hint=hint,
                stage=self.spec.name,
            )
        )


def _symbols(dim: Any) -> frozenset[str]:
    """The axis symbols a (symbolic) size is written in: ``n - 1`` -> {n}; a number: none."""
    if isinstance(dim, int):
        return frozenset()
    return frozenset(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", str(dim)))


def _is_angle_factor(value: float) -> bool:
    """pi/180 or 180/pi: no size is folded into one, and jnp.deg2rad/rad2deg write them."""
    return any(abs(abs(value) - v) <= 1e-6 * v for v in (math.pi / 180, 180 / math.pi))


def _show(value: float) -> str:
    for name, v in (("π/180", math.pi / 180), ("180/π", 180 / math.pi), ("2π", 2 * math.pi), ("1/(2π)", 0.5 / math.pi)):
        if abs(value - v) <= 1e-6 * v:
            return name
    return f"{value:g}"


def _inner_jaxpr(eqn: Any) -> Any:
    """The jaxpr a call-like primitive (jit, custom_jvp, remat) runs on its own operands."""
    for key in ("jaxpr", "call_jaxpr", "fun_jaxpr"):
        inner = eqn.params.get(key)
        jaxpr = getattr(inner, "jaxpr", inner)
        if (
            isinstance(jaxpr, jcore.Jaxpr)
            and len(jaxpr.invars) == len(eqn.invars)
            and len(jaxpr.outvars) == len(eqn.outvars)
        ):
            return inner
    return None


def _subjaxprs(eqn: Any) -> Iterator[Any]:
    for value in eqn.params.values():
        items: tuple[Any, ...] = tuple(cast("list[Any]", value)) if isinstance(value, tuple | list) else (value,)
        for item in items:
            jaxpr: object = getattr(item, "jaxpr", item)
            if isinstance(jaxpr, jcore.Jaxpr):
                yield jaxpr


# -- numbers written in the body -------------------------------------------------------------


def _written_values(code: CodeType, fn: Callable[..., Any]) -> frozenset[float]:
    body: object = getattr(fn, "__code__", None)
    source: frozenset[float] = _source_values(body) if isinstance(body, CodeType) else frozenset()
    return _code_values(code) | source


@functools.lru_cache(maxsize=1024)
def _code_values(code: CodeType) -> frozenset[float]:
    out: set[float] = set()
    for const in code.co_consts:
        if isinstance(const, bool):
            continue
        if isinstance(const, int | float):
            out.add(abs(float(const)))
        elif isinstance(const, CodeType):
            out |= _code_values(const)
    return frozenset(out)


@functools.lru_cache(maxsize=1024)
def _source_values(code: CodeType) -> frozenset[float]:
    """Constant sub-expressions of the body's source (``np.pi / 180``, ``2 * math.pi``)."""
    if not _has_source(code.co_filename):
        return frozenset()
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(code)))
    except (OSError, TypeError, SyntaxError, tokenize.TokenError):
        return frozenset()
    out: set[float] = set()
    for node in ast.walk(tree):
        value = _constant(node)
        if value is not None:
            out.add(abs(value))
    return frozenset(out)


_PI_NAMES = frozenset({"pi"})


def _constant(node: ast.AST) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Attribute) and node.attr in _PI_NAMES:
        return math.pi
    if isinstance(node, ast.Name) and node.id == "pi":
        return math.pi
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div):
        left, right = _constant(node.left), _constant(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Mult):
            return left * right
        return left / right if right else None
    return None


# -- solving the unit equations ----------------------------------------------------------------


class _Solution:
    """Equations reduced to pivot rows: ``x_p + sum(c * x_free) = rhs_p``."""

    def __init__(self, pivots: dict[int, tuple[dict[int, Fraction], _Vec]]) -> None:
        self.pivots = pivots

    def value(self, combination: Mapping[int, Fraction]) -> _Vec | None:
        """``sum(c * x)`` when the equations determine it, else None."""
        out = _PURE
        free: dict[int, Fraction] = {}
        for i, c in combination.items():
            row = self.pivots.get(i)
            if row is None:
                free[i] = free.get(i, Fraction(0)) + c
                continue
            coeffs, rhs = row
            out = out + rhs.scale(c)
            for j, v in coeffs.items():
                if j != i:
                    free[j] = free.get(j, Fraction(0)) - c * v
        return out if not any(free.values()) else None

    def form(self, form: _Form) -> _Vec | None:
        rest = self.value(dict(form.coeffs))
        return None if rest is None else form.const + rest


def _solve(equations: list[tuple[_Form, _Form]]) -> _Solution | None:
    """The equations in reduced row echelon form (None when they contradict each other).

    Gaussian elimination over the rationals on the coefficients; the right-hand sides are unit
    vectors (exact dimension exponents, a float log-scale).
    """
    pivots: dict[int, tuple[dict[int, Fraction], _Vec]] = {}
    for left, right in equations:
        diff = left.combine(right, -1)  # coeffs(left - right) . x = const(right) - const(left)
        coeffs = dict(diff.coeffs)
        rhs = _PURE - diff.const
        for p in [p for p in coeffs if p in pivots]:
            c = coeffs.pop(p)
            pcoeffs, prhs = pivots[p]
            for i, v in pcoeffs.items():
                if i != p:
                    coeffs[i] = coeffs.get(i, Fraction(0)) - c * v
                    if not coeffs[i]:
                        del coeffs[i]
            rhs = rhs - prhs.scale(c)
        if not coeffs:
            if rhs.dims or abs(rhs.log) > 1e-6:
                return None
            continue
        p = min(coeffs)
        c = coeffs[p]
        coeffs = {i: v / c for i, v in coeffs.items()}
        rhs = rhs.scale(1 / c)
        for q, (qcoeffs, qrhs) in list(pivots.items()):
            k = qcoeffs.get(p)
            if not k:
                continue
            new = {i: v for i, v in qcoeffs.items() if i != p}
            for i, v in coeffs.items():
                if i != p:
                    new[i] = new.get(i, Fraction(0)) - k * v
                    if not new[i]:
                        del new[i]
            pivots[q] = (new, qrhs - rhs.scale(k))
        pivots[p] = (coeffs, rhs)
    return _Solution(pivots)


@dataclasses.dataclass(frozen=True)
class JaxprView:
    """Part of a jaxpr: one body's inputs, equations and outputs in a trace of several."""

    invars: list[Any]
    constvars: list[Any]
    eqns: list[Any]
    outvars: list[Any]


def body_codes(fn: Callable[..., Any]) -> frozenset[CodeType]:
    """The code objects whose operations belong to ``fn``'s body."""
    code = getattr(fn, "__code__", None)
    return _body_codes(code) if isinstance(code, CodeType) else frozenset()


def owner(eqn: Any, owners: Mapping[CodeType, int]) -> int | None:
    """Which body (by index in ``owners``' values) traced ``eqn``."""
    tb = eqn.source_info.traceback
    if tb is None:
        return None
    for code in tb.raw_frames()[0]:
        found = owners.get(code)
        if found is not None:
            return found
    return None


def lint_traced(
    fn: Callable[..., Any],
    spec: Spec,
    jaxpr: Any,
    names: list[str],
    inputs: Mapping[str, Any],
    shape: Any,
    symbols: Any,
) -> list[Diagnostic]:
    """The body lints of one stage from its trace (``jaxpr``: its inputs in ``names`` order,
    ``shape``: what it returned, ``symbols``: the body check's axis symbols)."""
    try:
        return _Linter(fn, spec).run(jaxpr, names, inputs, shape, symbols)
    except Exception:  # noqa: BLE001 - a lint never breaks a check; it only claims what it proved
        return []
