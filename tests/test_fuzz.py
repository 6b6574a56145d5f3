"""Fuzzing the builder with random programs (tests/strategies.py).

Example counts follow the hypothesis profile: with the default `ci` profile (10 examples) the
checks run 40 programs each and 10 programs are compiled and run; `--hypothesis-profile=thorough`
(250) makes that 1000 and 250.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

import typedml as tm
import typedml.strategies as tms
import typedml.testing as tmt
from tests.strategies import Mutation, Program, garbled, mutations, programs

BASE = settings().max_examples  # the profile's count
CHECKS = settings(max_examples=4 * BASE)  # build and check only: cheap
RUNS = settings(max_examples=BASE)  # each program is compiled


@CHECKS
@given(programs())
def test_well_typed_programs_check_clean(program: Program) -> None:
    report = program.build().check()
    assert report.ok, f"a well-typed program does not check clean:\n{report}"
    assert {d.code for d in report.warnings} <= {"TM152"}, str(report)  # only outputs left unused


@RUNS
@given(st.data())
def test_well_typed_programs_run(data: st.DataObject) -> None:
    main = data.draw(programs().map(Program.build), label="main")
    ins = data.draw(tms.inputs(main, max_side=3), label="inputs")
    tmt.assert_shape_polymorphic(main, ins)  # outputs have the declared shapes and dtypes
    out = main(**ins)
    assert np.all(np.isfinite(np.asarray(out.magnitude)))


@CHECKS
@given(mutations())
def test_each_mutation_is_reported_at_its_edge(mutation: Mutation) -> None:
    event(f"mutation: {mutation.kind} -> {mutation.code}")
    event("mutated port: " + ("main's output" if mutation.stage == "output:return" else "a stage or pipeline input"))
    report = mutation.program.build().check()  # building never raises for a wiring problem
    assert not report.ok, "an ill-typed program checks clean"
    hits = [d for d in report.errors if (d.code, d.stage, d.port) == (mutation.code, mutation.stage, mutation.port)]
    assert hits, f"expected {mutation.code} at {mutation.stage}.{mutation.port}; got:\n{report}"
    edge = "-> output 'return'" if mutation.stage == "output:return" else f"-> {mutation.stage}.{mutation.port}"
    assert edge in hits[0].message


@CHECKS
@given(garbled())
def test_the_checker_raises_only_typedml_errors(program: Program) -> None:
    try:
        main = program.build()
        report = main.check()
    except tm.TypedMLError as err:
        event(f"rejected when defined: {type(err).__name__}")
        return  # a malformed annotation, reported as such when the decorator runs
    event("checked: ok" if report.ok else "checked: errors reported")
    assert isinstance(report, tm.CheckReport)
    assert report.ok or report.errors
