"""Arguments passed in swapped order, told by their names (TM143).

Two parameters of one type (``pred`` and ``target``, both ``kW``) take each other's value and
no unit, kind or shape check can tell. Their names can: a call that passes a value named like
*another* parameter of the callee (``mape(load, pred)``, where ``pred`` is the first
parameter's name) has most likely swapped it. The rule is the exact-name case of Rice et al.,
*Detecting Argument Selection Defects* (OOPSLA 2017): the argument's name (a bare name, or the
attribute of ``batch.pred``) equals the name of a different parameter of the same call, and
that parameter is not given a value of its own name. Similar names (``y_pred`` for ``pred``)
are never compared, so a call whose names merely resemble its parameters is not flagged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import Diagnostic, Location, Related
from ._source import argument_names_at, silenced

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["swapped_arguments"]


def swapped_arguments(graph: nx.MultiDiGraph[str]) -> list[Diagnostic]:
    """TM143 warnings for the stage and pipeline calls of ``graph`` (read from their source)."""
    found: list[Diagnostic] = []
    for _, data in graph.nodes(data=True):
        if data["kind"] not in ("stage", "pipeline") or data.get("invalid"):
            continue
        call: Location | None = data.get("location")
        spec: Any = data.get("spec")
        if call is None or spec is None:
            continue
        params: tuple[str, ...] = tuple(spec.param_order)
        names = argument_names_at(call, params)
        if len(names) < 2:
            continue
        for param, (name, where) in names.items():
            if name == param or name not in names or name not in params:
                continue
            own = names[name][0]
            if own == name:
                continue  # that parameter gets its own name: two values of one name (a re-use)
            if silenced(where, "TM143"):
                continue
            found.append(
                Diagnostic(
                    "TM143",
                    f"{name!r} is passed to parameter {param!r} of {spec.name}(), which has a parameter named "
                    f"{name!r} (given {own!r}): are the arguments swapped?",
                    where,
                    severity="warning",
                    notes=(
                        f"{spec.name}() takes ({', '.join(params)}); this call passes "
                        + ", ".join(f"{p}={names[p][0]}" if p in names else f"{p}=..." for p in params),
                        "the types agree, so only the names tell: a value named like another parameter usually "
                        "belongs to it",
                    ),
                    hint=f"pass {name} to {name} (keywords make the order explicit: {spec.name}({name}={name}, "
                    f"{param}=...)); if the order is meant, add `# typedml: ignore[TM143]` to the line",
                    related=(Related(f"{spec.name}() is defined here", spec.location),),
                    stage=spec.name,
                    port=param,
                )
            )
    return found
