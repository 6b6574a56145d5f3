"""``@tm.pipeline``: trace once, check, compile to one ``jax.jit`` function, run.

A :class:`Pipeline` is built lazily (on ``.graph``, ``.check()`` or the first call), so a
module of pipelines imports cleanly even when one is mis-wired; ``check()`` reports, calling
raises :class:`~typedml.WiringError`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, NoReturn, ParamSpec, TypeVar, cast, overload

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np

from ._body import check_bodies, check_pipeline_whole
from ._check import CheckReport, Plan, check_graph
from ._compile import build_function
from ._errors import Diagnostic, InputError, Location, StageDefinitionError, TypedMLError, WiringError, user_location
from ._graph import Symbol, Tracer, current_tracer, value_label
from ._graph import _current as _current_tracer  # pyright: ignore[reportPrivateUsage]
from ._runtime import QUANTITY_TYPE as _QUANTITY
from ._runtime import Boundary, Executable, check_inputs, make_quantity, split_value
from ._spec import Spec, not_a_function, parse_spec, return_location
from ._units import UType, get_registry, unit_text, watch_registry

if TYPE_CHECKING:
    from jax.sharding import Mesh

    from ._cost import CostReport
    from ._debug import DebugRun
    from ._shard import ShardedPipeline

__all__ = ["Pipeline", "pipeline"]

P = ParamSpec("P")
R = TypeVar("R")
_Explain = Callable[[int, tuple[Any, ...], dict[str, Any]], None]  # raises why a checked run failed


class Pipeline(Generic[P, R]):
    """A traced, checked and compiled composition of stages. Call it with quantities."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        spec: Spec | None = None,
        static: dict[str, Any] | None = None,
    ) -> None:
        self.fn = fn
        self.spec = spec if spec is not None else parse_spec(fn, "pipeline")
        missing = [
            p.name for p in self.spec.static if p.name not in self.spec.defaults and p.name not in (static or {})
        ]
        if missing:
            raise StageDefinitionError(
                Diagnostic(
                    "TM013",
                    f"static parameter {missing[0]!r} of pipeline {self.spec.name!r} has no default",
                    self.spec.location,
                    hint="a pipeline is traced without data; give configuration a default (override it per call)",
                    stage=self.spec.name,
                    port=missing[0],
                )
            )
        self.static = {p.name: self.spec.defaults.get(p.name) for p in self.spec.static} | dict(static or {})
        functools.update_wrapper(self, fn)
        self._graph: nx.MultiDiGraph[str] | None = None
        self._report: CheckReport | None = None
        self._plan: Plan | None = None
        self._impls: dict[tuple[tuple[str, str], ...], Callable[..., tuple[Any, ...]]] = {}
        self._executables: dict[tuple[Any, ...], Executable] = {}
        self._checked: dict[tuple[Any, ...], tuple[Callable[..., Any], Callable[[Any], Any], _Explain]] = {}
        self._recorders: dict[tuple[tuple[str, str], ...], tuple[Callable[..., Any], list[tuple[str, str]]]] = {}
        self._last_units: object = _NOTHING
        self._last_fn: Callable[..., Any] = _identity
        self._last_wrap: Callable[[Any], Any] = _identity
        self._variants: dict[tuple[Any, ...], Pipeline[P, R]] = {}
        self._building = False
        self._contracted: bool | None = None
        watch_registry(self)
        self._n_inputs = len(self.spec.inputs)
        ports = tuple(p.type is not None for p in self.spec.inputs)
        self._array_ports: tuple[bool, ...] | None = None if all(ports) else ports  # None: all arrays
        self._input_names = self.spec.input_names
        self._static_names = set(self.spec.static_names)

    def __repr__(self) -> str:
        return f"<typedml.Pipeline {self.spec.name} ({len(self.spec.inputs)} inputs, {len(self.spec.outputs)} outputs)>"

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        if self._graph is not None:
            return
        tracer = Tracer(self.spec.name)
        with tracer:
            symbols = {p.name: tracer.add_input(p, self.spec.location) for p in self.spec.inputs}
            try:
                result = self.fn(**symbols, **self.static)  # pyright: ignore[reportCallIssue]
            except WiringError as err:
                tracer.diagnostics.extend(err.diagnostics)
                result = None
            except Exception as err:  # noqa: BLE001 - any failure of the body becomes a diagnostic
                tracer.diagnostics.append(_body_failure(err, self.fn))
                result = None
        if result is not None or not tracer.diagnostics:
            self._connect_outputs(tracer, result)
        self._building = True
        try:
            for node, data in tracer.graph.nodes(data=True):
                if data["kind"] != "pipeline":
                    continue
                callee: Pipeline[Any, Any] = data["callee"]
                if callee._building:
                    tracer.diagnostics.append(
                        Diagnostic(
                            "TM119",
                            f"pipeline {self.spec.name!r} calls {callee.spec.name!r}, which is being built: a cycle",
                            data.get("location"),
                            notes=("a pipeline is a finite graph; it cannot call itself, directly or through another",),
                            hint="unroll the repetition with a Python loop over static configuration, or loop inside a stage",
                            stage=node,
                        )
                    )
                    continue
                inner = (callee.configure(**data["static"]) if data["static"] else callee).check()
                tracer.diagnostics.extend(inner.diagnostics)  # warnings too: unverified inside is unverified here
        finally:
            self._building = False
        self._graph = tracer.graph
        pre = tracer.diagnostics + check_bodies(self._graph)
        self._report, self._plan = check_graph(self._graph, self.spec, pre=pre)
        # Proven bodies joined by proven edges make a proven pipeline; the end-to-end evaluation
        # settles what the edge check could only mark unverified (and costs a trace of it all).
        if self._report.ok and any(d.code in ("TM150", "TM151") for d in self._report.warnings):
            wrong, proven = self._check_whole(self._plan)
            self._report.diagnostics.extend(wrong)
            if proven:  # every output shape proven for every size: its edge is no longer unverified
                self._report.diagnostics[:] = [
                    d
                    for d in self._report.diagnostics
                    if not (d.code == "TM151" and (d.stage or "").startswith("output:"))
                ]

    def _check_whole(self, plan: Plan) -> tuple[list[Diagnostic], bool]:
        """The whole pipeline evaluated symbolically end to end (what no edge check can settle)."""
        assert self._graph is not None
        try:
            impl = build_function(self._graph, self.spec, plan, functools.partial(_node_impl, plan))
        except TypedMLError:  # unit variables in its own signature: bound per call only
            return [], False
        names = [p.name for p in self.spec.inputs]
        output_tuple = self.spec.output_tuple

        def whole(**inputs: Any) -> Any:
            outputs = impl(*[inputs[name] for name in names])
            return outputs[0] if output_tuple is None else output_tuple(*outputs)

        return check_pipeline_whole(whole, self.spec, self.fn)

    def _connect_outputs(self, tracer: Tracer, result: object) -> None:
        outputs = self.spec.outputs
        location = return_location(self.fn, self.spec.location)
        values = _as_tuple(result)
        if self.spec.output_tuple is not None:
            if values is None or len(values) != len(outputs):
                tracer.diagnostics.append(
                    Diagnostic(
                        "TM115",
                        f"pipeline {self.spec.name!r} returns {_describe(result)}, but its annotation declares {len(outputs)} outputs ({', '.join(p.name for p in outputs)})",
                        location,
                        hint=f"return {self.spec.output_tuple.__name__}(...) with one value per field",
                    )
                )
                return
            for port, value in zip(outputs, values, strict=True):
                tracer.add_output(port, value, location)
            return
        if values is not None and not hasattr(result, "_fields"):
            count = len(values)
            tracer.diagnostics.append(
                Diagnostic(
                    "TM115",
                    f"pipeline {self.spec.name!r} returns a tuple of {count} values but declares one output",
                    location,
                    hint="declare several outputs with a NamedTuple return annotation",
                )
            )
            return
        tracer.add_output(outputs[0], result, location)

    @property
    def graph(self) -> nx.MultiDiGraph[str]:
        """The traced graph (see ``typedml._graph`` for node and edge attributes)."""
        self._build()
        assert self._graph is not None
        return self._graph

    def check(self) -> CheckReport:
        """Check every edge without data; returns the report and never raises for problems."""
        self._build()
        assert self._report is not None
        return self._report

    def to_dot(self) -> str:
        """The checked graph as Graphviz DOT: units, shapes and dtypes on edges, failures in red."""
        from ._show import to_dot

        return to_dot(self)

    def to_mermaid(self) -> str:
        """The checked graph as a Mermaid flowchart (for Markdown pages)."""
        from ._show import to_mermaid

        return to_mermaid(self)

    def to_html(self, *, cost: CostReport | None = None) -> str:
        """The checked graph as a self-contained HTML page (inline SVG, no network).

        With ``cost`` (from :meth:`cost`), each stage shows its FLOPs and peak memory.
        """
        from ._show import to_html

        return to_html(self, cost)

    # -- compiling ------------------------------------------------------------------------
    def _ready(self) -> Plan:
        self._build()
        assert self._report is not None and self._plan is not None
        self._report.raise_for_errors()
        return self._plan

    def _impl_for(self, rigid_units: dict[str, UType]) -> Callable[..., tuple[Any, ...]]:
        """The pure function over magnitudes, specialised to the given unit-variable values."""
        key = tuple(sorted((k, str(v)) for k, v in rigid_units.items()))
        impl = self._impls.get(key)
        if impl is not None:
            return impl
        plan = self._ready()
        graph = self.graph
        if rigid_units:
            report, plan = check_graph(graph.copy(), self.spec, rigid_units)
            report.raise_for_errors()
        impl = build_function(graph, self.spec, plan, functools.partial(_node_impl, plan))
        self._impls[key] = impl
        return impl

    @property
    def jax_fn(self) -> Callable[..., tuple[Any, ...]]:
        """The pipeline as a pure JAX function: ``f(*magnitudes) -> tuple(magnitudes)``.

        Inputs in ``spec.inputs`` order and declared units (see :attr:`input_units`);
        outputs in declared units (:attr:`output_units`). ``jax.grad``, ``jax.vmap`` and
        sharding apply to it directly. Only for pipelines without unit variables in
        their own signature (otherwise use :meth:`jax_fn_for`).
        """
        return self._impl_for({})

    @property
    def input_units(self) -> dict[str, str | None]:
        """Declared unit expression of each input (None: no unit)."""
        return {p.name: (str(p.type.unit) if p.type and p.type.unit else None) for p in self.spec.inputs}

    @property
    def output_units(self) -> dict[str, str | None]:
        """Declared unit expression of each output (None: no unit)."""
        return {p.name: (str(p.type.unit) if p.type and p.type.unit else None) for p in self.spec.outputs}

    # -- calling --------------------------------------------------------------------------
    def _call(self, *args: Any, **kwargs: Any) -> Any:
        # Hot path, kept short on purpose: executables are cached by the inputs' units only
        # (jax.jit itself retraces on a new shape or dtype, and the trace re-validates them).
        try:
            if not kwargs and len(args) == self._n_inputs:
                if self._n_inputs == 1:
                    value = args[0]
                    if isinstance(value, _QUANTITY) and value._units is self._last_units:
                        return self._last_wrap(self._last_fn(value._magnitude))
                if _current_tracer.get() is None:
                    key = tuple([v._units if isinstance(v, _QUANTITY) else None for v in args])
                    exe = self._executables.get(key)
                    if exe is not None:
                        self._remember(key, exe)
                        return exe.wrap(exe.fn(*self._magnitudes(args)))
            if _current_tracer.get() is not None:
                return self._trace_call(args, kwargs)
            return self._run(args, kwargs)
        except TypedMLError as err:
            raise err.with_traceback(None) from None  # the user's call is the place to see

    if TYPE_CHECKING:
        # Editors see the pipeline's own parameters (port names and counts are checked); the
        # result is Any: a quantity of the kind the inputs were (pint or typedml), which
        # differs from the array type the signature declares for the body.
        def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any: ...

    else:
        __call__ = _call

    def registry_switched(self) -> None:
        """Compiled executables hold units of the previous registry: drop them."""
        self._executables.clear()
        self._checked.clear()
        self._recorders.clear()
        self._impls.clear()
        self._last_units = _NOTHING

    def _magnitudes(self, values: Sequence[Any]) -> list[Any]:
        """The arrays to give the compiled function: magnitudes, and pytree values as they are."""
        if self._array_ports is None:
            return [_magnitude(v) for v in values]
        return [_magnitude(v) if is_array else v for v, is_array in zip(values, self._array_ports, strict=True)]

    def _remember(self, key: tuple[Any, ...], exe: Executable) -> None:
        if self._n_inputs == 1 and key[0] is not None:
            self._last_units = key[0]
            self._last_fn = exe.fn
            self._last_wrap = exe.wrap

    def _trace_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        tracer = current_tracer()
        assert tracer is not None
        return tracer.call(self, "pipeline", args, kwargs)

    def _run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self._static_names and any(k in self._static_names for k in kwargs):
            static = {k: kwargs.pop(k) for k in list(kwargs) if k in self._static_names}
            return self.configure(**static)(*args, **kwargs)
        values = list(args) if not kwargs and len(args) == self._n_inputs else self._bind(args, kwargs)
        key = tuple(split_value(v)[1] for v in values)
        exe = self._executables.get(key)
        if exe is None:
            exe = self._prepare(values)
            self._executables[key] = exe
        self._remember(key, exe)
        return exe.wrap(exe.fn(*self._magnitudes(values)))

    # -- scale ------------------------------------------------------------------------------
    def sharded(self, mesh: Mesh, axes: Mapping[str, str]) -> ShardedPipeline:
        """This pipeline with named shape axes placed on a device mesh: ``{"b": "data"}``.

        Returns a callable like the pipeline whose inputs, intermediates and outputs carry
        ``NamedSharding``s following the axis names through the checked graph; reductions over
        a sharded axis are correct (XLA adds the collectives). A size the mesh axis's devices
        do not divide is an :class:`InputError` (TM216). Multi-host: call
        ``jax.distributed.initialize()`` first and build the mesh over ``jax.devices()``.
        """
        from ._shard import ShardedPipeline

        try:
            return ShardedPipeline(self, mesh, axes)
        except TypedMLError as err:
            raise err.with_traceback(None) from None

    # -- cost ------------------------------------------------------------------------------
    def cost(self, **sizes: int) -> CostReport:
        """FLOPs, bytes accessed and peak memory per stage and in total, for these axis sizes.

        No data is needed: every shape variable of the inputs gets its size here
        (``pipeline.cost(n=10_000)``), each stage is compiled alone at the shapes it sees, and
        the whole fused pipeline once; the figures are XLA's own cost and memory analysis.
        ``to_html(cost=...)`` shows them on the graph's nodes.
        """
        from ._cost import pipeline_cost

        try:
            self._build()
            assert self._report is not None and self._plan is not None
            if any(d.code != "TM307" for d in self._report.errors):  # a budget breach is what to look into
                self._report.raise_for_errors()
            plan = self._plan
            graph = self.graph
            node_impl = functools.partial(_node_impl, plan)

            def observed(observe: Callable[[str, dict[str, Any], Any], None]) -> Callable[..., Any]:
                return build_function(graph, self.spec, plan, node_impl, observe)

            def stage_fn(node: str) -> Callable[..., Any]:
                data = graph.nodes[node]
                return functools.partial(node_impl(node, data), **data["static"])

            whole = build_function(graph, self.spec, plan, node_impl)
            return pipeline_cost(self.spec, whole, observed, stage_fn, sizes)
        except TypedMLError as err:
            raise err.with_traceback(None) from None

    # -- debugging ------------------------------------------------------------------------
    def debug(self, *args: Any, **kwargs: Any) -> DebugRun:
        """Run stage by stage, eagerly, checking every stage call and keeping every value.

        Returns a :class:`DebugRun`: the outputs (as calling the pipeline returns them) and
        every intermediate value by edge name, as a quantity in its unit. Each stage's
        inputs and outputs are checked against its signature (shapes, shape bindings,
        dtypes): a mismatch raises :class:`BodyError` (TM306). The first NaN/Inf raises
        :class:`NonFiniteError` naming the stage that produced it from finite inputs
        (TM501), or the input that brought it (TM502).
        """
        try:
            return self._observed_run(args, kwargs, compiled=False)
        except TypedMLError as err:
            raise err.with_traceback(None) from None

    def record(self, *args: Any, **kwargs: Any) -> DebugRun:
        """One compiled run that also returns every intermediate value (for summaries of big data).

        Returns a :class:`DebugRun` like :meth:`debug`, from the fused ``jax.jit`` function with
        every stage output added to its results: as fast as a plain call (less the fusion
        lost by keeping intermediates), but without the per-stage checks and NaN search of
        :meth:`debug`. Value contracts on the inputs are checked. Compiled once per input units.
        """
        try:
            return self._observed_run(args, kwargs, compiled=True)
        except TypedMLError as err:
            raise err.with_traceback(None) from None

    def _observed_run(self, args: tuple[Any, ...], kwargs: dict[str, Any], *, compiled: bool) -> DebugRun:
        from ._contracts import stage_contracts
        from ._debug import DebugRun, input_contracts_kept, input_nonfinite, stage_observer

        mags, boundary = self._debug_inputs(args, kwargs)
        if not compiled:
            input_nonfinite(self.spec, mags, user_location())
        input_contracts_kept(self.spec, mags, boundary.rigid_units, user_location())
        graph, plan = self._annotated(boundary.rigid_units)
        registry = get_registry()
        keep: dict[str, Any] = {}
        units: dict[str, str | None] = {}

        def unit_of(spec: Spec, node: str, port: str) -> Any:
            declared = next(p for p in spec.outputs + spec.inputs if p.name == port).type
            if declared is None or declared.unit is None:
                return None
            return declared.unit.substitute(registry, plan.node_bindings.get(node, boundary.rigid_units)).unit

        def units_of(node: str, port: str) -> Callable[[Any], Any]:
            unit = unit_of(graph.nodes[node]["spec"], node, port)
            units[value_label(node, port)] = None if unit is None else unit_text(unit)
            return _identity if unit is None else make_quantity(registry, unit)

        for port, mag in zip(self.spec.inputs, mags, strict=True):
            unit = unit_of(self.spec, "", port.name) if port.type is not None else None
            if port.type is not None and port.type.unit is not None:
                unit = port.type.unit.substitute(registry, boundary.rigid_units).unit
            units[port.name] = None if unit is None else unit_text(unit)
            keep[port.name] = mag if unit is None else make_quantity(registry, unit)(mag)
        if compiled:
            out = self._recorded(graph, plan, boundary, mags, keep, units_of)
        else:
            impl = build_function(
                graph,
                self.spec,
                plan,
                functools.partial(_node_impl, plan),
                stage_observer(graph, units_of, keep, stage_contracts(graph, plan, boundary.rigid_units)),
            )
            with jax.disable_jit():
                out = impl(*mags)
        outputs = self._wrapper(boundary.rigid_units)(out[0] if self.spec.output_tuple is None else out)
        return DebugRun(outputs, keep, units, self)

    def _recorded(
        self,
        graph: nx.MultiDiGraph[str],
        plan: Plan,
        boundary: Boundary,
        mags: list[Any],
        keep: dict[str, Any],
        units_of: Callable[[str, str], Callable[[Any], Any]],
    ) -> Any:
        """The compiled run with every stage output as an extra result, kept by edge name."""
        key = tuple(sorted((k, str(v)) for k, v in boundary.rigid_units.items()))
        entry = self._recorders.get(key)
        if entry is None:
            ports: list[tuple[str, str]] = []

            def collect(node: str, kwargs: dict[str, Any], result: Any) -> None:
                spec: Spec = graph.nodes[node]["spec"]
                outs = result if spec.output_tuple is not None else (result,)
                for port, value in zip(spec.outputs, outs, strict=True):
                    ports.append((node, port.name))
                    found.append(value)

            found: list[Any] = []
            impl = build_function(graph, self.spec, plan, functools.partial(_node_impl, plan), collect)

            def fn(*args: Any) -> Any:
                ports.clear()
                found.clear()
                out = impl(*args)
                return out, list(found)

            entry = (cast("Callable[..., Any]", jax.jit(fn)), ports)  # pyright: ignore[reportUnknownMemberType]
            self._recorders[key] = entry
        jitted, ports = entry
        out, values = jitted(*mags)
        for (node, port), value in zip(ports, values, strict=True):
            keep[value_label(node, port)] = units_of(node, port)(value)
        return out

    def checked(self, *args: Any, **kwargs: Any) -> Any:
        """Call the fused, compiled pipeline with a finite check after every stage.

        Returns what calling the pipeline returns. Inside the compiled function, each stage's
        outputs are reduced to one flag (all finite?), as is each contracted port (contract
        kept?). When a flag is false, the run is repeated eagerly to raise the error
        :meth:`debug` raises: :class:`NonFiniteError` naming the stage that produced the first
        NaN/Inf from finite inputs (TM501) or the input that brought it (TM502), or
        :class:`ContractError`. ``benchmarks/bench_debug.py`` measures what the flags cost.
        """
        try:
            values = self._values(args, kwargs)
            key = tuple(split_value(v)[1] for v in values)
            entry = self._checked.get(key)
            if entry is None:
                entry = self._prepare_checked(values)
                self._checked[key] = entry
            jitted, wrap, explain = entry
            out, flags = jitted(*self._magnitudes(values))
            ok = np.asarray(flags)
            if not ok.all():
                explain(int(np.flatnonzero(~ok)[0]), args, kwargs)
            return wrap(out)
        except TypedMLError as err:
            raise err.with_traceback(None) from None

    def _prepare_checked(self, values: list[Any]) -> tuple[Callable[..., Any], Callable[[Any], Any], _Explain]:
        from ._contracts import input_contracts, stage_contracts
        from ._debug import Flag, flag_observer, input_flags, unreproduced

        self._ready()
        owner = f"{self.spec.name}()"
        pairs = [split_value(v) for v in values]
        boundary = check_inputs(self.spec, pairs, owner)
        graph, plan = self._annotated(boundary.rigid_units)
        contracts = stage_contracts(graph, plan, boundary.rigid_units)
        inputs = input_contracts(self.spec, boundary.rigid_units)
        flags: list[Any] = []
        order: list[Flag] = []
        observe = flag_observer(graph, contracts, flags, order)
        impl = build_function(graph, self.spec, plan, functools.partial(_node_impl, plan), observe)
        converters = [_input_converter(c, i) for c, i in zip(boundary.conversions, boundary.integer, strict=True)]
        single = self.spec.output_tuple is None
        spec = self.spec

        def fn(*args: Any) -> Any:
            converted = [c(a) if c is not None else a for c, a in zip(converters, args, strict=True)]
            flags.clear()
            order.clear()
            input_flags(spec, converted, inputs, flags, order)
            out = impl(*converted)
            found: Any = jnp.stack(flags) if flags else jnp.ones(0, dtype=bool)  # pyright: ignore[reportUnknownMemberType]
            return (out[0] if single else out), found

        def explain(first: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            self._observed_run(args, kwargs, compiled=False)  # raises what debug() raises, values and all
            raise unreproduced(order[first], graph, spec, contracts)

        jitted = cast("Callable[..., Any]", jax.jit(fn))  # pyright: ignore[reportUnknownMemberType]
        return jitted, self._wrapper(boundary.rigid_units), explain

    def _values(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        if self._static_names and any(k in self._static_names for k in kwargs):
            raise InputError(
                Diagnostic(
                    "TM202",
                    f"static configuration cannot be passed to {self.spec.name}.debug() or .checked()",
                    user_location(),
                    hint=f"use {self.spec.name}.configure(...).debug(...)",
                    stage=self.spec.name,
                )
            )
        return list(args) if not kwargs and len(args) == self._n_inputs else self._bind(args, kwargs)

    def _debug_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[Any], Boundary]:
        values = self._values(args, kwargs)
        self._ready()
        pairs = [split_value(v) for v in values]
        boundary = check_inputs(self.spec, pairs, f"{self.spec.name}()")
        converters = [_input_converter(c, i) for c, i in zip(boundary.conversions, boundary.integer, strict=True)]
        mags: list[Any] = [
            jnp.asarray(m) if port.type is not None else m  # pyright: ignore[reportUnknownMemberType]
            for (m, _), port in zip(pairs, self.spec.inputs, strict=True)
        ]
        return [c(m) if c is not None else m for c, m in zip(converters, mags, strict=True)], boundary

    def _annotated(self, rigid_units: dict[str, UType]) -> tuple[nx.MultiDiGraph[str], Plan]:
        """The graph and plan for these unit-variable values (the checked ones if none)."""
        plan = self._ready()
        if not rigid_units:
            return self.graph, plan
        graph = self.graph.copy()
        report, plan = check_graph(graph, self.spec, rigid_units)
        report.raise_for_errors()
        return graph, plan

    def configure(self, **static: Any) -> Pipeline[P, R]:
        """This pipeline with other static configuration (traced and checked anew)."""
        unknown = [k for k in static if k not in self._static_names]
        if unknown:
            raise InputError(
                Diagnostic(
                    "TM202",
                    f"{self.spec.name}() has no static parameter {unknown[0]!r}",
                    user_location(),
                    notes=(f"static parameters: {', '.join(sorted(self._static_names)) or 'none'}",),
                    stage=self.spec.name,
                    port=unknown[0],
                )
            )
        key = tuple(sorted((k, repr(v)) for k, v in static.items()))
        variant = self._variants.get(key)
        if variant is None:
            variant = Pipeline(self.fn, spec=self.spec, static=self.static | static)
            self._variants[key] = variant
        return variant

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        names = self._input_names
        problems: list[Diagnostic] = []
        location = user_location()
        if len(args) > len(names):
            problems.append(
                Diagnostic(
                    "TM202",
                    f"{self.spec.name}() takes {len(names)} inputs but {len(args)} were given",
                    location,
                    notes=(f"inputs: {', '.join(names)}",),
                    stage=self.spec.name,
                )
            )
        bound = dict(zip(names, args, strict=False))
        for k, v in kwargs.items():
            if k not in names or k in bound:
                problems.append(
                    Diagnostic(
                        "TM202",
                        f"{self.spec.name}() got an unexpected input {k!r}"
                        if k not in names
                        else f"{self.spec.name}() got several values for {k!r}",
                        location,
                        notes=(f"inputs: {', '.join(names)}",),
                        stage=self.spec.name,
                        port=k,
                    )
                )
            else:
                bound[k] = v
        missing = [n for n in names if n not in bound]
        for n in missing:
            port = self.spec.input(n)
            problems.append(
                Diagnostic(
                    "TM201",
                    f"{self.spec.name}() is missing input {n!r}",
                    location,
                    notes=(f"expected: {port.describe()}",),
                    stage=self.spec.name,
                    port=n,
                )
            )
        if problems:
            raise InputError(problems)
        return [bound[n] for n in names]

    def _prepare(self, values: list[Any]) -> Executable:
        self._ready()  # a mis-wired pipeline fails as such, whatever the data
        owner = f"{self.spec.name}()"
        pairs = [split_value(v) for v in values]
        boundary = check_inputs(self.spec, pairs, owner)  # everything, on the real data
        impl = self._impl_for(boundary.rigid_units)
        units = [u for _, u in pairs]
        single = self.spec.output_tuple is None
        spec = self.spec

        def fn(*args: Any) -> Any:
            # Runs once per trace, i.e. per new shape/dtype signature: validate those here.
            traced = check_inputs(spec, list(zip(args, units, strict=True)), owner)
            converters = [
                _input_converter(conv, is_int) for conv, is_int in zip(traced.conversions, traced.integer, strict=True)
            ]
            out = impl(*[c(a) if c is not None else a for c, a in zip(converters, args, strict=True)])
            return out[0] if single else out

        if self._has_contracts():
            return self._prepare_contracted(values, boundary)
        jitted = cast("Callable[..., Any]", jax.jit(fn))  # pyright: ignore[reportUnknownMemberType]
        return Executable(jitted, self._wrapper(boundary.rigid_units))

    def _has_contracts(self) -> bool:
        """Whether any input of the pipeline or port of its stages declares a value contract."""
        if self._contracted is None:
            ports = [p for _, d in self.graph.nodes(data=True) if d["kind"] == "stage" for p in d["spec"].inputs]
            ports += [p for _, d in self.graph.nodes(data=True) if d["kind"] == "stage" for p in d["spec"].outputs]
            ports += list(self.spec.inputs)
            self._contracted = any(p.type is not None and p.type.refinements for p in ports)
        return self._contracted

    def _prepare_contracted(self, values: list[Any], boundary: Boundary) -> Executable:
        """A plain run that also counts, inside the compiled function, values breaking contracts."""
        from ._contracts import PortContract, counting_observer, guarded, input_contracts, stage_contracts
        from ._refine import violations

        graph, plan = self._annotated(boundary.rigid_units)
        inputs = input_contracts(self.spec, boundary.rigid_units)
        order: list[PortContract] = []
        counts: list[Any] = []
        observe = counting_observer(graph, stage_contracts(graph, plan, boundary.rigid_units), counts, order)
        impl = build_function(graph, self.spec, plan, functools.partial(_node_impl, plan), observe)
        owner = f"{self.spec.name}()"
        units = [split_value(v)[1] for v in values]
        single = self.spec.output_tuple is None
        spec = self.spec

        def fn(*args: Any) -> Any:
            traced = check_inputs(spec, list(zip(args, units, strict=True)), owner)
            converters = [_input_converter(c, i) for c, i in zip(traced.conversions, traced.integer, strict=True)]
            converted = [c(a) if c is not None else a for c, a in zip(converters, args, strict=True)]
            order.clear()
            counts[:] = [violations(converted[i], bounds) for i, _, bounds in inputs]
            out = impl(*converted)
            found: Any = jnp.stack(counts) if counts else jnp.zeros(0, dtype=jnp.int32)  # pyright: ignore[reportUnknownMemberType]
            return (out[0] if single else out), found

        jitted = cast("Callable[..., tuple[Any, Any]]", jax.jit(fn))  # pyright: ignore[reportUnknownMemberType]
        run = guarded(jitted, spec, graph, inputs, order, boundary.conversions)
        return Executable(run, self._wrapper(boundary.rigid_units))

    def _wrapper(self, rigid_units: dict[str, UType]) -> Callable[[Any], Any]:
        registry = get_registry()
        makers: list[Callable[[Any], Any]] = []
        for port in self.spec.outputs:
            t = port.type
            if t is None or t.unit is None:
                makers.append(_identity)
            else:
                makers.append(make_quantity(registry, t.unit.substitute(registry, rigid_units).unit))
        out_tuple = self.spec.output_tuple
        if out_tuple is None:
            return makers[0]
        return lambda out: out_tuple(*[m(o) for m, o in zip(makers, out, strict=False)])


def _identity(x: Any) -> Any:
    return x


_NOTHING = object()


def _magnitude(value: Any) -> Any:
    if isinstance(value, _QUANTITY):
        return value._magnitude
    if hasattr(value, "shape"):
        return value
    return np.asarray(value)


def _input_converter(conv: tuple[float, float] | None, is_int: bool) -> Callable[[Any], Any] | None:
    if conv is None:
        return None
    scale, offset = conv
    if is_int:
        s, o = int(scale), int(offset)
        return lambda x: x * s + o if o else x * s
    return lambda x: x * scale + offset if offset else x * scale


def _node_impl(plan: Plan, node: str, data: dict[str, Any]) -> Callable[..., Any]:
    callee = data["callee"]
    if data["kind"] == "pipeline":
        inner: Pipeline[Any, Any] = callee.configure(**data["static"]) if data["static"] else callee
        impl = inner._impl_for(plan.node_bindings.get(node, {}))  # pyright: ignore[reportPrivateUsage]
        names = inner.spec.input_names
        several = inner.spec.output_tuple

        def call(**kwargs: Any) -> Any:
            out = impl(*[kwargs[n] for n in names])
            return out if several is not None else out[0]

        return call
    return callee.fn


def _body_failure(err: Exception, fn: Callable[..., Any]) -> Diagnostic:
    """Turn an exception raised while tracing a pipeline body into a located diagnostic."""
    code = getattr(fn, "__code__", None)
    location = None
    in_jax = False
    tb = err.__traceback__
    while tb is not None:
        frame_code = tb.tb_frame.f_code
        if frame_code is code:
            location = Location(frame_code.co_filename, tb.tb_lineno, 1)
            in_jax = False
        elif location is not None and f"{os.sep}jax{os.sep}" in frame_code.co_filename:
            in_jax = True
        tb = tb.tb_next
    if in_jax or "typedml._graph.Symbol" in str(err):
        return Diagnostic(
            "TM114",
            "a JAX operation on traced values inside a pipeline",
            location,
            notes=(
                f"JAX said: {type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''}",
                "a pipeline body only wires stages together; it sees no data",
            ),
            hint="move the computation into a @tm.stage",
        )
    return Diagnostic(
        "TM118",
        f"the pipeline body raised {type(err).__name__}: {err}",
        location,
        notes=("the body runs once, without data, when the pipeline is built",),
        hint="fix the error above; a pipeline body should only call stages and pipelines",
    )


def _as_tuple(value: object) -> tuple[object, ...] | None:
    return cast("tuple[object, ...]", value) if isinstance(value, tuple) else None


def _describe(value: object) -> str:
    values = _as_tuple(value)
    if values is not None:
        return f"a tuple of {len(values)} values"
    if isinstance(value, Symbol):
        return f"one value ({value.label})"
    return f"a {type(value).__name__}"


@overload
def pipeline(fn: Callable[P, R]) -> Pipeline[P, R]: ...
@overload
def pipeline(fn: None = None) -> NoReturn: ...
def pipeline(fn: Callable[P, R] | None = None) -> Pipeline[P, R]:
    """Decorate a function that wires stages together into a checked, compiled pipeline."""
    if fn is None:
        not_a_function(fn, "pipeline")
    return Pipeline(fn)
