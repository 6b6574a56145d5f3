"""docs/howto/testing.md runs, and docs/reference/testing.md documents the testing modules.

The how-to's ``python`` blocks run in order in one namespace, compiled with the page's own line
numbers (so tracebacks and typedml's locations point into the page). A ``text`` block right
after a ``python`` block is what that block prints.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import typedml.strategies as tms
import typedml.testing as tmt

ROOT = Path(__file__).resolve().parent.parent
HOWTO = ROOT / "docs" / "howto" / "testing.md"
REFERENCE = ROOT / "docs" / "reference" / "testing.md"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks(page: str) -> list[tuple[str, str, int]]:
    """(info string, body, line number of the body's first line) of each fenced block."""
    return [(m[1].strip(), m[2], page.count("\n", 0, m.start(2)) + 1) for m in FENCE.finditer(page)]


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def test_the_howto_runs_and_prints_what_it_shows() -> None:
    page = HOWTO.read_text(encoding="utf-8")
    found = blocks(page)
    namespace: dict[str, object] = {"__name__": "howto_testing"}
    ran = 0
    for i, (info, body, line) in enumerate(found):
        if info != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile("\n" * (line - 1) + body, str(HOWTO), "exec"), namespace)
        ran += 1
        if i + 1 < len(found) and found[i + 1][0] == "text":
            shown = found[i + 1][1]
            assert _normalise(out.getvalue()) == _normalise(shown), f"block at line {line} prints otherwise"
    assert ran >= 8


def reference_targets() -> list[str]:
    return re.findall(r"^::: (typedml\.\w+\.\w+)\s*$", REFERENCE.read_text(encoding="utf-8"), re.M)


def test_the_reference_documents_exactly_the_public_names() -> None:
    public = {f"typedml.strategies.{n}" for n in tms.__all__} | {f"typedml.testing.{n}" for n in tmt.__all__}
    targets = reference_targets()
    assert len(targets) == len(set(targets))
    assert set(targets) == public
    for module in (tms, tmt):
        assert all(hasattr(module, name) for name in module.__all__)
        exposed = {
            n
            for n in vars(module)
            if not n.startswith("_") and getattr(vars(module)[n], "__module__", None) == module.__name__
        }
        assert exposed <= set(module.__all__), f"public but not in __all__: {exposed - set(module.__all__)}"
