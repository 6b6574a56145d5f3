"""Hypothesis strategies inferred from typedml signatures: ``import typedml.strategies as tms``.

:func:`inputs` draws a complete, valid set of inputs for a stage or pipeline: every shape
variable is drawn once and shared by each port that uses it (fixed sizes, expressions such as
``n+1``, variadic ``*batch`` and broadcast ``#n`` axes respected), dtypes follow the declared
family, values are finite, and units are attached: the declared unit, the unit drawn for a
unit variable, or optionally another unit convertible to the declared one. :func:`arrays`
does the same for one ``Q[...]`` annotation.

Sizes shrink towards ``min_side`` and units towards the declared one, so a failing example
comes back small. Bad arguments raise :class:`hypothesis.errors.InvalidArgument` when the
strategy is drawn from, naming the argument.

Values keep each port's contracts (``tm.Positive``, ``tm.Bounded(0, 100, "degC")``, ...),
in the port's unit. Other constraints attached to an annotation (``Annotated`` metadata) take
part through one hook: a metadata object with a ``__typedml_elements__(dtype)`` method returns
the element strategy for that port (an explicit ``elements=`` still wins over both).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from ._elements import ELEMENT_HOOK as ELEMENT_HOOK
from ._elements import default_elements, hooked_elements, inward, pick_dtype
from ._elements import elements_within as elements_within
from ._errors import StageDefinitionError, TypedMLError
from ._records import RecordMismatch
from ._refine import resolve
from ._shapes import Anon, Dim, Item, Lin, SizeConstraint, Variadic, evaluate_size, expr_names
from ._spec import Port, Spec, parse_spec, static_sizes
from ._targets import convertible_units, spec_of
from ._units import OffsetUnitError, UnitParseError, UType, conversion, get_registry, parse_unit_expr

__all__ = ["ELEMENT_HOOK", "VARIABLE_UNITS", "Inputs", "arrays", "elements_within", "inputs"]

# What a unit variable is bound to when nothing says otherwise: one unit per common dimension,
# none of them affine (a variable may be squared or differenced).
VARIABLE_UNITS: tuple[str, ...] = ("m", "s", "kg", "K", "V", "dimensionless", "km/h", "mA")


class Inputs(dict[str, Any]):
    """A drawn input set: ``{port name: value}``, plus what was drawn to build it.

    Pass it on with ``pipeline(**drawn)``. ``sizes`` holds each shape variable's size
    (a tuple for a variadic ``*name``) and ``units`` each unit variable's unit; both show in
    its repr, so a failing example names them.
    """

    def __init__(self, values: Mapping[str, Any], *, sizes: Mapping[str, Any], units: Mapping[str, str]) -> None:
        super().__init__(values)
        self.sizes: dict[str, Any] = dict(sizes)
        self.units: dict[str, str] = dict(units)

    def __repr__(self) -> str:
        parts = [f"sizes={self.sizes!r}"]
        if self.units:
            parts.append(f"units={self.units!r}")
        parts += [f"{name}={_show(value)}" for name, value in self.items()]
        return f"Inputs({', '.join(parts)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _show(value: Any) -> str:
    units = getattr(value, "units", None)
    magnitude = getattr(value, "magnitude", None)
    if units is not None and magnitude is not None:
        arr = np.asarray(magnitude)
        text = units if isinstance(units, str) else format(units, "~")  # a tm.Quantity keeps its text
        return f"Q({_text(arr)}, {text or 'dimensionless'!r}, {arr.dtype})"
    if isinstance(value, np.ndarray):
        arr = cast("np.ndarray[Any, Any]", value)
        return f"array({_text(arr)}, {arr.dtype})"
    return repr(value)


def _text(arr: np.ndarray[Any, Any]) -> str:
    return np.array2string(arr, separator=", ", threshold=50, max_line_width=10**6).replace("\n", "")


# -- options ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Options:
    owner: str
    sizes: Mapping[str, Any]
    elements: Any
    units: Mapping[str, Any]
    convert_units: bool
    min_side: int
    max_side: int
    max_dims: int
    overrides: Mapping[str, Any]


def _check_int(name: str, value: object, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {low}")
    return value


def _validate(spec: Spec, opts: _Options) -> None:
    min_side = _check_int("min_side", opts.min_side, 0)
    max_side = _check_int("max_side", opts.max_side, 0)
    if max_side < min_side:
        raise InvalidArgument(f"max_side={max_side!r} must be at least min_side={min_side!r}")
    _check_int("max_dims", opts.max_dims, 0)
    if not isinstance(opts.convert_units, bool):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InvalidArgument(f"convert_units={opts.convert_units!r} must be True or False")
    ports = {p.name: p for p in spec.inputs}
    single, variadic = _variables(spec.inputs)
    for key, value in _mapping("sizes", opts.sizes).items():
        if key in variadic:
            if isinstance(value, st.SearchStrategy):
                continue
            if not isinstance(value, tuple) or not all(isinstance(v, int) and v >= 0 for v in value):  # pyright: ignore[reportUnknownVariableType]
                raise InvalidArgument(f"sizes[{key!r}]={value!r}: *{key} is variadic, give a tuple of sizes >= 0")
        elif key in single:
            if isinstance(value, st.SearchStrategy):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidArgument(f"sizes[{key!r}]={value!r} must be an integer >= 0 or a strategy")
        else:
            known = ", ".join(sorted(single | {f"*{v}" for v in variadic})) or "none"
            raise InvalidArgument(
                f"sizes names {key!r}, which is no shape variable of {opts.owner} (variables: {known})"
            )
    if opts.elements is not None and not isinstance(opts.elements, st.SearchStrategy):
        for key, value in _mapping("elements", opts.elements).items():
            if key not in ports or ports[key].type is None:
                raise InvalidArgument(f"elements names {key!r}, which is no array input of {opts.owner}")
            if not isinstance(value, st.SearchStrategy):
                raise InvalidArgument(f"elements[{key!r}]={value!r} must be a strategy")
    unit_vars = _unit_variables(spec.inputs)
    registry = get_registry()
    for key, value in _mapping("units", opts.units).items():
        if key.startswith("'"):
            if key[1:] not in unit_vars:
                known = ", ".join(f"'{v}" for v in sorted(unit_vars)) or "none"
                raise InvalidArgument(
                    f"units names {key!r}, which is no unit variable of {opts.owner} (variables: {known})"
                )
        elif key not in ports or ports[key].type is None or ports[key].type.unit is None:  # pyright: ignore[reportOptionalMemberAccess]
            raise InvalidArgument(
                f"units names {key!r}, which is neither a unit variable ('u) nor an input with a unit of {opts.owner}"
            )
        if isinstance(value, str):
            _parse_unit(f"units[{key!r}]", value, registry)
        elif not isinstance(value, st.SearchStrategy):
            raise InvalidArgument(f"units[{key!r}]={value!r} must be a unit string or a strategy of unit strings")
    for key in opts.overrides:
        if key not in ports and key not in spec.static_names and spec.record(key) is None:
            static = f"; static configuration: {', '.join(spec.static_names)}" if spec.static_names else ""
            raise InvalidArgument(
                f"{key}= is no input of {opts.owner} (inputs: {', '.join(ports) or 'none'}{static}); "
                "other options are keyword arguments sizes=, elements=, units=, ..."
            )


def _mapping(name: str, value: object) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):  # pyright: ignore[reportUnknownVariableType]
        raise InvalidArgument(f"{name}={value!r} must be a mapping with string keys")
    return value  # pyright: ignore[reportUnknownVariableType]


def _parse_unit(argument: str, text: str, registry: Any) -> Any:
    try:
        expr = parse_unit_expr(text, registry)
    except UnitParseError as err:
        raise InvalidArgument(f"{argument}={text!r} is not a unit: {err.detail}") from None
    if expr.variables:
        raise InvalidArgument(f"{argument}={text!r} must be a concrete unit, not a unit variable expression")
    return expr.resolve_concrete(registry)


def _variables(ports: Sequence[Port]) -> tuple[set[str], set[str]]:
    """(single-axis shape variables, variadic names) used by ``ports``."""
    single: set[str] = set()
    variadic: set[str] = set()
    for port in ports:
        if port.type is None:
            continue
        for item in port.type.dims:
            if isinstance(item, Variadic):
                if item.name is not None:
                    variadic.add(item.name)
            elif isinstance(item, Dim):
                single |= set(item.term.vars()) if item.term is not None else expr_names(item.text)
    return single, variadic


def _unit_variables(ports: Sequence[Port]) -> set[str]:
    names: set[str] = set()
    for port in ports:
        if port.type is not None and port.type.unit is not None:
            names.update(port.type.unit.var_names)
    return names


def _lower_bounds(ports: Sequence[Port], min_side: int) -> dict[str, int]:
    """Smallest size of each variable so that one-variable expressions (``n-2``) stay >= min_side."""
    lower: dict[str, int] = {}
    for port in ports:
        if port.type is None:
            continue
        for item in port.type.dims:
            if isinstance(item, Dim) and item.term is not None and len(item.term.terms) == 1:
                var, coef = item.term.terms[0]
                if coef > 0 and isinstance(var, str):
                    need = -(-(max(min_side, 0) - item.term.const) // coef)
                    lower[var] = max(lower.get(var, 0), need)
    return lower


# -- drawing ----------------------------------------------------------------------------


def _draw_value(draw: st.DrawFn, value: Any) -> Any:
    if isinstance(value, st.SearchStrategy):
        return draw(cast("st.SearchStrategy[Any]", value))
    return value


def _bind_from_shape(items: Sequence[Item], shape: tuple[int, ...], sizes: dict[str, Any]) -> None:
    """Read sizes off an overridden input's shape (a structure that does not fit binds nothing)."""
    var_at = [i for i, item in enumerate(items) if isinstance(item, Variadic)]
    if len(var_at) > 1 or (not var_at and len(items) != len(shape)) or len(shape) < len(items) - len(var_at):
        return
    if var_at:
        v = var_at[0]
        tail = len(items) - v - 1
        pairs = list(zip(items[:v], shape[:v], strict=True))
        pairs += list(zip(items[v + 1 :], shape[len(shape) - tail :], strict=True))
        variadic = items[v]
        assert isinstance(variadic, Variadic)
        if variadic.name is not None and not variadic.broadcast:
            sizes.setdefault(variadic.name, tuple(shape[v : len(shape) - tail]))
    else:
        pairs = list(zip(items, shape, strict=True))
    for item, size in pairs:
        if isinstance(item, Dim) and not item.broadcast and item.term is not None:
            if item.term.const == 0 and item.term.terms and len(item.term.terms) == 1 and item.term.terms[0][1] == 1:
                var = item.term.terms[0][0]
                if isinstance(var, str):
                    sizes.setdefault(var, size)


def _size_of(draw: st.DrawFn, item: Dim, sizes: Mapping[str, Any]) -> int:
    if item.term is not None:
        size = item.term.substitute(lambda v: Lin.fixed(sizes[v])).const
    else:
        found = evaluate_size(item.text, sizes.get)  # as jaxtyping evaluates it, and each call checks it
        if found is None:
            reject()
        size = found
    if size < 0:
        reject()
    if item.broadcast and draw(st.booleans()):
        return 1
    return size


def _shape(draw: st.DrawFn, items: Sequence[Item], sizes: Mapping[str, Any], opts: _Options) -> tuple[int, ...]:
    side = st.integers(opts.min_side, opts.max_side)
    shape: list[int] = []
    for item in items:
        if isinstance(item, Dim):
            shape.append(_size_of(draw, item, sizes))
        elif isinstance(item, Anon):
            shape.append(draw(side))
        elif item.name is None:
            shape += draw(st.lists(side, max_size=opts.max_dims))
        else:
            axes = list(sizes[item.name])
            if item.broadcast:
                axes = [1 if draw(st.booleans()) else a for a in axes]
            shape += axes
    return tuple(shape)


def _elements(
    port: Port, dtype: np.dtype[Any], opts: _Options, bindings: Mapping[str, UType]
) -> st.SearchStrategy[Any]:
    if isinstance(opts.elements, st.SearchStrategy):
        return cast("st.SearchStrategy[Any]", opts.elements)  # pyright: ignore[reportUnknownMemberType]
    if opts.elements is not None and port.name in opts.elements:
        strategy: st.SearchStrategy[Any] = opts.elements[port.name]
        return strategy
    hooked = hooked_elements(port, dtype)
    if hooked is not None:
        return hooked
    if port.type is not None and port.type.refinements:  # value contracts: draw within them
        registry = get_registry()
        unit = None if port.type.unit is None else port.type.unit.substitute(registry, bindings)
        b = resolve(port.type.refinements, unit, registry)
        lower, upper = inward(b.lower, b.upper, dtype)
        return elements_within(
            dtype,
            lower=lower,
            upper=upper,
            lower_open=b.lower_open,
            upper_open=b.upper_open,
            integer=b.integer,
        )
    return default_elements(dtype)


def _draw_array(
    draw: st.DrawFn, port: Port, shape: tuple[int, ...], opts: _Options, bindings: Mapping[str, UType]
) -> np.ndarray[Any, Any]:
    dtype = pick_dtype(port)
    native = dtype.kind in "biufc" and dtype.type.__module__ == "numpy"
    carrier = dtype if native else np.dtype("float32")
    values = draw(hnp.arrays(carrier, shape, elements=_elements(port, dtype, opts, bindings)))
    if values.ndim and port.type is not None and any(r.increasing for r in port.type.refinements):
        values = np.sort(values, axis=0)  # tm.Increasing: in order along the leading axis
    return values if native else values.astype(dtype)


def _unit_bindings(
    draw: st.DrawFn, spec_inputs: Sequence[Port], opts: _Options, fixed: Mapping[str, Any]
) -> dict[str, UType]:
    registry = get_registry()
    bindings: dict[str, UType] = {}
    for var in sorted(_unit_variables(spec_inputs)):
        given = opts.units.get(f"'{var}") if opts.units else None
        if var in fixed:
            bindings[var] = UType(fixed[var])
            continue
        if given is None:
            given = st.sampled_from(VARIABLE_UNITS)
        text = _draw_value(draw, given)
        if not isinstance(text, str):
            raise InvalidArgument(f'units["\'{var}"] drew {text!r}, not a unit string')
        bindings[var] = UType(_parse_unit(f'units["\'{var}"]', text, registry))
    return bindings


def _units_from_overrides(spec_inputs: Sequence[Port], values: Mapping[str, Any]) -> dict[str, Any]:
    """Unit variables that an overridden input binds directly (its port is a plain ``'u``)."""
    fixed: dict[str, Any] = {}
    for port in spec_inputs:
        if port.name in values and port.type is not None and port.type.unit is not None and port.type.unit.is_plain:
            units = getattr(values[port.name], "units", None)
            if units is not None:
                fixed.setdefault(port.type.unit.var_names[0], get_registry().Unit(str(units)))
    return fixed


def _attach_unit(
    draw: st.DrawFn, port: Port, magnitude: np.ndarray[Any, Any], bindings: Mapping[str, UType], opts: _Options
) -> Any:
    assert port.type is not None and port.type.unit is not None
    registry = get_registry()
    declared = port.type.unit.substitute(registry, bindings).unit
    target = declared
    given = opts.units.get(port.name) if opts.units else None
    if given is not None:
        text = _draw_value(draw, given)
        if not isinstance(text, str):
            raise InvalidArgument(f"units[{port.name!r}] drew {text!r}, not a unit string")
        target = _parse_unit(f"units[{port.name!r}]", text, registry)
    elif opts.convert_units and magnitude.dtype.kind in "fc":
        target = draw(st.sampled_from(convertible_units(declared)))
    if target != declared:
        try:
            conv = conversion(UType(declared), UType(target))
        except OffsetUnitError:
            conv = None
        if conv is None:
            raise InvalidArgument(
                f"units[{port.name!r}]={format(target, '~')!r} does not convert to {format(declared, '~')!r}, "
                f"the unit of input {port.name!r} of {opts.owner}"
            )
        if magnitude.dtype.kind not in "fc":
            raise InvalidArgument(
                f"units[{port.name!r}]: input {port.name!r} of {opts.owner} is {magnitude.dtype}; "
                "integer inputs keep their declared unit (a conversion would be lossy)"
            )
        scale, offset = conv
        with np.errstate(over="ignore"):
            converted = (magnitude.astype(np.float64) * scale + offset).astype(magnitude.dtype)
        if not np.all(np.isfinite(converted)):
            reject()
        magnitude = converted
    return registry.Quantity(magnitude, target)


def _draw_inputs(
    draw: st.DrawFn,
    ports: Sequence[Port],
    opts: _Options,
    spec: Spec | None = None,
    constraints: Sequence[SizeConstraint] = (),
) -> Inputs:
    values: dict[str, Any] = {name: _draw_value(draw, v) for name, v in opts.overrides.items()}
    sizes: dict[str, Any] = {}
    for name, given in (opts.sizes or {}).items():
        sizes[name] = _draw_value(draw, given)
    if spec is not None:  # axes named like a static int parameter take its value
        static = dict(spec.defaults) | {k: v for k, v in values.items() if k in spec.static_names}
        fixed = static_sizes(spec, static) if spec.static else dict(spec.sizes)
        for name, size in fixed.items():
            sizes.setdefault(name, size)
    given_sizes = set(sizes)
    for port in ports:
        if port.name in values and port.type is not None and hasattr(values[port.name], "shape"):
            _bind_from_shape(
                port.type.dims, tuple(np.shape(getattr(values[port.name], "magnitude", values[port.name]))), sizes
            )
    single, variadic = _variables(ports)
    lower = _lower_bounds(ports, opts.min_side)
    for var in sorted(single):
        if var not in sizes:
            low = max(opts.min_side, lower.get(var, 0))
            sizes[var] = draw(st.integers(low, max(low, opts.max_side)))
    for var in sorted(variadic):
        if var not in sizes:
            sizes[var] = tuple(draw(st.lists(st.integers(opts.min_side, opts.max_side), max_size=opts.max_dims)))
    _keep_constraints(sizes, _implied(ports, spec, constraints), set(given_sizes) | set(variadic))
    bindings = _unit_bindings(draw, ports, opts, _units_from_overrides(ports, values))
    for port in ports:
        if port.name in values:
            continue
        if port.type is None:
            raise InvalidArgument(
                f"input {port.name!r} of {opts.owner} is a pytree value, which cannot be inferred: "
                f"pass {port.name}=<value or strategy>"
            )
        magnitude = _draw_array(draw, port, _shape(draw, port.type.dims, sizes, opts), opts, bindings)
        values[port.name] = magnitude if port.type.unit is None else _attach_unit(draw, port, magnitude, bindings, opts)
    ordered = {p.name: values[p.name] for p in ports}
    ordered |= {k: v for k, v in values.items() if k not in ordered}  # static configuration given
    shown = {k: sizes[k] for k in sorted(sizes)}
    return Inputs(
        ordered, sizes=shown, units={f"'{v}": format(u.unit, "~") or "dimensionless" for v, u in bindings.items()}
    )


def _implied(ports: Sequence[Port], spec: Spec | None, constraints: Sequence[SizeConstraint]) -> list[SizeConstraint]:
    """What the signature (and a pipeline's stages) imply about sizes: each declared axis >= 0."""
    found = list(constraints)
    outputs = spec.outputs if spec is not None else ()
    for port in (*ports, *outputs):
        for item in port.type.dims if port.type is not None else ():
            if isinstance(item, Dim) and item.term is not None and item.term.at_least() < 0:
                found.append(SizeConstraint(item.term, None, port.name))
    return found


def _keep_constraints(sizes: dict[str, Any], implied: Sequence[SizeConstraint], fixed: set[str]) -> None:
    """Grow drawn sizes until every implied constraint holds (``t-15``: t >= 15, ``n`` even);
    a constraint only sizes fixed by the caller break rejects the example."""
    for _ in range(256):
        broken = None
        for c in implied:
            value = c.term.substitute(lambda v: Lin.fixed(sizes[v]) if isinstance(sizes.get(v), int) else None)
            if value.is_const and not c.holds(value.const):
                broken = c
                break
        if broken is None:
            return
        free = [v for v, coef in broken.term.terms if isinstance(v, str) and coef > 0 and v not in fixed]
        free += [v for v in broken.term.vars() if v not in fixed and v not in free]
        if not free:
            reject()
        sizes[free[0]] += 1
    reject()


# -- public strategies ------------------------------------------------------------------


@st.composite
def inputs(
    draw: st.DrawFn,
    target: Any,
    *,
    sizes: Mapping[str, Any] | None = None,
    elements: st.SearchStrategy[Any] | Mapping[str, st.SearchStrategy[Any]] | None = None,
    units: Mapping[str, Any] | None = None,
    convert_units: bool = False,
    min_side: int = 1,
    max_side: int = 5,
    max_dims: int = 2,
    **port_overrides: Any,
) -> Inputs:
    """A complete, valid input set for ``target`` (a stage or a pipeline).

    Each shape variable is drawn once (between ``min_side`` and ``max_side``) and shared by
    every input that uses it; ``sizes`` fixes some (``{"n": 3}``, ``{"batch": (2, 4)}`` for a
    variadic ``*batch``, or a strategy). A variadic or ``...`` takes at most ``max_dims`` axes.
    ``elements`` is one element strategy for every array input, or ``{input: strategy}``;
    the default draws finite values in [-1000, 1000], nonzero ones at least 1e-6 in
    magnitude (integers in [-100, 100]). ``units``
    maps a unit variable (``"'u"``) or an input name to a unit or a strategy of units;
    ``convert_units=True`` draws each input's unit among units convertible to the declared one
    (values converted accordingly), to exercise the conversions at the boundary. Any other
    keyword names an input (or a static parameter) and gives its value, or a strategy for it:
    shape variables and unit variables are then read off that value.

    Draws an :class:`Inputs` mapping: ``target(**drawn)`` runs it.
    """
    spec = spec_of(target)
    if spec is None:
        raise InvalidArgument(f"target={target!r} must be a typedml stage or pipeline")
    opts = _Options(
        f"{spec.name}()",
        sizes or {},
        elements,
        units or {},
        convert_units,
        min_side,
        max_side,
        max_dims,
        port_overrides,
    )
    _validate(spec, opts)
    constraints = _plan_constraints(target)
    if not spec.records:
        return _draw_inputs(draw, spec.inputs, opts, spec, constraints)
    # a record is drawn field by field (sizes and unit variables shared with every other
    # port), then built: the drawn set maps each record parameter to a record of quantities
    overrides = dict(opts.overrides)
    for name in list(overrides):
        record = spec.record(name)
        if record is not None:
            given = _draw_value(draw, overrides.pop(name))
            try:
                fields = record.flatten(given, (name,))
            except RecordMismatch as err:
                raise InvalidArgument(f"{name}={given!r}: {err}") from None
            overrides.update(zip(spec.leaf_names(name), fields, strict=True))
    drawn = _draw_inputs(draw, spec.inputs, dataclasses.replace(opts, overrides=overrides), spec, constraints)
    return Inputs(spec.group_inputs(drawn), sizes=drawn.sizes, units=drawn.units)


def _plan_constraints(target: Any) -> tuple[SizeConstraint, ...]:
    """What a pipeline's stages imply about its input sizes (none for a mis-wired one)."""
    from ._pipeline import Pipeline
    from ._plan import planner_of

    if not isinstance(target, Pipeline):
        return ()
    try:
        return planner_of(target, {}).ready().resolved.size_constraints
    except TypedMLError:
        return ()


@st.composite
def arrays(
    draw: st.DrawFn,
    annotation: Any,
    *,
    sizes: Mapping[str, Any] | None = None,
    elements: st.SearchStrategy[Any] | None = None,
    units: Mapping[str, Any] | None = None,
    convert_units: bool = False,
    min_side: int = 1,
    max_side: int = 5,
    max_dims: int = 2,
) -> Any:
    """A value for one annotation: ``Q[Float[Array, "n 3"], "m"]`` draws a pint Quantity.

    A jaxtyping type without ``Q`` draws a plain numpy array (no unit). Options are those of
    :func:`inputs`; ``units`` keys are unit variables (``"'u"``).
    """
    port = _port_of(annotation)
    spec_like = Spec("arrays", "arrays", _NOWHERE, (port,), (), (), None, (port.name,), {})
    opts = _Options(
        "the annotation",
        sizes or {},
        elements,
        {k: v for k, v in (units or {}).items()},
        convert_units,
        min_side,
        max_side,
        max_dims,
        {},
    )
    _validate(spec_like, opts)
    return _draw_inputs(draw, (port,), opts)[port.name]


def _port_of(annotation: Any) -> Port:
    def probe(value: Any) -> None: ...

    probe.__annotations__ = {"value": annotation, "return": None}
    try:
        spec = parse_spec(probe, "stage")
    except StageDefinitionError as err:
        raise InvalidArgument(
            f"annotation={annotation!r} is not an array annotation: {err.diagnostic.message}"
        ) from None
    if not spec.inputs or spec.inputs[0].type is None:
        raise InvalidArgument(f"annotation={annotation!r} is not an array annotation (Q[Float[Array, 'n'], 'm'])")
    return spec.inputs[0]


def _nowhere() -> Any:
    from ._errors import Location

    return Location("<arrays>", 0, 1)


_NOWHERE = _nowhere()
