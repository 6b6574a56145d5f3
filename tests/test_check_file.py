"""``tm.check_file`` / ``tm.check_source``: one file's stages and pipelines, checked afresh each time."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

import typedml as tm

HEAD = """\
from jaxtyping import Array, Float
import typedml as tm
from typedml import Q
"""

CALIBRATE = """
@tm.stage
def calibrate(raw: Q[Float[Array, "b c"], "mV"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "b c"], "K"]:
    return raw * gain
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_reports_every_pipeline_and_stage_of_the_file(tmp_path):
    path = write(
        tmp_path / "ok.py",
        HEAD
        + CALIBRATE
        + """
@tm.pipeline
def sensor(raw: Q[Float[Array, "b c"], "V"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "b c"], "K"]:
    return calibrate(raw, gain)
""",
    )
    report = tm.check_file(path)
    assert isinstance(report, tm.CheckReport) and isinstance(report, tm.FileReport)
    assert report.ok and report.diagnostics == []
    assert sorted(report.pipelines) == ["sensor"] and sorted(report.stages) == ["calibrate"]
    assert report.path == str(path) and report.module == "ok"
    assert "ok" not in sys.modules  # nothing left behind


def test_ranges_are_in_characters_and_a_misspelt_port_has_a_fix(tmp_path):
    text = (
        HEAD
        + CALIBRATE
        + """
@tm.pipeline
def sensor(raw: Q[Float[Array, "b c"], "V"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "b c"], "K"]:
    é = calibrate(raw, gian=gain)
    return é
"""
    )
    report = tm.check_source(text, tmp_path / "unsaved.py")  # the path need not exist
    by_code = {d.code: d for d in report.diagnostics}
    line = text.splitlines().index("    é = calibrate(raw, gian=gain)") + 1
    typo = by_code["TM110"]
    # `gian` starts at character 24 (byte 25: é is two bytes in UTF-8)
    assert (typo.location.line, typo.location.col, typo.location.end_line, typo.location.end_col) == (
        line,
        24,
        line,
        28,
    )
    assert [(f.title, f.replacement, f.location) for f in typo.fixes] == [
        ("Replace 'gian' with 'gain'", "gain", typo.location)
    ]
    missing = by_code["TM111"]  # the whole call: `calibrate(raw, gian=gain)`
    assert (missing.location.col, missing.location.end_col) == (9, 34)
    assert typo.url.endswith("errors/#tm110")


def test_unit_mismatch_points_at_the_argument_and_at_the_declarations(tmp_path):
    text = (
        HEAD
        + """
@tm.stage
def fit(x: Q[Float[Array, "n"], "'x"], y: Q[Float[Array, "n"], "'x"]) -> Q[Float[Array, ""], "'x"]:
    return (x * y).sum()


@tm.stage
def to_kelvin(t: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "K"]:
    return t


@tm.pipeline
def p(dist: Q[Float[Array, "n"], "m"], temp: Q[Float[Array, "n"], "degC"]) -> Q[Float[Array, ""], "m"]:
    kelvin = to_kelvin(temp)
    return fit(dist, y=kelvin)
"""
    )
    lines = text.splitlines()
    report = tm.check_source(text, tmp_path / "units.py")
    [d] = report.errors
    assert d.code == "TM102"
    call = lines.index("    return fit(dist, y=kelvin)") + 1
    assert (d.location.line, d.location.col, d.location.end_col) == (call, 24, 30)  # `kelvin`
    related = {r.message: r.location for r in d.related}
    produced = related["to_kelvin declares its result here"]
    assert lines[produced.line - 1][produced.col - 1 : produced.end_col - 1] == 'Q[Float[Array, "n"], "K"]'
    port = related["fit.y is declared here"]
    assert lines[port.line - 1][port.col - 1 : port.end_col - 1] == """Q[Float[Array, "n"], "'x"]"""
    bound = related["'x is bound to m here"]
    assert (bound.line, lines[bound.line - 1][bound.col - 1 : bound.end_col - 1]) == (call, "dist")
    assert d.to_dict()["related"][0]["end_col"] == produced.end_col


def test_each_check_sees_the_current_text_of_the_file_and_of_its_siblings(tmp_path):
    package = tmp_path / "proj" / "pkg"
    write(package / "__init__.py", "")
    stages = write(package / "stages.py", HEAD + CALIBRATE.replace('"K/mV"', '"K/mV"'))
    main = write(
        package / "main.py",
        HEAD
        + """
from .stages import calibrate


@tm.pipeline
def sensor(raw: Q[Float[Array, "b c"], "V"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "b c"], "K"]:
    return calibrate(raw, gain)
""",
    )
    assert tm.check_file(main).ok
    assert tm.check_file(main).module == "pkg.main"
    # an edit of the sibling of the same size, with the same modification time: a cached
    # .pyc would be trusted by Python's import system
    before = os.stat(stages)
    edited = stages.read_text().replace('"K/mV"]', '"m/mV"]')
    assert len(edited) == len(stages.read_text())
    stages.write_text(edited)
    os.utime(stages, ns=(before.st_atime_ns, before.st_mtime_ns))
    report = tm.check_file(main)
    assert [d.code for d in report.errors] == ["TM102"]
    assert not [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]


def test_a_module_already_imported_by_the_caller_is_left_as_it_was(tmp_path, monkeypatch):
    path = write(tmp_path / "mine.py", HEAD + CALIBRATE + "\nVALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import mine  # type: ignore[import-not-found]

    try:
        write(path, HEAD + CALIBRATE + "\nVALUE = 2\n")
        assert tm.check_file(path).ok
        assert sys.modules["mine"] is mine and mine.VALUE == 1
    finally:
        sys.modules.pop("mine", None)


def test_a_file_that_fails_to_import_is_TM401_at_its_line(tmp_path):
    report = tm.check_source("import math\n\nraise RuntimeError('boom')\n", tmp_path / "bad.py")
    [d] = report.diagnostics
    assert d.code == "TM401" and d.location is not None and d.location.line == 3
    assert "boom" in d.message
    syntax = tm.check_source("def f(:\n    pass\n", tmp_path / "syntax.py")
    assert [d.code for d in syntax.diagnostics] == ["TM401"]
    missing = tm.check_file(tmp_path / "nowhere.py")
    assert [d.code for d in missing.diagnostics] == ["TM401"] and "cannot read" in missing.diagnostics[0].message


def test_a_malformed_stage_keeps_its_own_diagnostic(tmp_path):
    report = tm.check_source(
        HEAD + '\n@tm.stage\ndef f(x: Q[Float[Array, "n"], "parsec/fortnightz"]) -> Float[Array, "n"]:\n    return x\n',
        tmp_path / "malformed.py",
    )
    [d] = report.errors
    assert d.code == "TM001" and "fortnightz" in d.message and d.location is not None and d.location.line == 6


@pytest.mark.parametrize(
    ("text", "line"),
    [("# typedml: skip-file\nimport sys\n", 1), ("import sys\n__typedml_exclude__ = True\n", 1)],
)
def test_a_file_marked_not_to_check_says_so(tmp_path, text, line):
    report = tm.check_source(text, tmp_path / "marked.py")
    assert report.skipped and report.ok
    [d] = report.infos
    assert d.code == "TM410" and d.location is not None and d.location.line == line
    assert not tm.check_source(text, tmp_path / "marked.py", skip=False).skipped


def test_output_of_user_code_does_not_reach_stdout(tmp_path, capsys):
    tm.check_source("print('hello from the module')\n", tmp_path / "chatty.py")
    captured = capsys.readouterr()
    assert captured.out == "" and "hello from the module" in captured.err


def test_nothing_of_a_checked_file_is_kept_alive(tmp_path):
    # an editor checks the same file thousands of times: caches must not keep old modules
    import gc
    import weakref

    text = (
        HEAD
        + CALIBRATE
        + """
@tm.pipeline
def sensor(raw: Q[Float[Array, "b c"], "V"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "b c"], "K"]:
    return calibrate(raw, gain)
"""
    )
    refs = []
    for i in range(3):
        report = tm.check_source(text + f"# edit {i}\n", tmp_path / "often.py")
        assert report.ok
        refs.append(weakref.ref(report.stages["calibrate"].fn))
        del report
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_the_wheel_lists_every_package_of_typedml():
    # packages are listed by hand in pyproject.toml (typedml/stdlib is a symbolic link):
    # a subpackage missing there is missing from `pip install .`
    import tomllib

    root = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(Path(folder).relative_to(root).parts)
        for folder, _, files in os.walk(root / "typedml", followlinks=True)  # typedml/stdlib is a link
        if "__init__.py" in files
    }
    assert listed == found
