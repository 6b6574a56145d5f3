"""The data boundary: checking inputs against a signature, stripping and re-attaching units.

Validation happens once per *input signature* (units, shapes, dtypes); the result, a
ready executable, is cached under that key, so a steady-state call costs a few dictionary
lookups on top of the compiled function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import pint

from ._angles import angle_assumption, angle_hint, say
from ._errors import BodyError, Diagnostic, InputError, Location, user_location
from ._lru import LRU
from ._quantity import Quantity
from ._shapes import (
    Conflict,
    Dim,
    Lin,
    SeqItem,
    ShapeStore,
    SizeConstraint,
    Variadic,
    evaluate_size,
    expr_names,
    namespaced,
)
from ._source import silenced
from ._spec import Port, Spec, static_sizes
from ._traced import is_tracer
from ._units import OffsetUnitError, Registry, UType, conversion, get_registry, solve_unit_vars

__all__ = [
    "Boundary",
    "Executable",
    "check_inputs",
    "check_stage_call",
    "is_key_dtype",
    "split_value",
    "traced_calls_checked",
]

_INTEGER_KINDS = ("i", "u", "b")
# typedml's Quantity and pint's: both keep ``_magnitude`` and a UnitsContainer ``_units``
# (typedml's first: its exact type matches at once, pint's are per-registry subclasses)
QUANTITY_TYPE: Any = (Quantity, getattr(pint, "Quantity"))  # noqa: B009 - pint types it generically


def split_value(value: Any) -> tuple[Any, Any]:
    """``(magnitude, units)``; units is a pint UnitsContainer, or None for plain data."""
    if isinstance(value, QUANTITY_TYPE):
        return value._magnitude, value._units
    return value, None


@dataclasses.dataclass
class Boundary:
    """What one validated input signature resolved to."""

    conversions: list[tuple[float, float] | None]
    integer: list[bool]
    rigid_units: dict[str, UType]


@dataclasses.dataclass
class Executable:
    """A compiled function for one input signature, and how to wrap its outputs."""

    fn: Callable[..., Any]
    wrap: Callable[[Any], Any]


def _unit_of(units: Any, registry: Registry) -> UType:
    if units is None:
        return UType(registry.dimensionless)
    for name in units:  # a quantity from another registry may name units this one lacks
        registry.get_name(name)
    return UType(registry.Unit(units))


def check_inputs(
    spec: Spec,
    values: Sequence[tuple[Any, Any]],
    owner: str,
    constraints: Sequence[SizeConstraint] = (),
    *,
    warn: bool = True,
) -> Boundary:
    """Check ``(magnitude, units)`` pairs against ``spec``'s inputs.

    ``constraints`` are what the stages' signatures imply about the input sizes (the check's
    ``Plan.size_constraints``). Raises :class:`InputError` listing every problem. Magnitudes
    may be arrays or JAX tracers (only their shape and dtype are read). A conversion that
    takes the radian as the number 1 is said as a :class:`~typedml.ConversionWarning` (TM142)
    unless ``warn`` is false (a second look at inputs already checked, such as a retrace).
    """
    registry = get_registry()
    problems: list[Diagnostic] = []
    store = ShapeStore()
    for name, size in static_sizes(spec).items():
        store.dims[name] = Lin.fixed(size)
        store.origin[name] = f"static parameter {name}={size}"
    found_units: list[UType | None] = []
    equations: list[tuple[UType, Any, str]] = []
    arrays: list[Any] = []
    originals: list[Any] = []
    devices: dict[frozenset[Any], str] = {}  # the devices of committed JAX inputs, and the first port on them
    for port, (mag, units) in zip(spec.inputs, values, strict=True):
        value = mag
        originals.append(mag)
        if port.type is None:
            found_units.append(None)
            arrays.append(mag)
            continue
        if _is_record(mag):
            mag = None  # a NamedTuple or dataclass is a record, not rows to stack into an array
        elif not hasattr(mag, "shape") or not hasattr(mag, "dtype"):
            try:
                mag = np.asarray(mag)
            except Exception:  # noqa: BLE001
                mag = None
        if mag is None or (
            getattr(getattr(mag, "dtype", None), "kind", "O") in ("O", "U", "S", "V") and not _is_key(mag)
        ):
            problems.append(
                _diag(
                    "TM208",
                    f"input {port.name!r} of {owner} is {_what(value, mag)}",
                    port,
                    spec,
                    (f"expected: {port.describe()}",),
                    "pass a pint Quantity (or an array for a unit-less port)",
                )
            )
            found_units.append(None)
            arrays.append(None)
            continue
        refused = _masked(port, spec, owner, mag) or _elsewhere(port, spec, owner, mag, devices)
        if refused is not None:
            problems.append(refused)
            found_units.append(None)
            arrays.append(None)
            continue
        arrays.append(mag)
        try:
            unit = _unit_of(units, registry) if units is not None else None
        except Exception as err:  # noqa: BLE001 - a unit from another registry pint cannot read
            problems.append(
                _diag(
                    "TM213",
                    f"input {port.name!r} of {owner} has a unit the registry in use does not know: {err}",
                    port,
                    spec,
                )
            )
            found_units.append(None)
            continue
        found_units.append(unit)
        declared = port.type.unit
        if declared is not None and declared.variables:
            equations.append((unit if unit is not None else UType(registry.dimensionless), declared, port.name))
    bindings, unsolved = solve_unit_vars(equations, registry)
    for _, expr, name in unsolved:
        problems.append(
            _diag(
                "TM212",
                f"cannot infer the unit variables of input {name!r} ({expr}) of {owner}",
                spec.input(name),
                spec,
            )
        )
    rigid_units = {v: b[0] for v, b in bindings.items()}
    assumed: list[Diagnostic] = []
    shaped: list[tuple[Port, tuple[int, ...]]] = []
    conversions: list[tuple[float, float] | None] = []
    integer: list[bool] = []
    for port, unit, mag, original in zip(spec.inputs, found_units, arrays, originals, strict=True):
        conv: tuple[float, float] | None = None
        is_int = bool(mag is not None and getattr(getattr(mag, "dtype", None), "kind", "f") in _INTEGER_KINDS)
        integer.append(is_int)
        t = port.type
        if t is None or mag is None:
            conversions.append(None)
            continue
        # units
        if t.unit is None:
            if unit is not None and not unit.dimensionless:
                problems.append(
                    _diag(
                        "TM210",
                        f"input {port.name!r} of {owner} carries {unit} but the port has no unit",
                        port,
                        spec,
                        (f"expected: {t.describe()}", f"found: {unit} ({unit.dimension_text()})"),
                        "pass the magnitude in the unit the port assumes, or declare the port with Q[..., unit]",
                    )
                )
            elif unit is not None:
                conv = _convert(unit, UType(registry.dimensionless))
                assumed += _angle(unit, UType(registry.dimensionless), port, spec, owner)
        elif not t.unit.variables or all(v in rigid_units for v in t.unit.var_names):
            expected = t.unit.substitute(registry, rigid_units)
            if unit is None:
                if not expected.dimensionless:
                    problems.append(
                        _diag(
                            "TM204",
                            f"input {port.name!r} of {owner} has no unit; expected {t.unit}",
                            port,
                            spec,
                            (f"expected: {t.describe()}", f"found: plain {type(original).__name__} (no unit)"),
                            f"attach the unit: tm.get_registry().Quantity(x, {str(t.unit)!r})",
                        )
                    )
                elif _convert(UType(registry.dimensionless), expected) not in ((1.0, 0.0), None):
                    # percent, ppm, degrees: is a plain 0.5 a fraction (50 %, as a plain value
                    # flowing into this port in a pipeline is converted) or already in percent?
                    scale = _convert(UType(registry.dimensionless), expected)
                    problems.append(
                        _diag(
                            "TM204",
                            f"input {port.name!r} of {owner} has no unit; expected {t.unit}, "
                            "a dimensionless unit of its own scale",
                            port,
                            spec,
                            (
                                f"expected: {t.describe()}",
                                f"found: plain {type(original).__name__} (no unit)",
                                f"a plain number is a fraction: 1 is {scale[0] if scale else 1:g} {t.unit}, as on "
                                "a pipeline's edges; taken as it is, it would be read in the port's unit",
                            ),
                            f"say which: tm.get_registry().Quantity(x, {str(t.unit)!r}) for values in {t.unit}, "
                            "or tm.get_registry().Quantity(x, '') for fractions",
                        )
                    )
            else:
                conv = _convert(unit, expected)
                if conv is not None:
                    assumed += _angle(unit, expected, port, spec, owner)
                if conv is None:
                    problems.append(
                        _diag(
                            "TM203",
                            f"unit mismatch on input {port.name!r} of {owner}: expected {t.unit}, found {unit}",
                            port,
                            spec,
                            (
                                f"expected: {expected} ({expected.dimension_text()})",
                                f"found: {unit} ({unit.dimension_text()})",
                            ),
                            _offset_hint(unit, expected) or "dimensions differ, so no conversion exists",
                        )
                    )
        if conv == (1.0, 0.0):
            conv = None
        if conv is not None and is_int and (conv[0] != int(conv[0]) or conv[1] != int(conv[1])):
            problems.append(
                _diag(
                    "TM209",
                    f"integer input {port.name!r} of {owner} would be converted lossily",
                    port,
                    spec,
                    (
                        f"conversion multiplies by {conv[0]:g}" + (f" and adds {conv[1]:g}" if conv[1] else ""),
                        f"dtype: {mag.dtype}",
                    ),
                    "pass floats, or the data in the declared unit",
                )
            )
        conversions.append(conv)
        # dtype
        dtype = "prng_key" if _is_key(mag) else str(mag.dtype)
        computed = dtype if dtype == "prng_key" else _computed_dtype(dtype)
        if t.dtypes is not None and (dtype not in t.dtypes or computed not in t.dtypes):
            # a 64-bit port without x64: JAX narrows the data (or never makes such a value)
            narrowed = dtype in t.dtypes or _only_wide(t.dtypes)
            problems.append(
                _diag(
                    "TM207",
                    f"dtype mismatch on input {port.name!r} of {owner}: expected {t.dtype_family}, found {dtype}"
                    + (f" (computed as {computed})" if narrowed and computed != dtype else ""),
                    port,
                    spec,
                    (f"expected: {t.describe()}", f"found: {dtype}")
                    + (
                        ("JAX computes in 32 bits: 64-bit types are off (jax_enable_x64 is False)",) if narrowed else ()
                    ),
                    "enable them first, jax.config.update('jax_enable_x64', True), or declare a 32-bit type"
                    if narrowed
                    else "convert with .astype(...) before the call",
                )
            )
        # shape
        shaped.append((port, tuple(int(s) for s in mag.shape)))
        actual: list[SeqItem] = [Lin.fixed(int(s)) for s in mag.shape]
        anon = f"...{port.name}"
        declared_seq, broadcast = namespaced(t.dims, "", lambda anon=anon: anon)
        for c in store.unify_seq(actual, declared_seq, port.name, broadcast):
            if c.kind == "unverifiable" and c.keys:
                continue  # "r*c" of data: any factors fit (the build check reported it unverified)
            problems.append(_shape_diag(c, port, spec, owner, mag.shape, store))
    if not problems:  # sizes are consistent: what the signatures imply about them
        problems += _broken_constraints(spec, store, owner, constraints)
    if not problems:  # and the sizes written in forms the size algebra does not represent
        problems += [d for port, shape in shaped for d in _evaluated_sizes(port, shape, spec, owner, store)]
    if problems:
        from ._adapters import with_sources

        raise InputError(with_sources(problems, spec.inputs, originals))
    if warn:
        for diagnostic in assumed:
            say(diagnostic)
    return Boundary(conversions, integer, rigid_units)


def _angle(found: UType, expected: UType, port: Port, spec: Spec, owner: str) -> list[Diagnostic]:
    """TM142 for an input converted with the radian taken as the number 1."""
    assumed = angle_assumption(found.unit, expected.unit)
    if assumed is None:
        return []
    location = user_location() or spec.location
    if silenced(location, "TM142"):
        return []
    return [
        Diagnostic(
            "TM142",
            f"input {port.name!r} of {owner} is converted from {assumed.src} to {assumed.dst} with the radian "
            f"as the number 1: it multiplies by {assumed.factor_text()}",
            location,
            severity="warning",
            notes=assumed.notes(),
            hint=angle_hint(),
            stage=spec.name,
            port=port.name,
        )
    ]


def _broken_constraints(
    spec: Spec, store: ShapeStore, owner: str, constraints: Sequence[SizeConstraint]
) -> list[Diagnostic]:
    """TM220: sizes the signatures imply (``n-15`` means ``n >= 15``) that this data breaks."""
    implied = list(constraints)
    for port in spec.outputs:
        t = port.type
        for item in t.dims if t is not None else ():
            if isinstance(item, Dim) and item.term is not None and item.term.at_least() < 0:
                label = "return value" if port.name == "return" else f"output {port.name!r}"
                shown = t.dim_str if t is not None else ""
                implied.append(SizeConstraint(item.term, None, f"the {label} of {spec.name} ({shown!r})"))
    for name in sorted(store.dims):  # every size is at least 0: "k+rows" with k=9 given 5 rows is rows=-4
        for port in spec.inputs:
            t = port.type
            if (
                t is not None
                and name in t.shape_vars
                and any(
                    isinstance(i, Dim) and i.term is not None and len(i.term.vars()) > 1 and name in i.term.vars()
                    for i in t.dims
                )
            ):
                implied.append(SizeConstraint(Lin.var(name), None, f"input {port.name!r} ({t.dim_str!r})"))
                break
    found: list[Diagnostic] = []
    seen: set[str] = set()
    for c in implied:
        value = store.resolve(c.term)
        if not value.is_const or c.holds(value.const) or c.describe() in seen:
            continue
        seen.add(c.describe())
        sizes = ", ".join(f"{k}={store.render(Lin.var(k))}" for k in sorted(set(c.term.vars())))
        if c.modulus == 0:
            left, right = c.sides
            broken = (
                f"{left.render()} must equal {right.render()}, but they are "
                f"{store.resolve(left).const} and {store.resolve(right).const} here"
            )
        else:
            must = (
                f"{c.term.render()} must be at least 0"
                if c.modulus is None
                else f"{c.term.render()} must be a multiple of {c.modulus}"
            )
            broken = f"{must}, but it is {value.const} here"
        found.append(
            Diagnostic(
                "TM220",
                f"input sizes of {owner} break a size constraint: {broken}",
                user_location() or spec.location,
                notes=(f"sizes: {sizes}", f"implied by {c.origin}"),
                hint="the stages cannot work on data this small (or of this size); pass larger data or check the signature",
                stage=spec.name,
            )
        )
    return found


def _masked(port: Port, spec: Spec, owner: str, mag: Any) -> Diagnostic | None:
    """TM227: a NumPy masked array, whose mask JAX would drop (or refuse with its own error)."""
    if not isinstance(mag, np.ma.MaskedArray):
        return None
    masked = int(np.ma.count_masked(mag))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    return _diag(
        "TM227",
        f"input {port.name!r} of {owner} is a masked array ({masked} of {mag.size} values masked)",
        port,
        spec,
        (f"expected: {port.describe()}", "JAX has no masked arrays: the mask would be lost"),
        "pass arr.filled(value) with a value that is right for the stages, or the mask as an input of its "
        "own (a Bool port) for the stages to use",
    )


def _elsewhere(port: Port, spec: Spec, owner: str, mag: Any, devices: dict[frozenset[Any], str]) -> Diagnostic | None:
    """TM228: a JAX input committed to other devices than an earlier input (one computation runs on one set)."""
    if is_tracer(mag) or not getattr(mag, "committed", False) or not hasattr(mag, "devices"):
        return None  # (a traced value has no devices: checked when the call's data arrives)
    found = frozenset(mag.devices())
    if not devices:
        devices[found] = port.name
        return None
    if found in devices:
        return None
    (first_devices, first), *_ = devices.items()
    return _diag(
        "TM228",
        f"input {port.name!r} of {owner} is on {_devices(found)}, but input {first!r} is on {_devices(first_devices)}",
        port,
        spec,
        (f"expected: {port.describe()}", "one compiled computation runs on one set of devices"),
        "put them on the same devices first: jax.device_put(x, device), or a sharded pipeline "
        "(pipeline.sharded(mesh, axes)) for data spread over several devices",
    )


def _devices(found: frozenset[Any]) -> str:
    names = sorted(str(d) for d in found)
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def _is_record(value: Any) -> bool:
    """A NamedTuple or dataclass instance: NumPy would stack its fields into one array."""
    kind: type[object] = type(cast("object", value))
    if tuple in kind.__mro__ and hasattr(kind, "_fields"):
        return True
    return dataclasses.is_dataclass(value) and not isinstance(value, type) and not hasattr(value, "shape")


def _what(value: Any, array: Any) -> str:
    """How a TM208 names what it was given: the type, and for an array what its elements are."""
    kind = getattr(getattr(array, "dtype", None), "kind", None)
    if kind is None or not hasattr(value, "dtype"):
        return f"a {type(value).__name__}, not an array or quantity"
    elements = {"O": "Python objects", "U": "strings", "S": "bytes", "V": "structured records"}.get(kind, "values")
    return f"a {type(value).__name__} of {elements} (dtype {array.dtype}), not of numbers"


_WIDE = frozenset({"float64", "int64", "uint64", "complex128"})


def _only_wide(dtypes: tuple[str, ...]) -> bool:
    """A port that accepts only 64-bit types, which JAX without x64 never computes in."""
    import jax

    return not jax.config.jax_enable_x64 and all(d in _WIDE for d in dtypes)  # pyright: ignore[reportUnknownMemberType, reportAttributeAccessIssue]


def _computed_dtype(dtype: str) -> str:
    """The dtype JAX computes a value of ``dtype`` in (float64 is float32 without x64)."""
    if dtype not in _WIDE:
        return dtype
    import jax

    return str(jax.dtypes.canonicalize_dtype(np.dtype(dtype)))


def is_key_dtype(dtype: Any) -> bool:
    """The dtype of a typed PRNG key array (``jax.random.key``), which jaxtyping's ``Key`` annotates."""
    import jax
    import jax.numpy as jnp

    try:
        return dtype is not None and bool(jnp.issubdtype(dtype, jax.dtypes.prng_key))
    except TypeError:
        return False


def _is_key(value: Any) -> bool:
    return is_key_dtype(getattr(value, "dtype", None))


def _offset_hint(found: UType, expected: UType) -> str | None:
    """Why two units of one dimension do not convert: an absolute offset unit against a difference."""
    if found.unit.dimensionality != expected.unit.dimensionality:
        return None
    return (
        f"{found} and {expected} measure the same dimension, but one is an absolute reading with an "
        "offset (degC, degF) and the other a difference: pass absolute data in a unit without offset "
        "(K), or differences (delta_degC)"
    )


def _convert(found: UType, expected: UType) -> tuple[float, float] | None:
    """A conversion, or None when there is none (offset units included: degF -> delta_degC)."""
    try:
        return conversion(found, expected)
    except OffsetUnitError:
        return None


def _evaluated_sizes(port: Port, shape: tuple[int, ...], spec: Spec, owner: str, store: ShapeStore) -> list[Diagnostic]:
    """TM206 for an axis declared in a form the size algebra does not represent (``n**m``,
    ``n-n%4``: unverified before data, TM151), evaluated once the sizes it names are bound."""
    assert port.type is not None

    def size(name: str) -> int | None:
        bound = store.resolve(Lin.var(name))
        return bound.const if bound.is_const else None

    items = port.type.dims
    found: list[Diagnostic] = []
    after_variadic = False
    for i, item in enumerate(items):
        if isinstance(item, Variadic):
            after_variadic = True
            continue
        if not isinstance(item, Dim) or item.term is not None:
            continue
        axis = len(shape) - (len(items) - i) if after_variadic else i
        if not 0 <= axis < len(shape):
            continue
        want = evaluate_size(item.text, size)
        if want is None or want == shape[axis] or (item.broadcast and shape[axis] == 1):
            continue
        names = sorted(expr_names(item.text, called=False))
        sizes = ", ".join(f"{n}={size(n)}" for n in names)
        what = port.name if port.name.startswith("return value") else f"input {port.name!r}"
        found.append(
            _diag(
                "TM206",
                f"size mismatch on {what} of {owner}: axis {axis} is declared {item.text!r} = {want} "
                f"({sizes}), found {shape[axis]}",
                port,
                spec,
                (f"expected: {port.type.dim_str!r}", f"found: shape {shape}"),
                "the size is evaluated from the sizes the other axes bind, as jaxtyping evaluates it; "
                "fix the data or the signature",
            )
        )
    return found


def _shape_diag(
    c: Conflict, port: Port, spec: Spec, owner: str, shape: tuple[int, ...], store: ShapeStore
) -> Diagnostic:
    assert port.type is not None
    bindings = ", ".join(f"{k}={store.render(Lin.var(k))}" for k in sorted(store.dims)) or "none"
    notes = [f"expected: {port.type.dim_str!r}", f"found: shape {tuple(shape)}", f"bindings so far: {bindings}"]
    if c.kind == "rank":
        return _diag(
            "TM205",
            f"rank mismatch on input {port.name!r} of {owner}: expected {c.expected}, found {c.found}",
            port,
            spec,
            tuple(notes),
            "a missing or extra axis; reshape the data or fix the signature",
        )
    if c.kind == "divisibility":
        return _diag(
            "TM221",
            f"size of input {port.name!r} of {owner} must be "
            f"{'a power' if c.detail and 'power' in c.detail else 'a multiple'}: {c.detail or c.found}, "
            f"expected {c.expected}",
            port,
            spec,
            tuple(notes),
            f"{port.type.dim_str!r} only fits sizes of that form; pad or trim the data",
        )
    if c.variable and c.other_origin:
        msg = f"`{c.label or c.variable}` is {c.expected} from {c.other_origin!r} but {c.found} from {port.name!r}"
    else:
        msg = f"size mismatch on input {port.name!r} of {owner}: expected {c.expected}, found {c.found}"
    return _diag("TM206", msg, port, spec, tuple(notes), "inputs that share an axis name must agree on its size")


def _diag(
    code: str, message: str, port: Port, spec: Spec, notes: tuple[str, ...] = (), hint: str | None = None
) -> Diagnostic:
    from ._errors import user_location

    return Diagnostic(
        code, message, user_location() or spec.location, notes=notes, hint=hint, stage=spec.name, port=port.name
    )


def make_quantity(registry: Registry, unit: pint.Unit) -> Callable[[Any], Any]:
    """A fast constructor of ``registry.Quantity(magnitude, unit)``.

    pint's constructor re-inspects its arguments (~5 µs); here the unit is already known,
    so the instance is filled directly — equal to pint's own construction (tested).
    """
    cls = registry.Quantity
    container = unit._units  # pyright: ignore[reportPrivateUsage]
    new = object.__new__

    def build(magnitude: Any) -> Any:
        q = new(cls)
        q._magnitude = magnitude
        q._units = container
        return q

    return build


def check_stage_call(
    node: str,
    spec: Spec,
    kwargs: dict[str, Any],
    outputs: tuple[Any, ...] | None,
    location: Location | None,
    static: Mapping[str, Any] | None = None,
    kind: str = "stage",
) -> None:
    """A stage's inputs and outputs against its signature, as one call (shared shape bindings);
    with ``outputs`` None, its inputs alone (before the body runs)."""
    ports: list[Port] = []
    pairs: list[tuple[Any, Any]] = []
    for port in spec.inputs:
        if port.type is not None and port.name in kwargs:
            ports.append(dataclasses.replace(port, type=dataclasses.replace(port.type, unit=None)))
            pairs.append((kwargs[port.name], None))
    for port, value in zip(spec.outputs, outputs or (), strict=outputs is not None):
        if port.type is not None:
            renamed = f"return value {port.name!r}" if spec.output_tuple is not None else "return value"
            ports.append(dataclasses.replace(port, name=renamed, type=dataclasses.replace(port.type, unit=None)))
            pairs.append((getattr(value, "magnitude", value), None))
    sizes = tuple(sorted(static_sizes(spec, spec.defaults | dict(static or {})).items()))
    joint = dataclasses.replace(spec, inputs=tuple(ports), static=(), sizes=sizes)
    if outputs is None:  # the outputs' implied constraints are checked with the outputs
        joint = dataclasses.replace(joint, outputs=())
    try:
        check_inputs(joint, pairs, f"{spec.name}()", warn=False)
    except InputError as err:
        notes = tuple(str(d.message) for d in err.diagnostics) + tuple(n for d in err.diagnostics for n in d.notes)
        given = outputs is None
        if kind == "pipeline":
            hint = (
                "the pipeline returns something its signature does not declare at these sizes (an edge "
                "`check()` marked unverified): fix the declaration or the stage that computes it"
            )
        elif given:
            hint = (
                "a stage upstream returned something its signature does not pin down (an unverified "
                "edge): check the warnings of `check()`"
            )
        else:
            hint = (
                "the body returned (or was given) something its signature does not declare; "
                "`stage.check()` shows what it computes"
            )
        raise BodyError(
            Diagnostic(
                "TM306",
                f"at run time, {kind} {node!r} was given inputs that do not match its signature"
                if given
                else f"at run time, {kind} {node!r} does not match its signature",
                location,
                notes=(*notes, "checked before its body ran: the mismatch comes from upstream") if given else notes,
                hint=hint,
                stage=node,
            )
        ) from None


def traced_calls_checked(
    graph: Any, observe: Callable[[str, dict[str, Any], Any], None] | None
) -> Callable[[str, dict[str, Any], Any], None]:
    """The per-step hook of every compiled run: while JAX traces the pipeline, each stage's
    call (what it was given and what its body returned) is checked against its signature, as a
    debug run checks it (TM306). The shapes are concrete while tracing, so a body that returns a
    size its signature does not declare only for some sizes (a branch on ``x.shape``) is refused
    on the call that meets that size; the check costs nothing once the call is compiled. Then
    ``observe``, if given.
    """

    def check(node: str, kwargs: dict[str, Any], result: Any) -> None:
        data = graph.nodes[node]
        spec: Spec = data["spec"]
        if data["kind"] == "stage" and not getattr(data.get("callee"), "host", False):
            outputs = tuple(result) if spec.output_tuple is not None else (result,)
            _check_traced_once(node, spec, kwargs, outputs, data.get("location"), data.get("static") or {})
        if observe is not None:
            observe(node, kwargs, result)

    return check


def traced_outputs_checked(
    fn: Callable[..., tuple[Any, ...]], spec: Spec, static: Mapping[str, Any]
) -> Callable[..., tuple[Any, ...]]:
    """``fn`` (a plan's function: inputs by port, outputs as a tuple) with the pipeline's own
    outputs checked against its signature while JAX traces it, as each stage call is (TM306):
    an output axis the check before data could not prove (TM151) is evaluated at this call's
    sizes."""

    def run(*args: Any) -> tuple[Any, ...]:
        out = fn(*args)
        kwargs = {p.name: a for p, a in zip(spec.inputs, args, strict=False)}
        # a debug run is eager and checks stages as it goes; its pipeline's outputs are checked here
        _check_traced_once(spec.name, spec, kwargs, tuple(out), spec.location, static, kind="pipeline", eager=True)
        return out

    run.__name__ = getattr(fn, "__name__", spec.name)
    run.__qualname__ = getattr(fn, "__qualname__", spec.qualname)
    return run


def _check_traced_once(
    node: str,
    spec: Spec,
    kwargs: dict[str, Any],
    outputs: tuple[Any, ...],
    location: Location | None,
    static: Mapping[str, Any],
    kind: str = "stage",
    eager: bool = False,
) -> None:
    """:func:`check_stage_call` while JAX traces a call, once per (spec, static configuration,
    types); never with symbolic sizes; for an eager call (no tracer) only with ``eager``, every time."""
    key = _traced_call_key(spec, static, kwargs, outputs)
    if key is _SYMBOLIC or (key is _EAGER and not eager):
        return
    if key is not _EAGER and _PASSED.get(key) is spec:
        return
    check_stage_call(node, spec, kwargs, outputs, location, static, kind=kind)
    if key is not _EAGER:
        _PASSED[key] = spec  # held: its id stays its own while the entry lives


# Stage calls whose traced check passed, by (the spec's id, the sizes its static configuration
# sets, the types of what it was given and returned): a stage called many times with the same shapes is checked
# once. The value is the spec itself, compared by identity on a hit.
_PASSED: LRU[tuple[object, ...], Spec] = LRU(1024)


_SYMBOLIC: tuple[object, ...] = ("symbolic",)
_EAGER: tuple[object, ...] = ("eager",)


def _traced_call_key(
    spec: Spec, static: Mapping[str, Any], kwargs: Mapping[str, Any], outputs: Sequence[Any]
) -> tuple[object, ...]:
    """The key of a traced call; :data:`_SYMBOLIC` when a shape holds a symbolic size (a check
    that evaluates a pipeline for every size: each body was checked on its own), :data:`_EAGER`
    when no value is a JAX tracer (a debug run, which checks as it goes)."""
    import jax

    types: list[object] = []
    traced = False
    for name, value in (*sorted(kwargs.items()), *(("", o) for o in outputs)):
        leaves, tree = jax.tree_util.tree_flatten(value)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        for leaf in leaves:
            shape: tuple[object, ...] | None = getattr(leaf, "shape", None)
            if shape is None:
                continue
            if not all(type(d) is int for d in shape):
                return _SYMBOLIC
            traced = traced or is_tracer(leaf)
            types.append((name, tuple(shape), str(getattr(leaf, "dtype", ""))))
        types.append(str(cast(object, tree)))
    if not traced:
        return _EAGER
    # the check reads static configuration only through the sizes it sets (axes named after it)
    sizes = tuple(sorted(static_sizes(spec, spec.defaults | dict(static)).items()))
    return (id(spec), sizes, tuple(types))
