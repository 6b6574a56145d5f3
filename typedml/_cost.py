"""What code costs, from XLA's own analysis of the compiled code, without data.

:func:`compile_cost` compiles a function at abstract shapes and reads XLA's cost analysis
(FLOPs, bytes accessed) and memory analysis (arguments + outputs + temporaries: the peak
memory of the function when it runs alone). ``pipeline.cost(...)`` (``typedml._measure``)
reports it per stage and for the fused whole.

A stage may declare a :class:`Budget`, ``@tm.stage(budget=tm.Budget(per="n",
bytes_per_item=64))``; ``check()`` compiles it at a sample size and reports a breach (TM307).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import jax

from ._abstract import abstract_inputs_at
from ._errors import Diagnostic, TypedMLError
from ._spec import Spec

__all__ = ["Budget", "CostReport", "StageCost", "check_budget", "compile_cost", "si"]


@dataclasses.dataclass(frozen=True)
class Budget:
    """A stage's cost ceiling per item of axis ``per``: bytes of peak memory and/or FLOPs.

    Checked by ``check()``: the stage is compiled alone with ``per`` at ``size``, the other
    axes at their sizes in ``at`` (default: ``size`` too), and its cost divided by ``size``.
    """

    per: str
    bytes_per_item: float | None = None
    flops_per_item: float | None = None
    size: int = 1024
    at: Mapping[str, int] = dataclasses.field(default_factory=dict[str, int])

    def sizes(self, axes: set[str]) -> dict[str, int]:
        """The size of every axis in ``axes`` for the check."""
        return {name: self.at.get(name, self.size) if name != self.per else self.size for name in axes}


@dataclasses.dataclass(frozen=True)
class StageCost:
    """XLA's figures for one stage compiled alone (or, for the total, the fused pipeline)."""

    name: str
    flops: float
    bytes_accessed: float
    peak_bytes: int  # arguments + outputs + temporaries - aliased

    def describe(self) -> str:
        return f"{si(self.flops)}FLOP, {si(self.bytes_accessed)}B accessed, {si(self.peak_bytes)}B peak"


@dataclasses.dataclass(frozen=True)
class CostReport:
    """What ``pipeline.cost(**sizes)`` returns: per stage (by node name) and in total."""

    pipeline: str
    sizes: Mapping[str, int]
    stages: tuple[StageCost, ...]
    total: StageCost

    def __getitem__(self, name: str) -> StageCost:
        return next(s for s in self.stages if s.name == name)

    def table(self) -> str:
        rows = [("stage", "FLOPs", "bytes accessed", "peak memory")]
        for s in (*self.stages, self.total):
            rows.append((s.name, si(s.flops), si(s.bytes_accessed) + "B", si(s.peak_bytes) + "B"))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
            for r in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.insert(len(lines) - 1, "  ".join("-" * w for w in widths))
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        return f"cost of {self.pipeline} at {sizes} (XLA, {jax.default_backend()})\n" + "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        from ._display import cost_html

        return cost_html(self, si)


def si(x: float) -> str:
    """``1.23 M``: three significant digits and an SI prefix (then the unit)."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= factor:
            return f"{x / factor:.3g} {prefix}"
    return f"{x:.3g} "


def compile_cost(name: str, fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> StageCost:
    """Compile ``fn(**kwargs)`` (abstract values) and read XLA's cost and memory analysis."""
    compiled = jax.jit(fn).lower(**kwargs).compile()  # pyright: ignore[reportUnknownMemberType]
    analysis: Any = compiled.cost_analysis()
    if isinstance(analysis, list):  # older jax: one dict per computation
        analysis = cast("list[Any]", analysis)
        analysis = analysis[0] if analysis else {}
    figures = cast("Mapping[str, float]", analysis or {})
    memory: Any = compiled.memory_analysis()
    peak = 0
    if memory is not None:
        peak = int(
            memory.argument_size_in_bytes
            + memory.output_size_in_bytes
            + memory.temp_size_in_bytes
            - memory.alias_size_in_bytes
        )
    return StageCost(name, float(figures.get("flops", 0.0)), float(figures.get("bytes accessed", 0.0)), peak)


_budget_costs: dict[tuple[int, tuple[tuple[str, str], ...], tuple[tuple[str, int], ...]], StageCost] = {}


def _budget_cost(stage: Any, static: Mapping[str, Any], budget: Budget) -> StageCost:
    spec: Spec = stage.spec
    sizes = budget.sizes(spec.shape_vars)
    key = (id(stage.fn), tuple(sorted((k, repr(v)) for k, v in static.items())), tuple(sorted(sizes.items())))
    cost = _budget_costs.get(key)
    if cost is None:
        inputs = abstract_inputs_at(spec, sizes)
        cost = compile_cost(spec.name, functools.partial(spec.port_function(stage.fn), **static), inputs)
        _budget_costs[key] = cost
    return cost


def check_budget(stage: Any, static: Mapping[str, Any]) -> list[Diagnostic]:
    """TM307 when a stage with a :class:`Budget` costs more per item than it allows."""
    budget: Budget | None = getattr(stage, "budget", None)
    if budget is None or getattr(stage, "host", False):
        return []
    spec: Spec = stage.spec
    try:
        cost = _budget_cost(stage, static, budget)
    except TypedMLError:
        return []  # the body check reports why it cannot be evaluated
    except Exception as err:  # noqa: BLE001 - a body that fails to compile is the body check's to report
        return [
            Diagnostic(
                "TM307",
                f"budget of stage {spec.name!r} could not be checked: {type(err).__name__}: {err}",
                spec.location,
                severity="warning",
                stage=spec.name,
            )
        ]
    found: list[Diagnostic] = []
    for what, limit, value in (
        ("bytes of peak memory", budget.bytes_per_item, cost.peak_bytes),
        ("FLOPs", budget.flops_per_item, cost.flops),
    ):
        if limit is None:
            continue
        per_item = value / budget.size
        if per_item > limit and not math.isclose(per_item, limit):
            found.append(
                Diagnostic(
                    "TM307",
                    f"stage {spec.name!r} costs {per_item:.4g} {what} per item of {budget.per!r}, "
                    f"over its budget of {limit:.4g}",
                    spec.location,
                    notes=(
                        f"compiled alone (XLA, {jax.default_backend()}) at "
                        + ", ".join(f"{k}={v}" for k, v in sorted(budget.sizes(spec.shape_vars).items()))
                        + f": {cost.describe()}",
                    ),
                    hint="reduce what the body materialises (e.g. an (n, n) intermediate), or raise the budget",
                    stage=spec.name,
                )
            )
    return found
