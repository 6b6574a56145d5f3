"""Signatures: a function's annotations parsed once into ports (:class:`Spec`).

A port is an array (``Q[...]`` or a bare jaxtyping type, which means *no unit*) or a pytree
value (fitted parameters, modules) that flows through unchecked by units. Parameters
annotated with ``int``, ``float``, ``str``, ``bool``, enums, literals or tuples of those are
static configuration. A record (a ``NamedTuple``, frozen dataclass or ``equinox.Module``
whose fields are annotated arrays, see :mod:`typedml._records`) stands for its fields: a
record parameter ``s`` gives the ports ``s.center``, ``s.scale``; a record return gives one
output per field (several outputs are a ``NamedTuple``).
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NoReturn, cast, get_args, get_origin, get_type_hints

from ._annotations import ArrayType, annotation_kinds, jaxtyping_parts, split_annotation
from ._config import refused
from ._errors import BodyError, Diagnostic, Location, StageDefinitionError, user_location
from ._kinds import kind_problem
from ._locations import definition_location, param_location
from ._records import Record, RecordMismatch, candidate_fields, is_frozen, record_field_hints
from ._refine import problems_with
from ._shapes import Dim, divides_by_zero, divides_truly, parse_dims, valid_expr
from ._units import UnitExpr, UnitParseError, get_registry, parse_unit_expr

__all__ = ["Port", "Spec", "StaticParam", "parse_spec"]

_STATIC_TYPES: tuple[type, ...] = (int, float, str, bool, complex, bytes, type(None))


@dataclasses.dataclass(frozen=True)
class Port:
    """An input or output that carries data: ``type`` is None for pytree values."""

    name: str
    type: ArrayType | None
    annotation: Any
    optional: bool = False  # ``x: Float[Array, "n"] | None = None``: a port that may be absent

    @property
    def is_array(self) -> bool:
        return self.type is not None

    def describe(self) -> str:
        return self.type.describe() if self.type is not None else "pytree value"


@dataclasses.dataclass(frozen=True)
class StaticParam:
    name: str
    annotation: Any
    default: Any = inspect.Parameter.empty
    axis: str | None = None  # ``Annotated[str | int | None, tm.Axis("n")]``: names the axis ``n`` stands for


@dataclasses.dataclass(frozen=True)
class Spec:
    """What a stage or pipeline takes and returns, parsed from its annotations."""

    name: str
    qualname: str
    location: Location
    inputs: tuple[Port, ...]
    static: tuple[StaticParam, ...]
    outputs: tuple[Port, ...]
    output_tuple: type | None  # the record class of several outputs (a NamedTuple, or any record)
    param_order: tuple[str, ...]
    defaults: dict[str, Any]
    # sizes fixed by static configuration: an axis named like a static int parameter
    sizes: tuple[tuple[str, int], ...] = ()
    # facts found at definition that need no change (e.g. an output size no input determines)
    infos: tuple[Diagnostic, ...] = ()
    records: tuple[tuple[str, Record], ...] = ()  # record parameters; their fields are inputs `name.field`
    output_record: Record | None = None  # the record returned; its fields are the outputs
    keyword_only: frozenset[str] = frozenset()
    """Parameters declared after ``*``: a call must name them."""

    @property
    def input_names(self) -> tuple[str, ...]:
        """The ports that carry data, a record's fields each on its own (``s.center``)."""
        return tuple(p.name for p in self.inputs)

    @property
    def data_params(self) -> tuple[str, ...]:
        """The parameters that carry data, a record parameter once (what a call binds)."""
        static = set(self.static_names)
        return tuple(n for n in self.param_order if n not in static)

    def record(self, name: str) -> Record | None:
        """The record type of parameter ``name``, None for an array or pytree port."""
        return next((r for n, r in self.records if n == name), None)

    def leaf_names(self, name: str) -> tuple[str, ...]:
        """The input ports parameter ``name`` stands for: itself, or its record's fields."""
        record = self.record(name)
        if record is None:
            return (name,)
        return tuple(".".join((name, *path)) for path in record.paths())

    def flatten_inputs(self, bound: Mapping[str, Any]) -> list[Any]:
        """The values of every input port, records taken apart (:class:`RecordMismatch` names
        the parameter and field that do not fit)."""
        if not self.records:
            return [bound[p.name] for p in self.inputs]
        values: list[Any] = []
        for name in self.data_params:
            record = self.record(name)
            if record is None:
                values.append(bound[name])
            else:
                values.extend(record.flatten(bound[name], (name,)))
        return values

    def group_inputs(self, leaves: Mapping[str, Any]) -> dict[str, Any]:
        """The body's arguments from values by input port: each record built from its fields."""
        if not self.records:
            return dict(leaves)
        grouped = {k: v for k, v in leaves.items() if "." not in k}
        for name, record in self.records:
            grouped[name] = record.build(leaves[leaf] for leaf in self.leaf_names(name))
        return grouped

    def pack_outputs(self, values: Sequence[Any]) -> Any:
        """The return value from the outputs' values (a record, or the single value)."""
        if self.output_record is not None:
            return self.output_record.build(values)
        return values[0]

    def port_function(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` over input ports by name: records built from their fields, a record result
        taken apart into the tuple of its fields (how a run calls a stage body)."""
        if not self.records and self.output_record is None:
            return fn
        spec = self

        def over_ports(**kwargs: Any) -> Any:
            result = fn(**spec.group_inputs(kwargs))
            if spec.output_record is None:
                return result
            values = spec.unpack_outputs(result)
            if values is None:
                raise BodyError(
                    Diagnostic(
                        "TM306",
                        f"at run time, stage {spec.name!r} does not match its signature",
                        spec.location,
                        notes=(f"declared: {spec.output_record.describe()}", f"returned: a {type(result).__name__}"),
                        hint="return the declared record; `stage.check()` shows what the body computes",
                        stage=spec.name,
                    )
                )
            return tuple(values)

        return over_ports

    def unpack_outputs(self, result: Any) -> list[Any] | None:
        """The outputs' values from a return value; None when it is not the declared record."""
        if self.output_record is None:
            return [result]
        try:
            return self.output_record.flatten(result)
        except RecordMismatch:
            return None

    @property
    def positional(self) -> tuple[str, ...]:
        """The parameters a call may pass by position, in order."""
        return tuple(n for n in self.param_order if n not in self.keyword_only)

    @property
    def static_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.static)

    @property
    def shape_vars(self) -> set[str]:
        names: set[str] = set()
        for port in self.inputs:
            if port.type is not None:
                names |= port.type.shape_vars
        return names

    @property
    def all_shape_vars(self) -> set[str]:
        """Shape variables of inputs and outputs."""
        names = set(self.shape_vars)
        for port in self.outputs:
            if port.type is not None:
                names |= port.type.shape_vars
        return names

    def input(self, name: str) -> Port:
        return next(p for p in self.inputs if p.name == name)

    @property
    def axis_params(self) -> dict[str, str]:
        """Static parameters that name, at the call site, the axis a declared dimension stands for."""
        return {p.name: p.axis for p in self.static if p.axis is not None}


def static_sizes(spec: Spec, static: Mapping[str, Any] | None = None) -> dict[str, int]:
    """The axes named like a static ``int`` parameter, with the value ``static`` gives it
    (``spec.sizes`` when ``static`` is None)."""
    if static is None:
        return dict(spec.sizes)
    names = spec.all_shape_vars
    return {
        p.name: static[p.name]
        for p in spec.static
        if p.name in names and type(static.get(p.name)) is int  # bool is not a size
    }


def with_static_sizes(spec: Spec, static: Mapping[str, Any]) -> Spec:
    """``spec`` with the sizes its static configuration fixes."""
    sizes = tuple(sorted((dict(spec.sizes) | static_sizes(spec, static)).items()))
    return spec if sizes == spec.sizes else dataclasses.replace(spec, sizes=sizes)


def not_a_function(fn: object, kind: str) -> NoReturn:
    """Raise TM012: ``@tm.stage``/``@tm.pipeline`` applied to something that is not a ``def``."""
    got = (
        "nothing (was it written with parentheses?)"
        if fn is None
        else f"{type(fn).__name__} {getattr(fn, '__name__', '')}".strip()
    )
    raise StageDefinitionError(
        Diagnostic(
            "TM012",
            f"@tm.{kind} expects a Python function, got {got}",
            user_location(),
            hint=f"write @tm.{kind} (no parentheses) directly above a `def`",
        )
    )


def parse_spec(fn: Callable[..., Any], kind: str) -> Spec:
    """Parse ``fn``'s signature; raises :class:`StageDefinitionError` listing every problem."""
    if not inspect.isfunction(fn):
        not_a_function(fn, kind)
    location = definition_location(fn)
    name = fn.__name__
    problems: list[Diagnostic] = []

    def problem(code: str, message: str, param: str, hint: str | None = None, notes: tuple[str, ...] = ()) -> None:
        problems.append(
            Diagnostic(
                code, message, param_location(fn, location, param), notes=notes, hint=hint, stage=name, port=param
            )
        )

    try:
        hints = get_type_hints(fn, include_extras=True)
    except Exception as err:  # noqa: BLE001 - any failure to resolve annotations
        raise StageDefinitionError(
            Diagnostic(
                "TM010",
                f"cannot resolve the annotations of {kind} {name!r}: {type(err).__name__}: {err}",
                location,
                hint="annotations must be importable names; avoid undefined forward references",
                stage=name,
            )
        ) from None
    signature = inspect.signature(fn)
    inputs: list[Port] = []
    static: list[StaticParam] = []
    records: list[tuple[str, Record]] = []
    defaults: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            problem(
                "TM020",
                f"parameter {param.name!r} of {kind} {name!r} is positional-only",
                param.name,
                notes=("typedml passes every port and every piece of configuration to the body by name",),
                hint="remove the `/` from the signature (callers can still pass the value by position)",
            )
            continue
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            problem(
                "TM009",
                f"{kind} {name!r} has {'**' if param.kind is inspect.Parameter.VAR_KEYWORD else '*'}{param.name}; every port must be named",
                param.name,
                hint="list each input as its own annotated parameter",
            )
            continue
        if param.default is not inspect.Parameter.empty:
            defaults[param.name] = param.default
        if param.name not in hints:
            problem(
                "TM004",
                f"parameter {param.name!r} of {kind} {name!r} has no annotation",
                param.name,
                hint=f'annotate it, e.g. {param.name}: Q[Float[Array, "n"], "m"] or {param.name}: int',
            )
            continue
        ann = hints[param.name]
        axis = _axis_of(ann)
        if axis is not None:
            static.append(StaticParam(param.name, ann, param.default, axis.dim))
            continue
        if _is_static(ann):
            static.append(StaticParam(param.name, ann, param.default))
            continue
        parsed = _parse_record(param.name, ann, kind, name, problem, output=False)
        if parsed is not None:
            record, ports = parsed
            records.append((param.name, record))
            inputs.extend(ports)
            continue
        optional = _optional_of(ann)
        port = _parse_port(param.name, ann if optional is None else optional, kind, name, problem)
        if port is not None and optional is not None:
            if kind == "pipeline" or port.type is None or param.default is not None:
                problem(
                    "TM016",
                    f"optional input {param.name!r} of {kind} {name!r} "
                    + (
                        "must default to None"
                        if kind == "stage" and port.type is not None
                        else "is not supported: only array inputs of stages may be optional"
                    ),
                    param.name,
                    hint=f'write {param.name}: Bool[Array, "n"] | None = None on a stage; a pipeline passes None or '
                    "leaves the argument out",
                )
                continue
            port = dataclasses.replace(port, optional=True)
        if port is not None:
            inputs.append(port)
    for param in static:  # a default the annotation refuses: found here, not inside the body
        if param.default is not inspect.Parameter.empty:
            why = refused(param.annotation, param.default)
            if why is not None:
                problem(
                    "TM026",
                    f"default of static parameter {param.name!r} of {kind} {name!r}: {why}",
                    param.name,
                    hint=f"give {param.name} a default its annotation accepts, or widen the annotation",
                )
    outputs: list[Port] = []
    output_record: Record | None = None
    if "return" not in hints:
        problem(
            "TM005",
            f"{kind} {name!r} has no return annotation",
            "return",
            hint='declare what it returns, e.g. -> Q[Float[Array, "n"], "m"]',
        )
    else:
        ret = hints["return"]
        parsed = _parse_record("return", ret, kind, name, problem, output=True)
        if parsed is not None:
            output_record, outputs = parsed[0], list(parsed[1])
        else:
            port = _parse_port("return", ret, kind, name, problem, output=True)
            if port is not None:
                outputs.append(port)
    if not problems:
        _check_unit_vars(kind, name, inputs, outputs, problem)
        _check_axis_params(kind, name, inputs, outputs, static, problem)
    if problems:
        raise StageDefinitionError(problems)
    infos = _existential_infos(kind, name, fn, location, inputs, static, outputs)
    return Spec(
        name=name,
        qualname=getattr(fn, "__qualname__", name),
        location=location,
        inputs=tuple(inputs),
        static=tuple(static),
        outputs=tuple(outputs),
        output_tuple=output_record.cls if output_record is not None else None,
        param_order=tuple(signature.parameters),
        defaults=defaults,
        infos=infos,
        records=tuple(records),
        output_record=output_record,
        keyword_only=frozenset(
            p.name for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
        ),
    )


def _parse_record(
    pname: str, ann: Any, kind: str, owner: str, problem: Callable[..., None], output: bool
) -> tuple[Record, list[Port]] | None:
    """A record annotation as its structure and one port per field; None when ``ann`` is no record.

    A ``NamedTuple`` is always a record (as a return value: several outputs); a dataclass or
    an ``equinox.Module`` is one when some field is an array or a record. Field ports are
    named by their path: ``s.center`` for parameter ``s``, ``center`` in a return value.
    """
    fields = _record_fields(ann)
    if fields is None or (not output and fields[2] is None and all(a is _MISSING for _, a in fields[1])):
        return None  # (an input typed collections.namedtuple, unannotated: a pytree value)
    prefix = () if output else (pname,)
    failed: list[str] = []

    def field_problem(
        code: str, message: str, _param: str, hint: str | None = None, notes: tuple[str, ...] = ()
    ) -> None:
        failed.append(code)
        problem(code, message, pname, hint, notes)

    built = _record_of(ann, prefix, kind, owner, field_problem, output, (ann,))
    if built is None or failed:
        return None
    return built


_Fields = tuple[str, list[tuple[str, Any]], str | None]  # kind, (field, annotation) pairs, why unresolved


def _record_fields(ann: Any, visiting: tuple[Any, ...] = ()) -> _Fields | None:
    """The kind and annotated fields of a record type, or None (not a record: a pytree value)."""
    if _is_array_tuple(ann, visiting):
        return "tuple", [(str(i), a) for i, a in enumerate(get_args(ann))], None
    found = candidate_fields(ann)
    if found is None or ann in visiting:
        return None
    record_kind, names = found
    unresolved: str | None = None
    try:
        hints = record_field_hints(ann)
    except Exception as err:  # noqa: BLE001 - unresolvable field annotations: reported when parsed
        hints, unresolved = {}, f"{type(err).__name__}: {err}"
    pairs = [(n, hints.get(n, _MISSING)) for n in names]
    if record_kind == "namedtuple":
        return record_kind, pairs, unresolved
    if not any(_is_arrayish(a, (*visiting, ann)) for _, a in pairs):
        return None  # a dataclass or module of other things: a pytree value, as before
    if record_kind == "module" and any(_is_static(a) for _, a in pairs):
        return None  # an equinox module with static fields (sizes, activations): a pytree value
    return record_kind, pairs, unresolved


_MISSING = object()


def _is_array_tuple(ann: Any, visiting: tuple[Any, ...]) -> bool:
    """``tuple[A, B, ...]`` of a fixed length whose every item is an array or a record: a record
    whose fields are positions ("0", "1", ...), taken and given as a plain tuple."""
    if get_origin(ann) is not tuple or ann in visiting:
        return False
    args = get_args(ann)
    return bool(args) and Ellipsis not in args and all(_is_arrayish(a, (*visiting, ann)) for a in args)


def _is_arrayish(ann: Any, visiting: tuple[Any, ...]) -> bool:
    base = split_annotation(ann)[0]
    return jaxtyping_parts(base) is not None or _record_fields(base, visiting) is not None


def _record_of(
    cls: Any,
    prefix: tuple[str, ...],
    kind: str,
    owner: str,
    problem: Callable[..., None],
    output: bool,
    seen: tuple[Any, ...],
) -> tuple[Record, list[Port]] | None:
    found = _record_fields(cls)
    assert found is not None
    record_kind, pairs, unresolved = found
    plain = record_kind == "tuple"
    name = "tuple" if plain else cls.__name__
    where = ("field " if len(prefix) > 1 else "parameter ") + repr(".".join(prefix)) if prefix else "the return value"
    if unresolved is not None:
        problem(
            "TM010",
            f"cannot resolve the field annotations of record {name} ({where}) of {kind} {owner!r}: {unresolved}",
            "",
            hint="annotations must be importable names; avoid undefined forward references",
        )
        return None
    if record_kind == "dataclass" and not is_frozen(cls):
        problem(
            "TM025",
            f"record {name} ({where}) of {kind} {owner!r} is a dataclass that is not frozen",
            "",
            hint="declare it @dataclasses.dataclass(frozen=True): a record is a value, never changed in place",
        )
        return None
    fields: list[tuple[str, Record | None]] = []
    ports: list[Port] = []
    for field, ann in pairs:
        path = (*prefix, field)
        label = ".".join(path)
        if ann is _MISSING and output:
            problem("TM011", f"output field {field!r} of {name} has no annotation", "")
            continue
        if ann is _MISSING:
            problem(
                "TM025",
                f"field {field!r} of record {name} ({label}) in {kind} {owner!r} has no annotation",
                "",
                hint='annotate every field, e.g. center: Q[Float[Array, "d"], "\'u"]',
            )
            continue
        if _record_fields(split_annotation(ann)[0]) is not None:
            inner = split_annotation(ann)[0]
            if inner in seen:
                problem("TM025", f"record {name} contains itself through field {field!r}", "")
                continue
            nested = _record_of(inner, path, kind, owner, problem, output, (*seen, inner))
            if nested is not None:
                fields.append((field, nested[0]))
                ports.extend(nested[1])
            continue
        if _is_static(ann):
            problem(
                "TM025",
                f"field {field!r} of record {name} ({label}) in {kind} {owner!r} is {_fmt(ann)}: a record's fields are arrays, records or pytree values",
                "",
                hint=f'make it an array ({field}: Int[Array, ""]) or static configuration of the stage',
            )
            continue
        port = _parse_port(label, ann, kind, owner, problem, output=output)
        if port is not None:
            fields.append((field, None))
            ports.append(port)
    if plain:
        return Record(tuple, tuple(fields), plain=True), ports
    return Record(cast("type", cls), tuple(fields)), ports


def _existential_infos(
    kind: str,
    owner: str,
    fn: Callable[..., Any],
    location: Location,
    inputs: list[Port],
    static: list[StaticParam],
    outputs: list[Port],
) -> tuple[Diagnostic, ...]:
    """TM015: an output axis no input and no static parameter determines (a fresh size per call)."""
    if kind != "stage":
        return ()
    from ._shapes import item_vars

    known: set[str] = set()
    for port in inputs:
        if port.type is not None:
            known |= item_vars(port.type.dims)
    known |= {p.name for p in static}
    ints = [p.name for p in static if p.annotation is int]
    found: list[Diagnostic] = []
    for port in outputs:
        if port.type is None:
            continue
        for var in sorted(item_vars(port.type.dims) - known):
            label = "return value" if port.name == "return" else f"output {port.name!r}"
            hint = (
                f"if {' or '.join(repr(n) for n in ints)} sets this size, name the axis after it "
                f"(e.g. {_renamed(port.type.dim_str, var, ints[0])!r})"
                if ints
                else "if a static int parameter sets this size, name the axis after it"
            )
            found.append(
                Diagnostic(
                    "TM015",
                    f"axis {var!r} of the {label} of stage {owner!r} is determined by no input: "
                    "each call makes a fresh size, equal to no other",
                    param_location(fn, location, port.name),
                    severity="info",
                    hint=hint,
                    stage=owner,
                    port=port.name,
                )
            )
    return tuple(found)


def _axis_of(ann: Any) -> Any:
    """The ``tm.Axis`` metadata of an ``Annotated[...]`` static parameter, else None."""
    from ._annotations import Axis

    if get_origin(ann) is not typing.Annotated:
        return None
    return next((m for m in get_args(ann)[1:] if isinstance(m, Axis)), None)


def _optional_of(ann: Any) -> Any:
    """``X`` for an annotation ``X | None`` (``Optional[X]``) whose ``X`` is no static type, else None."""
    if get_origin(ann) not in (typing.Union, types.UnionType):
        return None
    args = [a for a in get_args(ann) if a is not type(None)]
    if len(args) != 1 or len(get_args(ann)) != 2 or _is_static(args[0]):
        return None
    return args[0]


def _check_axis_params(
    kind: str,
    owner: str,
    inputs: list[Port],
    outputs: list[Port],
    static: list[StaticParam],
    problem: Callable[..., None],
) -> None:
    """TM017: a ``tm.Axis("n")`` parameter must name one plain axis of some input, declared once
    in every port that has it, outside any axis expression."""
    from ._shapes import Dim, Lin, item_vars

    for param in static:
        if param.axis is None:
            continue
        dim = param.axis
        plain = Dim(Lin.var(dim), dim)
        holders = [p for p in inputs if p.type is not None and dim in item_vars(p.type.dims)]
        why = None
        if kind != "stage":
            why = "only stages take an axis parameter"
        elif not holders:
            why = f"no input declares an axis {dim!r}"
        for port in (*inputs, *outputs):
            if why is not None or port.type is None or dim not in item_vars(port.type.dims):
                continue
            alone = [i for i in port.type.dims if isinstance(i, Dim) and i.term == plain.term]
            if len(alone) != 1 or sum(dim in item_vars((i,)) for i in port.type.dims) != 1:
                why = f"{port.name!r} declares {port.type.dim_str!r}: {dim!r} must be one whole axis, once"
        if why is not None:
            problem(
                "TM017",
                f"axis parameter {param.name!r} of {kind} {owner!r} declares tm.Axis({dim!r}), but {why}",
                param.name,
                hint=f'declare the axis the body works along once in each port, e.g. x: Float[Array, "{dim} *rest"]',
            )


def _is_static(ann: Any) -> bool:
    if ann in _STATIC_TYPES:
        return True
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return True
    origin = get_origin(ann)
    if origin is Literal:
        return True
    if origin in (tuple, typing.Union, types.UnionType):
        args = [a for a in get_args(ann) if a is not Ellipsis]
        return bool(args) and all(_is_static(a) for a in args)
    return False


def _parse_port(
    pname: str,
    ann: Any,
    kind: str,
    owner: str,
    problem: Callable[..., None],
    output: bool = False,
) -> Port | None:
    base, unit_meta, bad, refinements = split_annotation(ann)
    where = "output" if output else "parameter"
    label = "return value" if pname == "return" else f"{where} {pname!r}"
    if bad is not None:
        problem(
            "TM008",
            f"malformed Q[...] on {label} of {owner!r}: got Q[{_fmt(bad.params)}]",
            pname,
            hint='write Q[<jaxtyping array type>, "<unit>"], e.g. Q[Float[Array, "n"], "m"]',
        )
        return None
    parts = jaxtyping_parts(base)
    if parts is None:
        if unit_meta is not None:
            problem(
                "TM007",
                f"Q[...] on {label} of {owner!r} wraps {_fmt(base)}, which is not a jaxtyping array type",
                pname,
                hint='units attach to arrays: Q[Float[Array, "n"], "m"]; for a scalar use Float[Array, ""]',
            )
            return None
        if _looks_like_array(base):
            problem(
                "TM010",
                f"{label} of {owner!r} is annotated {_fmt(base)}, which has no shape or dtype",
                pname,
                hint='use a jaxtyping type, e.g. Float[Array, "n"] (wrapped in Q[..., "unit"] for a unit)',
            )
            return None
        if (
            base is Any
            or isinstance(base, (type, typing.TypeVar))
            or get_origin(base) is not None
            or _is_pytree_annotation(base)
        ):
            if refinements:
                problem(
                    "TM014",
                    f"refinement {refinements[0]!r} on {label} of {owner!r}, which is not an array",
                    pname,
                    hint='value contracts apply to array ports: Q[Float[Array, "n"], "m", tm.Positive]',
                )
                return None
            return Port(pname, None, ann)
        problem("TM010", f"unsupported annotation {_fmt(base)} on {label} of {owner!r}", pname)
        return None
    family, dtypes, dim_str, array_type = parts
    try:
        dims = parse_dims(dim_str)
    except Exception as err:  # noqa: BLE001  # pragma: no cover - jaxtyping validated it
        problem("TM003", f"bad shape {dim_str!r} on {label} of {owner!r}: {err}", pname)
        return None
    for item in dims:
        if isinstance(item, Dim) and item.term is None and not valid_expr(item.text):
            problem(
                "TM003",
                f"bad shape {dim_str!r} on {label} of {owner!r}: {item.text!r} is not a valid axis or expression",
                pname,
                hint='axes are names ("n"), sizes ("3"), "_", "*name", "...", "#name", or expressions like "n+1"',
            )
            return None
        if isinstance(item, Dim) and item.term is None and divides_truly(item.text) and not divides_by_zero(item.text):
            problem(
                "TM003",
                f"bad shape {dim_str!r} on {label} of {owner!r}: {item.text!r} divides with '/', "
                "which gives no whole size for some sizes",
                pname,
                hint='write "n//2" to round down, or, when the size must divide exactly, declare the input "2*k" '
                'and the output "k" (checked on every call)',
            )
            return None
        if isinstance(item, Dim) and item.term is None and divides_by_zero(item.text):
            problem(
                "TM003",
                f"bad shape {dim_str!r} on {label} of {owner!r}: {item.text!r} divides by zero",
                pname,
                hint='divide by a positive size: "n//2", "n%4"',
            )
            return None
    unit: UnitExpr | None = None
    if unit_meta is not None:
        try:
            unit = parse_unit_expr(unit_meta.text, get_registry())
        except UnitParseError as err:
            if err.kind == "unknown":
                problem(
                    "TM001",
                    f"unknown unit in {err.text!r} on {label} of {owner!r}: {err.detail}",
                    pname,
                    hint="check the spelling, or define it: tm.get_registry().define('click = [clicks]')",
                )
            else:
                problem(
                    "TM002",
                    f"malformed unit expression {err.text!r} on {label} of {owner!r}: {err.detail}",
                    pname,
                    hint='use pint\'s syntax ("m/s**2", "kg*m") and \'name for unit variables',
                )
            return None
    registry = get_registry()
    for ref in refinements:
        found = problems_with(ref, unit, registry)
        if found is not None:
            why, hint = found
            problem("TM014", f"refinement {ref!r} cannot apply to {label} of {owner!r}: {why}", pname, hint=hint)
            return None
    kinds = annotation_kinds(ann)
    if len(kinds) > 1:
        problem(
            "TM030",
            f"{label} of {owner!r} has {len(kinds)} kinds ({', '.join(k.name for k in kinds)})",
            pname,
            hint="a port holds one kind of quantity; keep the most specific one",
        )
        return None
    declared: str | None = None
    for k in kinds:
        declared = k.name
        found_kind = kind_problem(
            k, None if unit is None else unit.concrete, unit is not None and not unit.variables, registry
        )
        if found_kind is not None:
            why, hint = found_kind
            problem("TM030", f"kind {k.name!r} on {label} of {owner!r}: {why}", pname, hint=hint)
            return None
    return Port(pname, ArrayType(ann, family, dtypes, dim_str, dims, unit, array_type, refinements, declared), ann)


def _looks_like_array(ann: Any) -> bool:
    import jax
    import numpy as np

    return ann in (jax.Array, np.ndarray) or getattr(ann, "__name__", "") in ("ArrayLike", "Array")


def _is_pytree_annotation(ann: Any) -> bool:
    return "PyTree" in repr(ann)


def _fmt(obj: Any) -> str:
    if isinstance(obj, tuple):
        return ", ".join(_fmt(o) for o in obj)  # pyright: ignore[reportUnknownVariableType]
    if isinstance(obj, type):
        return obj.__name__
    return repr(obj)


def _check_unit_vars(
    kind: str, owner: str, inputs: list[Port], outputs: list[Port], problem: Callable[..., None]
) -> None:
    bound: set[str] = set()
    for port in inputs:
        if port.type is not None and port.type.unit is not None:
            bound.update(port.type.unit.var_names)
    for port in outputs:
        if port.type is None or port.type.unit is None:
            continue
        free = [v for v in port.type.unit.var_names if v not in bound]
        if free:
            label = "return value" if port.name == "return" else f"output {port.name!r}"
            problem(
                "TM006",
                f"unit variable '{free[0]} in the {label} of {kind} {owner!r} appears in no input",
                port.name,
                notes=(f"inputs bind: {', '.join(sorted(repr(v) for v in bound)) or 'no unit variables'}",),
                hint=f"an output's unit must follow from the inputs' units; use '{free[0]} in an input or write a concrete unit",
            )


def _renamed(dim_str: str, old: str, new: str) -> str:
    return re.sub(rf"\b{re.escape(old)}\b", new, dim_str)
