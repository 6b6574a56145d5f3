"""Debug runs: a pipeline stage by stage, every value checked and kept, NaN/Inf traced to its origin.

``pipeline.debug(**inputs)`` runs the checked graph eagerly (no ``jax.jit``), checks each
stage's inputs and outputs against its own signature at run time (shapes, shape bindings
shared by a stage's inputs and outputs, dtypes), and keeps every intermediate value, by edge
name, as a quantity in its unit. The first non-finite value is reported as
:class:`NonFiniteError` naming the stage that produced it from finite inputs.

``pipeline.checked(**inputs)`` keeps the fused ``jax.jit`` run and adds one boolean per stage
output (finite?) and per contracted port (kept?), returned with the outputs. When one is false,
the first false one names the place, and the run is repeated eagerly, stage by stage, to
raise the same error ``debug`` would, with the offending values and their indices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from ._contracts import PortContract, input_contracts, input_violation, port_values, stage_violation
from ._errors import BodyError, Diagnostic, InputError, Location, NonFiniteError, TypedMLError, user_location
from ._graph import value_label
from ._refine import Bounds, violations
from ._runtime import check_inputs
from ._spec import Port, Spec

if TYPE_CHECKING:
    from ._summary import RunReport

__all__ = [
    "DebugRun",
    "Flag",
    "flag_observer",
    "input_contracts_kept",
    "input_flags",
    "input_nonfinite",
    "stage_observer",
    "unreproduced",
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
    pipeline: Any = dataclasses.field(default=None, repr=False, compare=False)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def summary(self) -> RunReport:
        """Per-value statistics (count, min, max, mean, std, NaN/Inf counts) in each value's unit."""
        from ._summary import RunReport

        title, picture = "run", None
        if self.pipeline is not None:
            from ._show import graph_svg

            title, picture = f"run of pipeline {self.pipeline.spec.name}", graph_svg(self.pipeline)
        return RunReport.from_values(
            {name: _magnitude_of(value) for name, value in self.values.items()},
            dict(self.units),
            title=title,
            picture=picture,
        )


def _magnitude_of(value: Any) -> Any:
    return getattr(value, "magnitude", value)


def _as_arrays(value: Any) -> list[Any]:
    leaves: list[Any] = jax.tree_util.tree_leaves(value)
    return [leaf for leaf in leaves if hasattr(leaf, "dtype")]


def _all_finite(value: Any) -> bool:
    for leaf in _as_arrays(value):
        if jnp.issubdtype(leaf.dtype, jnp.inexact) and not bool(jnp.all(jnp.isfinite(leaf))):
            return False
    return True


def _nonfinite_facts(value: Any) -> tuple[str, ...]:
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
        _check_call(node, spec, kwargs, tuple(outputs), location)
        found = contracts.get(node)
        pairs = port_values(graph, found, kwargs, result) if found else []
        for contract, value in pairs:  # what it was given first: then the fault is upstream
            if not contract.output and not bool(np.all(contract.bounds.ok(np.asarray(value), np))):
                raise stage_violation(graph, contract, np.asarray(value))
        inputs_finite = all(_all_finite(kwargs[p.name]) for p in spec.inputs if p.name in kwargs)
        for port, value in zip(spec.outputs, outputs, strict=True):
            keep[value_label(node, port.name)] = units_of(node, port.name)(value)
        if not inputs_finite:
            return
        for port, value in zip(spec.outputs, outputs, strict=True):
            if not _all_finite(value):
                name = value_label(node, port.name)
                raise NonFiniteError(
                    Diagnostic(
                        "TM501",
                        f"stage {data['name']!r} produced non-finite values in {name!r} from finite inputs",
                        location,
                        notes=(*_nonfinite_facts(_magnitude_of(value)), "every input of this call was finite"),
                        hint="the NaN/Inf starts in this stage: guard its divisions, logs and square roots",
                        stage=node,
                        port=port.name,
                    )
                )
        for contract, value in pairs:
            if contract.output and not bool(np.all(contract.bounds.ok(np.asarray(value), np))):
                raise stage_violation(graph, contract, np.asarray(value))

    return observe


def _check_call(
    node: str, spec: Spec, kwargs: dict[str, Any], outputs: tuple[Any, ...], location: Location | None
) -> None:
    """A stage's inputs and outputs against its signature, as one call (shared shape bindings)."""
    ports: list[Port] = []
    pairs: list[tuple[Any, Any]] = []
    for port in spec.inputs:
        if port.type is not None and port.name in kwargs:
            ports.append(dataclasses.replace(port, type=dataclasses.replace(port.type, unit=None)))
            pairs.append((kwargs[port.name], None))
    for port, value in zip(spec.outputs, outputs, strict=True):
        if port.type is not None:
            renamed = f"return value {port.name!r}" if spec.output_tuple is not None else "return value"
            ports.append(dataclasses.replace(port, name=renamed, type=dataclasses.replace(port.type, unit=None)))
            pairs.append((_magnitude_of(value), None))
    joint = dataclasses.replace(spec, inputs=tuple(ports), static=())
    try:
        check_inputs(joint, pairs, f"{spec.name}()")
    except InputError as err:
        notes = tuple(str(d.message) for d in err.diagnostics) + tuple(n for d in err.diagnostics for n in d.notes)
        raise BodyError(
            Diagnostic(
                "TM306",
                f"at run time, stage {node!r} does not match its signature",
                location,
                notes=notes,
                hint="the body returned (or was given) something its signature does not declare; "
                "`stage.check()` shows what it computes",
                stage=node,
            )
        ) from None


def input_contracts_kept(spec: Spec, values: list[Any], rigid_units: Any, location: Location | None) -> None:
    """A pipeline input (in its declared unit) that breaks its contract: TM214, with the values."""
    for i, port, bounds in input_contracts(spec, rigid_units):
        value = np.asarray(values[i])
        if not bool(np.all(bounds.ok(value, np))):
            raise input_violation(spec, port, bounds, value, location)


def input_nonfinite(spec: Spec, values: list[Any], location: Location | None) -> None:
    """A pipeline input that already holds NaN/Inf: the problem is upstream of the pipeline."""
    for port, value in zip(spec.inputs, values, strict=True):
        if port.type is not None and not _all_finite(value):
            raise NonFiniteError(
                Diagnostic(
                    "TM502",
                    f"input {port.name!r} of {spec.name}() holds non-finite values",
                    location,
                    notes=_nonfinite_facts(value),
                    hint="the NaN/Inf comes from the data: clean or impute it before the pipeline",
                    stage=spec.name,
                    port=port.name,
                )
            )


# -- checked jit ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Flag:
    """What one boolean of a checked run says is fine: a port's values finite, or in contract."""

    kind: str  # "finite" or "contract"
    node: str  # "" for the pipeline's own inputs
    port: str
    output: bool


def _finite(value: Any) -> Any:
    ok: Any = jnp.array(True)  # pyright: ignore[reportUnknownMemberType]
    for leaf in _as_arrays(value):
        if jnp.issubdtype(leaf.dtype, jnp.inexact):
            ok = ok & jnp.all(jnp.isfinite(leaf))
    return ok


def input_flags(
    spec: Spec, values: list[Any], contracts: list[tuple[int, Port, Bounds]], flags: list[Any], order: list[Flag]
) -> None:
    """Inside a checked run: one flag per input (finite), then one per input contract."""
    for port, value in zip(spec.inputs, values, strict=True):
        if port.type is not None:
            flags.append(_finite(value))
            order.append(Flag("finite", "", port.name, False))
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


def unreproduced(flag: Flag, graph: Any, spec: Spec, contracts: dict[str, list[PortContract]]) -> TypedMLError:
    """The error of a failed checked run that the eager re-run did not reproduce."""
    note = (
        "found by the compiled, checked run; an eager re-run did not reproduce it "
        "(XLA's fused arithmetic can round differently)"
    )
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
