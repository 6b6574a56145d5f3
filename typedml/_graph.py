"""Tracing a pipeline body into a ``networkx.MultiDiGraph``.

The body runs once on :class:`Symbol` values (no data). Every stage (or nested pipeline)
call becomes a node; every value passed becomes an edge keyed by the receiving port.

Node attributes: ``kind`` (``"input"``, ``"stage"``, ``"pipeline"``, ``"output"``), ``name``,
``callee`` (the Stage or Pipeline called), ``spec``, ``static`` (static configuration),
``location`` (the call site), ``port`` (for input/output nodes).

Edge attributes: ``src_port``, ``dst_port``, ``location`` (the call site that passed the
value), ``src_type``/``dst_type`` (the declared types at both ends); the checker adds
``unit``/``dst_unit`` (resolved), ``conversion`` ((scale, offset) or None), ``shape``,
``status`` (``"ok"``, ``"error"``, ``"unverified"``) and ``diagnostics``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from ._config import check_static
from ._errors import Diagnostic, Location, WiringError, user_location
from ._records import RecordMismatch
from ._spec import Port, Spec

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Callee", "Symbol", "Tracer", "current_tracer"]


class Callee(Protocol):
    """A stage or a pipeline: anything with a spec that can become a node."""

    @property
    def spec(self) -> Spec: ...


_current: contextvars.ContextVar[Tracer | None] = contextvars.ContextVar("typedml_tracer", default=None)


def current_tracer() -> Tracer | None:
    return _current.get()


class Symbol:
    """A value inside a pipeline being traced: where it comes from and its declared type.

    It holds no data. Arithmetic or branching on it is a mistake (that belongs in a stage),
    reported with the offending line.
    """

    __slots__ = ("decl", "node", "port", "tracer")

    def __init__(self, tracer: Tracer, node: str, port: Port) -> None:
        self.tracer = tracer
        self.node = node
        self.port = port.name
        self.decl = port

    @property
    def label(self) -> str:
        """How diagnostics name this value: an input's name, or ``stage.port``."""
        return value_label(self.node, self.port)

    def __repr__(self) -> str:
        return f"<traced {self.label}: {self.decl.describe()}>"

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("_"):  # protocol probes (hasattr(x, "_fields"), copy, pickle)
            raise AttributeError(name)
        if self.decl.type is None:
            self._misuse(
                f"attribute access .{name}",
                "a pytree value has no fields a pipeline can see: annotate it with a record type "
                "(a NamedTuple or frozen dataclass whose fields are Q[...] arrays) to use its fields",
            )
        self._misuse(f"attribute access .{name}")

    def _misuse(self, what: str, hint: str | None = None) -> NoReturn:
        loc = user_location()
        raise WiringError(
            Diagnostic(
                "TM114",
                f"{what} on traced value {self.label} inside a pipeline",
                loc,
                notes=("a pipeline body only wires stages together; it sees no data",),
                hint=hint or "move the computation into a @tm.stage (branching on data belongs inside a stage)",
            )
        )

    def __bool__(self) -> bool:
        self._misuse("branching (bool)")

    def __len__(self) -> int:
        self._misuse("len()")

    def __iter__(self) -> NoReturn:
        self._misuse("iteration")

    def __getitem__(self, item: object) -> NoReturn:
        self._misuse("indexing")

    def __array__(self, *args: object, **kwargs: object) -> NoReturn:
        self._misuse("conversion to an array")

    def __float__(self) -> float:
        self._misuse("float()")

    def __int__(self) -> int:
        self._misuse("int()")

    def __index__(self) -> int:
        self._misuse("use as an index")

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> NoReturn:
        self._misuse("comparison (==)")

    def __ne__(self, other: object) -> NoReturn:
        self._misuse("comparison (!=)")


def _binary(name: str) -> Any:
    def method(self: Symbol, *args: object) -> NoReturn:
        self._misuse(f"operator {name}")  # pyright: ignore[reportPrivateUsage]

    method.__name__ = name
    return method


for _op in (
    "add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow rpow "
    "matmul rmatmul neg pos abs lt le gt ge and rand or ror xor rxor invert"
).split():
    setattr(Symbol, f"__{_op}__", _binary(f"__{_op}__"))


class Tracer:
    """Builds one pipeline's graph while its body runs."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        import networkx as nx  # on first use: networkx costs more to import than typedml itself

        self.graph: nx.MultiDiGraph[str] = nx.MultiDiGraph(name=owner)
        self.diagnostics: list[Diagnostic] = []
        self._names: dict[str, int] = {}
        self._token: contextvars.Token[Tracer | None] | None = None

    def __enter__(self) -> Tracer:
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._token is not None
        _current.reset(self._token)

    def fresh_name(self, base: str) -> str:
        count = self._names.get(base, 0) + 1
        self._names[base] = count
        return base if count == 1 else f"{base}_{count}"

    def add_input(self, port: Port, location: Location) -> Symbol:
        node = f"input:{port.name}"
        self.graph.add_node(node, kind="input", name=port.name, port=port, location=location)
        return Symbol(self, node, port)

    def add_output(self, port: Port, value: object, location: Location) -> None:
        node = f"output:{port.name}"
        self.graph.add_node(node, kind="output", name=port.name, port=port, location=location)
        self._connect(value, node, port, location, f"output {port.name!r} of pipeline {self.owner!r}")

    def call(self, callee: Callee, kind: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        """Record a call of a stage or pipeline; returns symbols for its outputs."""
        spec = callee.spec
        location = user_location() or spec.location
        node = self.fresh_name(spec.name)
        bound, problems = bind_arguments(spec, args, kwargs, location)
        self.diagnostics.extend(problems)
        static: dict[str, Any] = {}
        for param in spec.static:
            if param.name not in bound:
                continue
            value = bound[param.name]
            if isinstance(value, Symbol):
                self.diagnostics.append(
                    Diagnostic(
                        "TM116",
                        f"static parameter {spec.name}.{param.name} received traced value {value.label}",
                        location,
                        notes=(
                            f"{param.name} is configuration ({_type_name(param.annotation)}), fixed when the pipeline is built",
                        ),
                        hint="pass a Python value here; data must flow through array ports",
                        stage=node,
                        port=param.name,
                    )
                )
                continue
            static[param.name] = value
        refused = check_static(((p.name, p.annotation) for p in spec.static), static)
        for pname, why in refused:
            self.diagnostics.append(
                Diagnostic(
                    "TM136",
                    f"static parameter {spec.name}.{pname}: {why}",
                    location,
                    notes=(f"{pname} is configuration, checked against its annotation before the body runs",),
                    hint=f"pass {pname} as its annotation declares",
                    stage=node,
                    port=pname,
                )
            )
        self.graph.add_node(
            node,
            kind=kind,
            name=spec.name,
            callee=callee,
            spec=spec,
            static=static,
            location=location,
            invalid=bool(problems) or bool(refused),
        )
        ports = {p.name: p for p in spec.inputs}
        for name in spec.data_params:
            if name not in bound:
                continue
            if name in ports and ports[name].optional and bound[name] is None:
                continue  # an optional port left absent: no edge, the body sees None
            leaves = spec.leaf_names(name)
            values = (
                self._record_fields(spec, node, name, bound[name], location) if leaves != (name,) else [bound[name]]
            )
            if values is None:
                continue
            for leaf, value in zip(leaves, values, strict=True):
                self._connect(value, node, ports[leaf], location, f"{spec.name}.{leaf}")
        return spec.pack_outputs([Symbol(self, node, port) for port in spec.outputs])

    def add_inputs(self, spec: Spec, location: Location) -> dict[str, Any]:
        """An input node per input port; a record parameter's value is a record of their symbols."""
        symbols = {p.name: self.add_input(p, location) for p in spec.inputs}
        if not spec.records:
            return dict(symbols)
        return spec.group_inputs(symbols)

    def _record_fields(self, spec: Spec, node: str, name: str, value: object, location: Location) -> list[Any] | None:
        record = spec.record(name)
        assert record is not None
        try:
            return record.flatten(value)
        except RecordMismatch as err:
            found = value.label if isinstance(value, Symbol) else err.found
            what = "the value" if not err.path else f"field {'.'.join(err.path)}"
            self.diagnostics.append(
                Diagnostic(
                    "TM135",
                    f"record port {spec.name}.{name} expects a {record.name}, but {what} is {found}",
                    location,
                    notes=(
                        f"expected: {record.describe()}",
                        f"found: {value.label}, {value.decl.describe()}"
                        if isinstance(value, Symbol)
                        else f"found: {err.found}",
                    ),
                    hint=f"pass a {record.name} (a stage's record output, a record pipeline input, or "
                    f"{record.name}(...) built from traced values)",
                    stage=node,
                    port=name,
                )
            )
            self.graph.nodes[node]["invalid"] = True
            return None

    def _connect(self, value: object, node: str, port: Port, location: Location, label: str) -> None:
        if isinstance(value, Symbol):
            if value.tracer is not self:
                self.diagnostics.append(
                    Diagnostic(
                        "TM113",
                        f"{label} received a value traced in another pipeline",
                        location,
                        stage=None if node.startswith("output:") else node,
                        port=port.name,
                    )
                )
                return
            self.graph.add_edge(
                value.node,
                node,
                key=port.name,
                src_port=value.port,
                dst_port=port.name,
                location=location,
                src_type=value.decl.type,
                dst_type=port.type,
            )
            return
        found = type(value).__name__
        self.diagnostics.append(
            Diagnostic(
                "TM113",
                f"{label} received a value of type {found}, not a value flowing through the pipeline",
                location,
                notes=(f"expected: {port.describe()}", f"found: {found} {_short_repr(value)}"),
                hint="constants must enter as pipeline inputs (with their unit) or as static configuration of a stage",
                stage=None if node.startswith("output:") else node,
                port=port.name,
            )
        )


def value_label(node: str, port: str) -> str:
    """``raw`` for a pipeline input, ``calibrate`` for a single output, else ``fit.coef``."""
    if node.startswith("input:"):
        return node[len("input:") :]
    return node if port == "return" else f"{node}.{port}"


def bind_arguments(
    spec: Spec, args: tuple[Any, ...], kwargs: Mapping[str, Any], location: Location | None
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Map a call's arguments to parameter names, reporting unknown/missing/extra ones."""
    problems: list[Diagnostic] = []
    bound: dict[str, Any] = {}
    order = spec.param_order
    positional = spec.positional
    if len(args) > len(positional):
        keyword_only = [n for n in order if n in spec.keyword_only]
        problems.append(
            Diagnostic(
                "TM112",
                f"{spec.name}() takes {len(positional)} {'positional ' if keyword_only else ''}"
                f"argument{'s' if len(positional) != 1 else ''} but {len(args)} were given",
                location,
                notes=(
                    f"parameters: {', '.join(order)}",
                    *([f"keyword-only: {', '.join(keyword_only)}"] if keyword_only else []),
                ),
                hint=f"pass {keyword_only[0]}={keyword_only[0]}" if keyword_only else None,
                stage=spec.name,
            )
        )
    for name, value in zip(positional, args, strict=False):
        bound[name] = value
    for name, value in kwargs.items():
        if name not in order:
            close = _closest(name, order)
            problems.append(
                Diagnostic(
                    "TM110",
                    f"{spec.name}() got an unexpected argument {name!r}",
                    location,
                    notes=(f"parameters: {', '.join(order)}",),
                    hint=f"did you mean {close!r}?" if close else None,
                    stage=spec.name,
                    port=name,
                )
            )
            continue
        if name in bound:
            problems.append(
                Diagnostic(
                    "TM110",
                    f"{spec.name}() got several values for argument {name!r}",
                    location,
                    stage=spec.name,
                    port=name,
                )
            )
            continue
        bound[name] = value
    for name in order:
        if name not in bound and name in spec.defaults:
            bound[name] = spec.defaults[name]
    missing = [n for n in order if n not in bound]
    if missing:
        problems.append(
            Diagnostic(
                "TM111",
                f"{spec.name}() is missing argument{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}",
                location,
                notes=tuple(f"{m}: {spec.input(m).describe()}" for m in missing if m in spec.input_names),
                stage=spec.name,
                port=missing[0],
            )
        )
    return bound, problems


def _closest(name: str, options: tuple[str, ...]) -> str | None:
    import difflib

    match = difflib.get_close_matches(name, options, n=1)
    return match[0] if match else None


def _type_name(ann: Any) -> str:
    return getattr(ann, "__name__", repr(ann))


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
