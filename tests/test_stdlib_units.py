"""stdlib unit stages: explicit conversion, leaving and entering the unit world."""

from __future__ import annotations

import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q
from typedml import stdlib as sl


def test_convert_to_converts_and_refuses_other_dimensions(q):
    out = sl.convert_to("km/h")(q([1.0, 10.0], "m/s"))
    assert out.units == tm.get_registry().Unit("km/h")
    np.testing.assert_allclose(np.asarray(out.magnitude), [3.6, 36.0], rtol=1e-6)
    temps = sl.convert_to("degC")(q([273.15, 300.0], "K"))
    np.testing.assert_allclose(np.asarray(temps.magnitude), [0.0, 26.85], atol=1e-4)
    with pytest.raises(tm.InputError) as info:
        sl.convert_to("km")(q([1.0], "s"))
    assert info.value.code == "TM203"
    assert sl.convert_to("km/h") is sl.convert_to("km/h")  # built once per unit


def test_bad_unit_text_is_a_definition_error():
    with pytest.raises(tm.StageDefinitionError) as info:
        sl.convert_to("furlongz")
    assert info.value.code == "TM001"


def test_strip_and_attach_round_trip(q):
    raw = sl.strip_units_to("mm")(q([1.0, 2.5], "m"))
    assert not hasattr(raw, "units")
    np.testing.assert_allclose(np.asarray(raw), [1000.0, 2500.0])
    back = sl.attach_units_unchecked("mm")(np.asarray(raw))
    assert back.units == tm.get_registry().mm
    np.testing.assert_allclose(np.asarray(back.to("m").magnitude), [1.0, 2.5])


def test_unit_stages_in_a_pipeline_are_checked_at_build_time():
    @tm.pipeline
    def ok(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "g"]:
        return sl.attach_units_unchecked("g")(sl.strip_units_to("mm")(x))

    assert ok.check().ok
    assert "convert_to_km" in sl.convert_to("km").spec.name

    @tm.pipeline
    def wrong(x: Q[Float[Array, "n"], "s"]) -> Float[Array, "n"]:
        return sl.strip_units_to("mm")(x)

    assert "TM102" in {d.code for d in wrong.check().errors}
