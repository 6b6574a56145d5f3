"""Jupyter notebooks as modules, for ``typedml check``: each code cell run in order.

A notebook (``.ipynb``, nbformat 4) is read as JSON; its code cells are compiled one by one
under the name ``<path>#cell<N>`` (``N`` counts every cell from 1, markdown included, as a
notebook's cells are numbered on screen) and run in one module namespace, top to bottom, as
"Run all" would. So a diagnostic's place is the cell and the line in it
(``analysis.ipynb#cell4:3:12``), and its source line is shown as in a file.

IPython syntax that is not Python is not run: a cell that starts with a cell magic (``%%bash``)
is skipped whole; a line magic, a shell escape or a help request (``%time f()``,
``files = !ls``, ``np.mean?``) is replaced by ``pass``, so the cell keeps its lines. A cell or
line that needs the IPython kernel for anything else fails as it would in a plain Python file
(a ``TM401`` naming the cell). ``# typedml: skip-file`` in any code cell skips the notebook.
"""

from __future__ import annotations

import json
import linecache
import re
import sys
import types
from pathlib import Path
from typing import Any, cast

__all__ = ["cell_sources", "import_notebook", "is_notebook", "notebook_cell", "notebook_has_skip_comment"]

_MAGIC_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:[%!]|[\w.,\[\] \t]+=[ \t]*[%!])")
_HELP_LINE = re.compile(r"^(?P<indent>[ \t]*)[^#'\"]*\?\??[ \t]*$")
_SKIP = re.compile(r"^[ \t]*#[ \t]*typedml:[ \t]*skip-file\b", re.M)


def is_notebook(target: str) -> bool:
    return target.endswith(".ipynb")


def cell_sources(path: Path) -> list[tuple[int, str]]:
    """``(cell number, Python source)`` of each code cell, IPython syntax taken out.

    Raises ``ValueError`` when the file is not a notebook (not JSON, or no list of cells).
    """
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not a Jupyter notebook: {err}") from None
    cells: Any = cast("dict[str, Any]", document).get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"{path} is not a Jupyter notebook: no list of cells (nbformat 4)")
    found: list[tuple[int, str]] = []
    for number, cell in enumerate(cast("list[Any]", cells), start=1):
        if not isinstance(cell, dict) or cast("dict[str, Any]", cell).get("cell_type") != "code":
            continue
        source: Any = cast("dict[str, Any]", cell).get("source", "")
        text = "".join(str(s) for s in cast("list[Any]", source)) if isinstance(source, list) else str(source)
        found.append((number, _python(text)))
    return found


def _python(text: str) -> str:
    """A cell's text with its IPython-only lines replaced (line numbers kept)."""
    lines = text.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return "\n".join("# " + line for line in lines) + "\n"  # a cell magic: the cell is not Python
    out: list[str] = []
    for line in lines:
        magic = _MAGIC_LINE.match(line) or _HELP_LINE.match(line)
        out.append(f"{magic['indent']}pass  # IPython: {line.strip()}" if magic else line)
    return "\n".join(out) + "\n"


def notebook_has_skip_comment(path: Path) -> bool:
    try:
        return any(_SKIP.search(source) for _, source in cell_sources(path))
    except (OSError, ValueError):
        return False


def cell_filename(path: Path, number: int) -> str:
    return f"{path}#cell{number}"


_CELL = re.compile(r"^(?P<file>.+\.ipynb)#cell(?P<cell>\d+)$")


def notebook_cell(filename: str) -> tuple[str, int] | None:
    """``(notebook path, cell number)`` of a cell's filename (``a.ipynb#cell4``), else None."""
    found = _CELL.match(filename)
    return (found["file"], int(found["cell"])) if found else None


def import_notebook(path: Path) -> types.ModuleType:
    """Run the notebook's code cells in order in a new module, registered in ``sys.modules``."""
    cells = cell_sources(path)
    name = "_typedml_notebook_" + re.sub(r"\W", "_", str(path.resolve()))
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    try:
        for number, source in cells:
            filename = cell_filename(path, number)
            # registered so tracebacks and diagnostics can show the cell's lines (as for a file)
            linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
            code = compile(source, filename, "exec")
            exec(code, module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module
