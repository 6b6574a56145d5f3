"""From a checked graph to one pure JAX function over magnitudes.

The function takes the pipeline's inputs as plain arrays in their *declared* units and
returns its outputs in their declared units. Every edge conversion is a multiply (and an
add, for affine units) by a Python constant, so XLA folds it into the computation: after
``jax.jit`` a typedml pipeline costs what the hand-written function costs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._check import EdgeKey, Plan
from ._convert import converter
from ._spec import Spec

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["build_function"]

Conversion = tuple[float, float] | None
Convert = Callable[[EdgeKey, Callable[[Any], Any], tuple[float, float], Any], Any]
"""A hook that converts one edge's value: ``convert(edge, converter, conversion, value)``."""


def _then_move(conv: Callable[[Any], Any], source: int, target: int) -> Callable[[Any], Any]:
    import jax.numpy as jnp

    return lambda x: jnp.moveaxis(conv(x), source, target)


def _moving_back(spec: Spec, back: dict[str, tuple[str, int]]) -> Callable[[str, Any], Any] | None:
    """Gives each output that declares a named axis that axis back where the caller had it."""
    if not back:
        return None
    import jax.numpy as jnp

    from ._shapes import declared_position

    dims = {p.name: p.type.dims for p in spec.outputs if p.type is not None}

    def place(name: str, value: Any) -> Any:
        if name not in back:
            return value
        dim, origin = back[name]
        return jnp.moveaxis(value, declared_position(dims[name], dim, value.ndim), origin)

    return place


def build_function(
    graph: nx.MultiDiGraph[str],
    spec: Spec,
    plan: Plan,
    node_impl: Callable[[str, dict[str, Any]], Callable[..., Any]],
    observe: Callable[[str, dict[str, Any], Any], None] | None = None,
    constrain: Callable[[str, str, Any], Any] | None = None,
    before: Callable[[str, dict[str, Any]], None] | None = None,
    convert: Convert | None = None,
) -> Callable[..., tuple[Any, ...]]:
    """The pipeline as ``f(*inputs) -> tuple(outputs)``, inputs in ``spec.inputs`` order.

    ``node_impl(node, data)`` gives the magnitude-level callable of a stage or nested
    pipeline node (called with keyword arguments). ``observe(node, inputs, result)``, if
    given, is called after each node (debug runs and checked runs use it).
    ``constrain(node, port, value)``, if given, may replace each stage output (sharded runs
    use it to pin each intermediate's sharding). ``convert(edge, converter, conversion,
    value)``, if given, converts the value on each edge that has a conversion (the run modes
    that check conversions for overflow use it; see ``typedml._overflow``).
    """
    steps: list[
        tuple[
            str,
            Callable[..., Any],
            list[tuple[str, tuple[str, str], Callable[[Any], Any]]],
            dict[str, Any],
            tuple[str, ...],
            bool,
            Callable[[str, Any], Any] | None,
        ]
    ] = []
    outputs: list[tuple[tuple[str, str], Callable[[Any], Any]]] = []

    def edge_sources(node: str) -> list[tuple[str, tuple[str, str], Callable[[Any], Any]]]:
        found: list[tuple[str, tuple[str, str], Callable[[Any], Any]]] = []
        moves: dict[str, tuple[int, int]] = graph.nodes[node].get("moves") or {}
        for u, v, key, data in graph.in_edges(node, keys=True, data=True):
            ekey: EdgeKey = (u, v, key)
            conversion = plan.conversions.get(ekey)
            conv = converter(conversion, ekey in plan.int_edges)
            if convert is not None and conversion is not None:
                conv = functools.partial(convert, ekey, conv, conversion)
            move = moves.get(data["dst_port"])
            if move is not None:  # the axis the call names, moved to where the stage declares it
                conv = _then_move(conv, *move)
            found.append((data["dst_port"], (u, data["src_port"]), conv))
        return found

    import networkx as nx  # imported on first use (see _graph)

    for node in nx.topological_sort(graph):
        data = graph.nodes[node]
        kind = data["kind"]
        if kind in ("stage", "pipeline"):
            node_spec: Spec = data["spec"]
            steps.append(
                (
                    node,
                    node_impl(node, data),
                    edge_sources(node),
                    dict(data["static"]),
                    tuple(p.name for p in node_spec.outputs),
                    node_spec.output_tuple is not None,
                    _moving_back(node_spec, data.get("moves_out") or {}),
                )
            )
    for port in spec.outputs:
        (source,) = edge_sources(f"output:{port.name}")
        outputs.append((source[1], source[2]))
    input_keys = [(f"input:{p.name}", p.name) for p in spec.inputs]

    def pipeline_fn(*args: Any) -> tuple[Any, ...]:
        values: dict[tuple[str, str], Any] = dict(zip(input_keys, args, strict=False))
        for node, fn, sources, static, out_names, several, back in steps:
            kwargs = {port: conv(values[src]) for port, src, conv in sources}
            if before is not None:
                before(node, kwargs)  # a debug run checks what a stage is given before it runs
            result = fn(**kwargs, **static)
            if observe is not None:
                observe(node, kwargs, result)  # as the body saw and returned them (declared layout)
            outs = list(result) if several else [result]
            for name, value in zip(out_names, outs, strict=False):
                if back is not None:
                    value = back(name, value)
                values[(node, name)] = value if constrain is None else constrain(node, name, value)
        return tuple(conv(values[src]) for src, conv in outputs)

    pipeline_fn.__name__ = spec.name
    pipeline_fn.__qualname__ = spec.qualname
    return pipeline_fn
