"""Size checks of the build-time checker: what the wiring check does with shapes beyond
unifying them.

A mixin of the checker in ``typedml._check``: axes named after static parameters and sizes
no input determines (existential, fresh per call), axes a call names (moved into place),
the constraints signatures imply (``t-15`` means ``t >= 15``; multiples), the diagnostics of
each kind of size conflict, and their grouping (one root cause, one diagnostic).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._annotations import ArrayType
from ._check_parts import CheckerPart, EdgeKey
from ._errors import Diagnostic, Location, Related
from ._graph import value_label
from ._shapes import (
    Anon,
    Conflict,
    Lin,
    SeqItem,
    SeqVar,
    ShapeStore,
    SizeConstraint,
    declared_position,
    item_vars,
)
from ._source import annotation_at
from ._spec import Port, Spec, static_sizes

if TYPE_CHECKING:
    pass

__all__ = ["SizeChecks"]

_origin = value_label


class SizeChecks(CheckerPart):
    """The size half of the checker; the checker provides the state and ``_report``/``_where``."""

    spec: Spec
    store: ShapeStore
    seqs: dict[tuple[str, str], list[SeqItem]]
    moved: dict[EdgeKey, list[SeqItem] | None]
    roots: list[tuple[Diagnostic, EdgeKey, tuple[str, ...]]]
    declared: list[tuple[Lin, str, str]]
    carried: list[SizeConstraint]

    def _fix_static_sizes(self, node: str, spec: Spec, static: Mapping[str, Any]) -> None:
        """Axes named like a static ``int`` parameter take the call's value; output axes that no
        input and no static parameter determine are fresh sizes of this call (existential)."""
        inputs = spec.shape_vars
        fixed = static_sizes(spec, static)
        for name, size in fixed.items():
            key = f"{node}.{name}"
            self.store.dims[key] = Lin.fixed(size)
            self.store.origin[key] = f"{node}({name}={size})"
        for port in spec.outputs:
            if port.type is None:
                continue
            for var in sorted(item_vars(port.type.dims) - inputs - set(spec.static_names)):
                key = f"{node}.{var}"
                self.store.rigid.add(key)
                self.store.existential[key] = (
                    f"`{key}` is a fresh size each call of {spec.name} makes (no input determines it)"
                )

    def _axis_moves(self, data: dict[str, Any], spec: Spec, usable: list[tuple[EdgeKey, dict[str, Any]]]) -> None:
        """An axis named at the call site (``mean(temps, axis="b")``) moves to where the stage
        declares the dimension its ``tm.Axis`` parameter stands for; outputs that declare it
        get it back in place. Recorded on the node (``moves``, ``moves_out``) for the run."""
        static: dict[str, Any] = data.get("static") or {}
        moves: dict[str, tuple[int, int]] = {}
        origin: int | None = None
        for param, dim in spec.axis_params.items():
            named = static.get(param)
            if named is None:
                continue
            for ekey, edata in usable:
                dst: ArrayType | None = edata["dst_type"]
                if dst is None or dim not in dst.shape_vars:
                    continue
                src = self.store.resolve_seq(self.seqs.get((ekey[0], edata["src_port"]), []))
                idx = self._find_axis(ekey, edata, param, named, src)
                if idx is None:
                    self.moved[ekey] = None  # reported: no follow-on shape errors downstream
                    data["axis_failed"] = True
                    continue
                target = declared_position(dst.dims, dim, len(src))
                moved = list(src)
                moved.insert(target, moved.pop(idx))
                self.moved[ekey] = moved
                moves[edata["dst_port"]] = (idx, target)
                origin = idx if origin is None else origin
            if origin is not None:
                data["moves_out"] = {
                    port.name: (dim, origin)
                    for port in spec.outputs
                    if port.type is not None and dim in port.type.shape_vars
                }
        data["moves"] = moves

    def _find_axis(
        self, ekey: EdgeKey, edata: dict[str, Any], param: str, named: Any, src: list[SeqItem]
    ) -> int | None:
        """The position in ``src`` of the axis a call names (a pipeline's axis name, or an index)."""
        label = _origin(ekey[0], edata["src_port"])
        call = f"{ekey[1]}({param}={named!r})"
        has = self.store.render_seq(src)
        if any(isinstance(i, SeqVar) for i in src):
            problem = f"{call}: cannot tell where axis {named!r} is in {label}, whose axes are {has}"
        elif isinstance(named, int) and not isinstance(named, bool):
            if -len(src) <= named < len(src):
                return named % len(src)
            problem = f"{call}: {label} has {len(src)} axes {has}, no axis {named}"
        elif isinstance(named, str):
            want = self.store.resolve(Lin.var(named))
            found = [i for i, t in enumerate(src) if isinstance(t, Lin) and self.store.resolve(t) == want]
            if len(found) == 1:
                return found[0]
            problem = (
                f"{call}: {label} has no axis {named!r}; its axes are {has}"
                if not found
                else f"{call}: {label} has several axes {named!r} {has}; name one by position"
            )
        else:
            problem = f"{call}: an axis is named by a string (the pipeline's name for it) or an index"
        self._report(
            ekey,
            edata,
            "TM122",
            problem,
            (f"{ekey[1]} works along the axis its signature declares; the call names which axis of the value that is",),
            hint='name an axis the value has, as the pipeline\'s signature names it (e.g. axis="b" for "b c")',
        )
        return None

    def _group(self) -> None:
        """One root cause, one diagnostic: conflicts between the same independent sizes (a
        mistaken declaration shows on every edge its size reaches) become the first one, located
        at the declaration that caused it, with each edge it affects as a related entry."""
        groups: dict[tuple[str, frozenset[str]], list[tuple[Diagnostic, EdgeKey]]] = {}
        for diag, ekey, keys in self.roots:
            rigid = frozenset(k for k in keys if k in self.store.rigid)
            if len(rigid) < 2:
                continue
            groups.setdefault((diag.code, rigid), []).append((diag, ekey))
        for (_, sizes), members in groups.items():
            if len(members) < 2:
                continue
            first, _ = members[0]
            declared = self._declaration_of(sizes)
            affected = tuple(
                Related(
                    f"also on edge {self._where(ekey, self._edge(ekey))}: {d.message.split(': ', 1)[-1]}", d.location
                )
                for d, ekey in members[1:]
            )
            notes = (
                *first.notes,
                f"one root cause: {' and '.join(sorted(self.store.name(s) for s in sizes))} are independent sizes, "
                f"and {len(members)} edges "
                "need them equal (the others are listed as related)",
                *((f"first used at {first.location}",) if declared is not None and first.location is not None else ()),
            )
            grouped = dataclasses.replace(
                first,
                location=declared[1] if declared is not None else first.location,
                notes=notes,
                related=(*((Related(declared[0], declared[1]),) if declared is not None else ()), *affected),
            )
            dropped = {id(d) for d, _ in members}
            self.diagnostics[:] = [
                grouped if d is first else d for d in self.diagnostics if d is first or id(d) not in dropped
            ]
            for _, ekey in members:
                edata = self._edge(ekey)
                edata["diagnostics"] = [grouped if id(d) in dropped else d for d in edata.get("diagnostics", [])]

    def _edge(self, ekey: EdgeKey) -> dict[str, Any]:
        data: dict[str, Any] = self.graph.edges[ekey]
        return data

    def _declaration_of(self, sizes: frozenset[str]) -> tuple[str, Location] | None:
        """The pipeline input whose declaration most likely caused a conflict between ``sizes``:
        the one declaring the size that fewest inputs use."""
        for key in sorted(sizes):
            if key in self.store.existential:  # made up by a stage: its return annotation
                node = key.split(".")[0]
                data = self.graph.nodes[node] if node in self.graph else {}
                spec: Spec | None = data.get("spec")
                where = annotation_at(spec.location, "return") if spec is not None else None
                if where is not None:
                    return (f"{spec.name if spec else node} makes up `{self.store.name(key)}` here", where)
        uses: dict[str, list[str]] = {}
        for port in self.spec.inputs:
            for var in sorted(port.type.shape_vars if port.type is not None else ()):
                if var in sizes:
                    uses.setdefault(var, []).append(port.name)
        if not uses:
            return None
        var = min(uses, key=lambda v: (len(uses[v]), -max(self.spec.input_names.index(p) for p in uses[v])))
        name = uses[var][-1]
        where = annotation_at(self.spec.location, name)
        if where is None:
            return None
        return (f"pipeline input {name!r} declares `{var}` here: is that the mistaken size?", where)

    def _anonymous_outputs(self, node: str, port: Port, seq: list[SeqItem]) -> None:
        """An anonymous output axis (``-> "_"``) is a size no input determines: fresh per call."""
        assert port.type is not None
        for i, item in enumerate(port.type.dims):
            if isinstance(item, Anon) and i < len(seq) and seq[i] is None:
                key = f"{node}.{port.name}.{i}"
                self.store.rigid.add(key)
                self.store.display[key] = f"{value_label(node, port.name)}[{i}]"
                self.store.existential[key] = (
                    f"axis {i} of {value_label(node, port.name)} is `_`: a size each call of {node} makes, "
                    "equal to no other"
                )
                seq[i] = Lin.var(key)

    def _declare(self, seq: list[SeqItem], port: str, node: str) -> None:
        for item in seq:
            if isinstance(item, Lin) and not item.is_const:
                self.declared.append((item, port, node))

    def _constraints(self) -> None:
        """Sizes each signature implies (``t-15`` means ``t >= 15``): carried to the data boundary
        when they depend on the pipeline's inputs only, errors when they cannot hold."""
        store = self.store
        own = self.spec.shape_vars
        seen: set[str] = set()
        # (declared, resolved, where): every declared term, each variable, each divisibility
        found: list[tuple[SizeConstraint, SizeConstraint, str | None]] = []
        for term, port, node in self.declared:
            c = SizeConstraint(term, None, port)
            found.append((c, SizeConstraint(store.resolve(term), None, port), node))
        for c in store.constraints:
            found.append((c, SizeConstraint(store.resolve(c.term), c.modulus, c.origin), None))
        for key in list(store.dims):  # every shape variable of a stage is a size ("k+rest": rest >= 0)
            c = SizeConstraint(Lin.var(key), None, f"`{key}`")
            found.append((c, SizeConstraint(store.resolve(c.term), None, c.origin), key.split(".")[0]))
        for declared, c, node in found:
            term = c.term
            if c.modulus is None and term.at_least() >= 0:
                continue
            text = c.describe(store.name)
            if text in seen:
                continue
            seen.add(text)
            location = self.graph.nodes[node].get("location") if node is not None and node in self.graph else None
            if term.is_const:
                if not c.holds(term.const):
                    need = declared.describe(store.name)
                    self.diagnostics.append(
                        Diagnostic(
                            "TM121",
                            f"size constraint cannot hold: {c.origin} needs {need}, but the wiring makes "
                            f"{declared.term.render(store.name)} = {term.const}",
                            location or self.spec.location,
                            hint="a fixed size is too small (or not a multiple) for what this stage declares",
                            stage=node,
                        )
                    )
                continue
            if set(term.vars()) <= own:
                self.carried.append(c)
                continue
            if not any(v in store.existential for v in term.vars()):
                continue  # a size the wiring could not relate: its edge is reported unverified already
            self.diagnostics.append(
                Diagnostic(
                    "TM155",
                    f"size constraint {text} (from {c.origin}) cannot be checked before data",
                    location or self.spec.location,
                    severity="warning",
                    notes=tuple(store.existential[v] for v in term.vars() if v in store.existential),
                    hint="name the size after a static parameter, or declare it in the pipeline's signature",
                    stage=node,
                )
            )

    # -- per edge -------------------------------------------------------------------------
    def _shape_problem(
        self,
        ekey: EdgeKey,
        edata: dict[str, Any],
        c: Conflict,
        src: ArrayType,
        dst: ArrayType,
        dst_seq: list[SeqItem],
    ) -> None:
        where = self._where(ekey, edata)
        store = self.store
        src_label = _origin(ekey[0], edata["src_port"])
        notes = [
            f"{src_label} declares {src.dim_str!r}, resolved as {store.render_seq(self.seqs[(ekey[0], edata['src_port'])])}",
            f"{edata['dst_port']} expects {dst.dim_str!r}, resolved as {store.render_seq(dst_seq)}",
        ]
        dst_label = edata["dst_port"] if ekey[1].startswith("output:") else f"{ekey[1]}.{edata['dst_port']}"
        named = c.label or (store.name(c.variable) if c.variable else "")
        if c.variable and c.other_origin and c.found_side:
            came = f"{src_label} gives {c.found} (`{named}` from {c.other_origin}) but {dst_label} expects {c.expected}"
        elif c.variable and c.other_origin:
            came = f"`{named}` is {c.expected} from {c.other_origin} but {c.found} from {src_label}"
        else:
            came = f"expected {c.expected}, found {c.found}"
        made_up = [store.existential[k] for k in c.keys if k in store.existential]
        notes += made_up
        if c.kind == "rank":
            self._report(
                ekey,
                edata,
                "TM104",
                f"rank mismatch on edge {where}: expected {c.expected}, found {c.found}",
                tuple(notes),
                hint="a missing or extra axis (e.g. a batch axis); add or remove it in a stage",
            )
        elif c.kind == "size":
            self._report(
                ekey,
                edata,
                "TM103",
                f"size mismatch on edge {where}: {came}",
                tuple(notes),
                hint="a transposed or mis-sized axis; check the axis order of both ports",
            )
        elif c.kind == "divisibility":
            self._report(
                ekey,
                edata,
                "TM120",
                f"divisibility conflict on edge {where}: {c.detail or came}",
                (f"expected {c.expected}, found {c.found}", *notes),
                hint="a power of a constant fits only sizes that are one: pass such a size, or name the exponent "
                "after a static int parameter"
                if c.detail and "power" in c.detail
                else 'declare the size as a multiple where it enters (e.g. "2*k" in the pipeline\'s signature), '
                "or name it after a static int parameter",
            )
        elif c.kind in ("variable", "fixed"):
            if made_up:
                kind, hint = (
                    "a size no input determines",
                    "nothing proves the two sizes equal; if a static int parameter sets the size, name the "
                    'output axis after it (e.g. -> "n" for a parameter n: int)',
                )
            elif c.kind == "fixed":
                kind, hint = (
                    "fixed vs free",
                    "one port declares a fixed size, the other any size: fix the size where it enters "
                    "(in the pipeline's signature or a static int parameter), or make the port generic",
                )
            else:
                kind, hint = (
                    "",
                    "two axes the signatures say are equal come from different sizes: a transposed axis, "
                    "or one name used for two things",
                )
                notes.append(f"{c.expected} and {c.found} are independent sizes in the pipeline's signature")
            label = f" ({kind})" if kind else ""
            self._report(
                ekey, edata, "TM105", f"shape mismatch{label} on edge {where}: {came}", tuple(notes), hint=hint
            )
            self.roots.append((self.diagnostics[-1], ekey, c.keys))
        elif c.keys:
            self._report(
                ekey,
                edata,
                "TM154",
                f"size relation on edge {where} cannot be decided at build time: {c.expected} = {c.found}?",
                (
                    *notes,
                    f"{c.detail} (TM220 when it does not hold)"
                    if c.detail
                    else "unverified: typedml cannot prove or refute this equality of sizes",
                ),
                severity="warning",
                hint='write both sizes in the same form (e.g. both as "2*k"), or fix one with a static int parameter',
            )
        else:
            self._report(
                ekey,
                edata,
                "TM151",
                f"shape of edge {where} cannot be verified at build time",
                tuple(notes),
                severity="warning",
            )
