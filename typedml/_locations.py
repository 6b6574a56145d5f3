"""Where things are written in a function's source: its ``def``, a parameter, an annotation, a ``return``.

Every diagnostic names a file, a line and a column; for a stage or a pipeline those come
from here. The source is read with :mod:`inspect` and parsed with :mod:`ast`; a function
whose source cannot be read (built at run time, or compiled under the name of a file whose
text differs, such as a block of a README) keeps the place it was given, never a wrong one.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import tokenize
from collections.abc import Callable
from typing import Any

from ._errors import Location

__all__ = ["annotation_location", "definition_location", "node_location", "param_location", "return_location"]


def definition_location(fn: Callable[..., Any]) -> Location:
    """Where ``fn`` is defined (its first line), or ``<unknown>``."""
    code = getattr(fn, "__code__", None)
    if code is not None:
        return Location(code.co_filename, code.co_firstlineno, 1)
    try:
        path = inspect.getsourcefile(fn) or "<unknown>"
        line = inspect.getsourcelines(fn)[1]
    except (OSError, TypeError, tokenize.TokenError):
        return Location("<unknown>", 0, 1)
    return Location(path, line, 1)


def _parsed(fn: Callable[..., Any]) -> tuple[list[str], int, int, ast.Module] | None:
    """``fn``'s source lines, first line, indent and dedented tree; None where it cannot be read."""
    try:
        lines, start = inspect.getsourcelines(fn)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError, tokenize.TokenError):
        return None
    return lines, start, len(lines[0]) - len(lines[0].lstrip()), tree


def _function(tree: ast.Module) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    return next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None)


def return_location(fn: Callable[..., Any], base: Location) -> Location:
    """Where ``fn`` returns its value (its last ``return`` statement), else ``base``."""
    parsed = _parsed(fn)
    if parsed is None:
        return base
    lines, start, indent, tree = parsed
    returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return) and n.value is not None]
    if not returns:
        return base
    last = max(returns, key=lambda n: (n.lineno, n.col_offset))
    value = last.value
    assert value is not None
    return node_location(base.path, lines, start, indent, value)


def node_location(path: str, lines: list[str], start: int, indent: int, node: ast.AST) -> Location:
    """Where ``node`` (parsed from ``lines`` dedented by ``indent``) is, as a range in characters.

    ``start`` is the file line of ``lines[0]``; ``ast`` offsets are UTF-8 bytes into the
    dedented lines (the dedent is whitespace: as many bytes as characters).
    """

    def column(line: int, offset: int) -> int:
        index = line - 1
        text = lines[index] if 0 <= index < len(lines) else ""
        byte = offset + indent
        return len(text.encode("utf-8")[:byte].decode("utf-8", errors="ignore")) + 1

    line: int = getattr(node, "lineno", 1)
    col = column(line, getattr(node, "col_offset", 0))
    end_line: int | None = getattr(node, "end_lineno", None)
    end_offset: int | None = getattr(node, "end_col_offset", None)
    if end_line is None or end_offset is None:
        return Location(path, start + line - 1, col)
    return Location(path, start + line - 1, col, start + end_line - 1, column(end_line, end_offset))


def annotation_location(fn: Callable[..., Any], name: str) -> Location | None:
    """Where the annotation of parameter ``name`` (``"return"``: the return annotation) is written.

    The place a related location points to: the declaration that fixed a unit or a size.
    None when the source cannot be read or the parameter has no annotation.
    """
    parsed = _parsed(fn)
    func = None if parsed is None else _function(parsed[3])
    if parsed is None or func is None:
        return None
    lines, start, indent, _ = parsed
    path = definition_location(fn).path
    if name == "return":
        return None if func.returns is None else node_location(path, lines, start, indent, func.returns)
    args = func.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        if arg.arg == name and arg.annotation is not None:
            return node_location(path, lines, start, indent, arg.annotation)
    return None


def param_location(fn: Callable[..., Any], base: Location, name: str) -> Location:
    """Where parameter ``name`` (or the return annotation, or the ``def``) is written, else ``base``."""
    parsed = _parsed(fn)
    func = None if parsed is None else _function(parsed[3])
    if parsed is None or func is None:
        return base
    lines, start, indent, _ = parsed
    node: ast.AST = func
    if name == "return":
        node = func.returns or func
    else:
        args = func.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None and arg.arg == name:
                node = arg
                break
    if node is func:  # the `def` line: the name, not the whole function
        where = node_location(base.path, lines, start, indent, func)
        return Location(base.path, where.line, where.col)
    return node_location(base.path, lines, start, indent, node)
