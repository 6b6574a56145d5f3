"""Tracing a pipeline's body, once and without data, into its graph.

The body runs with a :class:`~typedml._graph.Symbol` per input; every stage or pipeline it
calls adds a node (see :mod:`typedml._graph`). What goes wrong while it runs (a JAX operation
on traced values, an exception, a wrong number of outputs) becomes a located diagnostic, not
an exception: tracing never raises for the user's mistakes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ._errors import Diagnostic, Location, WiringError
from ._graph import Symbol, Tracer
from ._locations import return_location
from ._spec import Spec

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["trace_pipeline"]


def trace_pipeline(
    fn: Callable[..., Any], spec: Spec, static: Mapping[str, Any]
) -> tuple[nx.MultiDiGraph[str], list[Diagnostic]]:
    """Run ``fn`` on symbols: the graph it wires, and the problems found while wiring it."""
    tracer = Tracer(spec.name)
    with tracer:
        symbols = tracer.add_inputs(spec, spec.location)
        try:
            result = fn(**symbols, **static)
        except WiringError as err:
            tracer.diagnostics.extend(err.diagnostics)
            result = None
        except Exception as err:  # noqa: BLE001 - any failure of the body becomes a diagnostic
            tracer.diagnostics.append(_body_failure(err, fn))
            result = None
    if result is not None or not tracer.diagnostics:
        _connect_outputs(tracer, fn, spec, result)
    return tracer.graph, tracer.diagnostics


def _connect_outputs(tracer: Tracer, fn: Callable[..., Any], spec: Spec, result: object) -> None:
    outputs = spec.outputs
    location = return_location(fn, spec.location)
    values = _as_tuple(result)
    if spec.output_record is not None:
        values = spec.unpack_outputs(result)
        if values is None:
            tracer.diagnostics.append(
                Diagnostic(
                    "TM115",
                    f"pipeline {spec.name!r} returns {_describe(result)}, but its annotation declares {len(outputs)} outputs ({', '.join(p.name for p in outputs)})",
                    location,
                    hint=f"return {spec.output_record.name}(...) with one value per field",
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
                f"pipeline {spec.name!r} returns a tuple of {count} values but declares one output",
                location,
                hint="declare several outputs with a NamedTuple return annotation",
            )
        )
        return
    tracer.add_output(outputs[0], result, location)


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
