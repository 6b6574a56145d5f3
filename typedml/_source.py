"""Places in source files: declarations and call arguments, as ranges in characters.

Diagnostics name a call site or a ``def``; an editor wants the exact text to mark (the
argument passed to a port, the annotation that declared a unit). These helpers parse the
file (as ``linecache`` holds it: the text that was run, saved or not) and turn ``ast``
offsets, which count UTF-8 bytes, into 1-based character columns.
"""

from __future__ import annotations

import ast
import functools
import linecache
import os
import re

from ._errors import Location, has_source

__all__ = ["annotation_at", "argument_at", "argument_names_at", "keyword_name_at", "node_range", "silenced"]

_IGNORE = re.compile(r"#\s*typedml:\s*ignore(?:\[([A-Z0-9, ]+)\])?")


def silenced(location: Location, code: str) -> bool:
    """Whether the line at ``location`` says ``# typedml: ignore[CODE]`` (or a bare ``# typedml:
    ignore``). Only Python files are read: code compiled from a page has no such comments."""
    if not (location.path.endswith(".py") and os.path.isfile(location.path)):
        return False
    match = _IGNORE.search(linecache.getline(location.path, location.line))
    if match is None:
        return False
    return match[1] is None or code in {c.strip() for c in match[1].split(",")}


@functools.lru_cache(maxsize=32)
def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def _tree(path: str) -> tuple[ast.Module, list[str]] | None:
    if not has_source(path):
        return None
    lines = linecache.getlines(path)
    if not lines:
        return None
    tree = _parse("".join(lines))
    return None if tree is None else (tree, lines)


def _column(lines: list[str], line: int, offset: int) -> int:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if text.isascii():
        return offset + 1
    return len(text.encode("utf-8")[:offset].decode("utf-8", errors="ignore")) + 1


def node_range(path: str, lines: list[str], node: ast.expr | ast.arg | ast.keyword | ast.stmt) -> Location:
    """The range of ``node`` of the file ``path`` (whose text is ``lines``)."""
    start = _column(lines, node.lineno, node.col_offset)
    if node.end_lineno is None or node.end_col_offset is None:
        return Location(path, node.lineno, start)
    return Location(path, node.lineno, start, node.end_lineno, _column(lines, node.end_lineno, node.end_col_offset))


def _def_at(tree: ast.Module, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if first == line or node.lineno == line:
                return node
    return None


def annotation_at(definition: Location, name: str) -> Location | None:
    """The annotation of parameter ``name`` (``"return"``: the return annotation) of the
    function defined at ``definition`` (its ``def`` or first decorator line)."""
    found = _tree(definition.path)
    if found is None:
        return None
    tree, lines = found
    func = _def_at(tree, definition.line)
    if func is None:
        return None
    if name == "return":
        return None if func.returns is None else node_range(definition.path, lines, func.returns)
    args = func.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        if arg.arg == name and arg.annotation is not None:
            return node_range(definition.path, lines, arg.annotation)
    return None


@functools.lru_cache(maxsize=32)
def _calls(tree: ast.Module) -> dict[int, list[ast.Call]]:
    """The calls of ``tree`` by their first line (one walk per parsed file)."""
    index: dict[int, list[ast.Call]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            index.setdefault(node.lineno, []).append(node)
    return index


def _call_at(call: Location) -> tuple[ast.Call, list[str]] | None:
    found = _tree(call.path)
    if found is None:
        return None
    tree, lines = found
    for node in _calls(tree).get(call.line, ()):
        where = node_range(call.path, lines, node)
        if where.col == call.col and (call.end_line is None or where.end_line == call.end_line):
            return node, lines
    return None


def argument_at(call: Location, params: tuple[str, ...], name: str) -> Location | None:
    """The argument passed to parameter ``name`` by the call at ``call`` (a call's range),
    given the callee's parameters in order; None when it is not written there."""
    found = _call_at(call)
    if found is None:
        return None
    node, lines = found
    for keyword in node.keywords:
        if keyword.arg == name:
            return node_range(call.path, lines, keyword.value)
    if name in params and not any(isinstance(a, ast.Starred) for a in node.args):
        index = params.index(name)
        if index < len(node.args):
            return node_range(call.path, lines, node.args[index])
    return None


def argument_names_at(call: Location, params: tuple[str, ...]) -> dict[str, tuple[str, Location]]:
    """The names written as arguments by the call at ``call``: for each parameter given a bare
    name (``load``) or an attribute (``batch.load``), that name and its range. Parameters given
    any other expression, or a call that unpacks ``*args``/``**kwargs``, are left out."""
    found = _call_at(call)
    if found is None:
        return {}
    node, lines = found
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        return {}
    written: list[tuple[str, ast.expr]] = list(zip(params, node.args, strict=False))
    written += [(k.arg, k.value) for k in node.keywords if k.arg is not None]
    names: dict[str, tuple[str, Location]] = {}
    for param, value in written:
        if isinstance(value, ast.Name):
            names[param] = (value.id, node_range(call.path, lines, value))
        elif isinstance(value, ast.Attribute):
            names[param] = (value.attr, node_range(call.path, lines, value))
    return names


def keyword_name_at(call: Location, name: str) -> Location | None:
    """The name of keyword argument ``name`` in the call at ``call`` (``gian`` in ``gian=x``)."""
    found = _call_at(call)
    if found is None:
        return None
    node, lines = found
    for keyword in node.keywords:
        if keyword.arg == name:
            where = node_range(call.path, lines, keyword)
            return Location(call.path, where.line, where.col, where.line, where.col + len(name))
    return None
