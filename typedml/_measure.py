"""``pipeline.cost(**sizes)``: what a pipeline costs, per stage and in total, without data.

Every shape variable of the inputs gets a size; each stage's input shapes come from
evaluating the plan abstractly; each stage is compiled alone and the whole fused pipeline
once, and XLA's own figures are read (:func:`typedml._cost.compile_cost`). The total is the
fused pipeline's own figures, usually less than the sum of the stages (fusion keeps
intermediates out of memory).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax

from ._abstract import abstract_inputs_at
from ._cost import CostReport, StageCost, compile_cost
from ._errors import Diagnostic, InputError, user_location
from ._plan import CheckedPlan
from ._spec import Spec

__all__ = ["abstract_inputs", "pipeline_cost"]


def pipeline_cost(checked: CheckedPlan, sizes: Mapping[str, int]) -> CostReport:
    """Cost of each stage (compiled alone at the shapes it sees) and of the fused whole."""
    if any(d.code != "TM307" for d in checked.report.errors):  # a budget breach is what to look into
        checked.report.raise_for_errors()
    spec = checked.spec
    graph = checked.graph
    owner = f"{spec.name}.cost()"
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InputError(
                Diagnostic(
                    "TM215",
                    f"{owner}: size of axis {name!r} must be a non-negative int, got {size!r}",
                    user_location(),
                    stage=spec.name,
                )
            )
    unused = sorted(set(sizes) - spec.shape_vars)
    if unused:
        raise InputError(
            Diagnostic(
                "TM215",
                f"{owner}: {', '.join(map(repr, unused))} is not an axis of the inputs",
                user_location(),
                notes=(f"axes of the inputs: {', '.join(sorted(spec.shape_vars)) or 'none'}",),
                stage=spec.name,
            )
        )
    inputs = abstract_inputs(spec, sizes, owner)
    seen: dict[str, dict[str, Any]] = {}

    def record(node: str, kwargs: dict[str, Any], result: Any) -> None:
        seen[node] = {
            k: jax.ShapeDtypeStruct(v.shape, v.dtype) if hasattr(v, "shape") else v for k, v in kwargs.items()
        }

    names = [p.name for p in spec.inputs]
    traced = checked.function(record)
    whole = checked.function()

    def call_traced(**kw: Any) -> Any:
        return traced(*[kw[n] for n in names])

    def call_whole(**kw: Any) -> Any:
        return whole(*[kw[n] for n in names])

    def stage_fn(node: str) -> Callable[..., Any]:
        data = graph.nodes[node]
        return functools.partial(checked.node_impl(node, data), **data["static"])

    jax.eval_shape(call_traced, **inputs)  # pyright: ignore[reportUnknownMemberType]
    stages: list[StageCost] = []
    for node, kwargs in seen.items():
        stages.append(compile_cost(node, stage_fn(node), kwargs))
    total = compile_cost("total (fused)", call_whole, inputs)
    return CostReport(spec.name, dict(sizes), tuple(stages), total)


def abstract_inputs(spec: Spec, sizes: Mapping[str, int], owner: str) -> dict[str, Any]:
    """Abstract input values of ``spec`` with every shape variable at its size in ``sizes``."""
    try:
        return abstract_inputs_at(spec, sizes)
    except KeyError as err:
        axis = str(err.args[0])
        raise InputError(
            Diagnostic(
                "TM215",
                f"{owner}: no size for axis {axis!r}",
                user_location(),
                hint=f"give every shape variable of the inputs a size, e.g. {axis}=1000",
                stage=spec.name,
            )
        ) from None
    except ValueError:
        pytrees = ", ".join(repr(p.name) for p in spec.inputs if p.type is None)
        raise InputError(
            Diagnostic(
                "TM215",
                f"{owner}: input {pytrees} is a pytree value, whose shapes no size determines",
                user_location(),
                hint="cost() needs array inputs; cost the stages around the pytree in a pipeline of their own",
                stage=spec.name,
            )
        ) from None
