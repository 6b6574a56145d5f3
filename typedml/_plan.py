"""The checked plan: a pipeline's graph with everything a run needs, resolved once.

Data flows one way through typedml's core::

    annotations (_annotations, _units, _shapes) -> specs (_spec)
    -> graph (_trace, _graph) -> checks (_body, _check) -> checked plan (this module)
    -> run modes (_call, _debug, _checked, _shard, _cost, _show, _stream)

A :class:`CheckedPlan` holds the traced graph (annotated by the checks), the report, and
what the checks resolved: a conversion per edge, the unit-variable bindings of every node.
Run modes take a plan and never the :class:`~typedml.Pipeline` that made it; the pipeline is a
thin face that asks its :class:`Planner` for the plan (built once, on first use, under a lock)
and hands it to the run mode a method names.

A plan with unit variables in the pipeline's own signature is specialised per call
(:meth:`CheckedPlan.for_units`), once per set of bindings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ._angles import say
from ._body import check_bodies, check_pipeline_whole, raised_at, unchecked_containers
from ._check import CheckReport, Plan, check_graph
from ._check_records import infer_record_axes, infer_record_units
from ._compile import Convert, build_function
from ._cost import check_budget
from ._errors import BodyError, Diagnostic, InputError, TypedMLError, WiringError, user_location
from ._frames import check_frames
from ._lru import LRU, MAX_UNIT_VARIANTS
from ._runtime import make_quantity, traced_calls_checked, traced_outputs_checked
from ._spec import Spec
from ._trace import trace_pipeline
from ._units import UType, get_registry

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["CheckedPlan", "Planner", "planner_of", "units_key"]

Observe = Callable[[str, dict[str, Any], Any], None]
Constrain = Callable[[str, str, Any], Any]

# One lock for every build: a pipeline's build checks the pipelines it calls (recursively, in
# the same thread), and two threads making the first call of one pipeline build it once.
_BUILD_LOCK = threading.RLock()


def units_key(rigid_units: Mapping[str, UType]) -> tuple[tuple[str, str], ...]:
    """A hashable key for a set of unit-variable bindings."""
    return tuple(sorted((k, str(v)) for k, v in rigid_units.items()))


class CheckedPlan:
    """A checked graph and what its checks resolved: everything the run modes need.

    ``graph`` is the traced graph, annotated by the checks (see ``docs/reference/graph.md``);
    ``report`` every diagnostic found; ``resolved`` the conversion on each edge and the unit
    bindings of each node; ``rigid_units`` the bindings of the pipeline's own unit variables
    this plan was specialised to (empty for the plan as checked).
    """

    def __init__(
        self,
        spec: Spec,
        graph: nx.MultiDiGraph[str],
        report: CheckReport,
        resolved: Plan,
        rigid_units: Mapping[str, UType] | None = None,
    ) -> None:
        self.spec = spec
        self.graph = graph
        self.report = report
        report.plan = self  # a report shown in a notebook draws the graph it was found on
        self.resolved = resolved
        self.rigid_units: dict[str, UType] = dict(rigid_units or {})
        self._variants: LRU[tuple[tuple[str, str], ...], CheckedPlan] = LRU(MAX_UNIT_VARIANTS)
        # unit variables of record inputs the checks bound from the graph (see infer_record_units)
        self.inferred: dict[str, tuple[UType, str]] = {}
        self._memo: dict[str, Any] = {}
        self.static: dict[str, Any] = {}  # the pipeline's static configuration (set by its planner)
        self._contracted: bool | None = None
        self._unsaid: tuple[Diagnostic, ...] = resolved.assumed  # TM142s not yet said at a run

    def __repr__(self) -> str:
        state = "ok" if self.report.ok else f"{len(self.report.errors)} errors"
        return f"<CheckedPlan {self.spec.name} ({self.graph.number_of_nodes()} nodes, {state})>"

    def ready(self) -> CheckedPlan:
        """This plan, or the error its report holds (a mis-wired pipeline does not run).

        A plan about to run says its conversions that take the radian as 1 (TM142) as
        :class:`~typedml.ConversionWarning`: once, or on every use where warnings are errors.
        """
        self.report.raise_for_errors()
        if self._unsaid:
            for diagnostic in self._unsaid:
                say(diagnostic)
            self._unsaid = ()
        return self

    def for_units(self, rigid_units: Mapping[str, UType]) -> CheckedPlan:
        """This plan with the pipeline's own unit variables bound (checked anew, once per binding)."""
        if not rigid_units:
            return self
        key = units_key(rigid_units)
        variant = self._variants.get(key)
        if variant is None:
            self._same_dimensions(rigid_units)
            rigid_units = {**self.rigid_units, **rigid_units}
            graph = self.graph.copy()
            report, resolved = check_graph(graph, self.spec, rigid_units)
            # absolute vs difference (TM370-TM372) with the units this call binds: a stage
            # generic in 'u that multiplies, given degC, is wrong only now that 'u is degC
            report.diagnostics.extend(check_frames(graph, resolved.node_bindings))
            report.raise_for_errors()
            variant = CheckedPlan(self.spec, graph, report, resolved, rigid_units)
            variant.static = self.static
            # the edges bound only now (the rest was said by this plan)
            variant._unsaid = tuple(d for d in resolved.assumed if d not in self.resolved.assumed)
            variant.ready()
            self._variants[key] = variant
        return variant

    def _same_dimensions(self, rigid_units: Mapping[str, UType]) -> None:
        """A record input in a unit of another dimension than the one its use fixed: InputError."""
        for var, bound in rigid_units.items():
            inferred = self.inferred.get(var)
            if inferred is None or inferred[0].same_dimension(bound):
                continue
            leaves = [p.name for p in self.spec.inputs if p.type and p.type.unit and var in p.type.unit.var_names]
            raise InputError(
                Diagnostic(
                    "TM236",
                    f"input {leaves[0].partition('.')[0]!r} of {self.spec.name}() has '{var} in {bound}, "
                    f"but the pipeline uses it as {inferred[0]} ({inferred[0].dimension_text()})",
                    user_location(),
                    notes=(
                        f"'{var} of the record fields {', '.join(leaves)} is fixed by the edge {inferred[1]}",
                        f"found: {bound} ({bound.dimension_text()})",
                    ),
                    hint=f"pass the record's fields in a unit of {inferred[0].dimension_text()}",
                    stage=self.spec.name,
                    port=leaves[0],
                )
            )

    def function(
        self,
        observe: Observe | None = None,
        constrain: Constrain | None = None,
        before: Callable[[str, dict[str, Any]], None] | None = None,
        convert: Convert | None = None,
        verify: bool = True,
    ) -> Callable[..., Any]:
        """The plan as a pure function over magnitudes (see :func:`typedml._compile.build_function`).

        With ``verify``, each stage's call is checked against its signature while the function
        is traced (:func:`typedml._runtime.traced_calls_checked`), then ``observe`` runs.
        """
        if verify:
            observe = traced_calls_checked(self.graph, observe)
        fn = build_function(self.graph, self.spec, self.resolved, self.node_impl, observe, constrain, before, convert)
        return traced_outputs_checked(fn, self.spec, self.static) if verify else fn

    @property
    def converts(self) -> bool:
        """Whether any edge of the graph converts units (so a run may check conversions)."""
        return bool(self.resolved.conversions)

    @property
    def impl(self) -> Callable[..., tuple[Any, ...]]:
        """The pure function ``f(*magnitudes) -> tuple(magnitudes)``, built once."""
        return self.memo("impl", self.function)

    def memo(self, name: str, make: Callable[[], Any]) -> Any:
        """What ``make()`` returns, made once per plan (run modes keep their artefacts here)."""
        found = self._memo.get(name)
        if found is None:
            found = self._memo[name] = make()
        return found

    def forget(self) -> None:
        """Drop what holds units of the registry in use (it was switched)."""
        self._variants.clear()
        self._memo.clear()

    def wrapper(self) -> Callable[[Any], Any]:
        """Outputs (one, or a tuple) to quantities in their declared units, as bound here."""
        registry = get_registry()
        makers: list[Callable[[Any], Any]] = []
        for port in self.spec.outputs:
            t = port.type
            if t is None or t.unit is None:
                makers.append(_identity)
            else:
                makers.append(make_quantity(registry, t.unit.substitute(registry, self.rigid_units).unit))
        spec = self.spec
        if spec.output_record is None:
            return makers[0]
        return lambda out: spec.pack_outputs([m(o) for m, o in zip(makers, out, strict=False)])

    @property
    def has_contracts(self) -> bool:
        """Whether any input of the pipeline or port of its stages declares a value contract."""
        if self._contracted is None:
            stages = [d["spec"] for _, d in self.graph.nodes(data=True) if d["kind"] == "stage"]
            ports = [p for s in stages for p in (*s.inputs, *s.outputs)] + list(self.spec.inputs)
            self._contracted = any(p.type is not None and p.type.refinements for p in ports)
        return self._contracted

    def node_impl(self, node: str, data: dict[str, Any]) -> Callable[..., Any]:
        """The magnitude-level callable of a stage or nested pipeline node (keyword arguments)."""
        callee = data["callee"]
        if data["kind"] == "pipeline":
            inner = planner_of(callee, data["static"]).ready().for_units(self.resolved.node_bindings.get(node, {}))
            impl = inner.impl
            names = inner.spec.input_names
            several = inner.spec.output_tuple

            def call(**kwargs: Any) -> Any:
                out = impl(*[kwargs[n] for n in names])
                return out if several is not None else out[0]

            return call
        if getattr(callee, "host", False):
            from ._host import host_node

            return host_node(data["spec"], callee.fn, node, data.get("location"))
        fn = data["spec"].port_function(callee.fn)
        trees = tuple(p.name for p in data["spec"].inputs if p.type is None)
        return _failing_for_sizes(fn if not trees else _with_trees(fn, trees, node, data), node, data)

    @property
    def has_host(self) -> bool:
        """Whether a stage of the pipeline (or of a pipeline it calls) runs on the host."""
        found = self._memo.get("has_host")
        if found is None:
            found = self._memo["has_host"] = any(
                getattr(d.get("callee"), "host", False)
                or (d["kind"] == "pipeline" and planner_of(d["callee"], d["static"]).plan().has_host)
                for _, d in self.graph.nodes(data=True)
            )
        return bool(found)

    def guard(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` (a run of this plan) raising a host stage's failure as its typed error."""
        if not self.has_host:
            return fn
        from ._host import guard

        return guard(fn)


def _with_trees(fn: Callable[..., Any], trees: tuple[str, ...], node: str, data: dict[str, Any]) -> Callable[..., Any]:
    """A stage body taking pytree values: whole again (see ``typedml._pytrees``), and, when its
    body check waited for their structure (TM312), a failure while it is traced with them
    reported as the stage's (TM313) instead of JAX's traceback."""
    from ._pytrees import whole

    deferred = bool(data.get("deferred"))
    spec: Spec = data["spec"]

    def call(**kwargs: Any) -> Any:
        for name in trees:
            if name in kwargs:
                kwargs[name] = whole(kwargs[name])
        if not deferred:
            return fn(**kwargs)
        try:
            return fn(**kwargs)
        except TypedMLError:
            raise
        except Exception as err:  # noqa: BLE001 - the body fails for the structure it was given
            raise BodyError(
                Diagnostic(
                    "TM313",
                    f"body of stage {spec.name!r} fails for the structure of its input "
                    f"{', '.join(repr(t) for t in trees)}: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}",
                    data.get("location"),
                    notes=tuple(f"{t}: {_structure(kwargs.get(t))}" for t in trees),
                    hint="the pytree given does not fit the other inputs (e.g. a network's input size against "
                    "the data's features): build it for these shapes, or fix the data",
                    stage=node,
                    port=trees[0],
                )
            ) from None

    return call


def _failing_for_sizes(fn: Callable[..., Any], node: str, data: dict[str, Any]) -> Callable[..., Any]:
    """A stage body that raises for the concrete shapes of a call, as the stage's BodyError
    (TM305) naming those shapes, instead of JAX's or the body's own traceback.

    The check before data evaluates a body with symbolic sizes, which JAX takes to be at least
    1: a body that cannot take an axis of size 0 (``jnp.min`` of nothing, an index into an
    empty axis) passes it and fails only on such data. With symbolic shapes (a check before
    data evaluating a whole pipeline) the exception is left to that check, which says it.
    """
    spec: Spec = data["spec"]
    body: Callable[..., Any] = data["callee"].fn

    def call(**kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except TypedMLError:
            raise
        except Exception as err:  # said as the stage's, with the shapes it was given
            shapes = _concrete_shapes(kwargs)
            if shapes is None:
                raise
            where = raised_at(body, err)
            text = str(err).strip().splitlines()[0][:200] if str(err).strip() else "(an exception without a message)"
            empty = [name for name, shape in shapes if 0 in shape]
            raise BodyError(
                Diagnostic(
                    "TM305",
                    f"body of stage {spec.name!r} raised {type(err).__name__} for the shapes of this call: {text}",
                    data.get("location") if where is None else where[0],
                    notes=(
                        *(f"input {name!r}: shape {shape}" for name, shape in shapes),
                        *(() if where is None else (f"raised at {where[0]}" + (f": {where[1]}" if where[1] else ""),)),
                        *((f"called at {data['location']}",) if where is not None and data.get("location") else ()),
                        "the check before data evaluates bodies for every size of at least 1",
                    ),
                    hint=(
                        f"{', '.join(repr(n) for n in empty)} {'has' if len(empty) == 1 else 'have'} an axis of size 0, "
                        "which the body cannot take: refuse empty data before the call, or handle it in the body"
                        if empty
                        else "the body fails for sizes its signature allows: handle them in the body, or "
                        "declare what it needs in the signature"
                    ),
                    stage=node,
                )
            ) from None

    return call


def _concrete_shapes(kwargs: Mapping[str, Any]) -> list[tuple[str, tuple[int, ...]]] | None:
    """The shape of each array a stage was given, or None when one is symbolic."""
    import jax

    found: list[tuple[str, tuple[int, ...]]] = []
    for name, value in kwargs.items():
        for leaf in jax.tree_util.tree_leaves(value):
            shape: tuple[object, ...] | None = getattr(leaf, "shape", None)
            if shape is None:
                continue
            if not all(type(d) is int for d in shape):
                return None
            found.append((name, cast("tuple[int, ...]", shape)))
    return found


def _structure(value: Any) -> str:
    """A pytree's type and array shapes, briefly."""
    import jax

    leaves = [leaf for leaf in jax.tree_util.tree_leaves(value) if hasattr(leaf, "shape")]
    shapes = ", ".join(str(tuple(leaf.shape)) for leaf in leaves[:6]) + (", ..." if len(leaves) > 6 else "")
    return f"{type(value).__name__} with arrays {shapes}"


class Planner:
    """Builds one pipeline's checked plan on first use: trace, check, resolve."""

    def __init__(self, fn: Callable[..., Any], spec: Spec, static: Mapping[str, Any]) -> None:
        self.fn = fn
        self.spec = spec
        self.static = dict(static)
        self.building = False
        self._constructing = False  # in _build now (under the lock: this thread)
        self._plan: CheckedPlan | None = None

    def plan(self) -> CheckedPlan:
        """The checked plan (built now if it was not); never raises for the problems it holds."""
        plan = self._plan
        if plan is None:
            with _BUILD_LOCK:
                plan = self._plan
                if plan is None:
                    if self._constructing:  # the lock is held: this thread, from inside its own build
                        raise self._calls_itself()
                    self._constructing = True
                    try:
                        plan = self._plan = self._build()
                    finally:
                        self._constructing = False
        return plan

    def _calls_itself(self) -> WiringError:
        """TM119: called (with data, in a body) while it is being built: it calls itself."""
        return WiringError(
            Diagnostic(
                "TM119",
                f"{self.spec.name!r} is called while it is being built: a stage or pipeline that calls itself",
                user_location() or self.spec.location,
                notes=("a body that calls its own stage (directly, or through other stages) never ends",),
                hint="repeat inside the body instead (jax.lax.fori_loop, jax.lax.while_loop), or unroll a fixed "
                "number of calls with a Python loop in a pipeline",
                stage=self.spec.name,
            )
        )

    def ready(self) -> CheckedPlan:
        """The checked plan, or the error its report holds."""
        return self.plan().ready()

    def forget(self) -> None:
        if self._plan is not None:
            self._plan.forget()

    def _build(self) -> CheckedPlan:
        spec = self.spec
        graph, diagnostics = trace_pipeline(self.fn, spec, self.static)
        self.building = True
        try:
            for node, data in graph.nodes(data=True):
                if data["kind"] != "pipeline":
                    continue
                callee = planner_of(data["callee"], data["static"])
                if callee.building:
                    diagnostics.append(
                        Diagnostic(
                            "TM119",
                            f"pipeline {spec.name!r} calls {callee.spec.name!r}, which is being built: a cycle",
                            data.get("location"),
                            notes=("a pipeline is a finite graph; it cannot call itself, directly or through another",),
                            hint="unroll the repetition with a Python loop over static configuration, or loop inside a stage",
                            stage=node,
                        )
                    )
                    continue
                diagnostics.extend(
                    callee.plan().report.diagnostics
                )  # warnings too: unverified inside is unverified here
        finally:
            self.building = False
        pre = diagnostics + check_bodies(graph, check_budget) + unchecked_containers(spec, None, spec.location)
        spec, graph = infer_record_axes(graph, spec)
        inferred = infer_record_units(graph, spec)
        rigid = {v: b[0] for v, b in inferred.items()}
        report, resolved = check_graph(graph, spec, rigid or None, pre=pre)
        frames = check_frames(graph, resolved.node_bindings)  # absolute vs difference, TM370-TM372
        if frames:
            order = {"error": 0, "warning": 1, "info": 2}
            report.diagnostics[:] = sorted([*report.diagnostics, *frames], key=lambda d: order[d.severity])
        plan = CheckedPlan(spec, graph, report, resolved, rigid)
        plan.inferred = inferred
        plan.static = dict(self.static)
        # Proven bodies joined by proven edges make a proven pipeline; the end-to-end evaluation
        # settles what the edge check could only mark unverified (and costs a trace of it all).
        if report.ok and any(d.code in ("TM150", "TM151") for d in report.warnings):
            wrong, proven = self._check_whole(plan)
            report.diagnostics.extend(wrong)
            if proven:  # every output shape proven for every size: its edge is no longer unverified
                report.diagnostics[:] = [
                    d for d in report.diagnostics if not (d.code == "TM151" and (d.stage or "").startswith("output:"))
                ]
        return plan

    def _check_whole(self, plan: CheckedPlan) -> tuple[list[Diagnostic], bool]:
        """The whole pipeline evaluated symbolically end to end (what no edge check can settle)."""
        try:
            impl = plan.function(verify=False)  # evaluated for every size: each stage's body is checked on its own
        except TypedMLError:  # unit variables in its own signature: bound per call only
            return [], False
        spec = plan.spec

        def whole(**params: Any) -> Any:
            return spec.pack_outputs(impl(*spec.flatten_inputs(params)))

        return check_pipeline_whole(whole, spec, self.fn)


def planner_of(callee: Any, static: Mapping[str, Any]) -> Planner:
    """The planner of a nested pipeline node's callee, with the node's static configuration."""
    inner = callee.configure(**static) if static else callee
    planner: Planner = inner._planner  # the one place the face is opened
    return planner


def _identity(x: Any) -> Any:
    return x
