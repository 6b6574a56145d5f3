"""Build-time checks over a traced graph, with no data: dtypes, shapes, units.

Walks the graph in topological order. Shape variables of each call are namespaced by the
node (``fit.n``) and unified across every edge; the pipeline's own shape variables are rigid.
Unit variables of each call are solved from its inputs (the simplest equations first) and
every edge whose units differ but are convertible gets a ``(scale, offset)`` conversion.
All problems are collected into one :class:`CheckReport`; nothing here raises for them.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._annotations import ArrayType
from ._check_parts import EdgeKey
from ._check_sizes import SizeChecks
from ._check_units import UnitChecks
from ._errors import BodyError, Diagnostic, Location, Related, WiringError
from ._graph import value_label
from ._kinds import get_kinds
from ._shapes import (
    Dim,
    Lin,
    SeqItem,
    SeqVar,
    ShapeStore,
    SizeConstraint,
    declared_position,
    namespaced,
)
from ._source import annotation_at, argument_at
from ._spec import Port, Spec, static_sizes
from ._swaps import swapped_arguments
from ._units import UType, get_registry

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["CheckReport", "Plan", "check_graph"]

# edge diagnostics that point at both declarations: what the value is declared as where it is
# produced, and what the port receiving it declares (shape conflicts explain their own origins)
_DECLARATIONS = frozenset({"TM101", "TM102", "TM106", "TM107", "TM108", "TM117", "TM140", "TM142"})


@dataclasses.dataclass
class CheckReport:
    """The result of ``pipeline.check()``: every diagnostic found, errors and warnings."""

    diagnostics: list[Diagnostic]
    plan: Any = dataclasses.field(default=None, repr=False, compare=False)
    """The checked plan the report belongs to (``pipeline.check()``'s): a notebook draws its graph."""

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def infos(self) -> list[Diagnostic]:
        """Facts worth knowing that need no change (e.g. a body trusted, not checked)."""
        return [d for d in self.diagnostics if d.severity == "info"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise if any diagnostic is an error: :class:`BodyError` when every error is a body
        check's (TM3xx), else :class:`WiringError`; the error holds every diagnostic."""
        errors = self.errors
        if errors:
            body = all(d.code.startswith("TM3") for d in errors)
            raise (BodyError if body else WiringError)(self.diagnostics)

    def __str__(self) -> str:
        if not self.diagnostics:
            return "ok: no problems found"
        return "\n".join(str(d) for d in self.diagnostics)

    def __reduce__(self) -> tuple[type[CheckReport], tuple[list[Diagnostic]]]:
        # the diagnostics are the report; the plan (graph, compiled code) stays in this process
        return (CheckReport, (self.diagnostics,))

    def _repr_html_(self) -> str:
        from ._display_graph import check_html

        return check_html(self)


CheckReport.__module__ = "typedml"


@dataclasses.dataclass
class Plan:
    """What compilation needs: per edge conversions and per value resolved units."""

    conversions: dict[EdgeKey, tuple[float, float]]
    int_edges: set[EdgeKey]
    node_bindings: dict[str, dict[str, UType]]
    # what the stages' signatures imply about the pipeline's input sizes (checked on data)
    size_constraints: tuple[SizeConstraint, ...] = ()
    # conversions that take the radian as the number 1 (TM142): said again when the plan runs
    assumed: tuple[Diagnostic, ...] = ()


_origin = value_label


def check_graph(
    graph: nx.MultiDiGraph[str],
    spec: Spec,
    rigid_units: Mapping[str, UType] | None = None,
    pre: list[Diagnostic] | None = None,
) -> tuple[CheckReport, Plan]:
    """Check every edge of ``graph`` (annotating it) and return the report and the plan."""
    checker = _Checker(graph, spec, rigid_units)
    # After a tracing error the graph is partial: "never used" warnings would be noise.
    # (A body check's error, TM3xx, leaves the graph whole.)
    checker.run(report_unused=not any(d.severity == "error" and not d.code.startswith("TM3") for d in pre or []))
    diagnostics = list(pre or []) + checker.diagnostics
    if rigid_units is None:  # a plan's variant for its run's units has the same calls
        diagnostics += swapped_arguments(graph)
    seen: set[int] = set()
    for _, data in graph.nodes(data=True):
        node_spec: Spec | None = data.get("spec")
        if node_spec is not None and id(node_spec) not in seen:
            seen.add(id(node_spec))
            diagnostics.extend(node_spec.infos)
    order = {"error": 0, "warning": 1, "info": 2}
    diagnostics.sort(key=lambda d: order[d.severity])
    return CheckReport(diagnostics), Plan(
        checker.conversions, checker.int_edges, checker.node_bindings, tuple(checker.carried), tuple(checker.assumed)
    )


class _Checker(SizeChecks, UnitChecks):
    def __init__(self, graph: nx.MultiDiGraph[str], spec: Spec, rigid_units: Mapping[str, UType] | None) -> None:
        self.graph = graph
        self.spec = spec
        self.registry = get_registry()
        self.rigid_units = dict(rigid_units or {})
        fixed = static_sizes(spec)
        self.store = ShapeStore(rigid=spec.shape_vars - set(fixed))
        for name, size in fixed.items():
            self.store.dims[name] = Lin.fixed(size)
            self.store.origin[name] = f"static parameter {name}={size}"
        self.moved: dict[EdgeKey, list[SeqItem] | None] = {}  # edges whose named axis was moved into place
        self.roots: list[tuple[Diagnostic, EdgeKey, tuple[str, ...]]] = []  # size conflicts, for grouping
        self.declared: list[tuple[Lin, str, str]] = []  # every declared axis term: (term, port, node)
        self.carried: list[SizeConstraint] = []
        self.diagnostics: list[Diagnostic] = []
        self.units: dict[tuple[str, str], UType | None] = {}
        self.seqs: dict[tuple[str, str], list[SeqItem]] = {}
        self.dtypes: dict[tuple[str, str], tuple[str, ...] | None] = {}
        self.conversions: dict[EdgeKey, tuple[float, float]] = {}
        self.int_edges: set[EdgeKey] = set()
        self.node_bindings: dict[str, dict[str, UType]] = {}
        # values whose unit could not be determined (already reported): no follow-on errors
        self.unknown: set[tuple[str, str]] = set()
        self._fresh = itertools.count()
        self.affine_misuse: set[str] = set()
        self.unsolved_nodes: set[str] = set()
        self.edge_by_label: dict[str, tuple[EdgeKey, dict[str, Any]]] = {}
        # unit variables of record inputs being inferred: each unit mismatch that involves
        # them is an equation, found / expected == 1 (see typedml._check_records)
        self.infer: frozenset[str] = frozenset()
        self.equations: list[tuple[UType, str]] = []
        self.assumed: list[Diagnostic] = []
        self.kinds: dict[tuple[str, str], str | None] = {}  # quantity kind of each value (None: any)

    def fresh(self) -> str:
        return f"...{next(self._fresh)}"

    # -- walk ---------------------------------------------------------------------------
    def run(self, report_unused: bool = True) -> None:
        import networkx as nx  # imported on first use (see _graph)

        for node in nx.topological_sort(self.graph):
            data = self.graph.nodes[node]
            kind = data["kind"]
            if kind == "input":
                self._input(node, data["port"])
            elif kind == "output":
                self._consume(node, data, prefix="", outputs=())
            else:
                self._consume(node, data, prefix=f"{node}.", outputs=data["spec"].outputs)
        if report_unused:
            self._unused()
        self._constraints()
        self._group()
        for u, v, key, data in self.graph.edges(keys=True, data=True):
            seq = self.seqs.get((u, data["src_port"]))
            if seq is not None:
                data["shape"] = self.store.render_seq(seq)
            data.setdefault("status", "ok")
            data.setdefault("diagnostics", [])
            _ = (v, key)

    def _input(self, node: str, port: Port) -> None:
        key = (node, port.name)
        t = port.type
        if t is None:
            self.units[key] = None
            self.dtypes[key] = None
            return
        seq, _ = namespaced(t.dims, "", self.fresh)
        self.seqs[key] = seq
        self.dtypes[key] = t.dtypes
        self.units[key] = self._rigid_unit(t.unit)
        self.kinds[key] = t.kind

    def _consume(self, node: str, data: dict[str, Any], prefix: str, outputs: tuple[Port, ...]) -> None:
        spec: Spec | None = data.get("spec")
        in_edges = list(self.graph.in_edges(node, keys=True, data=True))
        if spec is not None:
            self._fix_static_sizes(node, spec, data.get("static") or {})
            order = {name: i for i, name in enumerate(spec.input_names)}
            in_edges.sort(key=lambda e: order.get(e[2], 0))
        usable: list[tuple[EdgeKey, dict[str, Any]]] = []
        for u, v, key, edata in in_edges:
            if (u, edata["src_port"]) not in self.units and (u, edata["src_port"]) not in self.dtypes:
                continue  # upstream failed to produce a value
            usable.append(((u, v, key), edata))
        if spec is not None and spec.axis_params:
            self._axis_moves(data, spec, usable)
        # kinds, dtypes, shapes
        for ekey, edata in usable:
            self._kind_dtype_shape(ekey, edata, prefix)
        # units
        bindings = self._solve_units(node, usable, rigid=(prefix == ""))
        for ekey, edata in usable:
            self._edge_unit(ekey, edata, bindings, rigid=(prefix == ""))
        kind_bindings = self._quantity_kinds(node, usable)
        if data.get("invalid"):
            return
        for port in outputs:
            key = (node, port.name)
            t = port.type
            if t is None:
                self.units[key] = None
                self.dtypes[key] = None
                continue
            carried = t.unit.variables[0][0] if t.unit is not None and t.unit.is_plain else None
            self.kinds[key] = t.kind or (kind_bindings.get(carried) if carried else None)
            self.dtypes[key] = t.dtypes
            if data.get("axis_failed"):
                self.units[key] = self._output_unit(node, data, port, bindings)
                continue  # the shape is unknown (the named axis was not found): reported already
            self.seqs[key] = namespaced(t.dims, prefix, self.fresh)[0]
            if prefix:
                self._anonymous_outputs(node, port, self.seqs[key])
            self._declare(self.seqs[key], f"{node}.{port.name}", node)
            back = data.get("moves_out", {}).get(port.name)
            if back is not None:  # the named axis goes back where the caller had it
                seq = self.store.resolve_seq(self.seqs[key])
                if not any(isinstance(i, SeqVar) for i in seq) and back[1] < len(seq):
                    seq.insert(back[1], seq.pop(declared_position(t.dims, back[0], len(seq))))
                    self.seqs[key] = seq
            self.dtypes[key] = t.dtypes
            if node in self.affine_misuse:
                self.unknown.add(key)
                self.units[key] = None
                continue
            self.units[key] = self._output_unit(node, data, port, bindings)
            if self.units[key] is None and t.unit is not None:
                self.unknown.add(key)

    def _where(self, ekey: EdgeKey, edata: dict[str, Any]) -> str:
        u, v, _ = ekey
        dst = self.graph.nodes[v]
        dst_label = f"output {edata['dst_port']!r}" if dst["kind"] == "output" else f"{v}.{edata['dst_port']}"
        return f"{_origin(u, edata['src_port'])} -> {dst_label}"

    def _report(
        self,
        ekey: EdgeKey,
        edata: dict[str, Any],
        code: str,
        message: str,
        notes: tuple[str, ...] = (),
        hint: str | None = None,
        severity: str = "error",
        related: tuple[Related, ...] = (),
    ) -> None:
        loc: Location | None = edata.get("location")
        if code in _DECLARATIONS:
            related = self._declarations(ekey, edata) + related
        diag = Diagnostic(
            code,
            message,
            loc,
            severity="warning" if severity == "warning" else "error",
            notes=notes,
            hint=hint,
            stage=ekey[1],
            port=edata["dst_port"],
            related=related,
        )
        self.diagnostics.append(diag)
        edata.setdefault("diagnostics", []).append(diag)
        if severity == "error":
            edata["status"] = "error"
        elif edata.get("status") != "error":
            edata["status"] = "unverified"

    def _declarations(self, ekey: EdgeKey, edata: dict[str, Any]) -> tuple[Related, ...]:
        """Where the value on an edge is declared (a pipeline input's annotation, the producing
        stage's return annotation) and where the receiving port is declared."""
        u, v, _ = ekey
        src, dst = self.graph.nodes[u], self.graph.nodes[v]
        found: list[Related] = []
        if src["kind"] == "input":
            where = annotation_at(self.spec.location, src["name"])
            what = f"pipeline input {src['name']!r} is declared here"
        else:
            where = annotation_at(src["spec"].location, "return")
            port = edata["src_port"]
            what = f"{src['name']} declares its {'result' if port == 'return' else 'output ' + repr(port)} here"
        if where is not None:
            found.append(Related(what, where))
        if dst["kind"] == "output":
            where = annotation_at(self.spec.location, "return")
            what = f"pipeline {self.spec.name!r} declares its {'result' if dst['name'] == 'return' else 'output ' + repr(dst['name'])} here"
        else:
            where = annotation_at(dst["spec"].location, edata["dst_port"])
            what = f"{dst['name']}.{edata['dst_port']} is declared here"
        if where is not None:
            found.append(Related(what, where))
        return tuple(found)

    def _argument(self, ekey: EdgeKey, edata: dict[str, Any]) -> Location | None:
        """The argument expression that passes the edge's value (else the call site)."""
        loc: Location | None = edata.get("location")
        spec: Spec | None = self.graph.nodes[ekey[1]].get("spec")
        if loc is None or spec is None:
            return loc
        return argument_at(loc, spec.param_order, edata["dst_port"]) or loc

    def _kind_dtype_shape(self, ekey: EdgeKey, edata: dict[str, Any], prefix: str) -> None:
        u = ekey[0]
        src_key = (u, edata["src_port"])
        dst: ArrayType | None = edata["dst_type"]
        src: ArrayType | None = edata["src_type"]
        where = self._where(ekey, edata)
        if (src is None) != (dst is None):
            self._report(
                ekey,
                edata,
                "TM117",
                f"kind mismatch on edge {where}",
                notes=(
                    f"found: {'pytree value' if src is None else src.describe()}",
                    f"expected: {'pytree value' if dst is None else dst.describe()}",
                ),
                hint="arrays and pytree values (fitted parameters, modules) are different kinds of port",
            )
            return
        if src is None or dst is None:
            return
        # dtypes
        found = self.dtypes.get(src_key)
        if found is not None and dst.dtypes is not None:
            overlap = set(found) & set(dst.dtypes)
            if not overlap:
                self._report(
                    ekey,
                    edata,
                    "TM101",
                    f"dtype mismatch on edge {where}",
                    notes=(
                        f"{_origin(u, edata['src_port'])} produces {src.dtype_family} ({_dtypes_text(found)})",
                        f"{edata['dst_port']} expects {dst.dtype_family} ({_dtypes_text(dst.dtypes)})",
                    ),
                    hint="convert inside a stage (e.g. x.astype(jnp.float32)), or declare the port's dtype family to accept it",
                )
            elif not set(found) <= set(dst.dtypes):
                self._report(
                    ekey,
                    edata,
                    "TM150",
                    f"dtype of edge {where} may not match",
                    notes=(
                        f"found: {src.dtype_family}; expected: {dst.dtype_family}",
                        "unverified before data: some dtypes of the source are not accepted by the port; "
                        "each call checks the dtype it meets",
                    ),
                    severity="warning",
                )
        # shapes
        src_seq = self.moved[ekey] if ekey in self.moved else self.seqs.get(src_key)
        if src_seq is None:
            return
        dst_seq, broadcast = namespaced(dst.dims, prefix, self.fresh)
        self._declare(dst_seq, f"{ekey[1]}.{edata['dst_port']}" if prefix else f"output {edata['dst_port']!r}", ekey[1])
        origin = where
        for conflict in self.store.unify_seq(src_seq, dst_seq, origin, broadcast):
            self._shape_problem(ekey, edata, conflict, src, dst, dst_seq)
        if any(isinstance(i, Dim) and i.term is None for i in dst.dims):
            self._report(
                ekey,
                edata,
                "TM151",
                f"shape {dst.dim_str!r} of {edata['dst_port']} cannot be verified at build time",
                notes=(
                    "the axis expression is not affine in the shape variables",
                    "unverified before data: each call evaluates it from the sizes its inputs bind",
                ),
                severity="warning",
            )

    # -- quantity kinds -------------------------------------------------------------------
    def _quantity_kinds(self, node: str, usable: list[tuple[EdgeKey, dict[str, Any]]]) -> dict[str, str]:
        """Check each edge's kind against its port's; return the kind each plain unit variable
        carries (the nearest kind common to every value bound to it)."""
        tree = get_kinds()
        bound: dict[str, tuple[str, str]] = {}  # unit variable -> (kind, where it came from)
        for ekey, edata in usable:
            dst: ArrayType | None = edata["dst_type"]
            if dst is None or edata["src_type"] is None:
                continue
            found = self.kinds.get((ekey[0], edata["src_port"]))
            if found is not None and found not in tree:
                found = None  # a kind dropped from the tree in use since the stage was defined
            where = self._where(ekey, edata)
            if dst.kind is not None and dst.kind in tree and found is not None and not tree.related(found, dst.kind):
                self._report(
                    ekey,
                    edata,
                    "TM140",
                    f"kind mismatch on edge {where}: {found} into a port of kind {dst.kind}",
                    notes=(
                        f"{_origin(ekey[0], edata['src_port'])} is of kind {found} ({_lineage(found)})",
                        f"{edata['dst_port']} expects kind {dst.kind} ({_lineage(dst.kind)})",
                        "the units agree, but neither kind is a kind of the other",
                    ),
                    hint="wire the value of the right kind; if the conversion is intended, "
                    "write it as a stage that declares the kind it returns",
                )
                continue
            carried = dst.kind if found is None else found
            if dst.kind is not None and found is not None and tree.is_a(dst.kind, found):
                carried = dst.kind  # the port is more specific than the value
            if carried is None or dst.unit is None or not dst.unit.is_plain:
                continue
            var = dst.unit.variables[0][0]
            if var not in bound:
                bound[var] = (carried, where)
                continue
            other, other_where = bound[var]
            joined = tree.join(other, carried) if other in tree and carried in tree else None
            if joined is None:
                self._report(
                    ekey,
                    edata,
                    "TM141",
                    f"kinds {other} and {carried} meet in unit variable '{var} of {node}",
                    notes=(
                        f"'{var} is of kind {other} from {other_where}",
                        f"and of kind {carried} from {where}",
                        f"{other} and {carried} have no common kind: a unit variable stands for one kind of quantity",
                    ),
                    hint="these values are different quantities that only share a unit (torque and energy, "
                    "frequency and activity); check the wiring",
                )
                continue
            bound[var] = (joined, other_where)
        return {var: kind for var, (kind, _) in bound.items()}

    # -- units ----------------------------------------------------------------------------
    def _unused(self) -> None:
        # a record input is one value: used when any of its fields is
        used_params = {
            data["name"].partition(".")[0]
            for node, data in self.graph.nodes(data=True)
            if data["kind"] == "input" and self.graph.out_degree(node) > 0
        }
        reported: set[str] = set()
        for node, data in self.graph.nodes(data=True):
            if data["kind"] == "input":
                param = data["name"].partition(".")[0]
                if self.graph.out_degree(node) == 0 and param not in used_params and param not in reported:
                    reported.add(param)
                    self.diagnostics.append(
                        Diagnostic(
                            "TM153",
                            f"pipeline input {param!r} is never used",
                            data.get("location"),
                            severity="warning",
                            port=param,
                        )
                    )
            elif data["kind"] in ("stage", "pipeline") and not data.get("invalid"):
                used = {d["src_port"] for _, _, d in self.graph.out_edges(node, data=True)}
                outputs = data["spec"].outputs
                if len(outputs) > 1 and used:
                    continue  # fields of a record: using some of them is the point of returning several
                if len(outputs) > 1:
                    self.diagnostics.append(
                        Diagnostic(
                            "TM152",
                            f"no output of {node} is used ({', '.join(p.name for p in outputs)})",
                            data.get("location"),
                            severity="warning",
                            stage=node,
                        )
                    )
                    continue
                for port in outputs:
                    if port.name not in used:
                        label = "return value" if port.name == "return" else f"output {port.name!r}"
                        self.diagnostics.append(
                            Diagnostic(
                                "TM152",
                                f"{label} of {node} is never used",
                                data.get("location"),
                                severity="warning",
                                stage=node,
                                port=port.name,
                            )
                        )


def _lineage(kind: str) -> str:
    above = get_kinds().ancestors(kind)
    return "a root kind" if len(above) == 1 else "a kind of " + ", a kind of ".join(above[1:])


def _dtypes_text(dtypes: tuple[str, ...]) -> str:
    if len(dtypes) > 4:
        return (
            ", ".join(d for d in dtypes if d in ("float32", "float64", "int32", "int64", "bool", "complex64")) + ", ..."
        )
    return ", ".join(dtypes)
