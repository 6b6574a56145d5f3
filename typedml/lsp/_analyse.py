"""What the language server's worker computes for one file: diagnostics and the values of
each pipeline body, as JSON-ready data (no pygls here: this runs in the worker process).

Built on the public API only: :func:`typedml.check_source` and each checked pipeline's
``graph`` (its node and edge attributes are documented in ``docs/reference/graph.md``). A value
of a pipeline body is a pipeline input or an output of a stage call; the body's syntax tree
says which names hold which values, by matching each call's position with the call site the
graph recorded.
"""

from __future__ import annotations

import ast
import time
from typing import Any

import typedml as tm

__all__ = ["analyse"]

_COMMON = frozenset(
    "bfloat16 float16 float32 float64 int8 int16 int32 int64 uint8 uint32 bool complex64 complex128".split()
)
Range = tuple[int, int, int, int]  # 0-based line, character (code point) start and end


def analyse(request: dict[str, Any]) -> dict[str, Any]:
    """Check ``request["text"]`` as the file ``request["path"]``; diagnostics and values."""
    start = time.perf_counter()
    text: str = request["text"]
    report = tm.check_source(text, request["path"], skip=bool(request.get("skip", True)))
    values: list[dict[str, Any]] = []
    try:
        tree: ast.Module | None = ast.parse(text)
    except (SyntaxError, ValueError):
        tree = None
    if tree is not None:
        lines = text.splitlines()
        for pipeline in report.pipelines.values():
            values.extend(_Body(pipeline, tree, lines, report.path).values())
    # a value used many times has one hover text: sent once, values refer to it by index
    hovers: dict[str, int] = {}
    for value in values:
        value["hover"] = hovers.setdefault(value["hover"], len(hovers))
    return {
        "path": report.path,
        "diagnostics": [d.to_dict() for d in report.diagnostics],
        "values": values,
        "hovers": list(hovers),
        "pipelines": sorted(report.pipelines),
        "stages": sorted(report.stages),
        "seconds": time.perf_counter() - start,
    }


def _columns(line: str, offset: int) -> int:
    """A UTF-8 byte offset of ``ast`` as a character index."""
    return offset if line.isascii() else len(line.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))


def _span(lines: list[str], node: ast.AST, length: int | None = None) -> Range:
    line = getattr(node, "lineno", 1) - 1
    text = lines[line] if line < len(lines) else ""
    start = _columns(text, getattr(node, "col_offset", 0))
    if length is not None:
        return (line, start, line, start + length)
    end_line = (getattr(node, "end_lineno", None) or line + 1) - 1
    end_text = lines[end_line] if end_line < len(lines) else ""
    return (line, start, end_line, _columns(end_text, getattr(node, "end_col_offset", 0) or 0))


class _Body:
    """The values of one pipeline's body: where each is written, and what it is."""

    def __init__(self, pipeline: tm.Pipeline[..., Any], tree: ast.Module, lines: list[str], path: str) -> None:
        self.pipeline = pipeline
        self.graph = pipeline.graph
        self.lines = lines
        self.path = path
        code = pipeline.fn.__code__
        self.func = next(
            (
                n
                for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                and n.name == pipeline.fn.__name__
                and code.co_firstlineno in (n.lineno, *(d.lineno for d in n.decorator_list))
            ),
            None,
        )
        self.described: dict[tuple[str, str], dict[str, str]] = {}
        # the graph's call sites, by (line, character) of the call expression
        self.calls: dict[tuple[int, int], str] = {}
        for node, data in self.graph.nodes(data=True):
            loc: tm.Location | None = data.get("location")
            if data["kind"] in ("stage", "pipeline") and loc is not None and loc.path == path:
                self.calls[(loc.line - 1, loc.col - 1)] = node

    def values(self) -> list[dict[str, Any]]:
        func = self.func
        if func is None:
            return []
        out: list[dict[str, Any]] = []
        bound: dict[str, list[tuple[int, str, str | None]]] = {}  # name -> [(line, node, port|None)]
        args = func.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            node = f"input:{arg.arg}"
            if node in self.graph:
                bound.setdefault(arg.arg, []).append((arg.lineno, node, arg.arg))
                out.append(self._value(arg.arg, node, arg.arg, _span(self.lines, arg, len(arg.arg)), "input"))
        for statement in func.body:
            for sub in ast.walk(statement):
                if isinstance(sub, ast.Call):
                    self._call(sub, out)
                if isinstance(sub, ast.Assign | ast.AnnAssign) and isinstance(sub.value, ast.Call):
                    targets: list[ast.expr] = list(sub.targets) if isinstance(sub, ast.Assign) else [sub.target]
                    self._assign(sub.value, targets, bound, out)
        for sub in ast.walk(func):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id in bound:
                where = self._binding(bound[sub.id], sub.lineno)
                if where is not None:
                    node, port = where
                    out.append(self._value(sub.id, node, port, _span(self.lines, sub), "use"))
            elif (
                isinstance(sub, ast.Attribute)
                and isinstance(sub.value, ast.Name)
                and isinstance(sub.ctx, ast.Load)
                and sub.value.id in bound
            ):
                where = self._binding(bound[sub.value.id], sub.lineno)
                if where is not None and where[1] is None and self._has_output(where[0], sub.attr):
                    out.append(
                        self._value(f"{sub.value.id}.{sub.attr}", where[0], sub.attr, _span(self.lines, sub), "use")
                    )
        return out

    @staticmethod
    def _binding(entries: list[tuple[int, str, str | None]], line: int) -> tuple[str, str | None] | None:
        before = [e for e in entries if e[0] <= line]
        if not before:
            return None
        _, node, port = max(before, key=lambda e: e[0])
        return node, port

    def _has_output(self, node: str, port: str) -> bool:
        spec = self.graph.nodes[node].get("spec")
        return spec is not None and any(p.name == port for p in spec.outputs)

    def _node_of(self, call: ast.Call) -> str | None:
        line, start, _, _ = _span(self.lines, call)
        return self.calls.get((line, start))

    def _call(self, call: ast.Call, out: list[dict[str, Any]]) -> None:
        """Hovering the name of a called stage shows what the call produces."""
        node = self._node_of(call)
        if node is None:
            return
        func = call.func
        name_node: ast.AST = func
        length: int | None = None
        if isinstance(func, ast.Attribute):  # tm.stdlib.mean(...): the last name
            name_node = func
            end = _span(self.lines, func)
            out.append(self._call_value(node, (end[2], end[3] - len(func.attr), end[2], end[3])))
            return
        out.append(self._call_value(node, _span(self.lines, name_node, length)))

    def _assign(
        self,
        call: ast.Call,
        targets: list[ast.expr],
        bound: dict[str, list[tuple[int, str, str | None]]],
        out: list[dict[str, Any]],
    ) -> None:
        node = self._node_of(call)
        if node is None:
            return
        spec = self.graph.nodes[node]["spec"]
        outputs = [p.name for p in spec.outputs]
        several = spec.output_tuple is not None
        for target in targets:
            if isinstance(target, ast.Name):
                port = None if several else outputs[0]
                bound.setdefault(target.id, []).append((target.lineno, node, port))
                out.append(self._value(target.id, node, port, _span(self.lines, target), "assign"))
            elif isinstance(target, ast.Tuple | ast.List) and several and len(target.elts) == len(outputs):
                for element, port in zip(target.elts, outputs, strict=True):
                    if isinstance(element, ast.Name):
                        bound.setdefault(element.id, []).append((element.lineno, node, port))
                        out.append(self._value(element.id, node, port, _span(self.lines, element), "assign"))

    # -- descriptions -------------------------------------------------------------------
    def _call_value(self, node: str, where: Range) -> dict[str, Any]:
        spec = self.graph.nodes[node]["spec"]
        ports = [p.name for p in spec.outputs]
        port = ports[0] if spec.output_tuple is None else None
        return self._value(node, node, port, where, "call")

    def _value(self, name: str, node: str, port: str | None, where: Range, role: str) -> dict[str, Any]:
        data = self.graph.nodes[node]
        if port is None:  # several outputs: a record of values
            spec = data["spec"]
            fields = [self._describe(node, p.name) for p in spec.outputs]
            text = "\n\n".join(f"**{name}.{p.name}**\n\n{f['text']}" for p, f in zip(spec.outputs, fields, strict=True))
            hint = "(" + ", ".join(f"{p.name}: {f['hint']}" for p, f in zip(spec.outputs, fields, strict=True)) + ")"
            source = f"outputs of `{data['name']}`"
            return {
                "name": name,
                "range": where,
                "role": role,
                "hover": f"**{name}** — {source}\n\n{text}",
                "hint": hint,
            }
        described = self._describe(node, port)
        if data["kind"] == "input":
            source = f"input of pipeline `{self.pipeline.spec.name}`"
        else:
            source = f"`{data['name']}`" + ("" if port == "return" else f" output `{port}`")
        return {
            "name": name,
            "range": where,
            "role": role,
            "hover": f"**{name}** — {source}\n\n{described['text']}",
            "hint": described["hint"],
        }

    def _describe(self, node: str, port: str) -> dict[str, str]:
        known = self.described.get((node, port))
        if known is None:  # a value used many times is described once
            known = self.described[(node, port)] = self._description(node, port)
        return known

    def _description(self, node: str, port: str) -> dict[str, str]:
        graph = self.graph
        data = graph.nodes[node]
        declared: Any = data["port"].type if data["kind"] == "input" else None
        if declared is None and data["kind"] != "input":
            declared = next((p.type for p in data["spec"].outputs if p.name == port), None)
        edges = [(v, e) for _, v, e in graph.out_edges(node, data=True) if e["src_port"] == port]
        unit = next((e["unit"] for _, e in edges if e.get("unit") is not None), None)
        if unit is None and declared is not None:
            unit = str(declared.unit) if declared.unit is not None else "no unit"
        shape = next((e["shape"] for _, e in edges if e.get("shape") is not None), None)
        if shape is None and declared is not None:
            shape = f"'{declared.dim_str}'"
        lines: list[str] = []
        if declared is None:
            lines.append("a pytree value (no unit, shape or dtype checked)")
        else:
            common = [d for d in declared.dtypes or () if d in _COMMON]
            dtype = declared.dtype_family + (f" ({', '.join(common)})" if common else "")
            lines.append(f"unit: `{unit}` · shape: `{shape}` · dtype: `{dtype}`")
            contracts = [r.name for r in declared.refinements]
            if contracts:
                lines.append(f"contracts: {', '.join(contracts)}")
            declared_text = f"declared: `{declared.describe()}`"
            lines.append(declared_text)
        for v, e in edges:
            lines.append("- " + self._edge_text(node, port, v, e))
        if not edges:
            lines.append("- not used by any stage or output")
        hint = "" if declared is None else f"{unit} {shape}"
        return {"text": "\n".join(lines), "hint": hint}

    def _edge_text(self, node: str, port: str, target: str, e: dict[str, Any]) -> str:
        dst = self.graph.nodes[target]
        where = f"output `{dst['name']}`" if dst["kind"] == "output" else f"`{target}.{e['dst_port']}`"
        unit, dst_unit = e.get("unit"), e.get("dst_unit")
        conversion = e.get("conversion")
        if conversion is not None:
            scale, offset = conversion
            how = f"{unit} → {dst_unit}, converted ×{scale:g}" + (f" {offset:+g}" if offset else "")
        elif unit is not None:
            how = f"{unit}, no conversion"
        else:
            how = "unit not resolved"
        status = e.get("status", "ok")
        flag = "" if status == "ok" else f" ({status})"
        return f"→ {where}: {how}{flag}"
