"""Sizes: the reproducers of wrong pipelines that passed (or right ones that were refused),
each with its strict version: the stage typed precisely, checked, run on data, compared with
numpy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from jaxtyping import Array, Bool, Float, Int, UInt32

import typedml as tm
import typedml.strategies as tms
from typedml import Q

# -- the stages of the reproducers ---------------------------------------------------------


@tm.stage
def counts(ids: Int[Array, "e"], n: int = 5) -> Int[Array, "u"]:
    return jnp.zeros(n, jnp.int32).at[ids].add(1)


@tm.stage
def counts_n(ids: Int[Array, "e"], n: int = 5) -> Int[Array, "n"]:
    return jnp.zeros(n, jnp.int32).at[ids].add(1)


@tm.stage
def ratio_of_sums(a: Int[Array, "u"], b: Int[Array, "u"]) -> Float[Array, ""]:
    return a.sum() / b.sum()


@tm.stage
def halve(x: Float[Array, "2*k"]) -> Float[Array, "k"]:
    return x.reshape(-1, 2).mean(axis=1)


@tm.stage
def moving_sum16(x: Float[Array, "t"]) -> Float[Array, "t-15"]:
    return jnp.convolve(x, jnp.ones(16, x.dtype), mode="valid")


@tm.stage
def one_hot(y: Int[Array, "n"], k: int) -> Float[Array, "n k"]:
    return jnp.eye(k, dtype=jnp.float32)[y]


@tm.stage
def classify12(p: Float[Array, "n 12"]) -> Int[Array, "n"]:
    return p.argmax(axis=1).astype(jnp.int32)


# -- loose versions: each must be reported -------------------------------------------------


def loose_existential() -> tm.CheckReport:
    @tm.pipeline
    def p(ids: Int[Array, "e"]) -> Float[Array, ""]:
        return ratio_of_sums(counts(ids), ids)

    return p.check()


def loose_one_hot() -> tm.CheckReport:
    @tm.pipeline
    def p(y: Int[Array, "n"]) -> Int[Array, "n"]:
        return classify12(one_hot(y, k=10))

    return p.check()


def loose_halve_odd() -> tm.CheckReport:
    @tm.stage
    def grid7(x: Float[Array, "n"]) -> Float[Array, "7"]:
        return jnp.linspace(x.min(), x.max(), 7)

    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "k"]:
        return halve(grid7(x))

    return p.check()


def loose_fixed_vs_free() -> tm.CheckReport:
    @tm.pipeline
    def p(y: Int[Array, "n"], scores: Float[Array, "n c"]) -> Int[Array, "n"]:
        return classify12(scores)

    return p.check()


@dataclasses.dataclass(frozen=True)
class Loose:
    name: str
    report: Callable[[], tm.CheckReport]
    code: str
    words: tuple[str, ...]


LOOSE = [
    Loose(
        "existential-size-unified-with-an-input",
        loose_existential,
        "TM105",
        ("a size no input determines", "`counts.u` is a fresh size each call of counts makes"),
    ),
    Loose("static-named-axis-into-a-fixed-port", loose_one_hot, "TM103", ("one_hot gives 10", "expects 12")),
    Loose("odd-size-into-a-multiple", loose_halve_odd, "TM120", ("7 is not a multiple of 2",)),
    Loose("fixed-size-against-a-free-one", loose_fixed_vs_free, "TM105", ("(fixed vs free)",)),
]


@pytest.mark.parametrize("case", LOOSE, ids=lambda c: c.name)
def test_loose_version_is_reported(case: Loose) -> None:
    report = case.report()
    hits = [d for d in report.errors if d.code == case.code]
    assert hits, str(report)
    text = str(hits[0])
    for word in case.words:
        assert word in text, text


def test_existential_size_has_a_definition_time_note() -> None:
    (info,) = counts.check().infos
    assert info.code == "TM015"
    assert "axis 'u' of the return value of stage 'counts' is determined by no input" in info.message
    assert info.hint is not None and "'n'" in info.hint
    assert counts_n.check().infos == []


# -- strict versions: checked, run, compared with numpy ---------------------------------------


def test_strict_existential_counts_named_after_the_static_parameter() -> None:
    @tm.pipeline
    def p(ids: Int[Array, "e"], other: Int[Array, "f"]) -> Float[Array, ""]:
        return ratio_of_sums(counts_n(ids), counts_n(other))

    assert p.check().diagnostics == []
    ids, other = np.array([0, 1, 1, 4], np.int32), np.array([2, 3, 3, 3, 0, 1], np.int32)
    got = float(np.asarray(p(ids, other)))
    want = np.bincount(ids, minlength=5).sum() / np.bincount(other, minlength=5).sum()
    assert got == pytest.approx(want)


def test_strict_halve_binds_k_and_refuses_odd_data() -> None:
    assert halve.check().diagnostics == []
    x = np.arange(6.0, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(halve(x)), x.reshape(3, 2).mean(axis=1))
    with pytest.raises(tm.InputError) as info:
        halve(np.arange(7.0, dtype=np.float32))
    assert info.value.code == "TM221"
    assert "7 is not a multiple of 2" in str(info.value)


def test_strict_quarter_unifies_2k_with_2n() -> None:
    @tm.pipeline
    def quarter(x: Float[Array, "4*m"]) -> Float[Array, "m"]:
        return halve(halve(x))

    assert quarter.check().diagnostics == []
    x = np.arange(12.0, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(quarter(x)), x.reshape(3, 4).mean(axis=1))
    with pytest.raises(tm.InputError):
        quarter(np.arange(10.0, dtype=np.float32))


def test_a_pipeline_input_into_a_multiple_is_carried_to_the_boundary() -> None:
    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "k"]:
        return halve(x)

    assert p.check().ok
    np.testing.assert_allclose(np.asarray(p(np.ones(4, np.float32))), [1.0, 1.0])
    with pytest.raises(tm.InputError) as info:
        p(np.ones(5, np.float32))
    assert info.value.code == "TM220"
    assert "n must be a multiple of 2" in str(info.value)


def test_strict_moving_sum_is_not_a_false_body_error() -> None:
    report = moving_sum16.check()
    assert report.ok, str(report)  # sampled at sizes the signature allows (t >= 15), not t=13
    assert all("t=13" not in n for d in report.diagnostics for n in d.notes)
    x = np.arange(20.0, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(moving_sum16(x)), np.convolve(x, np.ones(16), mode="valid"))


@tm.pipeline
def smooth(x: Float[Array, "n"]) -> Float[Array, "n-15"]:
    return moving_sum16(x)


def test_implied_constraint_is_enforced_at_the_boundary() -> None:
    with pytest.raises(tm.InputError) as info:
        smooth(np.ones(5, np.float32))
    assert info.value.code == "TM220"
    assert "n-15 must be at least 0, but it is -10 here" in str(info.value)
    with pytest.raises(tm.InputError) as info:
        smooth.debug(np.ones(5, np.float32))
    assert info.value.code == "TM220"  # debug() refuses the data too, instead of blaming the body
    np.testing.assert_allclose(np.asarray(smooth(np.ones(16, np.float32))), [16.0])


@settings(max_examples=15)
@given(tms.inputs(smooth, max_side=20))
def test_strategies_draw_only_sizes_the_signature_allows(ins: Any) -> None:
    assert ins.sizes["n"] >= 15
    if ins.sizes["n"] == 15:  # the one size where jnp.convolve swaps its operands (see below)
        with pytest.raises(tm.BodyError, match="TM306"):
            smooth(**ins)
        return
    np.testing.assert_allclose(
        np.asarray(smooth(**ins)), np.convolve(np.asarray(ins["x"]), np.ones(16), mode="valid"), rtol=1e-4, atol=1e-2
    )


def test_a_body_wrong_at_one_allowed_size_is_refused_on_the_call_that_meets_it() -> None:
    # "t-15" allows t = 15 (no window fits: 0 sums), but jnp.convolve(..., mode="valid") swaps
    # its operands when the signal is shorter than the kernel and returns 2 numbers. The body
    # check samples other sizes; the compiled call checks each stage's result while it traces.
    assert np.convolve(np.ones(15), np.ones(16), mode="valid").shape == (2,)  # numpy does it too
    for run in (smooth, smooth.checked, smooth.debug):
        with pytest.raises(tm.BodyError) as info:
            run(np.ones(15, np.float32))
        assert info.value.code == "TM306"
        assert info.value.diagnostic.stage == "moving_sum16"
        assert "`t-15` is 0" in str(info.value) and "found: shape (2,)" in str(info.value)
    assert np.asarray(smooth(np.ones(16, np.float32))).shape == (1,)  # the next size is right


@settings(max_examples=10)
@given(tms.inputs(halve.as_pipeline(), max_side=6))
def test_strategies_draw_multiples(ins: Any) -> None:
    assert np.shape(ins["x"])[0] % 2 == 0


def test_strict_one_hot_width_is_the_static_value() -> None:
    @tm.pipeline
    def p(y: Int[Array, "n"]) -> Int[Array, "n"]:
        return classify12(one_hot(y, k=12))

    assert p.check().ok
    y = np.array([3, 11, 0], np.int32)
    np.testing.assert_array_equal(np.asarray(p(y)), y)
    np.testing.assert_array_equal(np.asarray(one_hot(y, k=12)), np.eye(12, dtype=np.float32)[y])
    (edge,) = [d for _, _, d in p.graph.edges(data=True) if d["dst_port"] == "p"]
    assert edge["shape"] == "(n, 12)"


def test_static_named_size_in_the_body_check() -> None:
    @tm.stage
    def wrong_width(y: Int[Array, "n"], k: int = 4) -> Float[Array, "n k"]:
        return jnp.zeros((y.shape[0], k + 1), jnp.float32)

    (err,) = wrong_width.check().errors
    assert err.code == "TM301"
    assert "declared (n, k), computed (n, 5)" in err.message  # k is 4 here


def test_a_product_with_one_side_known_unifies() -> None:
    @tm.stage
    def unflatten(x: Float[Array, "r*c"], r: int = 3) -> Float[Array, "r c"]:
        return x.reshape(r, -1)

    @tm.pipeline
    def p(x: Float[Array, "3*c"]) -> Float[Array, "3 c"]:
        return unflatten(x)

    assert p.check().diagnostics == []
    x = np.arange(12.0, dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(p(x)), x.reshape(3, 4))


def test_floor_division_output() -> None:
    @tm.stage
    def decimate(x: Float[Array, "n"]) -> Float[Array, "n//2"]:
        return x[: x.shape[0] // 2 * 2].reshape(-1, 2)[:, 0]

    @tm.pipeline
    def p(x: Float[Array, "2*k"]) -> Float[Array, "k"]:
        return decimate(x)

    assert decimate.check().ok
    assert p.check().diagnostics == []  # (2*k)//2 is k
    np.testing.assert_array_equal(np.asarray(p(np.arange(6.0, dtype=np.float32))), [0.0, 2.0, 4.0])


def test_independent_sizes_written_with_floor_division_are_an_error() -> None:
    @tm.stage
    def decimate(x: Float[Array, "n"]) -> Float[Array, "n//2"]:
        return x[: x.shape[0] // 2 * 2].reshape(-1, 2)[:, 0]

    @tm.stage
    def pair(a: Float[Array, "m"], b: Float[Array, "m"]) -> Float[Array, "m"]:
        return a + b

    @tm.pipeline
    def p(x: Float[Array, "n"], y: Float[Array, "k"]) -> Float[Array, "k"]:
        return pair(decimate(x), y)

    report = p.check()
    assert report.errors and {d.code for d in report.errors} == {"TM105"}, str(report)
    assert "n//2" in report.errors[0].message


def test_an_undecidable_size_relation_is_a_warning_not_a_pass() -> None:
    @tm.stage
    def spread(x: Float[Array, "r*c"]) -> Float[Array, "r*c"]:
        return x * 2.0

    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return spread(x)

    report = p.check()
    assert report.ok
    assert [d.code for d in report.warnings] == ["TM154"], str(report)
    assert "cannot be decided" in report.warnings[0].message


# -- reductions over an axis named at the call site -----------------------------------------

S = tm.stdlib
K = "K"


def _softmax(x: Any, axis: int) -> Any:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# (stage, numpy reference over axis 1 of a (b, c) array, output unit, keeps the axis)
REDUCTIONS: list[tuple[Any, Callable[[Any], Any], str | None, bool]] = [
    (S.count, lambda x: np.sum(~np.isnan(x), axis=1).astype(np.float32), None, False),
    (S.sum, lambda x: x.sum(axis=1), "K", False),
    (S.mean, lambda x: x.mean(axis=1), "K", False),
    (S.variance, lambda x: x.var(axis=1), "K**2", False),
    (S.std, lambda x: x.std(axis=1), "K", False),
    (S.min, lambda x: x.min(axis=1), "K", False),
    (S.max, lambda x: x.max(axis=1), "K", False),
    (S.impute_mean_fit, lambda x: np.nanmean(x, axis=1), "K", False),
    (S.standardize, lambda x: (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True), None, True),
    (S.softmax, lambda x: _softmax(x, 1), None, True),
    (S.log_softmax, lambda x: np.log(_softmax(x, 1)), None, True),
]


def _reduction_pipeline(stage: Any, unit: str | None, keeps: bool) -> Any:

    takes_unit = stage.spec.inputs[0].type.unit is not None
    x_ann: Any = Q[Float[Array, "b c"], K] if takes_unit else Float[Array, "b c"]
    out_shape = "b c" if keeps else "b"
    out_ann: Any = Float[Array, out_shape] if unit is None else Q[Float[Array, out_shape], unit]

    def body(x: Any) -> Any:
        return stage(x, axis="c")

    body.__annotations__ = {"x": x_ann, "return": out_ann}
    return tm.pipeline(body)


@pytest.mark.parametrize("case", REDUCTIONS, ids=lambda c: c[0].spec.name)
def test_stdlib_reduces_the_axis_named_at_the_call_site(case: Any) -> None:
    stage, reference, unit, keeps = case
    p = _reduction_pipeline(stage, unit, keeps)
    report = p.check()
    assert report.ok and not report.warnings, str(report)
    (edge,) = [d for u, _, d in p.graph.edges(data=True) if u == stage.spec.name]
    assert edge["shape"] == ("(b, c)" if keeps else "(b)")  # the named axis is dropped (or kept in place)
    x = np.random.default_rng(0).uniform(1.0, 5.0, (3, 4)).astype(np.float32)
    arg = tm.get_registry().Quantity(x, K) if stage.spec.inputs[0].type.unit is not None else x
    got = p(arg)
    np.testing.assert_allclose(np.asarray(getattr(got, "magnitude", got)), reference(x), rtol=1e-5, atol=1e-5)
    direct = stage(arg, axis=1)  # called on data: the axis by position
    np.testing.assert_allclose(np.asarray(getattr(direct, "magnitude", direct)), reference(x), rtol=1e-5, atol=1e-5)


def test_two_inputs_move_the_named_axis_together() -> None:

    @tm.pipeline
    def p(x: Q[Float[Array, "b c"], "m"], w: Float[Array, "b c"]) -> Q[Float[Array, "b"], "m"]:
        return S.weighted_mean(x, w, axis="c")

    assert p.check().diagnostics == []
    rng = np.random.default_rng(1)
    x, w = rng.uniform(1, 2, (3, 5)).astype(np.float32), rng.uniform(0, 1, (3, 5)).astype(np.float32)
    got = p(tm.get_registry().Quantity(x, "m"), w)
    np.testing.assert_allclose(got.magnitude, np.average(x, axis=1, weights=w), rtol=1e-5)


def test_an_axis_the_value_lacks_is_a_build_time_error_naming_its_axes() -> None:

    @tm.pipeline
    def p(t: Q[Float[Array, "b c"], "K"]) -> Q[Float[Array, "b"], "K"]:
        return S.mean(t, axis="d")

    (err,) = p.check().errors  # and no follow-on error downstream
    assert err.code == "TM122"
    assert "mean(axis='d'): t has no axis 'd'; its axes are (b, c)" in err.message


def test_the_output_drops_the_named_axis_and_is_checked_downstream() -> None:

    @tm.pipeline
    def wrong(t: Q[Float[Array, "b c"], "K"]) -> Q[Float[Array, "c"], "K"]:
        return S.mean(t, axis="c")  # leaves b, not c

    (err,) = wrong.check().errors
    assert err.code == "TM105"


def test_an_axis_parameter_must_name_one_declared_axis() -> None:

    with pytest.raises(tm.StageDefinitionError) as info:

        @tm.stage
        def bad(x: Float[Array, "n *rest"], axis: Annotated[str | None, tm.Axis("m")] = None) -> Float[Array, "*rest"]:
            return x.sum(axis=0)

    assert info.value.code == "TM017"
    assert "no input declares an axis 'm'" in str(info.value)


# -- optional inputs ----------------------------------------------------------------------


@tm.stage
def masked_sum(x: Float[Array, "n"], mask: Bool[Array, "n"] | None = None) -> Float[Array, ""]:
    return x.sum() if mask is None else jnp.where(mask, x, 0.0).sum()


def test_optional_input_may_be_absent_or_checked_when_present() -> None:
    @tm.pipeline
    def without(x: Float[Array, "n"]) -> Float[Array, ""]:
        return masked_sum(x)

    @tm.pipeline
    def with_mask(x: Float[Array, "n"], m: Bool[Array, "n"]) -> Float[Array, ""]:
        return masked_sum(x, mask=m)

    @tm.pipeline
    def wrong(x: Float[Array, "n"], m: Bool[Array, "k"]) -> Float[Array, ""]:
        return masked_sum(x, mask=m)

    assert masked_sum.check().diagnostics == []  # both ways: with and without the mask
    assert without.check().diagnostics == [] and with_mask.check().diagnostics == []
    assert [d.code for d in wrong.check().errors] == ["TM105"]
    x, m = np.array([1.0, 2.0, 4.0], np.float32), np.array([True, False, True])
    assert float(np.asarray(without(x))) == 7.0
    assert float(np.asarray(with_mask(x, m))) == 5.0
    assert float(np.asarray(masked_sum(x))) == 7.0 and float(np.asarray(masked_sum(x, m))) == 5.0


def test_an_optional_input_must_default_to_none() -> None:
    with pytest.raises(tm.StageDefinitionError) as info:

        @tm.stage
        def bad(x: Float[Array, "n"], mask: Bool[Array, "n"] | None = 3) -> Float[Array, ""]:  # type: ignore[assignment]
            return x.sum()

    assert info.value.code == "TM016"


# -- debug() checks a stage's inputs before its body runs -------------------------------------


@tm.stage
def total_like(x: Float[Array, "n"]) -> Float[Array, "#n"]:
    return x.sum(keepdims=True)  # size 1: "#n" allows it (broadcastable to n)


@tm.stage
def pair_sum(a: Float[Array, "m"], b: Float[Array, "m"]) -> Float[Array, "m"]:
    return a + b  # would broadcast silently a (1,) against b (5,)


def test_debug_checks_a_stage_call_before_running_its_body() -> None:
    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return pair_sum(total_like(x), x)

    assert p.check().ok
    with pytest.raises(tm.BodyError) as info:
        p.debug(np.ones(5, np.float32))
    err = info.value.diagnostic
    assert err.code == "TM306" and err.stage == "pair_sum"
    assert "was given inputs that do not match its signature" in err.message
    assert "`m` is 1 from 'a' but 5 from 'b'" in err.notes
    assert "checked before its body ran: the mismatch comes from upstream" in err.notes


def test_an_anonymous_output_axis_is_a_fresh_size() -> None:
    @tm.stage
    def head3(x: Float[Array, "n"]) -> Float[Array, "_"]:
        return x[:3]

    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return pair_sum(head3(x), x)

    errors = p.check().errors
    assert errors and errors[0].code == "TM105", str(p.check())
    assert "axis 0 of head3 is `_`: a size each call of head3 makes, equal to no other" in errors[0].notes


# -- sizes written differently, powers, equalities only data can tell -------------------


@tm.stage
def double_rows(x: Float[Array, "m"]) -> Float[Array, "2*m"]:
    return jnp.concatenate([x, x])


def test_equal_sizes_written_differently_are_one_size() -> None:
    @tm.stage
    def with_bias(x: Float[Array, "r*(c+1)"], r: int = 2) -> Float[Array, "r c+1"]:
        return x.reshape(r, -1)

    @tm.pipeline
    def p(x: Float[Array, "2*c+2"]) -> Float[Array, "2 c+1"]:
        return with_bias(x)

    assert p.check().diagnostics == [], str(p.check())  # r*(c+1) with r=2 is 2*c + 2
    x = np.arange(8.0, dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(p(x)), x.reshape(2, 4))

    @tm.stage
    def halves(x: Float[Array, "n+2"]) -> Float[Array, "(n+2)//2"]:
        return x[: (x.shape[0]) // 2]

    @tm.pipeline
    def q(x: Float[Array, "n+2"]) -> Float[Array, "n//2+1"]:
        return halves(x)  # (n+2)//2 is n//2 + 1

    assert halves.check().diagnostics == [], str(halves.check())  # the body computes the declared form
    assert q.check().diagnostics == [], str(q.check())


def test_a_multiple_halved_and_doubled_is_the_same_size() -> None:
    @tm.stage
    def halve(x: Float[Array, "2*k"]) -> Float[Array, "k"]:
        return x.reshape(-1, 2).mean(axis=1)

    @tm.stage
    def pair(a: Float[Array, "m"], b: Float[Array, "m"]) -> Float[Array, "m"]:
        return a + b

    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return pair(double_rows(halve(x)), x)  # 2*(n//2) is n: n is even (halve needs it)

    report = p.check()
    assert report.diagnostics == [], str(report)
    x = np.arange(4.0, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(p(x)), np.concatenate([[0.5, 2.5], [0.5, 2.5]]) + x)
    with pytest.raises(tm.InputError) as err:
        p(np.arange(5.0, dtype=np.float32))
    assert err.value.code == "TM220", str(err.value)


def test_independent_sizes_are_still_an_error_however_written() -> None:
    @tm.stage
    def flatten(x: Float[Array, "r c"]) -> Float[Array, "r*c"]:
        return x.reshape(-1)

    @tm.stage
    def pair(a: Float[Array, "m"], b: Float[Array, "m"]) -> Float[Array, "m"]:
        return a + b

    @tm.pipeline
    def p(x: Float[Array, "r c"], y: Float[Array, "n"]) -> Float[Array, "n"]:
        return pair(flatten(x), y)

    report = p.check()
    assert [d.code for d in report.errors] == ["TM105"], str(report)
    assert "c*r" in report.errors[0].message  # (one order for the factors of a product)


def test_an_equality_only_data_can_tell_is_a_warning_and_checked_on_each_call() -> None:
    @tm.stage
    def flatten(x: Float[Array, "r c"]) -> Float[Array, "r*c"]:
        return x.reshape(-1)

    @tm.stage
    def pair(a: Float[Array, "m"], b: Float[Array, "m"]) -> Float[Array, "m"]:
        return a + b

    @tm.pipeline
    def p(x: Float[Array, "n n"], y: Float[Array, "n"]) -> Float[Array, "n"]:
        return pair(flatten(x), y)  # n*n == n: only for n = 1

    report = p.check()
    assert report.ok and [d.code for d in report.warnings] == ["TM154"], str(report)
    assert "checked on the data of each call" in str(report)
    np.testing.assert_array_equal(np.asarray(p(np.ones((1, 1), np.float32), np.ones(1, np.float32))), [2.0])
    with pytest.raises(tm.InputError) as err:
        p(np.ones((3, 3), np.float32), np.ones(3, np.float32))
    assert err.value.code == "TM220" and "must equal" in err.value.diagnostic.message, str(err.value)


def test_a_power_of_a_static_parameter() -> None:
    @tm.stage
    def registers(ids: Int[Array, "e"], p: int = 4) -> Int[Array, "2**p"]:
        return jnp.zeros(2**p, jnp.int32).at[ids % 2**p].add(1)

    @tm.stage
    def fold(r: Int[Array, "2**q"]) -> Int[Array, "2**(q-1)"]:
        return r.reshape(2, -1).sum(axis=0)

    @tm.pipeline
    def p(ids: Int[Array, "e"]) -> Int[Array, "8"]:
        return fold(registers(ids))

    assert registers.check().diagnostics == []
    # the body check gives 2**q a size of its own, a power of 2 when sampled, and says what it could not check
    assert fold.check().ok and {d.code for d in fold.check().warnings} == {"TM350"}, str(fold.check())
    report = p.check()
    assert report.ok and {d.code for d in report.diagnostics} == {"TM350"}, str(report)
    ids = np.arange(20, dtype=np.int32)
    expected = np.bincount(ids % 16, minlength=16).reshape(2, -1).sum(axis=0)
    np.testing.assert_array_equal(np.asarray(p(ids)), expected)
    np.testing.assert_array_equal(np.asarray(fold(np.ones(4, np.int32))), [2, 2])
    with pytest.raises(tm.InputError) as err:
        fold(np.ones(6, np.int32))
    assert err.value.code == "TM221" and "6 is not a power of 2" in err.value.diagnostic.message, str(err.value)

    @tm.pipeline
    def wrong(ids: Int[Array, "e"]) -> Int[Array, "4"]:
        return fold(registers(ids))

    assert [d.code for d in wrong.check().errors] == ["TM103"], str(wrong.check())

    @tm.pipeline
    def six(x: Int[Array, "6"]) -> Int[Array, "3"]:
        return fold(x)

    errors = six.check().errors
    assert errors and errors[0].code == "TM120" and "6 is not a power of 2" in errors[0].message, str(six.check())
    assert "power" in (errors[0].hint or "")


def test_sketch_states_made_by_separate_init_calls_merge_when_sized_alike() -> None:
    sl = tm.stdlib

    @tm.pipeline
    def union(key: UInt32[Array, "2"], a: Int[Array, "n"], b: Int[Array, "m"]) -> Float[Array, ""]:
        left = sl.hll_update(sl.hll_init(key, precision=6), a)
        right = sl.hll_update(sl.hll_init(key, precision=6), b)
        return sl.hll_estimate(sl.hll_merge(left, right))

    assert union.check().diagnostics == [], str(union.check())
    key = np.array([1, 2], np.uint32)
    estimate = float(union(key, np.arange(50, dtype=np.int32), np.arange(25, 75, dtype=np.int32)))
    assert 60 < estimate < 90

    @tm.pipeline
    def mismatched(key: UInt32[Array, "2"], a: Int[Array, "n"], b: Int[Array, "m"]) -> Float[Array, ""]:
        left = sl.hll_update(sl.hll_init(key, precision=6), a)
        right = sl.hll_update(sl.hll_init(key, precision=8), b)
        return sl.hll_estimate(sl.hll_merge(left, right))

    assert mismatched.check().errors, str(mismatched.check())

    @tm.pipeline
    def bloom_mismatched(key: UInt32[Array, "2"], a: Int[Array, "n"], b: Int[Array, "m"]) -> Bool[Array, "m"]:
        left = sl.bloom_update(sl.bloom_init(key, num_bits=64, num_hashes=3), a)
        right = sl.bloom_init(key, num_bits=32, num_hashes=3)
        return sl.bloom_query(sl.bloom_merge(left, right), b)

    assert bloom_mismatched.check().errors, str(bloom_mismatched.check())
    with pytest.raises(tm.InputError) as err:
        sl.hll_estimate(sl.HyperLogLog(np.zeros(100, np.int32), np.zeros(1, np.uint32)))
    assert "not a power of 2" in str(err.value)


# -- sizes the algebra cannot represent, evaluated on each call ---------------------------------


@tm.stage
def whole_blocks(x: Float[Array, "n"]) -> Float[Array, "n-n%4"]:
    return x[: x.shape[0] - x.shape[0] % 4]


@tm.stage
def whole_blocks_wrong(x: Float[Array, "n"]) -> Float[Array, "n-n%4"]:
    return x[: x.shape[0] - x.shape[0] % 4 + (1 if x.shape[0] == 10 else 0)]


def test_a_size_the_algebra_cannot_represent_is_evaluated_on_each_call() -> None:
    @tm.pipeline
    def paired(
        x: Float[Array, "n"], y: Float[Array, "n-n%4"], z: Float[Array, "*b n**m"], w: Float[Array, "m"]
    ) -> Float[Array, "n"]:
        return x

    good = (np.ones(10, np.float32), np.ones(8, np.float32), np.ones((5, 1000), np.float32), np.ones(3, np.float32))
    assert paired(*good).shape == (10,)
    assert paired.check().ok
    for i, bad in ((1, np.ones(9, np.float32)), (2, np.ones((5, 999), np.float32))):
        args = list(good)
        args[i] = bad
        with pytest.raises(tm.InputError) as info:
            paired(*args)
        assert info.value.code == "TM206"
        assert ("'n-n%4' = 8 (n=10), found 9" if i == 1 else "'n**m' = 1000 (m=3, n=10), found 999") in str(info.value)
    with pytest.raises(tm.InputError, match="TM206"):
        paired.debug(*good[:1], np.ones(9, np.float32), *good[2:])


def test_a_stage_result_of_such_a_size_is_checked_too() -> None:
    @tm.pipeline
    def blocks(x: Float[Array, "n"]) -> Float[Array, "_"]:
        return whole_blocks(x)

    @tm.pipeline
    def blocks_wrong(x: Float[Array, "n"]) -> Float[Array, "_"]:
        return whole_blocks_wrong(x)

    assert blocks(np.ones(10, np.float32)).shape == (8,)
    assert blocks_wrong(np.ones(9, np.float32)).shape == (8,)  # right for every size but 10
    with pytest.raises(tm.BodyError) as info:
        blocks_wrong(np.ones(10, np.float32))
    assert info.value.code == "TM306" and "'n-n%4' = 8 (n=10), found 9" in str(info.value)


def test_a_pipeline_output_of_such_a_size_is_checked_in_every_mode() -> None:
    @tm.stage
    def keep(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return x * 1.0 if x.shape[0] < 1000 else x  # a branch on the size: the check before data samples it

    @tm.pipeline
    def blocks(x: Float[Array, "n"]) -> Float[Array, "n-n%4"]:
        return keep(x)  # right only when n is a multiple of 4

    report = blocks.check()
    assert report.ok and "TM151" in {d.code for d in report.warnings}  # unverified before data, said
    assert blocks(np.ones(8, np.float32)).shape == (8,)
    for run in (blocks, blocks.checked, blocks.debug, blocks.record):
        with pytest.raises(tm.BodyError) as info:
            run(np.ones(10, np.float32))
        assert info.value.code == "TM306" and "pipeline 'blocks'" in str(info.value)
        assert "'n-n%4' = 8 (n=10), found 10" in str(info.value)
