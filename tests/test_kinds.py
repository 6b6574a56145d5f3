"""Quantity kinds: declared on ports, checked on edges, carried through unit variables."""

from typing import NamedTuple

import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]


@tm.stage
def lever(force: Q[V, "N"], arm: Q[V, "m", tm.Kind("radius")]) -> Q[V, "N*m", tm.Kind("torque")]:
    return force * arm


@tm.stage
def store(e: Q[V, "J", tm.Kind("energy")]) -> Q[V, "kJ"]:
    return e / 1000.0  # typedml: ignore[TM161]


@tm.stage
def gauge(h: Q[V, "m", tm.Kind("height")]) -> Q[V, "m", tm.Kind("height")]:
    return h


@tm.stage
def any_length(x: Q[V, "m", tm.Kind("length")]) -> Q[V, "m"]:
    return x


def codes(p: tm.Pipeline) -> list[str]:
    return [d.code for d in p.check().errors]


# -- edges -------------------------------------------------------------------------------------


def test_torque_into_an_energy_port_is_an_error_although_the_units_agree() -> None:
    @tm.pipeline
    def p(f: Q[V, "N"], r: Q[V, "m"]) -> Q[V, "kJ"]:
        return store(lever(f, r))

    report = p.check()
    (error,) = report.errors
    assert error.code == "TM140"
    assert "torque into a port of kind energy" in error.message
    assert "the units agree" in str(error)


def test_width_into_height_is_an_error_and_siblings_share_a_parent() -> None:
    @tm.pipeline
    def p(w: Q[V, "m", tm.Kind("width")]) -> Q[V, "m"]:
        return gauge(w)

    (error,) = p.check().errors
    assert error.code == "TM140"
    assert "a kind of length" in str(error)


@pytest.mark.parametrize("kind", ["height", "altitude", "length"])
def test_a_kind_into_a_related_kind_passes(kind: str) -> None:
    # altitude is a kind of height; a general length may be a height
    @tm.pipeline
    def p(h: Q[V, "m", tm.Kind(kind)]) -> Q[V, "m"]:
        return gauge(h)

    assert p.check().ok


def test_unspecified_kinds_pass_both_ways() -> None:
    @tm.pipeline
    def into_kind(h: Q[V, "m"]) -> Q[V, "m"]:
        return gauge(h)

    @tm.pipeline
    def from_kind(w: Q[V, "m", tm.Kind("width")]) -> Q[V, "m"]:
        return tm.stdlib.convert_to("m")(any_length(w))

    assert into_kind.check().ok
    assert from_kind.check().ok


def test_a_kind_can_be_declared_on_pipeline_outputs() -> None:
    @tm.pipeline
    def p(f: Q[V, "N"], r: Q[V, "m"]) -> Q[V, "N*m", tm.Kind("energy")]:
        return lever(f, r)

    assert codes(p) == ["TM140"]


def test_the_run_is_unaffected_by_kinds() -> None:
    @tm.pipeline
    def p(h: Q[V, "cm", tm.Kind("height")]) -> Q[V, "m", tm.Kind("height")]:
        return gauge(h)

    out = p(tm.get_registry().Quantity(np.array([150.0, 180.0], dtype=np.float32), "cm"))
    assert np.allclose(out.to("m").magnitude, [1.5, 1.8])


# -- unit variables carry kinds ----------------------------------------------------------------


def test_a_kind_passes_through_a_unit_variable() -> None:
    @tm.pipeline
    def wrong(w: Q[V, "m", tm.Kind("width")]) -> Q[Float[Array, ""], "m", tm.Kind("height")]:
        return tm.stdlib.mean(w)  # 'u -> 'u: the mean of widths is a width

    @tm.pipeline
    def right(h: Q[V, "m", tm.Kind("height")]) -> Q[Float[Array, ""], "m", tm.Kind("height")]:
        return tm.stdlib.mean(h)

    assert codes(wrong) == ["TM140"]
    assert right.check().ok


def test_delta_keeps_the_kind_and_powers_drop_it() -> None:
    @tm.pipeline
    def spread(w: Q[V, "m", tm.Kind("width")]) -> Q[Float[Array, ""], "m", tm.Kind("height")]:
        return tm.stdlib.std(w)  # delta('u): a spread of widths is a width

    @tm.pipeline
    def var(w: Q[V, "m", tm.Kind("width")]) -> Q[Float[Array, ""], "m**2", tm.Kind("area")]:
        return tm.stdlib.variance(w)  # delta('u)**2 carries no kind

    assert codes(spread) == ["TM140"]
    assert var.check().ok


def test_two_kinds_in_one_unit_variable_meet_at_their_common_kind() -> None:
    @tm.stage
    def add(a: Q[V, "'u"], b: Q[V, "'u"]) -> Q[V, "'u"]:
        return a + b

    @tm.pipeline
    def perimeter(h: Q[V, "m", tm.Kind("height")], w: Q[V, "m", tm.Kind("width")]) -> Q[V, "m", tm.Kind("length")]:
        return add(h, w)  # height + width is a length

    @tm.pipeline
    def still_height(h: Q[V, "m", tm.Kind("height")], w: Q[V, "m", tm.Kind("width")]) -> Q[V, "m", tm.Kind("height")]:
        return add(h, w)  # ... a length, which may be a height: no error

    @tm.pipeline
    def mixed(t: Q[V, "N*m", tm.Kind("torque")], e: Q[V, "J", tm.Kind("energy")]) -> Q[V, "J"]:
        return add(t, e)

    assert perimeter.check().ok
    assert still_height.check().ok
    report = mixed.check()
    assert [d.code for d in report.errors] == ["TM141"]
    assert "kinds torque and energy meet in unit variable 'u" in report.errors[0].message


def test_a_stage_that_declares_an_output_kind_relabels() -> None:
    @tm.stage
    def as_height(x: Q[V, "'u"]) -> Q[V, "'u", tm.Kind("height")]:
        return x

    @tm.pipeline
    def p(w: Q[V, "m", tm.Kind("width")]) -> Q[V, "m"]:
        return gauge(as_height(w))

    assert p.check().ok


def test_kinds_flow_through_record_outputs() -> None:
    class Sides(NamedTuple):
        height: Q[V, "m", tm.Kind("height")]
        width: Q[V, "m", tm.Kind("width")]

    @tm.stage
    def split(x: Q[Float[Array, "n 2"], "m"]) -> Sides:
        return Sides(x[:, 0], x[:, 1])

    @tm.pipeline
    def p(x: Q[Float[Array, "n 2"], "m"]) -> Q[V, "m"]:
        sides = split(x)
        return gauge(sides.width)

    assert codes(p) == ["TM140"]


# -- definitions ---------------------------------------------------------------------------------


def test_an_unknown_kind_is_a_definition_error_with_a_suggestion() -> None:
    with pytest.raises(tm.StageDefinitionError) as info:

        @tm.stage
        def f(x: Q[V, "m", tm.Kind("hieght")]) -> Q[V, "m"]:
            return x

    assert info.value.code == "TM030"
    assert "did you mean 'height'" in str(info.value)


def test_a_kind_whose_dimension_differs_from_the_unit_is_a_definition_error() -> None:
    with pytest.raises(tm.StageDefinitionError) as info:

        @tm.stage
        def f(x: Q[V, "m", tm.Kind("torque")]) -> Q[V, "m"]:
            return x

    assert info.value.code == "TM030"
    assert "port's unit 'm' is [length]" in str(info.value)


def test_two_kinds_on_one_port_is_a_definition_error() -> None:
    with pytest.raises(tm.StageDefinitionError, match="has 2 kinds"):

        @tm.stage
        def f(x: Q[V, "m", tm.Kind("height"), tm.Kind("width")]) -> Q[V, "m"]:
            return x


def test_a_kind_on_a_unit_variable_is_checked_on_edges_only() -> None:
    @tm.stage
    def f(x: Q[V, "'u", tm.Kind("torque")]) -> Q[V, "'u"]:
        return x

    assert f.spec.inputs[0].type is not None and f.spec.inputs[0].type.kind == "torque"


def test_the_tree_is_user_extensible_and_scoped() -> None:
    tree = tm.kinds.copy()
    tree.define("wheel_radius", parent="radius", doc="a wheel's radius")
    assert "wheel_radius" not in tm.kinds
    with tm.use_kinds(tree):

        @tm.stage
        def spin(r: Q[V, "m", tm.Kind("wheel_radius")]) -> Q[V, "m"]:
            return r

        @tm.pipeline
        def wrong(h: Q[V, "m", tm.Kind("height")]) -> Q[V, "m"]:
            return spin(h)

        @tm.pipeline
        def right(r: Q[V, "m", tm.Kind("radius")]) -> Q[V, "m"]:
            return spin(r)

        assert tree.is_a("wheel_radius", "length")
        assert codes(wrong) == ["TM140"]
        assert right.check().ok


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("bad name",), "identifier"),
        (("x", "nope"), "parent kind 'nope'"),
        (("height", "width"), "already defined"),
    ],
)
def test_bad_definitions_are_refused(args: tuple[str, ...], message: str) -> None:
    tree = tm.kinds.copy()
    name, *parent = args
    with pytest.raises(ValueError, match=message):
        tree.define(name, parent=parent[0] if parent else None)


def test_iso_basics() -> None:
    k = tm.kinds
    assert k.is_a("altitude", "length") and k.is_a("radius", "length")
    assert not k.related("torque", "energy")
    assert not k.related("frequency", "angular_frequency") and not k.related("frequency", "activity")
    assert k.join("height", "width") == "length"
    assert k.join("torque", "energy") is None
    assert k.unit("height") == "m"
    with pytest.raises(TypeError):
        with tm.use_kinds("length"):  # type: ignore[arg-type]
            pass
