"""The tutorial, how-to and explanation pages run: their python blocks, in order, as one program
per page, and a ``# -> text`` comment under a line states text that the block prints."""

from __future__ import annotations

import contextlib
import io
import linecache
import re
import sys
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)
EXPECTED = re.compile(r"^\s*# -> (.*)$", re.M)
PAGES = [
    "tutorial.md",
    "howto/debugging.md",
    "howto/units.md",
    "howto/kinds.md",
    "howto/shapes.md",
    "howto/scaling.md",
    "howto/editors.md",
    "howto/notebooks.md",
    "howto/data.md",
    "howto/records.md",
    "howto/host.md",
    "explanation/checking.md",
    "explanation/guarantees.md",
]


def blocks(page: str) -> list[str]:
    return BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_and_prints_what_it_says(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType("__docs__")  # a real module: NamedTuple fields resolve their annotations in it
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    found = blocks(page)
    assert found, f"no python blocks on {page}"
    for i, code in enumerate(found):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{page}[block {i}]", "exec"), namespace)
        printed = out.getvalue()
        for expected in EXPECTED.findall(code):
            assert expected in printed, f"{page} block {i}: {expected!r} not printed; it printed:\n{printed}"


def test_the_marker_is_used():
    assert any(EXPECTED.search(code) for page in PAGES for code in blocks(page))


def test_every_page_is_in_the_site_navigation():
    config = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*([\w/.-]+\.md)\s*$", config, re.M))
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages == listed, f"not in mkdocs.yml nav: {sorted(pages - listed)}; missing files: {sorted(listed - pages)}"


def test_the_readme_example_runs_and_prints_what_it_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (code,) = BLOCK.findall((DOCS.parent / "README.md").read_text(encoding="utf-8"))
    # the block's own lines under its name: else linecache looks "README.md" up on sys.path and
    # may find another README (benchmarks/ is on it once a benchmark script is loaded)
    monkeypatch.setitem(linecache.cache, "README.md", (len(code), None, code.splitlines(True), "README.md"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    expected = EXPECTED.findall(code)
    assert expected and all(e in out.getvalue() for e in expected), out.getvalue()
