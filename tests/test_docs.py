"""The docs agree with the code: error codes, the public API, and the error page's examples.

Every program on ``docs/errors.md`` (a ``python title="example.py"`` block) is run as
``example.py`` in a fresh folder; the ``text`` block under it must be what it prints, and each
``diff`` block after it must turn it into a program that prints no diagnostic at all. After a
message changed on purpose, rewrite the shown outputs with::

    python tests/test_docs.py --update
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
import os
import pickle
import re
import runpy
import sys
import tempfile
import traceback
from pathlib import Path

import pytest
from jaxtyping import Array, Float

import typedml

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "typedml"
ERRORS_PAGE = ROOT / "docs" / "errors.md"
API_PAGE = ROOT / "docs" / "reference" / "api.md"

CODE_LITERAL = re.compile(r"""["'](TM\d{3})["']""")
ANCHOR = re.compile(r"\{#(tm\d{3})\}")
CODE_HEADING = re.compile(r"^## (TM\d{3}) — \S.* \{#(tm\d{3})\}$")
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
EXAMPLE_INFO = 'python title="example.py"'


# -- error codes ------------------------------------------------------------------------


def source_codes() -> set[str]:
    """Every ``"TMnnn"`` string literal in the package's own modules."""
    codes: set[str] = set()
    for path in sorted(PACKAGE.glob("*.py")):
        codes.update(CODE_LITERAL.findall(path.read_text(encoding="utf-8")))
    return codes


def documented_codes() -> list[str]:
    return [anchor.upper() for anchor in ANCHOR.findall(ERRORS_PAGE.read_text(encoding="utf-8"))]


def test_the_source_scan_finds_codes() -> None:
    assert len(source_codes()) > 10, "the regex no longer finds the codes in typedml/*.py"


@pytest.mark.parametrize("code", sorted(source_codes()))
def test_code_is_documented(code: str) -> None:
    assert code in documented_codes(), (
        f"{code} is used in typedml/ but has no {{#{code.lower()}}} anchor in docs/errors.md"
    )


def test_no_stale_codes_in_docs() -> None:
    stale = set(documented_codes()) - source_codes()
    assert not stale, f"documented in docs/errors.md but used nowhere in typedml/: {sorted(stale)}"


def test_each_code_is_documented_once_in_order() -> None:
    codes = documented_codes()
    assert len(codes) == len(set(codes)), "a code has several anchors"
    assert codes == sorted(codes)


def test_every_anchor_is_a_code_heading() -> None:
    for line in ERRORS_PAGE.read_text(encoding="utf-8").splitlines():
        if not ANCHOR.search(line):
            continue
        match = CODE_HEADING.match(line)
        assert match is not None, f"anchor outside a '## TMnnn — title {{#tmnnn}}' heading: {line!r}"
        assert match[1].lower() == match[2], f"heading and anchor disagree: {line!r}"


# -- public API -------------------------------------------------------------------------

PUBLIC_MODULES = {"stdlib"}  # submodules that are part of the API (listed in __all__)
ON_DEMAND_MODULES = {
    "lsp",  # the language server: `typedml lsp`, with the `lsp` extra
    "pytest_plugin",
    "strategies",
    "testing",
}  # public submodules imported only when asked for (not in __all__)


def test_all_is_exactly_the_public_names() -> None:
    names = typedml.__all__
    assert len(names) == len(set(names)), "duplicates in typedml.__all__"
    public = {name for name in dir(typedml) if not name.startswith("_")} - ON_DEMAND_MODULES
    modules = {name for name in public if inspect.ismodule(getattr(typedml, name))}
    assert modules <= PUBLIC_MODULES, f"modules exposed without an underscore: {sorted(modules - PUBLIC_MODULES)}"
    assert set(names) == public, (
        f"in __all__ only: {sorted(set(names) - public)}; public but not in __all__: {sorted(public - set(names))}"
    )
    assert isinstance(typedml.__version__, str)


def test_every_name_in_all_is_importable() -> None:
    namespace: dict[str, object] = {}
    exec("from typedml import *", namespace)
    missing = [name for name in typedml.__all__ if name not in namespace]
    assert not missing


def api_page_targets() -> list[str]:
    return re.findall(r"^::: typedml\.(\w+)\s*$", API_PAGE.read_text(encoding="utf-8"), re.M)


@pytest.mark.parametrize("name", typedml.__all__)
def test_name_is_in_the_api_reference(name: str) -> None:
    assert name in api_page_targets(), f"docs/reference/api.md has no '::: typedml.{name}' block"


def test_api_reference_documents_only_public_names() -> None:
    targets = api_page_targets()
    assert len(targets) == len(set(targets))
    assert not set(targets) - set(typedml.__all__)


# -- error classes ----------------------------------------------------------------------

ERROR_BUILTINS: dict[str, type[BaseException]] = {
    "TypedMLError": Exception,
    "StageDefinitionError": TypeError,
    "WiringError": TypeError,
    "BodyError": TypeError,
    "InputError": ValueError,
    "NonFiniteError": FloatingPointError,
    "ContractError": ValueError,
    "DistributedError": RuntimeError,
}


def test_error_table_lists_every_public_error() -> None:
    errors = {
        name
        for name in typedml.__all__
        if isinstance(getattr(typedml, name), type)
        and issubclass(getattr(typedml, name), BaseException)
        and not issubclass(getattr(typedml, name), Warning)
    }
    assert errors == set(ERROR_BUILTINS)


def test_warning_classes_are_public_and_in_the_tree() -> None:
    warnings = {
        name
        for name in typedml.__all__
        if isinstance(getattr(typedml, name), type) and issubclass(getattr(typedml, name), Warning)
    }
    assert warnings == {"TypedMLWarning", "PrecisionWarning", "ConversionWarning"}
    page = ERRORS_PAGE.read_text(encoding="utf-8")
    for name in warnings:
        cls = getattr(typedml, name)
        assert cls.__module__ == "typedml"
        assert issubclass(cls, typedml.TypedMLWarning) and issubclass(cls, UserWarning)
        assert name in page, "the error tree on docs/errors.md"


@pytest.mark.parametrize(("name", "builtin"), ERROR_BUILTINS.items())
def test_error_class(name: str, builtin: type[BaseException]) -> None:
    cls = getattr(typedml, name)
    assert cls.__module__ == "typedml"
    assert issubclass(cls, typedml.TypedMLError)
    assert issubclass(cls, builtin)
    assert f"{name} ({builtin.__name__})" in ERRORS_PAGE.read_text(encoding="utf-8"), "the error tree on docs/errors.md"


@pytest.mark.parametrize("name", ERROR_BUILTINS)
def test_error_pickles(name: str) -> None:
    diagnostic = typedml.Diagnostic(
        "TM102", "unit mismatch", typedml.Location("example.py", 3, 5), notes=("a note",), hint="a hint"
    )
    err = getattr(typedml, name)([diagnostic])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert back.diagnostics == err.diagnostics
    assert str(back) == str(err)


# -- the examples on docs/errors.md ----------------------------------------------------


@dataclasses.dataclass
class Example:
    section: str
    index: int
    source: str
    output: str
    output_span: tuple[int, int]  # where the shown output sits in the page
    fixes: list[str]

    @property
    def id(self) -> str:
        name = self.section if self.section.startswith("TM") else re.sub(r"\W+", "-", self.section.lower())
        return name if self.index == 1 else f"{name}-{self.index}"


def parse_examples(page: str) -> list[Example]:
    examples: list[Example] = []
    pending: Example | None = None  # an example whose output block comes next
    sections = [(m.start(), m[1].split(" — ")[0]) for m in re.finditer(r"^## (.+)$", page, re.M)]
    for fence in FENCE.finditer(page):
        info, body = fence[1].strip(), fence[2]
        section = next((name for start, name in reversed(sections) if start < fence.start()), "intro")
        if pending is not None:
            assert info == "text", f"the example {pending.id} must be followed by a ```text block"
            pending.output, pending.output_span = body, fence.span(2)
            examples.append(pending)
            pending = None
        elif info == EXAMPLE_INFO:
            index = 1 + sum(e.section == section for e in examples)
            pending = Example(section, index, body, "", (0, 0), [])
        elif info == "diff":
            assert examples and examples[-1].section == section, f"a diff in {section} with no example before it"
            examples[-1].fixes.append(body)
    assert pending is None
    return examples


def run_example(source: str) -> str:
    """Run ``source`` as ``example.py`` in a fresh folder; what a terminal would show.

    An exception is shown as Python prints it, with the traceback's frames elided.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "example.py")
        path.write_text(source, encoding="utf-8")
        out = io.StringIO()
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            with contextlib.redirect_stdout(out):
                try:
                    runpy.run_path(str(path), run_name="__main__")
                except Exception as err:
                    print("Traceback (most recent call last):\n  ...")
                    print("".join(traceback.format_exception_only(err)), end="")
        finally:
            os.chdir(cwd)
    return out.getvalue()


def apply_diff(source: str, diff: str) -> str:
    """Apply a hunk of context/``-``/``+`` lines (hunks split by ``@@`` lines) to ``source``."""
    lines = source.splitlines()
    for hunk in re.split(r"^@@.*\n", diff, flags=re.M):
        old: list[str] = []
        new: list[str] = []
        for line in hunk.splitlines():
            tag, text = line[:1], line[1:]
            if tag in ("", " "):
                old.append(text)
                new.append(text)
            elif tag == "-":
                old.append(text)
            elif tag == "+":
                new.append(text)
            else:
                raise AssertionError(f"not a diff line: {line!r}")
        starts = [i for i in range(len(lines) - len(old) + 1) if lines[i : i + len(old)] == old]
        assert len(starts) == 1, f"the diff's old lines occur {len(starts)} times in the example:\n" + "\n".join(old)
        lines[starts[0] : starts[0] + len(old)] = new
    return "\n".join(lines) + "\n"


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


EXAMPLES = parse_examples(ERRORS_PAGE.read_text(encoding="utf-8"))


def test_every_code_has_an_example_showing_it() -> None:
    for code in documented_codes():
        shown = [e for e in EXAMPLES if e.section == code]
        assert shown, f"{code} has no example"
        assert any(f"[{code}]" in e.output for e in shown), f"no example output of {code} shows [{code}]"
        assert all(e.fixes for e in shown), f"an example of {code} has no fix"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_example_prints_what_the_docs_show(example: Example) -> None:
    assert _normalise(run_example(example.source)) == _normalise(example.output), (
        "docs/errors.md shows another output; if the message changed on purpose, run "
        "`python tests/test_docs.py --update`"
    )


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.fixes], ids=lambda e: e.id)
def test_fix_removes_every_diagnostic(example: Example) -> None:
    fixed = example.source
    for diff in example.fixes:
        fixed = apply_diff(fixed, diff)
    output = run_example(fixed)
    assert "Traceback" not in output, output
    assert not re.search(r"(error|warning)\[TM\d{3}\]", output), output


def test_an_example_that_switches_the_registry_leaves_no_trace() -> None:
    """TM213's fix switches the registry in use: later tests must not run under it."""
    import numpy as np
    import pint

    from tests.conftest import global_state_kept

    (example,) = [e for e in parse_examples(ERRORS_PAGE.read_text(encoding="utf-8")) if e.section == "TM213"]
    before = typedml.get_registry()
    with global_state_kept("TM213's fix"):
        assert "Traceback" not in run_example(apply_diff(example.source, example.fixes[0]))
        assert typedml.get_registry() is not before  # the example did switch it
    assert typedml.get_registry() is before

    @typedml.stage
    def total(x: typedml.Q[Float[Array, "n"], "'u"]) -> typedml.Q[Float[Array, ""], "'u"]:
        return x.sum()

    mine = pint.UnitRegistry()
    mine.define("click = [clicks]")
    with pytest.raises(typedml.InputError, match="TM213"):
        total(mine.Quantity(np.array([1.0, 2.0], dtype=np.float32), "click"))


def test_a_definition_on_the_shared_registry_is_refused() -> None:
    import pint

    from tests.conftest import global_state_kept

    with typedml.use_registry(pint.UnitRegistry()) as shared:
        with pytest.raises(AssertionError, match="defined unit 'click', dimension '\\[clicks\\]'"):
            with global_state_kept():
                shared.define("click = [clicks]")
                shared.Unit("mK")  # a prefixed unit pint caches is no definition
        tree = typedml.kinds
        with pytest.raises(AssertionError, match="defined kind 'lever_arm'"):
            with global_state_kept():
                tree.define("lever_arm", parent="length")
        tree._entries.pop("lever_arm")  # pyright: ignore[reportPrivateUsage]


def update_page() -> int:
    """Rewrite every shown output on docs/errors.md with what its example prints now."""
    page = ERRORS_PAGE.read_text(encoding="utf-8")
    changed = 0
    for example in reversed(parse_examples(page)):
        output = run_example(example.source)
        start, end = example.output_span
        if page[start:end] != output:
            page = page[:start] + output + page[end:]
            changed += 1
    ERRORS_PAGE.write_text(page, encoding="utf-8")
    return changed


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        raise SystemExit("usage: python tests/test_docs.py --update")
    print(f"{update_page()} outputs rewritten in {ERRORS_PAGE.relative_to(ROOT)}")
