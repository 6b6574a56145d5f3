"""The VS Code client in editors/vscode: a manifest VS Code accepts and a script that starts
``python -m typedml lsp`` with the options it declares."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parent.parent / "editors" / "vscode"


def test_manifest_declares_the_entry_point_activation_and_settings():
    manifest = json.loads((CLIENT / "package.json").read_text())
    assert (CLIENT / manifest["main"]).is_file()
    assert "onLanguage:python" in manifest["activationEvents"]
    assert manifest["engines"]["vscode"].startswith("^")
    settings = manifest["contributes"]["configuration"]["properties"]
    assert set(settings) == {"typedml.interpreter", "typedml.timeout", "typedml.debounce"}
    assert "vscode-languageclient" in manifest["dependencies"]
    script = (CLIENT / manifest["main"]).read_text()
    assert '"-m", "typedml", "lsp"' in script
    for option in ("--timeout", "--debounce"):
        assert option in script


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_extension_script_parses():
    done = subprocess.run(["node", "--check", str(CLIENT / "extension.js")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
