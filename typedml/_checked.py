"""Checked runs: the fused, compiled pipeline with a flag per stage output and contracted port.

``pipeline.checked(**inputs)`` keeps the fused ``jax.jit`` run and adds one boolean per stage
output (finite?) and per contracted port (kept?), returned with the outputs. When one is false,
the first false one names the place, and the run is repeated eagerly, stage by stage, to
raise the same error ``debug`` would, with the offending values and their indices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from ._adapters import adapt
from ._arguments import Arguments, check_inputs_once, converters
from ._contracts import PortContract, input_contracts, input_violation, port_values, stage_contracts, stage_violation
from ._debug import as_arrays, observed_run
from ._errors import Diagnostic, NonFiniteError, TypedMLError, user_location
from ._graph import value_label
from ._lru import LRU, MAX_EXECUTABLES, MAX_VALIDATED
from ._overflow import Converting, edge_place, input_places, not_fitting, overflow_error
from ._overflow import checked as checked_conversion
from ._plan import CheckedPlan
from ._precision import guard_values
from ._refine import Bounds, violations
from ._runtime import check_inputs, split_value
from ._spec import Port, Spec
from ._traced import check_traced, is_tracer

__all__ = ["CheckedRunner", "Flag", "contract_flags", "flag_observer", "input_flags", "unreproduced"]

_Explain = Callable[[int, tuple[Any, ...], dict[str, Any]], None]  # raises why a checked run failed
_Entry = tuple[Callable[..., Any], Callable[[Any], Any], _Explain, Callable[[Any], None]]


class CheckedRunner:
    """Runs a plan compiled with its flags, once per input units."""

    def __init__(self, arguments: Arguments, ready: Callable[[], CheckedPlan]) -> None:
        self.arguments = arguments
        self.ready = ready
        # per input units: the compiled function, its output wrapper, what explains a failed flag,
        # and what hands its flags to JAX's checkify under a user's own transformation
        self.compiled: LRU[tuple[Any, ...], _Entry] = LRU(MAX_EXECUTABLES)
        self._validated: LRU[tuple[object, ...], bool] = LRU(MAX_VALIDATED)

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        values = self.arguments.values(args, kwargs)
        values, restore = adapt(self.arguments.spec, values)
        pairs = [split_value(v) for v in values]
        key = tuple(u for _, u in pairs)
        entry = self.compiled.get(key)
        if entry is None:
            entry = self._prepare(values)
            self.compiled[key] = entry
        else:  # every call's inputs checked as the first call's were (once per input signature)
            checked = self.ready()
            check_inputs_once(checked.spec, pairs, checked.resolved.size_constraints, self._validated)
        jitted, wrap, explain, traced = entry
        plan = self.ready()
        guard_values(plan.spec, values, plan.memo("precision", set), f"{plan.spec.name}()")
        out, flags = jitted(*self.arguments.magnitudes(values))
        if is_tracer(flags):  # inside the user's own jax.jit/vmap/grad: JAX's checkify carries the flags
            traced(flags)
            return wrap(out) if restore is None else restore(wrap(out))
        ok = np.asarray(flags)
        if not ok.all():
            explain(int(np.flatnonzero(~ok)[0]), args, kwargs)
        return wrap(out) if restore is None else restore(wrap(out))

    def forget(self) -> None:
        self.compiled.clear()

    def _prepare(self, values: list[Any]) -> _Entry:
        checked = self.ready()
        spec = checked.spec
        owner = f"{spec.name}()"
        pairs = [split_value(v) for v in values]
        constraints = checked.resolved.size_constraints
        boundary = check_inputs(spec, pairs, owner, constraints)
        plan = checked.for_units(boundary.rigid_units)
        graph = plan.graph
        contracts = stage_contracts(graph, plan.resolved, boundary.rigid_units)
        inputs = input_contracts(spec, boundary.rigid_units)
        flags: list[Any] = []
        order: list[Flag] = []
        overflows: dict[int, Converting] = {}  # the flags that say a conversion fitted, by position
        units = [u for _, u in pairs]
        places = input_places(spec, units, boundary.conversions, boundary.rigid_units, owner)

        def fits(place: Converting, value: Any, converted: Any, node: str) -> None:
            if checked_conversion(value, place.conversion, True):
                overflows[len(order)] = place
                flags.append(~jnp.any(not_fitting(value, converted, place.conversion)))
                order.append(Flag("overflow", node, place.port or "", False))

        def convert_edge(
            edge: tuple[str, str, str], convert: Callable[[Any], Any], conversion: tuple[float, float], value: Any
        ) -> Any:
            converted = convert(value)
            fits(edge_place(graph, edge, conversion), value, converted, edge[1])
            return converted

        impl = plan.function(flag_observer(graph, contracts, flags, order), convert=convert_edge)
        single = spec.output_tuple is None
        arguments = self.arguments

        def fn(*args: Any) -> Any:
            # runs once per trace (a new shape or dtype): check those as the first call did
            traced = check_inputs(spec, list(zip(args, units, strict=True)), owner, constraints, warn=False)
            flags.clear()
            order.clear()
            overflows.clear()
            input_flags(spec, list(args), flags, order)  # finite, as given
            converted: list[Any] = []
            for place, convert, value in zip(places, converters(traced), args, strict=True):
                if convert is None:
                    converted.append(value)
                    continue
                converted.append(convert(value))
                if place is not None:
                    fits(place, value, converted[-1], "")
            contract_flags(converted, inputs, flags, order)  # in the declared units
            out = impl(*converted)
            found: Any = jnp.stack(flags) if flags else jnp.ones(0, dtype=bool)  # pyright: ignore[reportUnknownMemberType]
            return (out[0] if single else out), found

        def explain(first: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            observed_run(checked, arguments, args, kwargs, compiled=False)  # raises what debug() raises
            raise unreproduced(order[first], graph, spec, contracts, overflows.get(first))

        def traced_flags(found: Any) -> None:  # inside the user's own transformation
            for i, flag in enumerate(list(order)):
                error = unreproduced(flag, graph, spec, contracts, overflows.get(i), traced=True)
                check_traced(found[i], error.diagnostic.message, lambda error=error: error, owner)

        jitted = cast("Callable[..., Any]", jax.jit(fn))  # pyright: ignore[reportUnknownMemberType]
        guarded = plan.guard(jitted)
        return guarded, plan.wrapper(), explain, traced_flags


@dataclasses.dataclass(frozen=True)
class Flag:
    """What one boolean of a checked run says is fine: a port's values finite, or in contract."""

    kind: str  # "finite", "contract" or "overflow" (a conversion fitted its dtype)
    node: str  # "" for the pipeline's own inputs
    port: str
    output: bool


def _finite(value: Any) -> Any:
    ok: Any = jnp.array(True)  # pyright: ignore[reportUnknownMemberType]
    for leaf in as_arrays(value):
        if jnp.issubdtype(leaf.dtype, jnp.inexact):
            ok = ok & jnp.all(jnp.isfinite(leaf))
    return ok


def input_flags(spec: Spec, values: list[Any], flags: list[Any], order: list[Flag]) -> None:
    """Inside a checked run: one flag per input (finite), as given (before any conversion)."""
    for port, value in zip(spec.inputs, values, strict=True):
        if port.type is not None:
            flags.append(_finite(value))
            order.append(Flag("finite", "", port.name, False))


def contract_flags(
    values: list[Any], contracts: list[tuple[int, Port, Bounds]], flags: list[Any], order: list[Flag]
) -> None:
    """Inside a checked run: one flag per input contract, on the values in the declared units."""
    for i, port, bounds in contracts:
        flags.append(violations(values[i], bounds) == 0)
        order.append(Flag("contract", "", port.name, False))


def flag_observer(
    graph: Any, contracts: dict[str, list[PortContract]], flags: list[Any], order: list[Flag]
) -> Callable[[str, dict[str, Any], Any], None]:
    """The per-step hook of a checked run: flags for a stage's input contracts, its outputs'
    finiteness, then its output contracts (the first false flag is where things went wrong)."""

    def observe(node: str, kwargs: dict[str, Any], result: Any) -> None:
        spec: Spec = graph.nodes[node]["spec"]
        found = contracts.get(node)
        pairs = port_values(graph, found, kwargs, result) if found else []
        for contract, value in pairs:
            if not contract.output:
                flags.append(violations(value, contract.bounds) == 0)
                order.append(Flag("contract", node, contract.port, False))
        outputs = result if spec.output_tuple is not None else (result,)
        for port, value in zip(spec.outputs, outputs, strict=True):
            flags.append(_finite(value))
            order.append(Flag("finite", node, port.name, True))
        for contract, value in pairs:
            if contract.output:
                flags.append(violations(value, contract.bounds) == 0)
                order.append(Flag("contract", node, contract.port, True))

    return observe


def unreproduced(
    flag: Flag,
    graph: Any,
    spec: Spec,
    contracts: dict[str, list[PortContract]],
    place: Converting | None = None,
    traced: bool = False,
) -> TypedMLError:
    """The error of a failed checked run that the eager re-run did not reproduce (or, with
    ``traced``, that a check under the user's own transformation found)."""
    note = (
        "found inside the user's jax transformation (checkify)"
        if traced
        else "found by the compiled, checked run; an eager re-run did not reproduce it "
        "(XLA's fused arithmetic can round differently)"
    )
    if flag.kind == "overflow" and place is not None:
        return overflow_error(place, None, None)
    if flag.kind == "contract":
        if flag.node == "":
            _, port, bounds = next(c for c in input_contracts(spec, {}) if c[1].name == flag.port)
            return input_violation(spec, port, bounds, None, user_location(), note=note)
        contract = next(c for c in contracts[flag.node] if c.port == flag.port and c.output == flag.output)
        return stage_violation(graph, contract, None, note=note)
    if flag.node == "":
        return NonFiniteError(
            Diagnostic(
                "TM502",
                f"input {flag.port!r} of {spec.name}() holds non-finite values",
                user_location(),
                notes=(note,),
                hint="the NaN/Inf comes from the data: clean or impute it before the pipeline",
                stage=spec.name,
                port=flag.port,
            )
        )
    data = graph.nodes[flag.node]
    return NonFiniteError(
        Diagnostic(
            "TM501",
            f"stage {data['name']!r} produced non-finite values in {value_label(flag.node, flag.port)!r} from finite inputs",
            data.get("location"),
            notes=(note, "every input of this call was finite"),
            hint="the NaN/Inf starts in this stage: guard its divisions, logs and square roots",
            stage=flag.node,
            port=flag.port,
        )
    )
