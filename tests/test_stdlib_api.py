"""The stdlib's public surface: ``__all__``, the reference page and the modules agree, every
export is documented, and every stage's body passes typedml's own abstract check."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import typedml as tm
from typedml import stdlib

PAGE = Path(__file__).resolve().parent.parent / "docs" / "reference" / "stdlib.md"
MODULES = ("_summaries", "_sketches", "_preprocessing", "_models", "_metrics", "_units", "_angles")
SECTION = re.compile(r"^## .*\(`(_\w+)`\)$")
ENTRY = re.compile(r"^- `(\w+)` — \S")


def page_entries() -> dict[str, list[str]]:
    """Names listed on the page, by the module its section names."""
    entries: dict[str, list[str]] = {}
    module = None
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if match := SECTION.match(line):
            module = match.group(1)
            entries[module] = []
        elif (match := ENTRY.match(line)) and module is not None:
            entries[module].append(match.group(1))
    return entries


def module_publics(name: str) -> set[str]:
    """Public names a stdlib module defines itself (stages, state types, stage builders)."""
    module = importlib.import_module(f"typedml.stdlib.{name}")
    return {
        attr
        for attr, obj in vars(module).items()
        if not attr.startswith("_") and getattr(obj, "__module__", None) == module.__name__
    }


def test_all_is_sorted_unique_and_importable():
    assert stdlib.__all__ == sorted(set(stdlib.__all__))
    for name in stdlib.__all__:
        assert getattr(stdlib, name) is not None


def test_modules_page_and_all_agree():
    entries = page_entries()
    assert list(entries) == list(MODULES)
    listed = [n for names in entries.values() for n in names]
    assert len(listed) == len(set(listed)), "a name is listed twice on docs/reference/stdlib.md"
    assert set(listed) == set(stdlib.__all__)
    for module in MODULES:
        assert set(entries[module]) == module_publics(module), f"section for {module}"
    public = {n for n in vars(stdlib) if not n.startswith("_")}
    assert public == set(stdlib.__all__)


def test_every_export_has_a_docstring():
    for name in stdlib.__all__:
        assert (inspect.getdoc(getattr(stdlib, name)) or "").strip(), name


def test_stdlib_imports_only_the_public_typedml_api():
    pattern = re.compile(r"^\s*(from typedml\S*|import typedml\S*|from \.\.)", re.M)
    root = Path(stdlib.__file__).resolve().parent
    for path in root.glob("*.py"):
        for line in pattern.findall(path.read_text(encoding="utf-8")):
            assert line in ("import typedml", "from typedml"), f"{path.name}: {line}"


STAGES = [n for n in stdlib.__all__ if isinstance(getattr(stdlib, n), tm.Stage)]
STATIC = {"k": 3, "num_classes": 3, "depth": 2, "width": 8, "precision": 6, "num_perm": 4, "num_bits": 16}
STATIC |= {"num_hashes": 2, "n_test": 2}


@pytest.mark.parametrize("name", STAGES)
def test_stage_body_passes_the_abstract_check(name):
    stage = getattr(stdlib, name)
    static = {p.name: STATIC[p.name] for p in stage.spec.static if p.default is inspect.Parameter.empty}
    report = stage.check(**static)
    assert report.ok, str(report)


def test_reference_example_prints_what_the_page_shows(capsys):
    pytest.importorskip("palmerpenguins")
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```\n\n```text\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    code, expected = blocks[0]
    exec(compile(code, str(PAGE), "exec"), {})
    assert capsys.readouterr().out == expected
