"""SARIF 2.1.0, the form code-scanning services (GitHub, GitLab) and SARIF viewers read.

Each diagnostic is a result with its range (1-based lines, columns counted in Unicode code
points, as ``columnKind`` says), its related locations, and its rule: the code, with a short
and a full description and the URL of its documentation. Every result has a location: one
without a place in a file is attached to the file or folder it concerns.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._codes import title
from ._errors import DOCS_URL, Diagnostic, Location
from ._notebook import notebook_cell

__all__ = ["to_sarif"]

_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri()


def _region(loc: Location) -> dict[str, int]:
    region = {"startLine": max(loc.line, 1), "startColumn": max(loc.col, 1)}
    if loc.end_line is not None and loc.end_col is not None:
        region["endLine"] = max(loc.end_line, region["startLine"])
        region["endColumn"] = max(loc.end_col, 1)
    return region


def _physical(loc: Location) -> dict[str, Any]:
    cell = notebook_cell(loc.path)
    if cell is not None:  # a notebook's cell: the file, and where in it as properties (no region
        # of the notebook's JSON text matches a line of a cell)
        place = {"cell": cell[1], "line": loc.line, "column": loc.col}
        return {"physicalLocation": {"artifactLocation": {"uri": _uri(cell[0])}, "properties": place}}
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(loc.path)}, "region": _region(loc)}}


def _rule(code: str, example: Diagnostic) -> dict[str, Any]:
    short = (title(code) or example.message).replace("`", "")
    return {
        "id": code,
        "name": code,
        "shortDescription": {"text": short},
        "fullDescription": {
            "text": f"{code}: {short}. The documentation of this code explains the cause, shows an example and its fix."
        },
        "helpUri": f"{DOCS_URL}errors/#{code.lower()}",
        "help": {"text": f"See {DOCS_URL}errors/#{code.lower()}"},
        "defaultConfiguration": {"level": _LEVEL.get(example.severity, "error")},
    }


def to_sarif(diagnostics: list[Diagnostic], fallback: str = ".") -> dict[str, Any]:
    """A SARIF log of ``diagnostics``; ``fallback`` is the file or folder a diagnostic without a
    location is attached to (the target that was checked)."""
    first: dict[str, Diagnostic] = {}
    for d in diagnostics:
        first.setdefault(d.code, d)
    codes = sorted(first)
    index = {code: i for i, code in enumerate(codes)}
    results: list[dict[str, Any]] = []
    for d in diagnostics:
        text = d.message + "".join(f"\n{note}" for note in d.notes) + (f"\nhint: {d.hint}" if d.hint else "")
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _LEVEL.get(d.severity, "error"),
            "message": {"text": text},
        }
        location: dict[str, Any] = (
            _physical(d.location)
            if d.location is not None
            else {"physicalLocation": {"artifactLocation": {"uri": _uri(fallback)}}}
        )
        logical = [name for name in (d.stage, d.port) if name]
        if logical:
            location["logicalLocations"] = [{"fullyQualifiedName": ".".join(logical)}]
        result["locations"] = [location]
        related = [r for r in d.related if r.location is not None]
        if related:
            result["relatedLocations"] = [
                {"id": i, **_physical(r.location), "message": {"text": r.message}}
                for i, r in enumerate(related)
                if r.location is not None
            ]
        fixes = [f for f in d.fixes if notebook_cell(f.location.path) is None]  # a cell's edit is no file edit
        if fixes:
            result["fixes"] = [
                {
                    "description": {"text": f.title},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": _uri(f.location.path)},
                            "replacements": [
                                {"deletedRegion": _region(f.location), "insertedContent": {"text": f.replacement}}
                            ],
                        }
                    ],
                }
                for f in fixes
            ]
        results.append(result)
    driver = {
        "name": "typedml",
        "informationUri": DOCS_URL,
        "rules": [_rule(code, first[code]) for code in codes],
    }
    return {
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}],
    }
