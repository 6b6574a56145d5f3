"""Value contracts at run time: which ports of a graph carry them, and the errors they raise.

Every mode checks them, at different prices:

- a plain call counts the breaking values of every contracted port inside the compiled
  function (one fused reduction per port) and raises after the run: a pipeline input
  (:class:`InputError`, TM214, with the offending values, looked up on the host) or a stage
  port (:class:`ContractError`, TM503/TM504, with the count);
- ``pipeline.debug(...)`` checks each stage call on the host and names the first offending
  values with their indices;
- ``pipeline.checked(...)`` adds a flag per contracted port beside its finite flags.

Pipelines without contracts are compiled exactly as before and pay nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import ContractError, Diagnostic, InputError, Location, user_location
from ._graph import value_label
from ._refine import Bounds, resolve, violation_notes
from ._spec import Port, Spec
from ._units import UType, get_registry

if TYPE_CHECKING:
    from ._check import Plan

__all__ = [
    "PortContract",
    "counting_observer",
    "guarded",
    "input_contracts",
    "input_violation",
    "port_values",
    "stage_contracts",
    "stage_violation",
]


@dataclasses.dataclass(frozen=True)
class PortContract:
    """One contracted port of a stage call (``output`` False: an input)."""

    node: str
    port: str
    output: bool
    bounds: Bounds


def _resolved(port: Port, bindings: dict[str, UType]) -> Bounds | None:
    t = port.type
    if t is None or not t.refinements:
        return None
    registry = get_registry()
    unit = None if t.unit is None else t.unit.substitute(registry, bindings)
    return resolve(t.refinements, unit, registry)


def input_contracts(spec: Spec, rigid_units: dict[str, UType]) -> list[tuple[int, Port, Bounds]]:
    """The pipeline's own contracted inputs, by position."""
    found: list[tuple[int, Port, Bounds]] = []
    for i, port in enumerate(spec.inputs):
        bounds = _resolved(port, rigid_units)
        if bounds is not None:
            found.append((i, port, bounds))
    return found


def stage_contracts(graph: Any, plan: Plan, rigid_units: dict[str, UType]) -> dict[str, list[PortContract]]:
    """Per stage node, its contracted inputs and outputs (in the units they are bound to).

    An input contract is left out where the value reaching it is already promised to keep it:
    a stage output or pipeline input whose own contract (checked where it is produced),
    converted along the edge, implies it. So contracts are carried through the graph.
    """
    found: dict[str, list[PortContract]] = {}
    for node, data in graph.nodes(data=True):
        if data["kind"] != "stage":
            continue
        spec: Spec = data["spec"]
        bindings = plan.node_bindings.get(node, {})
        for port in spec.inputs:
            bounds = _resolved(port, bindings)
            if bounds is not None and not _promised(graph, plan, rigid_units, node, port.name, bounds):
                found.setdefault(node, []).append(PortContract(node, port.name, False, bounds))
        for port in spec.outputs:
            bounds = _resolved(port, bindings)
            if bounds is not None:
                found.setdefault(node, []).append(PortContract(node, port.name, True, bounds))
    return found


def _promised(graph: Any, plan: Plan, rigid_units: dict[str, UType], node: str, port: str, wanted: Bounds) -> bool:
    for u, _, key, edge in graph.in_edges(node, keys=True, data=True):
        if edge["dst_port"] != port:
            continue
        source = graph.nodes[u]
        if source["kind"] == "stage":
            declared = next((p for p in source["spec"].outputs if p.name == edge["src_port"]), None)
            bindings = plan.node_bindings.get(u, {})
        elif source["kind"] == "input":
            declared, bindings = source["port"], rigid_units
        else:
            return False
        given = _resolved(declared, bindings) if declared is not None else None
        if given is None:
            return False
        scale, offset = plan.conversions.get((u, node, key), (1.0, 0.0))
        return given.converted(scale, offset).implies(wanted)
    return False


def input_violation(
    spec: Spec, port: Port, bounds: Bounds, value: Any | None, location: Location | None, note: str = ""
) -> InputError:
    """TM214: a pipeline input breaks its contract (``value`` in the port's unit, if known)."""
    notes = violation_notes(value, bounds) if value is not None else (note,)
    return InputError(
        Diagnostic(
            "TM214",
            f"input {port.name!r} of {spec.name}() breaks its contract {bounds.describe()}",
            location,
            notes=(*notes, f"declared at {spec.location}"),
            hint="the data is outside what the pipeline accepts: clean, clip or filter it first",
            stage=spec.name,
            port=port.name,
        )
    )


def stage_violation(
    graph: Any, contract: PortContract, value: Any | None, count: int | None = None, note: str = ""
) -> ContractError:
    """TM503 (a stage returned values outside its declared contract) or TM504 (it was given them)."""
    data = graph.nodes[contract.node]
    stage = data["name"]
    if value is not None:
        notes: tuple[str, ...] = violation_notes(value, contract.bounds)
    elif note:
        notes = (note,)
    else:
        notes = (
            f"{count} values break it (counted in the compiled run)",
            "`pipeline.debug(...)` with the same inputs names the values and their indices",
        )
    if contract.output:
        return ContractError(
            Diagnostic(
                "TM503",
                f"stage {stage!r} returned values in {value_label(contract.node, contract.port)!r} "
                f"that break its contract {contract.bounds.describe()}",
                data.get("location"),
                notes=notes,
                hint="the stage's body does not keep the contract its signature promises",
                stage=contract.node,
                port=contract.port,
            )
        )
    return ContractError(
        Diagnostic(
            "TM504",
            f"input {contract.port!r} of stage {stage!r} was given values that break its contract "
            f"{contract.bounds.describe()}",
            data.get("location"),
            notes=notes,
            hint="the value upstream does not promise this contract: transform it (clip, softmax, abs) "
            "or declare the contract on the stage that produces it",
            stage=contract.node,
            port=contract.port,
        )
    )


def counting_observer(
    graph: Any, contracts: dict[str, list[PortContract]], counts: list[Any], order: list[PortContract]
) -> Callable[[str, dict[str, Any], Any], None]:
    """The per-step hook of a plain compiled run: count breaking values of contracted ports."""
    from ._refine import violations

    def observe(node: str, kwargs: dict[str, Any], result: Any) -> None:
        found = contracts.get(node)
        if not found:
            return
        for contract, value in port_values(graph, found, kwargs, result):
            counts.append(violations(value, contract.bounds))
            order.append(contract)

    return observe


def port_values(
    graph: Any, found: list[PortContract], kwargs: dict[str, Any], result: Any
) -> list[tuple[PortContract, Any]]:
    """Each contracted port of one stage call with its value: inputs first, then outputs."""
    spec: Spec = graph.nodes[found[0].node]["spec"]
    outputs = result if spec.output_tuple is not None else (result,)
    by_output = {p.name: v for p, v in zip(spec.outputs, outputs, strict=False)}
    pairs = [(c, kwargs[c.port]) for c in found if not c.output and c.port in kwargs]
    pairs += [(c, by_output[c.port]) for c in found if c.output and c.port in by_output]
    return pairs


def guarded(
    jitted: Callable[..., tuple[Any, Any]],
    spec: Spec,
    graph: Any,
    inputs: list[tuple[int, Port, Bounds]],
    order: list[PortContract],
    conversions: list[tuple[float, float] | None],
) -> Callable[..., Any]:
    """A plain run that raises after the compiled function when a contract count is not zero.

    ``jitted`` returns ``(outputs, counts)``: the counts of the pipeline's contracted inputs
    (in ``inputs`` order), then those of the stage ports in ``order`` (filled when it traced).
    """
    import numpy as np

    from ._traced import check_traced, is_tracer

    owner = f"{spec.name}()"

    def run(*mags: Any) -> Any:
        out, counts = jitted(*mags)
        if is_tracer(counts):  # inside the user's own jax.jit, vmap or grad: through JAX's checkify
            for k in range(len(inputs) + len(order)):
                error = (
                    input_violation(spec, inputs[k][1], inputs[k][2], None, user_location(), note=_TRACED)
                    if k < len(inputs)
                    else stage_violation(graph, order[k - len(inputs)], None, note=_TRACED)
                )
                check_traced(counts[k] == 0, error.diagnostic.message, lambda error=error: error, owner)
            return out
        bad = np.asarray(counts)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            if first < len(inputs):
                i, port, bounds = inputs[first]
                value = np.asarray(mags[i])
                conv = conversions[i]
                if conv is not None:
                    value = value * conv[0] + conv[1]
                raise input_violation(spec, port, bounds, value, user_location())
            raise stage_violation(graph, order[first - len(inputs)], None, int(bad[first]))
        return out

    return run


_TRACED = "found inside the user's jax transformation (through jax.experimental.checkify)"
