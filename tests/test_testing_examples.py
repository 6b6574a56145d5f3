"""The ready properties on typedml's own stages and the flagship example."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis.errors import InvalidArgument
from jaxtyping import Array, Float

import typedml as tm
import typedml.strategies as tms
import typedml.testing as tmt
from examples.sensor.pipeline import calibrate, sensor
from typedml import Q

FEW = settings(max_examples=8, deadline=None)
STDLIB = [tm.stdlib.mean, tm.stdlib.variance, tm.stdlib.std]


@pytest.mark.parametrize("stage", STDLIB, ids=lambda s: s.spec.name)
def test_stdlib_summaries(stage: Any) -> None:
    @FEW
    @given(tms.inputs(stage, max_side=3))
    def check(ins: tms.Inputs) -> None:
        tmt.assert_dimensionally_homogeneous(stage, ins)
        tmt.assert_shape_polymorphic(stage, ins)
        tmt.assert_permutation_invariant(stage, ins, axis="n")  # a summary ignores the order

    check()


def test_sensor_is_unit_invariant_and_batch_consistent_in_its_calibration() -> None:
    tmt.property_test(tmt.assert_unit_invariant, sensor, strategy=tms.inputs(sensor, max_side=3), settings=FEW)()
    tmt.property_test(
        tmt.assert_batch_consistent, calibrate, axis="batch", strategy=tms.inputs(calibrate, max_side=3), settings=FEW
    )()


def test_an_affine_output_is_excluded_from_dimensional_homogeneity() -> None:
    ins = find(tms.inputs(sensor), lambda _: True)
    with pytest.raises(InvalidArgument, match=r"output 'return' of sensor\(\): °C is an affine unit"):
        tmt.assert_dimensionally_homogeneous(sensor, ins)


@tm.stage
def halve(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u"]:
    return x / 2


@tm.pipeline
def generic(x: Q[Float[Array, "n"], "'u"], y: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u**2"]:
    return square(halve(x), y)


@tm.stage
def square(x: Q[Float[Array, "n"], "'u"], y: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u**2"]:
    return x * y


def test_unit_variables_in_a_pipeline_signature() -> None:
    @FEW
    @given(tms.inputs(generic, convert_units=True))
    def check(ins: tms.Inputs) -> None:
        u = tm.get_registry().Unit(ins.units["'u"])
        assert ins["x"].dimensionality == u.dimensionality == ins["y"].dimensionality
        tmt.assert_dimensionally_homogeneous(generic, ins)
        tmt.assert_unit_invariant(generic, ins)

    check()
