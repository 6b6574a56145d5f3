"""The how-to pages run: their python blocks, in order, as one program per page."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs" / "howto"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)
PAGES = ["debugging.md"]


def blocks(page: str) -> list[str]:
    return BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_and_prints_what_its_comments_say(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__howto__"}
    found = blocks(page)
    assert found, f"no python blocks on {page}"
    for i, code in enumerate(found):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{page}[block {i}]", "exec"), namespace)
        printed = out.getvalue()
        # comments that show a code and its first word, or a list, state what the block prints
        for expected in re.findall(r"#\s+(TM\d{3} \w+|\['[^\]]*'\]|\[\])", code):
            assert expected in printed, f"{page} block {i}: {expected!r} not printed:\n{printed}"
