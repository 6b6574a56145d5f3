"""The ``typedml`` command line, run the way a user runs it: arguments in, text and status out."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from typedml._cli import main

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "examples" / "sensor" / "broken.py"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def test_examples_check_clean_and_broken_example_is_skipped(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "check", "examples/")
    assert status == 0, out
    assert out.strip().splitlines()[-1].startswith("checked 11 pipelines in ")
    assert "skipped 4" in out and "0 errors" in out


def test_broken_example_reports_documented_diagnostics(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "check", "examples/sensor/broken.py", "--no-skip")
    assert status == 1
    call = line_of(BROKEN, "calibrate(raw, gain, offset)")
    ret = line_of(BROKEN, "return tm.stdlib.mean(temps)")
    decl = line_of(BROKEN, 'raw: Q[Float[Array, "c b"], "V"]')
    heads = [line for line in out.splitlines() if not line.startswith(" ")]
    # one root cause (raw declared channel-major), one diagnostic at its declaration
    assert heads[:1] == [
        f"examples/sensor/broken.py:{decl}:10: error[TM105] shape mismatch on edge gain -> calibrate.gain: "
        "`calibrate.channel` is b from raw -> calibrate.raw but c from gain",
    ]
    assert (
        f"    examples/sensor/broken.py:{decl}:10: note: pipeline input 'raw' declares `b` here: is that the mistaken size?"
        in out
    )
    assert (
        f"    examples/sensor/broken.py:{call}:13: note: also on edge offset -> calibrate.offset: "
        "`calibrate.channel` is b from raw -> calibrate.raw but c from offset"
    ) in out
    assert (
        f"    examples/sensor/broken.py:{ret}:12: note: also on edge mean -> output 'return': expected c, found b"
        in out
    )
    assert f"    first used at examples/sensor/broken.py:{call}:13" in out
    assert heads[-1] == "checked 1 pipeline in 1 module: 1 error, 0 warnings"
    # the same text is in the documentation of the command
    docs = (ROOT / "docs" / "reference" / "cli.md").read_text()
    assert heads[0] in docs


def test_json_output_is_the_documented_document(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "check", "examples/sensor/broken.py", "--no-skip", "--format", "json")
    assert status == 1
    doc = json.loads(out)
    assert doc["version"] == 1
    assert doc["pipelines"] == ["examples.sensor.broken:sensor_transposed"]
    assert doc["summary"] == {
        "modules": 1,
        "skipped": 0,
        "not_imported": 0,
        "stopped": 0,
        "pipelines": 1,
        "stages": 0,
        "errors": 1,
        "warnings": 0,
        "exit_code": 1,
    }
    first = doc["diagnostics"][0]
    assert set(first) >= {"code", "severity", "message", "path", "line", "col", "stage", "port", "notes", "hint"}
    assert (first["code"], first["severity"], first["stage"], first["port"]) == ("TM105", "error", "calibrate", "gain")
    assert first["line"] == line_of(BROKEN, 'raw: Q[Float[Array, "c b"], "V"]')  # the declaration at fault
    assert first["path"].endswith("broken.py")


def test_sarif_output(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "check", "examples/sensor/broken.py", "--no-skip", "--format", "sarif")
    assert status == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    (run_,) = log["runs"]
    assert run_["tool"]["driver"]["name"] == "typedml"
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == ["TM105"]
    assert len(run_["results"]) == 1
    loc = run_["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].startswith("file://") and loc["artifactLocation"]["uri"].endswith("broken.py")
    assert loc["region"]["startLine"] == line_of(BROKEN, 'raw: Q[Float[Array, "c b"], "V"]')


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


STAGES = """
    from jaxtyping import Array, Float
    import jax.numpy as jnp
    import typedml as tm
    from typedml import Q

    @tm.stage
    def wrong_width(x: Float[Array, "b 3"]) -> Float[Array, "b 3"]:
        return jnp.concatenate([x, x[:, :1]], axis=1)
"""


def test_stages_option_checks_bodies_of_uncalled_stages(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "cli_stages_mod.py", STAGES)
    status, out, _ = run(capsys, "check", "cli_stages_mod.py")
    assert status == 0 and "checked 0 pipelines" in out  # without --stages, stages alone are not checked
    status, out, _ = run(capsys, "check", "cli_stages_mod.py", "--stages")
    assert status == 1
    assert "cli_stages_mod.py:9:" in out and "error[TM301]" in out and "wrong_width" in out
    assert "declared (b, 3)" in out or "b 3" in out


def test_module_that_fails_to_import_is_TM401_and_status_2(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "cli_bad_import.py", "import typedml\nx = 1\nraise RuntimeError('boom')\n")
    status, out, _ = run(capsys, "check", "cli_bad_import.py")
    assert status == 2
    assert "cli_bad_import.py:3:" in out and "error[TM401]" in out and "boom" in out


def test_usage_problems_exit_2(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, "check", "no_such_file.py")
    assert status == 2 and "no such file, folder or module: 'no_such_file.py'" in err
    status, _, err = run(capsys, "check", "--format", "xml", ".")
    assert status == 2 and "invalid choice" in err


def test_show_formats_and_output_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "show", "tests.fixtures.shapes:nested")
    assert status == 0 and out.startswith('digraph "nested"')
    status, out, _ = run(capsys, "show", "tests.fixtures.shapes:nested", "--format", "mermaid")
    assert status == 0 and out.startswith("flowchart LR")
    target = tmp_path / "p.html"
    status, out, err = run(capsys, "show", "examples/sensor/pipeline.py", "--format", "html", "-o", str(target))
    assert status == 0 and out == "" and f"wrote {target}" in err
    assert target.read_text().startswith("<!DOCTYPE html>")
    status, _, err = run(capsys, "show", "tests.fixtures.shapes")  # several pipelines: must name one
    assert status == 2 and "name one pipeline" in err
    status, _, err = run(capsys, "show", "tests.fixtures.shapes:Fit")
    assert status == 2 and "is not a pipeline or stage" in err


def test_console_script_and_python_m(tmp_path):
    """The installed entry points, in a fresh process (imports included)."""
    exe = Path(sys.executable).with_name("typedml")
    commands = [[sys.executable, "-m", "typedml", "check", "examples/", "--format", "json"]]
    if exe.exists():
        commands.append([str(exe), "check", "examples/", "--format", "json"])
    for command in commands:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["summary"]["errors"] == 0


def test_documented_vscode_problem_matcher_reads_the_output(capsys, monkeypatch):
    import re

    monkeypatch.chdir(ROOT)
    page = (ROOT / "docs" / "howto" / "editors.md").read_text()
    block = page.split("```json\n", 1)[1].split("```", 1)[0]
    matcher = json.loads(block)["tasks"][0]["problemMatcher"]["pattern"]
    pattern = re.compile(matcher["regexp"])
    _, out, _ = run(capsys, "check", "examples/sensor/broken.py", "--no-skip")
    heads = [line for line in out.splitlines() if pattern.match(line)]
    assert len(heads) == 1
    first = pattern.match(heads[0])
    assert first is not None
    assert first[matcher["file"]] == "examples/sensor/broken.py"
    assert int(first[matcher["line"]]) == line_of(BROKEN, 'raw: Q[Float[Array, "c b"], "V"]')
    assert (first[matcher["severity"]], first[matcher["code"]]) == ("error", "TM105")
    # notes, hints and the summary are not taken for diagnostics
    assert all(not pattern.match(line) for line in out.splitlines() if line not in heads)


def test_a_module_that_hangs_or_ends_the_process_is_reported_and_the_rest_checked(capsys, tmp_path, monkeypatch):
    """User code runs in a worker process: a loop or an exit stops that module only (TM402, TM403)."""
    good = textwrap.dedent(
        """
        import jax.numpy as jnp
        from jaxtyping import Array, Float
        import typedml as tm

        @tm.stage
        def double(x: Float[Array, "n"]) -> Float[Array, "n"]:
            return 2 * x

        @tm.pipeline
        def twice(x: Float[Array, "n"]) -> Float[Array, "n"]:
            return double(double(x))
        """
    )
    (tmp_path / "a_hangs.py").write_text("while True:\n    pass\n")
    (tmp_path / "b_exits.py").write_text("import os\nos._exit(3)\n")
    (tmp_path / "c_good.py").write_text(good)
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "check", "a_hangs.py", "b_exits.py", "c_good.py", "--timeout", "3")
    assert status == 2, out  # not everything could be checked: as for a module that does not import
    assert "a_hangs.py:1:1: error[TM402] checking a_hangs.py did not finish within 3 s: stopped" in out
    assert "b_exits.py:1:1: error[TM403] the process checking b_exits.py exited with status 3" in out
    assert out.strip().splitlines()[-1].startswith("checked 1 pipeline in ")
    assert "2 stopped" in out and "2 errors" in out


def test_a_failure_inside_typedml_is_tm403_naming_the_target_and_the_error(capsys) -> None:
    """If checking a module fails in typedml itself, the command line says so for that module
    (TM403, the error, its traceback on standard error) instead of dying or counting it checked."""
    from typedml import _isolate
    from typedml._worker import Request, Worker

    worker = Worker(timeout=30)
    worker._process = _isolate.Worker("tests.isolate_target:fails", timeout=30)  # a handler that fails
    with worker:
        outcome = worker.check(Request("some_module.py", True, False, frozenset(), tuple(sys.path)))
    assert outcome.stopped and outcome.module is None
    (diagnostic,) = outcome.diagnostics
    assert diagnostic.code == "TM403"
    assert diagnostic.message == (
        "checking some_module.py failed inside typedml (ValueError: broken on 'some_module.py'): "
        "nothing in it was checked"
    )
    assert "ValueError: broken on 'some_module.py'" in capsys.readouterr().err  # the traceback


VARIANTS = """
from jaxtyping import Array, Float
import typedml as tm
from typedml import Q

@tm.stage
def speed(d: Q[Float[Array, "n"], "m"], t: Q[Float[Array, "n"], "s"]) -> Q[Float[Array, "n"], "m/s"]:
    return d / t

def make(unit: str):
    @tm.pipeline
    def pace(d: Q[Float[Array, "n"], "m"], t: Q[Float[Array, "n"], unit]) -> Q[Float[Array, "n"], "m/s"]:
        return speed(d, t)
    return pace

PIPELINES = {"ok": make("ms"), "wrong": make("kg")}
VARIANTS = [make("s"), make("h")]
"""


def test_pipelines_held_in_a_module_level_dict_or_list_are_checked(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "cli_variants_mod.py", VARIANTS)
    status, out, _ = run(capsys, "check", "cli_variants_mod.py", "--format", "json")
    document = json.loads(out)
    assert status == 1
    assert document["pipelines"] == [
        "cli_variants_mod:PIPELINES['ok']",
        "cli_variants_mod:PIPELINES['wrong']",
        "cli_variants_mod:VARIANTS[0]",
        "cli_variants_mod:VARIANTS[1]",
    ]
    assert [d["code"] for d in document["diagnostics"]] == ["TM102"]  # the kg variant, and only it
