"""SARIF output: ranges in characters, rules with descriptions and help URLs, related
locations, a location for every result; and the code titles it uses agree with the errors page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import typedml as tm
from typedml._cli import main
from typedml._codes import TITLES
from typedml._sarif import to_sarif

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r"^## (TM\d{3}) — (.*?) \{#tm\d{3}\}$", re.M)

UNITS = """\
from jaxtyping import Array, Float
import typedml as tm
from typedml import Q


@tm.stage
def to_kelvin(t: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "K"]:
    return t


@tm.stage
def fit(x: Q[Float[Array, "n"], "'x"], y: Q[Float[Array, "n"], "'x"]) -> Q[Float[Array, ""], "'x"]:
    return (x * y).sum()


@tm.pipeline
def p(distance_é: Q[Float[Array, "n"], "m"], t: Q[Float[Array, "n"], "degC"]) -> Q[Float[Array, ""], "m"]:
    return fit(distance_é, to_kelvin(t))
"""


def test_every_documented_code_has_its_title():
    documented = dict(HEADING.findall((ROOT / "docs" / "errors.md").read_text(encoding="utf-8")))
    missing = sorted(set(documented) - set(TITLES))
    assert not missing, (
        f"run `python tests/test_sarif.py --update`, or add to typedml/_codes.py TITLES: {', '.join(f'{c!r}: {documented[c]!r}' for c in missing)}"
    )
    assert {code: TITLES[code] for code in documented} == documented
    assert set(TITLES) <= set(documented)


def test_sarif_carries_ranges_rules_and_related_locations(tmp_path, capsys, monkeypatch):
    path = tmp_path / "units.py"
    path.write_text(UNITS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(path), "--format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    (run,) = log["runs"]
    assert run["columnKind"] == "unicodeCodePoints"
    [rule] = run["tool"]["driver"]["rules"]
    assert rule["id"] == "TM102" and rule["shortDescription"]["text"] == "unit mismatch on an edge"
    assert rule["fullDescription"]["text"].startswith("TM102: unit mismatch on an edge.")
    help_uri = urlparse(rule["helpUri"])
    assert help_uri.scheme == "https" and help_uri.fragment == "tm102"
    [result] = run["results"]
    assert result["ruleId"] == "TM102" and result["level"] == "error"
    lines = UNITS.splitlines()
    call = next(i for i, line in enumerate(lines, 1) if "return fit(" in line)
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == region["endLine"] == call
    assert lines[call - 1][region["startColumn"] - 1 : region["endColumn"] - 1] == "fit(distance_é, to_kelvin(t))"
    related = {r["message"]["text"]: r["physicalLocation"]["region"] for r in result["relatedLocations"]}
    produced = related["to_kelvin declares its result here"]
    assert lines[produced["startLine"] - 1][produced["startColumn"] - 1 : produced["endColumn"] - 1] == (
        'Q[Float[Array, "n"], "K"]'
    )
    bound = related["'x is bound to m here"]  # a column after `é` counts it once
    assert lines[bound["startLine"] - 1][bound["startColumn"] - 1 : bound["endColumn"] - 1] == "distance_é"


def test_every_result_has_a_location_and_levels_follow_severity(tmp_path):
    nowhere = tm.Diagnostic("TM401", "cannot import module 'gone'", None)
    info = tm.Diagnostic("TM410", "not checked", tm.Location(str(tmp_path / "a.py"), 1), severity="info")
    fix = tm.Fix("Replace 'gian' with 'gain'", tm.Location(str(tmp_path / "a.py"), 3, 5, 3, 9), "gain")
    typo = tm.Diagnostic("TM110", "unexpected argument", fix.location, fixes=(fix,))
    log = to_sarif([nowhere, info, typo], str(tmp_path))
    results = log["runs"][0]["results"]
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("file://") for r in results)
    assert [r["level"] for r in results] == ["error", "note", "error"]
    [change] = results[2]["fixes"][0]["artifactChanges"]
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 9},
            "insertedContent": {"text": "gain"},
        }
    ]


def _rewrite_titles() -> None:
    """``python tests/test_sarif.py --update``: rewrite typedml/_codes.py's table from docs/errors.md."""
    documented = HEADING.findall((ROOT / "docs" / "errors.md").read_text(encoding="utf-8"))
    path = ROOT / "typedml" / "_codes.py"
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("TITLES: dict[str, str] = {\n", 1)
    _, tail = rest.split("\n}\n", 1)
    rows = "".join(
        f"    {code!r}: {title!r},\n".replace("'", '"') if '"' not in title else f"    {code!r}: {title!r},\n"
        for code, title in documented
    )
    path.write_text(f"{head}TITLES: dict[str, str] = {{\n{rows}}}\n{tail}", encoding="utf-8")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--update"]:
        _rewrite_titles()
