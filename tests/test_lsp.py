"""``typedml lsp`` driven over stdio as an editor drives it: open, change, save, hover, inlay
hints, quick fix, shutdown; and a module that loops forever does not hang the server."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("pygls")

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from tests.lsp_client import LspClient
from typedml.lsp._server import to_lsp

GOOD = """\
from jaxtyping import Array, Float
import typedml as tm
from typedml import Q


@tm.stage
def calibrate(raw: Q[Float[Array, "b c"], "mV"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "b c"], "K"]:
    return raw * gain


@tm.pipeline
def sensor(raw: Q[Float[Array, "b c"], "V", tm.Positive], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "c"], "degC"]:
    temps = calibrate(raw, gain)
    return tm.stdlib.mean(temps)
"""
TYPO = GOOD.replace("calibrate(raw, gain)", "calibrate(raw, gian=gain)")
LOOP = "import time\n\nwhile True:\n    time.sleep(0.01)\n"


def line_of(text: str, needle: str) -> tuple[int, int]:
    """0-based line and character of ``needle`` in ``text``."""
    for i, line in enumerate(text.splitlines()):
        if needle in line:
            return i, line.index(needle)
    raise AssertionError(needle)


@pytest.fixture
def client(tmp_path):
    log = (tmp_path / "server.log").open("w")
    lsp = LspClient("--timeout", "4", "--debounce", "0.05", cwd=str(tmp_path), stderr=log)
    try:
        yield lsp
    finally:
        lsp.kill()
        log.close()


def test_an_editor_session(client, tmp_path):
    result = client.initialize(tmp_path)
    capabilities = result["capabilities"]
    assert capabilities["hoverProvider"] and capabilities["inlayHintProvider"]
    assert "quickfix" in capabilities["codeActionProvider"]["codeActionKinds"]

    # open: the misspelt port is reported on its name, with the missing one on the call
    path = tmp_path / "sensor.py"
    path.write_text(TYPO)
    uri = client.open(path, TYPO)
    diagnostics = client.wait_diagnostics(uri)
    by_code = {d["code"]: d for d in diagnostics}
    assert {"TM110", "TM111"} <= set(by_code)
    typo = by_code["TM110"]
    line, char = line_of(TYPO, "gian=")
    assert typo["range"] == {"start": {"line": line, "character": char}, "end": {"line": line, "character": char + 4}}
    assert typo["severity"] == 1 and typo["source"] == "typedml"
    assert typo["codeDescription"]["href"].endswith("errors/#tm110")
    assert "did you mean 'gain'?" in typo["message"]

    # the quick fix replaces the name
    [action] = client.code_actions(uri, typo)
    assert action["title"] == "Replace 'gian' with 'gain'" and action["kind"] == "quickfix"
    [edit] = action["edit"]["changes"][uri]
    assert edit == {"range": typo["range"], "newText": "gain"}

    # a change (debounced) that applies the fix clears them
    client.change(uri, GOOD, version=2)
    assert client.wait_diagnostics(uri) == []

    # hover on a value of the pipeline body: unit, shape, dtype, its edges and their conversions
    line, char = line_of(GOOD, "raw, gain)")
    hover = client.hover(uri, line, char + 1)
    text = hover["contents"]["value"]
    assert "**raw** — input of pipeline `sensor`" in text
    assert "unit: `V` · shape: `(b, c)` · dtype: `Float (bfloat16, float16, float32, float64)`" in text
    assert "contracts: Positive" in text
    assert "→ `calibrate.raw`: V → mV, converted ×1000" in text
    assert hover["range"] == {"start": {"line": line, "character": char}, "end": {"line": line, "character": char + 3}}
    line, char = line_of(GOOD, "temps =")
    assert "→ `mean.x`: K, no conversion" in client.hover(uri, line, char)["contents"]["value"]
    line, char = line_of(GOOD, "mean(temps")
    assert "unit: `K` · shape: `(c)`" in client.hover(uri, line, char + 2)["contents"]["value"]
    assert client.hover(uri, 0, 0) is None  # not a value of a pipeline body

    # inlay hints: the resolved unit and shape of each value assigned in a pipeline body
    hints = client.inlay_hints(uri, len(GOOD.splitlines()))
    line, char = line_of(GOOD, "temps =")
    assert [(h["position"], h["label"]) for h in hints] == [
        ({"line": line, "character": char + len("temps")}, ": K (b, c)")
    ]

    # save: checked again (the text on disk now has a unit error)
    bad = GOOD.replace('"K/mV"]) -> Q[Float[Array, "c"], "degC"]', '"m"]) -> Q[Float[Array, "c"], "degC"]')
    assert bad != GOOD
    client.change(uri, bad, version=3)
    client.save(uri)
    diagnostics = client.wait_diagnostics(uri)
    [unit] = [d for d in diagnostics if d["code"] == "TM102"]
    line, char = line_of(bad, "raw, gain)")
    assert unit["range"]["start"] == {"line": line, "character": char + 5}  # the argument `gain`
    related = {r["message"]: r for r in unit["relatedInformation"]}
    assert related["pipeline input 'gain' is declared here"]["location"]["uri"] == uri

    assert client.shutdown() == 0


def test_a_module_that_loops_forever_or_exits_does_not_hang_the_server(client, tmp_path):
    client.initialize(tmp_path)
    good = client.open(tmp_path / "good.py", GOOD)
    assert client.wait_diagnostics(good) == []
    start = time.monotonic()
    looping = client.open(tmp_path / "looping.py", LOOP)
    [diagnostic] = client.wait_diagnostics(looping, timeout=60)
    assert diagnostic["code"] == "TM411" and "longer than 4 s" in diagnostic["message"]
    assert time.monotonic() - start < 30
    # still serving, and checking with a fresh worker
    line, char = line_of(GOOD, "temps =")
    assert "**temps**" in client.hover(good, line, char)["contents"]["value"]
    client.change(good, TYPO, version=2)
    assert {"TM110", "TM111"} <= {d["code"] for d in client.wait_diagnostics(good)}
    # a module that exits the interpreter
    exits = client.open(tmp_path / "exits.py", "import os\nos._exit(3)\n")
    [diagnostic] = client.wait_diagnostics(exits)
    assert diagnostic["code"] == "TM412" and "status 3" in diagnostic["message"]
    client.change(good, GOOD, version=3)
    assert client.wait_diagnostics(good) == []
    assert client.shutdown() == 0


def test_ranges_are_sent_in_the_clients_units():
    # an emoji is one character in Python, two UTF-16 code units in the editor
    line = 'x = f("😋", gian=1)'
    item = {
        "code": "TM110",
        "severity": "error",
        "message": "m",
        "path": "/p.py",
        "line": 1,
        "col": line.index("gian") + 1,
        "end_line": 1,
        "end_col": line.index("gian") + 5,
        "url": "u",
    }
    utf16 = to_lsp(item, "/p.py", [line], PositionCodec(types.PositionEncodingKind.Utf16))
    assert (utf16.range.start.character, utf16.range.end.character) == (line.index("gian") + 1, line.index("gian") + 5)
    utf32 = to_lsp(item, "/p.py", [line], PositionCodec(types.PositionEncodingKind.Utf32))
    assert utf32.range.start.character == line.index("gian")


def test_the_extra_is_named_when_pygls_is_missing(monkeypatch, capsys):
    import builtins

    from typedml.lsp import main

    real = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "pygls":
            raise ImportError("No module named 'pygls'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    assert main([]) == 2
    assert "pip install 'typedml[lsp]'" in capsys.readouterr().err
