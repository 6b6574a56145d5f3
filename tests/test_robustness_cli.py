"""The command line under bad modules and bad arguments: exit statuses as documented
(docs/reference/cli.md), typed messages, never a traceback, never a silent pass."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.test_cli import run

ROOT = Path(__file__).resolve().parent.parent

HEAD = """
import sys
from jaxtyping import Array, Float
import typedml as tm
"""


@pytest.mark.parametrize(
    ("body", "line"),
    [
        (  # a stage body that exits the program
            """
            @tm.stage
            def double(x: Float[Array, "n"]) -> Float[Array, "n"]:
                sys.exit(0)

            @tm.pipeline
            def twice(x: Float[Array, "n"]) -> Float[Array, "n"]:
                return double(x)
            """,
            8,
        ),
        (  # a pipeline body that exits the program
            """
            @tm.pipeline
            def twice(x: Float[Array, "n"]) -> Float[Array, "n"]:
                raise SystemExit(0)
            """,
            8,
        ),
    ],
    ids=["stage", "pipeline"],
)
def test_a_body_that_exits_leaves_the_check_incomplete(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, line: int
) -> None:
    (tmp_path / "exits.py").write_text(HEAD + textwrap.dedent(body))
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "check", "exits.py")
    assert status == 2, out  # not 0 (a CI gate would pass) nor 1: the pipeline was not checked
    assert f"exits.py:{line}:1: error[TM403] checking exits:twice raised SystemExit" in out


def test_a_malformed_stage_found_at_import_is_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "malformed.py").write_text(HEAD + '\n@tm.stage\ndef bad(x: Float[Array, "n"]):\n    return x\n')
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "check", "malformed.py")
    assert status == 2, out
    assert "malformed.py:7:1: error[TM005]" in out


def test_show_to_a_path_that_cannot_be_written_is_status_2_with_a_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    target = tmp_path / "no_such_folder" / "x.html"
    status, out, err = run(capsys, "show", "examples/sensor/pipeline.py", "--format", "html", "-o", str(target))
    assert status == 2 and out == ""
    assert f"typedml show: cannot write '{target}'" in err and "Traceback" not in err
    assert not target.exists()


def test_a_stage_that_stages_cannot_check_alone_is_said_not_passed_in_silence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "head.py").write_text(
        HEAD
        + textwrap.dedent(
            """
            @tm.stage
            def head(x: Float[Array, "n"], k: int) -> Float[Array, "n"]:
                return x[:k]  # wrong unless k >= n: found only where a pipeline gives k
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "check", "head.py", "--stages")
    assert "head.py:6:1: info[TM404] stage head:head was not checked on its own" in out, out
    assert "'k' has no default" in out and status == 0  # an info: the exit status is unchanged
    status, out, _ = run(capsys, "check", "head.py")  # without --stages no stage is looked at
    assert "TM404" not in out and status == 0
