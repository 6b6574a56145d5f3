"""Debug and record runs: a pipeline stage by stage, every value checked and kept.

``pipeline.debug(**inputs)`` runs the checked plan eagerly (no ``jax.jit``), checks each
stage's inputs and outputs against its own signature at run time (shapes, shape bindings
shared by a stage's inputs and outputs, dtypes), and keeps every intermediate value, by edge
name, as a quantity in its unit. The first non-finite value is reported as
:class:`NonFiniteError` naming the stage that produced it from finite inputs.

``pipeline.record(**inputs)`` is the compiled run with every stage output added to its
results: the same :class:`DebugRun`, without the per-stage checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from ._adapters import adapt
from ._arguments import Arguments, converters
from ._contracts import PortContract, input_contracts, input_violation, port_values, stage_contracts, stage_violation
from ._errors import Diagnostic, Location, NonFiniteError, user_location
from ._graph import value_label
from ._overflow import Guard, check_now, edge_place, input_places, settle
from ._plan import CheckedPlan
from ._precision import guard_values
from ._runtime import Boundary, check_inputs, check_stage_call, make_quantity, split_value
from ._spec import Spec
from ._traced import is_traced, refusal
from ._units import get_registry, unit_text

if TYPE_CHECKING:
    from ._summary import RunReport

__all__ = [
    "DebugRun",
    "all_finite",
    "as_arrays",
    "debug_inputs",
    "input_contracts_kept",
    "input_nonfinite",
    "nonfinite_facts",
    "observed_run",
    "stage_observer",
]


@dataclasses.dataclass(frozen=True)
class DebugRun:
    """What ``pipeline.debug(...)`` returns: the outputs, and every value on the way.

    ``outputs`` is what calling the pipeline returns. ``values`` maps each value's name (the
    edge name: ``raw`` for an input, ``calibrate`` for a stage's single output,
    ``fit.slope`` for one of several) to a quantity in its unit, or to a plain array for
    unit-less values.
    """

    outputs: Any
    values: Mapping[str, Any]
    units: Mapping[str, str | None]
    plan: Any = dataclasses.field(default=None, repr=False, compare=False)  # the CheckedPlan it ran

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def _repr_html_(self) -> str:
        from ._display_graph import debug_html

        return debug_html(self)

    def summary(self) -> RunReport:
        """Per-value statistics (count, min, max, mean, std, NaN/Inf counts) in each value's unit."""
        from ._summary import RunReport

        title, picture = "run", None
        if self.plan is not None:
            from ._show import graph_svg

            title, picture = f"run of pipeline {self.plan.spec.name}", graph_svg(self.plan)
        return RunReport.from_values(
            {name: _magnitude_of(value) for name, value in self.values.items()},
            dict(self.units),
            title=title,
            picture=picture,
        )


def debug_inputs(checked: CheckedPlan, values: list[Any]) -> tuple[list[Any], Boundary]:
    """The inputs checked against the signature, as arrays in their declared units."""
    spec = checked.spec
    owner = f"{spec.name}()"
    pairs = [split_value(v) for v in values]
    boundary = check_inputs(spec, pairs, owner, checked.resolved.size_constraints)
    mags: list[Any] = [
        jnp.asarray(m) if port.type is not None else m  # pyright: ignore[reportUnknownMemberType]
        for (m, _), port in zip(pairs, spec.inputs, strict=True)
    ]
    places = input_places(spec, [u for _, u in pairs], boundary.conversions, boundary.rigid_units, owner)
    converted: list[Any] = []
    for place, convert, mag in zip(places, converters(boundary), mags, strict=True):
        converted.append(mag if convert is None else convert(mag))
        if place is not None:
            check_now(place, mag, converted[-1])  # an overflow is the conversion's, not the data's (TM229)
    return converted, boundary


def observed_run(
    checked: CheckedPlan, arguments: Arguments, args: tuple[Any, ...], kwargs: dict[str, Any], *, compiled: bool
) -> DebugRun:
    """``debug`` (eager, every stage call checked) or ``record`` (compiled): every value kept."""
    values, _ = adapt(arguments.spec, arguments.values(args, kwargs))
    checked.ready()
    spec = checked.spec
    if is_traced(split_value(v)[0] for v in values):  # inside the user's own jax.jit, vmap or grad
        raise refusal(f"{spec.name}.{'record' if compiled else 'debug'}()", "", eager=True)
    guard_values(spec, values, checked.memo("precision", set), f"{spec.name}.{'record' if compiled else 'debug'}()")
    mags, boundary = debug_inputs(checked, values)
    if not compiled:
        input_nonfinite(spec, mags, user_location())
    input_contracts_kept(spec, mags, boundary.rigid_units, user_location())
    plan = checked.for_units(boundary.rigid_units)
    graph = plan.graph
    registry = get_registry()
    keep: dict[str, Any] = {}
    units: dict[str, str | None] = {}

    def unit_of(port_spec: Spec, node: str, port: str) -> Any:
        declared = next(p for p in port_spec.outputs + port_spec.inputs if p.name == port).type
        if declared is None or declared.unit is None:
            return None
        return declared.unit.substitute(registry, plan.resolved.node_bindings.get(node, boundary.rigid_units)).unit

    def units_of(node: str, port: str) -> Callable[[Any], Any]:
        unit = unit_of(graph.nodes[node]["spec"], node, port)
        units[value_label(node, port)] = None if unit is None else unit_text(unit)
        return _identity if unit is None else make_quantity(registry, unit)

    for port, mag in zip(spec.inputs, mags, strict=True):
        unit = None
        if port.type is not None and port.type.unit is not None:
            unit = port.type.unit.substitute(registry, boundary.rigid_units).unit
        units[port.name] = None if unit is None else unit_text(unit)
        keep[port.name] = mag if unit is None else make_quantity(registry, unit)(mag)
    if compiled:
        out = _recorded(plan, mags, keep, units_of)
    else:

        def convert_edge(
            edge: tuple[str, str, str], convert: Callable[[Any], Any], conversion: tuple[float, float], value: Any
        ) -> Any:
            converted = convert(value)
            check_now(edge_place(graph, edge, conversion), value, converted)  # TM505, with the value
            return converted

        impl = plan.function(
            stage_observer(graph, units_of, keep, stage_contracts(graph, plan.resolved, boundary.rigid_units)),
            before=inputs_checker(graph),
            convert=convert_edge,
        )
        with jax.disable_jit():
            out = plan.guard(impl)(*mags)
    outputs = plan.wrapper()(out[0] if spec.output_tuple is None else out)
    return DebugRun(outputs, keep, units, checked)


def _recorded(
    plan: CheckedPlan, mags: list[Any], keep: dict[str, Any], units_of: Callable[[str, str], Callable[[Any], Any]]
) -> Any:
    """The compiled run with every stage output as an extra result, kept by edge name."""
    jitted, ports, guard = plan.memo("record", lambda: _recorder(plan))
    jitted = plan.guard(jitted)
    out, values = jitted(*mags)
    out = settle(out, guard.places, f"{plan.spec.name}.record()")  # its conversions overflowed nowhere
    for (node, port), value in zip(ports, values, strict=True):
        keep[value_label(node, port)] = units_of(node, port)(value)
    return out


def _recorder(plan: CheckedPlan) -> tuple[Callable[..., Any], list[tuple[str, str]], Guard]:
    graph = plan.graph
    guard = Guard()
    ports: list[tuple[str, str]] = []
    found: list[Any] = []

    def collect(node: str, kwargs: dict[str, Any], result: Any) -> None:
        spec: Spec = graph.nodes[node]["spec"]
        outs = result if spec.output_tuple is not None else (result,)
        for port, value in zip(spec.outputs, outs, strict=True):
            ports.append((node, port.name))
            found.append(value)

    impl = plan.function(collect, convert=guard.edges(graph))

    def fn(*args: Any) -> Any:
        ports.clear()
        found.clear()
        guard.reset()
        out = impl(*args)
        return guard.result(out), list(found)

    return cast("Callable[..., Any]", jax.jit(fn)), ports, guard  # pyright: ignore[reportUnknownMemberType]


def _identity(x: Any) -> Any:
    return x


def _magnitude_of(value: Any) -> Any:
    return getattr(value, "magnitude", value)


def as_arrays(value: Any) -> list[Any]:
    leaves: list[Any] = jax.tree_util.tree_leaves(value)
    return [leaf for leaf in leaves if hasattr(leaf, "dtype")]


def all_finite(value: Any) -> bool:
    for leaf in as_arrays(value):
        if jnp.issubdtype(leaf.dtype, jnp.inexact) and not bool(jnp.all(jnp.isfinite(leaf))):
            return False
    return True


def nonfinite_facts(value: Any) -> tuple[str, ...]:
    array = np.asarray(value)
    if array.dtype.kind not in "fc":
        return ()
    nan = np.isnan(array)
    inf = np.isinf(array)
    facts = [f"{int(nan.sum())} NaN and {int(inf.sum())} Inf among {array.size} values, shape {array.shape}"]
    bad = np.argwhere(nan | inf)
    if len(bad):
        shown = ", ".join(str(tuple(int(i) for i in idx)) for idx in bad[:5])
        facts.append(f"first at index {shown}" + (" …" if len(bad) > 5 else ""))
    finite = array[np.isfinite(array)]
    if finite.size:
        facts.append(f"finite values: min {finite.min():.6g}, max {finite.max():.6g}, mean {finite.mean():.6g}")
    return tuple(facts)


def stage_observer(
    graph: Any,
    units_of: Callable[[str, str], Any],
    keep: dict[str, Any],
    contracts: dict[str, list[PortContract]] | None = None,
) -> Callable[[str, dict[str, Any], Any], None]:
    """The per-step hook of a debug run: check a stage's call, keep its values, find NaN/Inf."""
    contracts = contracts or {}

    def observe(node: str, kwargs: dict[str, Any], result: Any) -> None:
        data = graph.nodes[node]
        spec: Spec = data["spec"]
        location: Location | None = data.get("location")
        outputs = result if spec.output_tuple is not None else (result,)
        check_stage_call(node, spec, kwargs, tuple(outputs), location, data.get("static") or {})
        found = contracts.get(node)
        pairs = port_values(graph, found, kwargs, result) if found else []
        for contract, value in pairs:  # what it was given first: then the fault is upstream
            if not contract.output and not bool(np.all(contract.bounds.ok(np.asarray(value), np))):
                raise stage_violation(graph, contract, np.asarray(value))
        inputs_finite = all(all_finite(kwargs[p.name]) for p in spec.inputs if p.name in kwargs)
        for port, value in zip(spec.outputs, outputs, strict=True):
            keep[value_label(node, port.name)] = units_of(node, port.name)(value)
        if not inputs_finite:
            return
        for port, value in zip(spec.outputs, outputs, strict=True):
            if not all_finite(value):
                name = value_label(node, port.name)
                raise NonFiniteError(
                    Diagnostic(
                        "TM501",
                        f"stage {data['name']!r} produced non-finite values in {name!r} from finite inputs",
                        location,
                        notes=(*nonfinite_facts(_magnitude_of(value)), "every input of this call was finite"),
                        hint="the NaN/Inf starts in this stage: guard its divisions, logs and square roots",
                        stage=node,
                        port=port.name,
                    )
                )
        for contract, value in pairs:
            if contract.output and not bool(np.all(contract.bounds.ok(np.asarray(value), np))):
                raise stage_violation(graph, contract, np.asarray(value))

    return observe


def inputs_checker(graph: Any) -> Callable[[str, dict[str, Any]], None]:
    """The hook a debug run calls before each stage body: its inputs against its signature."""

    def before(node: str, kwargs: dict[str, Any]) -> None:
        data = graph.nodes[node]
        if data["kind"] == "stage":
            check_stage_call(node, data["spec"], kwargs, None, data.get("location"), data.get("static") or {})

    return before


def input_contracts_kept(spec: Spec, values: list[Any], rigid_units: Any, location: Location | None) -> None:
    """A pipeline input (in its declared unit) that breaks its contract: TM214, with the values."""
    for i, port, bounds in input_contracts(spec, rigid_units):
        value = np.asarray(values[i])
        if not bool(np.all(bounds.ok(value, np))):
            raise input_violation(spec, port, bounds, value, location)


def input_nonfinite(spec: Spec, values: list[Any], location: Location | None) -> None:
    """A pipeline input that already holds NaN/Inf: the problem is upstream of the pipeline."""
    for port, value in zip(spec.inputs, values, strict=True):
        if port.type is not None and not all_finite(value):
            raise NonFiniteError(
                Diagnostic(
                    "TM502",
                    f"input {port.name!r} of {spec.name}() holds non-finite values",
                    location,
                    notes=nonfinite_facts(value),
                    hint="the NaN/Inf comes from the data: clean or impute it before the pipeline",
                    stage=spec.name,
                    port=port.name,
                )
            )
