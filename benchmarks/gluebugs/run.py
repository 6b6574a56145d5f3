"""Run the glue-bug corpus through typedml and three baselines; print the catch table, write JSON.

Run from the repository root::

    .venv/bin/python benchmarks/gluebugs/run.py                    # every case
    .venv/bin/python benchmarks/gluebugs/run.py --family units     # one family
    .venv/bin/python benchmarks/gluebugs/run.py --json out.json

For typedml, the buggy twin is classified by the first phase that stops it: ``build``
(``StageDefinitionError`` when a decorator runs, or an error diagnostic TM0xx/TM1xx from
``pipeline.check()``), ``body`` (only TM3xx errors from ``check()``), ``warned`` (no error, but
``check()`` warns that something is wrong — a body lint TM160-TM164, a conversion that takes
the radian as the number 1, TM142, arguments named like each other's parameters, TM143, or a
value computed or given and never used, TM152/TM153 —
where the fixed twin gets no such warning), ``run`` (the plain call
with the case's data raises: input checks TM2xx, value contracts TM5xx, or JAX itself),
``converted`` (it runs and returns the fixed twin's numbers: the mismatch was a unit conversion
typedml inserted on an edge) or ``missed`` (it runs and returns a different number). Warnings
that only say a check could not be done (TM150, TM151, TM350) never count. The fixed twin must
pass ``check()`` with no error and no warning that claims a mistake, and run: anything else is
a false alarm. Cases recorded with ``registry="angles"`` run typedml's twins under
``tm.angle_registry()`` (the opt-in registry where angles are a dimension). Baselines are classified ``definition``
(raises while the functions are defined or decorated), ``call`` (raises when run on the data)
or ``missed``; their fixed twins must run too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from beartype import beartype
from jaxtyping import jaxtyped

import typedml as tm

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
from cases import load_all  # noqa: E402

DEFAULT_JSON = HERE.parent / "results" / "gluebugs.json"
TOOLS = ("typedml", "jax", "jaxtyping+beartype", "pint")
BEFORE_DATA = {corpus.BUILD, corpus.BODY, corpus.WARNED, corpus.DEFINITION}
# warnings that say something is wrong (not that a check could not be done)
ALARMS = frozenset({"TM142", "TM143", "TM152", "TM153", "TM160", "TM161", "TM162", "TM163", "TM164"})


def _identity(fn: Any) -> Any:
    return fn


def _checked(fn: Any) -> Any:
    return jaxtyped(typechecker=beartype)(fn)


def _magnitude(out: Any, unit: Any = None) -> list[np.ndarray]:
    """Output(s) as a list of float64 numpy arrays (in `unit` for a single quantity)."""
    outs = out if isinstance(out, tuple | list) else (out,)
    mags = []
    for o in outs:
        if hasattr(o, "magnitude"):
            if unit is not None and len(outs) == 1:
                try:
                    o = o.to(unit)
                except Exception:  # noqa: BLE001  (a different dimension: certainly different numbers)
                    return []
            o = o.magnitude
        mags.append(np.asarray(o, dtype=np.float64))
    return mags


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    if not a or len(a) != len(b):
        return False
    return all(
        x.shape == y.shape and np.allclose(x, y, rtol=1e-4, atol=1e-6, equal_nan=True)
        for x, y in zip(a, b, strict=True)
    )


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "codes", None)
    if code:
        return ",".join(dict.fromkeys(code))
    return type(exc).__name__


def run_typedml(cls: type, fixed: bool) -> dict[str, Any]:
    """One twin through typedml; the verdict and what was reported."""
    if cls.meta.registry == "angles":
        with tm.use_registry(corpus.angle_registry()):
            return _run_typedml(cls, fixed)
    return _run_typedml(cls, fixed)


def _run_typedml(cls: type, fixed: bool) -> dict[str, Any]:
    res: dict[str, Any] = {"warnings": []}
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            pipe, args = cls.typedml(fixed)
        except tm.StageDefinitionError as exc:
            return {**res, "verdict": corpus.BUILD, "codes": _describe(exc)}
        report = pipe.check()
        res["warnings"] = [d.code for d in report.warnings]
        if report.errors:
            codes = [d.code for d in report.errors]
            verdict = corpus.BODY if all(c.startswith("TM3") for c in codes) else corpus.BUILD
            return {**res, "verdict": verdict, "codes": ",".join(dict.fromkeys(codes))}
        try:
            out = pipe(*args)
        except Exception as exc:  # noqa: BLE001  (any exception with data is a run-time catch)
            return {**res, "verdict": corpus.RUN, "codes": _describe(exc), "_exc": exc}
    unit = getattr(out, "units", None)
    return {**res, "verdict": corpus.MISSED, "codes": "", "_out": _magnitude(out), "_unit": unit, "_raw": out}


def run_baseline(cls: type, tool: str, fixed: bool) -> dict[str, Any]:
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            if tool == "pint":
                thunk = cls.pint(fixed)
            else:
                thunk = cls.jax(fixed, _identity if tool == "jax" else _checked)
        except Exception as exc:  # noqa: BLE001
            return {"verdict": corpus.DEFINITION, "codes": _describe(exc), "_exc": exc}
        try:
            out = thunk()
            out = out.block_until_ready() if hasattr(out, "block_until_ready") else out
        except Exception as exc:  # noqa: BLE001
            return {"verdict": corpus.CALL, "codes": _describe(exc), "_exc": exc}
    return {"verdict": corpus.MISSED, "codes": "", "_out": _magnitude(out)}


def run_case(cls: type) -> dict[str, Any]:
    meta = cls.meta
    row: dict[str, Any] = {
        "id": meta.id,
        "family": meta.family,
        "title": meta.title,
        "cite": list(meta.cite),
        "expect": meta.expect,
        "tools": {},
        "false_alarms": [],
        "problems": [],  # harness sanity: a twin that does not behave as the corpus says
    }
    fixed = run_typedml(cls, True)
    buggy = run_typedml(cls, False)
    if fixed["verdict"] != corpus.MISSED:
        row["false_alarms"].append(f"typedml: fixed twin stopped at {fixed['verdict']} ({fixed['codes']})")
    alarms = sorted(set(fixed["warnings"]) & ALARMS)
    if alarms:
        row["false_alarms"].append(f"typedml: fixed twin warned {','.join(alarms)}")
    if buggy["verdict"] == corpus.MISSED and fixed["verdict"] == corpus.MISSED:
        same = _same(_magnitude(buggy["_raw"], fixed["_unit"]), fixed["_out"])
        if same:
            buggy["verdict"] = corpus.CONVERTED
    # warnings the fixed twin does not get: the ones that can point at the mistake
    new_warnings = sorted(set(buggy["warnings"]) - set(fixed["warnings"]))
    if buggy["verdict"] in (corpus.MISSED, corpus.RUN) and set(new_warnings) & ALARMS:
        buggy["verdict"] = corpus.WARNED
        buggy["codes"] = ",".join(sorted(set(new_warnings) & ALARMS))
    row["tools"]["typedml"] = {k: v for k, v in buggy.items() if not k.startswith("_")}
    row["tools"]["typedml"]["new_warnings"] = new_warnings
    row["fixed_warnings"] = fixed["warnings"]
    for tool in TOOLS[1:]:
        f = run_baseline(cls, tool, True)
        b = run_baseline(cls, tool, False)
        if f["verdict"] != corpus.MISSED:
            row["problems"].append(f"{tool}: fixed twin raised {f['codes']}: {f['_exc']!r}"[:300])
        elif b["verdict"] == corpus.MISSED and _same(b["_out"], f["_out"]):
            b["verdict"] = corpus.CONVERTED
            if tool != "pint":  # only pint converts units: elsewhere the case would not show its bug
                row["problems"].append(f"{tool}: buggy twin returns the fixed twin's numbers")
        row["tools"][tool] = {k: v for k, v in b.items() if not k.startswith("_")}
    if row["tools"]["typedml"]["verdict"] != meta.expect:
        row["problems"].append(f"typedml: recorded {meta.expect}, got {row['tools']['typedml']['verdict']}")
    return row


def _caught_before_data(verdict: str) -> bool:
    return verdict in BEFORE_DATA


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["family"], []).append(r)
    groups["overall"] = rows
    out: dict[str, Any] = {}
    for name, rs in groups.items():
        out[name] = {"cases": len(rs)}
        for tool in TOOLS:
            counts = Counter(r["tools"][tool]["verdict"] for r in rs)
            out[name][tool] = dict(counts)
    return out


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.0f}%" if d else "-"


def table(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    lines = []
    order = [f for f in corpus.FAMILIES if f in summary] + ["overall"]
    header = f"{'family':<13}{'cases':>6} | " + " | ".join(f"{t:^26}" for t in TOOLS)
    lines.append(
        "per tool: caught before data / caught at all (count, percent of cases) / converted (c);"
        " typedml's before data includes warned (a warning that points at the mistake)"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for fam in order:
        s = summary[fam]
        n = s["cases"]
        cells = []
        for tool in TOOLS:
            c = s[tool]
            before = sum(v for k, v in c.items() if k in BEFORE_DATA)
            caught = before + c.get(corpus.RUN, 0) + c.get(corpus.CALL, 0)
            cells.append(
                f"{before:>3} {_pct(before, n):>4} / {caught:>3} {_pct(caught, n):>4} / {c.get(corpus.CONVERTED, 0):>2}c"
            )
        lines.append(f"{fam:<13}{n:>6} | " + " | ".join(f"{c:^26}" for c in cells))
    lines.append("")
    tm_counts = summary["overall"]["typedml"]
    lines.append(
        "typedml verdicts: "
        + ", ".join(
            f"{k} {tm_counts.get(k, 0)}"
            for k in (corpus.BUILD, corpus.BODY, corpus.WARNED, corpus.RUN, corpus.CONVERTED, corpus.MISSED)
        )
    )
    warned_missed = [
        r["id"]
        for r in rows
        if r["tools"]["typedml"]["verdict"] == corpus.MISSED and r["tools"]["typedml"]["new_warnings"]
    ]
    lines.append(
        f"typedml misses where check() warned, not on the fixed twin: {len(warned_missed)} {warned_missed or ''}".rstrip()
    )
    warned_ids = [r["id"] for r in rows if r["tools"]["typedml"]["verdict"] == corpus.WARNED]
    lines.append(f"typedml before data by a warning only: {len(warned_ids)} {warned_ids or ''}".rstrip())
    fa = [r for r in rows if r["false_alarms"]]
    lines.append(f"false alarms on fixed twins (typedml errors, or warnings that claim a mistake): {len(fa)}")
    warned = [f"{r['id']}:{','.join(r['fixed_warnings'])}" for r in rows if r["fixed_warnings"]]
    lines.append(f"warnings on fixed twins: {len(warned)}" + (f" ({'; '.join(warned)})" if warned else ""))
    lines.append("")
    lines.append(f"{'case':<5} {'family':<13} " + " ".join(f"{t:<20}" for t in TOOLS) + " title")
    for r in rows:
        cells = []
        for tool in TOOLS:
            t = r["tools"][tool]
            text = t["verdict"]
            if tool == "typedml" and t["codes"]:
                text += f"({t['codes']})"
            elif tool == "typedml" and t["new_warnings"]:
                text += f"[warn {','.join(t['new_warnings'])}]"
            cells.append(text[:20])
        lines.append(f"{r['id']:<5} {r['family']:<13} " + " ".join(f"{c:<20}" for c in cells) + f" {r['title']}")
    problems = [f"{r['id']}: {p}" for r in rows for p in r["problems"] + r["false_alarms"]]
    if problems:
        lines.append("")
        lines.append("PROBLEMS:")
        lines.extend(problems)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", action="append", choices=corpus.FAMILIES, help="only these families")
    parser.add_argument("--case", action="append", help="only these case ids")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    cases = load_all()
    if args.family:
        cases = [c for c in cases if c.meta.family in args.family]
    if args.case:
        cases = [c for c in cases if c.meta.id in args.case]
    t0 = time.perf_counter()
    rows = []
    for cls in cases:
        try:
            rows.append(run_case(cls))
        except Exception:
            print(f"harness failure in {cls.meta.id}", file=sys.stderr)
            traceback.print_exc()
            raise
    summary = summarise(rows)
    result = {"cases": rows, "summary": summary, "seconds": round(time.perf_counter() - t0, 1)}
    print(table(rows, summary))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
