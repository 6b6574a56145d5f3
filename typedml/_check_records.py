"""What a pipeline's record inputs are, inferred from how their fields are used.

A record type is written once, with its own unit variables and axis names (the standard
library's ``Scaler``: ``'u``, ``*rest``). Given as a pipeline input next to data in kPa of
shape ``"m d"``, the stage that combines them fixes ``'u`` and ``*rest``: the check runs once
with those left free, and reads what the graph bound them to. Variables no edge fixes stay the
pipeline's own (bound per call). See :func:`infer_record_axes` and :func:`infer_record_units`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._check import _Checker  # pyright: ignore[reportPrivateUsage]
from ._shapes import Dim, Item, Lin, SeqVar, Variadic
from ._spec import Port, Spec
from ._units import UType

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["infer_record_axes", "infer_record_units"]


def infer_record_units(graph: nx.MultiDiGraph[str], spec: Spec) -> dict[str, tuple[UType, str]]:
    """Unit variables that only the pipeline's record inputs carry, bound by how their fields are used.

    A record type is written once with its own unit variables (``Scaler``: ``'u``); given as a
    pipeline input next to data in kPa, the stage that combines them fixes ``'u``. These
    bindings are what the check assumes for the record at build time (only the dimension
    matters: the unit of a call's record converts); a variable no edge fixes stays the
    pipeline's own, bound per call. Returns ``{variable: (unit, edge that fixed it)}``.
    """
    if not spec.records:
        return {}
    record_leaves = {leaf for name, _ in spec.records for leaf in spec.leaf_names(name)}
    plain: set[str] = set()
    carried: set[str] = set()
    for port in spec.inputs:
        unit = port.type.unit if port.type is not None else None
        if unit is not None:
            (carried if port.name in record_leaves else plain).update(unit.var_names)
    infer = frozenset(carried - plain)
    if not infer:
        return {}
    checker = _Checker(graph.copy(), spec, None)
    checker.infer = infer
    checker.run(report_unused=False)
    one = UType(checker.registry.dimensionless)
    solved: dict[str, tuple[UType, str]] = {}
    pending = list(checker.equations)
    progress = True
    while pending and progress:  # one unknown at a time, as the stages' variables are solved
        progress = False
        for ratio, where in list(pending):
            unknown = [(v, e) for v, e in ratio.rigid if v not in solved]
            if len(unknown) > 1:
                continue
            pending.remove((ratio, where))
            progress = True
            if not unknown:
                continue
            var, exp = unknown[0]
            known = UType(ratio.unit)
            for v, e in ratio.rigid:
                if v != var:
                    known = known * (solved[v][0] ** e)
            solved[var] = ((one / known) ** (1 / exp), where)
    return {v: b for v, b in solved.items() if not b[0].rigid}


def infer_record_axes(graph: nx.MultiDiGraph[str], spec: Spec) -> tuple[Spec, nx.MultiDiGraph[str]]:
    """Axes that only the pipeline's record inputs name, bound by how their fields are used.

    The axes of a record type are its own (the standard library's ``Scaler`` is ``"*rest"``);
    given as a pipeline input next to data ``"m d"``, the stage that combines them fixes
    ``*rest`` to ``(d)``. The record's fields are then declared with those axes, in the
    signature the run checks at the boundary (a scaler of 3 features for data of 2 is an
    input error naming the field) and at the graph's input nodes. Axes no edge fixes stay the
    pipeline's own. Returns the signature and the graph, unchanged when nothing is inferred.
    """
    if not spec.records:
        return spec, graph
    record_leaves = {leaf for name, _ in spec.records for leaf in spec.leaf_names(name)}
    plain: set[str] = set()
    carried: set[str] = set()
    for port in spec.inputs:
        if port.type is not None:
            (carried if port.name in record_leaves else plain).update(port.type.shape_vars)
    free = carried - plain
    if not free:
        return spec, graph
    checker = _Checker(graph.copy(), spec, None)
    checker.store.rigid -= free
    checker.run(report_unused=False)
    store = checker.store
    rigid = spec.shape_vars - free
    found: dict[str, list[Lin]] = {}
    for var in free:
        resolved = store.resolve_seq([SeqVar(var)] if var in store.seqs else [Lin.var(var)])
        if resolved in ([SeqVar(var)], [Lin.var(var)]):
            continue
        if all(isinstance(i, Lin) and i.is_affine and set(i.vars()) <= rigid for i in resolved):
            found[var] = [i for i in resolved if isinstance(i, Lin)]
    if not found:
        return spec, graph
    ports: dict[str, Port] = {}
    inputs: list[Port] = []
    for port in spec.inputs:
        t = port.type
        if t is not None and port.name in record_leaves and t.shape_vars & set(found):
            dims = _substituted(t.dims, found)
            port = dataclasses.replace(
                port, type=dataclasses.replace(t, dims=dims, dim_str=" ".join(_item_text(i) for i in dims))
            )
            ports[port.name] = port
        inputs.append(port)
    graph = graph.copy()
    for node, data in graph.nodes(data=True):
        if data["kind"] == "input" and data["name"] in ports:
            data["port"] = ports[data["name"]]
            for _, _, edata in graph.out_edges(node, data=True):
                edata["src_type"] = ports[data["name"]].type
    return dataclasses.replace(spec, inputs=tuple(inputs)), graph


def _substituted(items: tuple[Item, ...], found: Mapping[str, list[Lin]]) -> tuple[Item, ...]:
    out: list[Item] = []
    for item in items:
        if isinstance(item, Variadic) and item.name is not None and item.name in found:
            out.extend(Dim(t, t.render()) for t in found[item.name])
        elif isinstance(item, Dim) and item.term is not None and set(item.term.vars()) & set(found):
            term = item.term.substitute(lambda v: found[v][0] if v in found and len(found[v]) == 1 else None)
            out.append(Dim(term, term.render(), item.broadcast))
        else:
            out.append(item)
    return tuple(out)


def _item_text(item: Item) -> str:
    return item.text
