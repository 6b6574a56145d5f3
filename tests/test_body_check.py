"""The body check: stage bodies evaluated with symbolic sizes, no data (DESIGN.md §3.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Bool, Float, Int, PyTree

import typedml as tm
from typedml import Q
from typedml._body import check_bodies, check_stage
from typedml._check import CheckReport
from typedml._locations import return_location

# -- bodies with a mistake -----------------------------------------------------------------


@tm.stage
def four_columns(x: Float[Array, "b 3"]) -> Float[Array, "b 3"]:
    return jnp.concatenate([x, x[:, :1]], axis=1)  # "b 4"


@tm.stage
def total_no_axis(x: Q[Float[Array, "b t"], "J"]) -> Q[Float[Array, "b"], "J"]:
    return x.sum()  # every axis reduced


@tm.stage
def transposed(x: Float[Array, "n m"]) -> Float[Array, "n m"]:
    return x.T


@tm.stage
def add_n_m(x: Float[Array, "n"], y: Float[Array, "m"]) -> Float[Array, "n"]:
    return x + y  # n against m


@tm.stage
def diff_n_m(x: Float[Array, "n"], y: Float[Array, "m"]) -> Float[Array, "n"]:
    return x[:, None] - y  # broadcasts into (n, m)


@tm.stage
def outer_product(x: Float[Array, "n"], y: Float[Array, "n"]) -> Float[Array, "n"]:
    return jnp.outer(x, y)  # elementwise was meant


@tm.stage
def count_as_float(x: Float[Array, "n"]) -> Float[Array, ""]:
    return (x > 0).sum()  # int32


@tm.stage
def index_as_float(x: Float[Array, "n"]) -> Int[Array, ""]:
    return x.argmax() * 1.0  # float32


@tm.stage
def mask_as_float(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return x > 0  # bool


class Moments(NamedTuple):
    mean: Q[Float[Array, ""], "m"]
    spread: Q[Float[Array, "n"], "m"]


@tm.stage
def moments_bad_field(x: Q[Float[Array, "n"], "m"]) -> Moments:
    return Moments(x.mean(), x.std())  # spread should be per element


@tm.stage
def moments_as_array(x: Q[Float[Array, "n"], "m"]) -> Moments:
    return jnp.stack([x.mean(), x.std()])


@tm.stage
def moments_three(x: Q[Float[Array, "n"], "m"]) -> Moments:
    return (x.mean(), x - x.mean(), x.std())


@tm.stage
def tuple_for_array(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return x, x


@tm.stage
def wrong_axis(x: Float[Array, "b t"]) -> Float[Array, "b"]:
    return x.mean(axis=0)  # gives t


@tm.stage
def fixed_reshape(x: Float[Array, "n 3"]) -> Float[Array, "n 3"]:
    return x.reshape(4, 3)


@tm.stage
def concat_n_m(x: Float[Array, "n"], y: Float[Array, "m"]) -> Float[Array, "2*n"]:
    return jnp.concatenate([x, y])  # n+m


@tm.stage
def off_by_one(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return x[1:] - x[:-1]  # n-1


@tm.stage
def pad_two(x: Float[Array, "n"]) -> Float[Array, "n+1"]:
    return jnp.pad(x, (1, 1))  # n+2


@tm.stage
def batch_dropped(x: Float[Array, "*batch 3"]) -> Float[Array, "*batch 3"]:
    return x.sum(-1)


@tm.stage
def uneven_reshape(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return x.reshape(-1, 5).sum(1)


@tm.stage
def contract_n_k(a: Float[Array, "n m"], b: Float[Array, "k p"]) -> Float[Array, "n p"]:
    return a @ b  # m against k


BAD: list[tuple[Any, str, str | None, str, tuple[str, ...]]] = [
    # stage, code, port, in the message, in the notes
    (four_columns, "TM301", "return", "declared (b, 3), computed (b, 4)", ("axis 1: declared 3, computed 4",)),
    (total_no_axis, "TM302", "return", "declared (b), computed ()", ("declared 1 axis, computed 0 axes",)),
    (
        transposed,
        "TM301",
        "return",
        "declared (n, m), computed (m, n)",
        ("axis 0: declared n, computed m", "axis 1: declared m, computed n"),
    ),
    (
        add_n_m,
        "TM305",
        None,
        "incompatible shapes for broadcasting: (n,), (m,)",
        ("(n,) is input 'x', declared 'n'", "(m,) is input 'y', declared 'm'"),
    ),
    (diff_n_m, "TM302", "return", "declared (n), computed (n, m)", ("declared 1 axis, computed 2 axes",)),
    (outer_product, "TM302", "return", "declared (n), computed (n, n)", ()),
    (count_as_float, "TM303", "return", "declared Float, computed int32", ()),
    (index_as_float, "TM303", "return", "declared Int, computed float32", ()),
    (mask_as_float, "TM303", "return", "declared Float, computed bool", ()),
    (moments_bad_field, "TM302", "spread", "output 'spread': declared (n), computed ()", ()),
    (moments_as_array, "TM304", "return", "its outputs: declared Moments(mean, spread), computed one array (2)", ()),
    (moments_three, "TM304", "return", "declared Moments(mean, spread), computed a tuple of 3 values", ()),
    (tuple_for_array, "TM304", "return", "declared one array (n), computed a tuple of 2 values", ()),
    (wrong_axis, "TM301", "return", "declared (b), computed (t)", ("axis 0: declared b, computed t",)),
    (fixed_reshape, "TM301", "return", "declared (n, 3), computed (4, 3)", ("axis 0: declared n, computed 4",)),
    (concat_n_m, "TM301", "return", "declared (2*n), computed (n+m)", ("axis 0: declared 2*n, computed n+m",)),
    (off_by_one, "TM301", "return", "declared (n), computed (n-1)", ("axis 0: declared n, computed n-1",)),
    (pad_two, "TM301", "return", "declared (n+1), computed (n+2)", ()),
    (
        batch_dropped,
        "TM302",
        "return",
        "declared (*batch, 3), computed (*batch)",
        ("variadic axes checked with one axis each: *batch",),
    ),
    (uneven_reshape, "TM305", None, "Cannot divide evenly the sizes of shapes (n,) and (-1, 5)", ()),
    (
        contract_n_k,
        "TM305",
        None,
        "contracting dimensions to have the same shape, got (m,) and (k,)",
        ("raised at",),
    ),
]


@pytest.mark.parametrize(("stage", "code", "port", "message", "notes"), BAD, ids=[b[0].spec.name for b in BAD])
def test_body_mistake_is_caught_without_data(
    stage: Any, code: str, port: str | None, message: str, notes: tuple[str, ...]
) -> None:
    report = stage.check()
    assert isinstance(report, CheckReport)
    assert not report.ok
    (d,) = report.errors
    assert d.code == code
    assert d.severity == "error"
    assert d.stage == stage.spec.name
    assert d.port == port
    assert f"body of stage {stage.spec.name!r}" in d.message
    assert message in d.message
    for note in notes:
        assert any(note in n for n in d.notes), (note, d.notes)
    # located in this file where the body returns the wrong output, or where it raised
    assert d.location is not None and d.location.path == __file__
    source = Path(__file__).read_text().splitlines()[d.location.line - 1]
    assert source.strip().startswith("return "), source  # every body here fails on its return line
    if code != "TM305":  # a wrong output: where the body returns it
        assert d.location == return_location(stage.fn, stage.spec.location)
    else:  # the body raised: the line that raised
        assert any(n.startswith(f"raised at {d.location}") for n in d.notes), d.notes
    assert report.warnings == []
    with pytest.raises(tm.BodyError) as info:
        report.raise_for_errors()
    assert info.value.diagnostics == report.diagnostics


def test_enough_distinct_mistakes() -> None:
    assert len({b[0].spec.name for b in BAD}) >= 15


def test_message_lines() -> None:
    (d,) = four_columns.check().diagnostics
    assert str(d).splitlines()[1:] == [
        "    axis 1: declared 3, computed 4",
        "    checked for every size of b (symbolic, no data)",
        "    hint: fix the body, or declare the shape it really returns",
    ]
    assert (
        str(d)
        .splitlines()[0]
        .endswith(
            "error[TM301] body of stage 'four_columns' returns the wrong shape for its return value: "
            "declared (b, 3), computed (b, 4)"
        )
    )


def test_raising_body_names_the_line_and_inputs() -> None:
    (d,) = add_n_m.check().diagnostics
    assert d.message.startswith("body of stage 'add_n_m' raised TypeError during abstract evaluation: ")
    raised = next(n for n in d.notes if n.startswith("raised at "))
    line = add_n_m.spec.location.line + 2
    assert f"test_body_check.py:{line}:" in raised and raised.endswith(": return x + y  # n against m")
    assert "evaluated with symbolic sizes n, m (no data)" in d.notes


# -- correct bodies pass for every size ---------------------------------------------------


@tm.stage
def affine(x: Q[Float[Array, "b c"], "mV"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "b c"], "K"]:
    return x * gain + 1.0


@tm.stage
def row_sums(x: Float[Array, "b t"]) -> Float[Array, "b"]:
    return x.sum(axis=1)


@tm.stage
def pad_one(x: Float[Array, "n"]) -> Float[Array, "n+1"]:
    return jnp.pad(x, (0, 1))


@tm.stage
def differences(x: Float[Array, "n"]) -> Float[Array, "n-1"]:
    return x[1:] - x[:-1]


@tm.stage
def doubled(x: Float[Array, "n"]) -> Float[Array, "2*n"]:
    return jnp.concatenate([x, x])


@tm.stage
def norms(x: Float[Array, "*batch 3"]) -> Float[Array, "*batch"]:
    return jnp.sqrt((x * x).sum(-1))


@tm.stage
def anything(x: Float[Array, "... c"]) -> Float[Array, "... c"]:
    return x * 2


@tm.stage
def moments(x: Q[Float[Array, "n"], "m"]) -> Moments:
    return Moments(x.mean(), jnp.abs(x - x.mean()))


@tm.stage
def count(x: Float[Array, "n"]) -> Int[Array, ""]:
    return (x > 0).sum()


@tm.stage
def positive(x: Float[Array, "n"]) -> Bool[Array, "n"]:
    return x > 0


@tm.stage
def matmul(a: Float[Array, "n m"], b: Float[Array, "m p"]) -> Float[Array, "n p"]:
    return a @ b


@tm.stage
def head(x: Float[Array, "k+rest"], k: int = 3) -> Float[Array, "k"]:
    return x[:k]  # k is the static parameter's value; "k+rest" says the input has at least k


@tm.stage
def flatten(m: Float[Array, "n n"]) -> Float[Array, "n*n"]:
    return m.reshape(-1)


@tm.stage
def broadcastable(x: Float[Array, "n"]) -> Float[Array, "#n"]:
    return x.sum(keepdims=True)


GOOD = [
    affine,
    row_sums,
    pad_one,
    differences,
    doubled,
    norms,
    anything,
    moments,
    count,
    positive,
    matmul,
    head,
    flatten,
    broadcastable,
    tm.stdlib.mean,
    tm.stdlib.variance,
    tm.stdlib.std,
]


@pytest.mark.parametrize("stage", GOOD, ids=[s.spec.name for s in GOOD])
def test_correct_body_passes_for_symbolic_sizes(stage: Any) -> None:
    report = stage.check()
    assert report.ok
    assert report.diagnostics == [], str(report)


def test_good_stage_runs_and_bad_stage_raises_body_error(q: Any) -> None:
    out = pad_one(np.ones(4, np.float32))
    assert out.shape == (5,)
    with pytest.raises(tm.BodyError) as info:
        pad_two(np.ones(4, np.float32))
    assert info.value.code == "TM301"


# -- what cannot be verified is said ------------------------------------------------------


@tm.stage
def branches_on_size(x: Float[Array, "n"]) -> Float[Array, "n"]:
    if x.shape[0] > 3:
        return x * 2
    return x


@tm.stage
def branches_wrongly(x: Float[Array, "n"]) -> Float[Array, "n"]:
    if x.shape[0] > 3:
        return x[1:]
    return x


@tm.stage
def needs_config(x: Float[Array, "n"], k: int) -> Float[Array, "n"]:
    return jnp.roll(x, k)


@tm.stage
def takes_pytree(x: Float[Array, "n"], params: PyTree) -> Float[Array, "n"]:
    return x - params["mean"]


def test_size_branch_is_unverified_but_ok() -> None:
    report = branches_on_size.check()
    assert report.ok
    (w,) = report.warnings
    assert w.code == "TM350" and w.severity == "warning"
    assert w.stage == "branches_on_size"
    assert w.location is not None and w.location.line == branches_on_size.spec.location.line + 2  # the `if`
    assert "cannot be evaluated for symbolic sizes; checked only at sizes n=13" in w.message
    assert w.message.startswith("unverified: ")
    assert any("Symbolic dimension comparison 'n' > '3' is inconclusive" in n for n in w.notes)
    assert any(n.startswith("raised at ") and n.endswith("if x.shape[0] > 3:") for n in w.notes)


def test_size_branch_is_still_checked_at_prime_sizes() -> None:
    report = branches_wrongly.check()
    assert [d.code for d in report.diagnostics] == ["TM301", "TM350"]
    err = report.errors[0]
    assert "declared (n) = (13), computed (12)" in err.message
    assert "checked only at sizes n=13" in err.notes


def test_static_without_default() -> None:
    (w,) = needs_config.check().diagnostics
    assert w.code == "TM350"
    assert "static parameter 'k' has no default" in w.message
    assert needs_config.check(k=2).diagnostics == []


def test_pytree_input_alone_is_checked_with_the_first_call() -> None:
    (d,) = takes_pytree.check().diagnostics
    assert d.code == "TM312" and d.severity == "info" and "the shapes inside 'params' are known only then" in d.message


@tm.stage
def fit(x: Float[Array, "n"]) -> PyTree:
    return {"mean": x.mean()}


@tm.stage
def fit_vector(x: Float[Array, "n"]) -> PyTree:
    return {"mean": jnp.stack([x.mean(), x.std()])}  # shape (2,), subtracted from "n"


def test_pytree_from_an_upstream_stage_is_checked() -> None:
    @tm.pipeline
    def centre(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return takes_pytree(x, fit(x))

    assert centre.check().diagnostics == []

    @tm.pipeline
    def centre_wrong(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return takes_pytree(x, fit_vector(x))

    codes = [d.code for d in centre_wrong.check().diagnostics]
    assert codes == ["TM305"]


# -- pipelines -------------------------------------------------------------------------------


def test_pipeline_check_includes_body_diagnostics_once_per_stage() -> None:
    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return off_by_one(off_by_one(x))

    report = p.check()
    assert [d.code for d in report.diagnostics] == ["TM301"]
    assert report.errors[0].stage == "off_by_one"
    with pytest.raises(tm.BodyError):
        p(np.ones(5, np.float32))


def test_wiring_errors_with_body_errors_raise_wiring_error() -> None:
    @tm.pipeline
    def p(x: Float[Array, "n"], y: Int[Array, "n"]) -> Float[Array, "n"]:
        return off_by_one(y)

    report = p.check()
    assert {"TM101", "TM301"} <= {d.code for d in report.errors}
    with pytest.raises(tm.WiringError):
        report.raise_for_errors()


def test_static_configuration_from_the_graph() -> None:
    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return needs_config(x, k=1)

    assert p.check().diagnostics == []


def test_nested_pipeline_body_errors_reach_the_outer_report() -> None:
    @tm.pipeline
    def inner(x: Float[Array, "b 3"]) -> Float[Array, "b 3"]:
        return four_columns(x)

    @tm.pipeline
    def outer(x: Float[Array, "b 3"]) -> Float[Array, "b 3"]:
        return inner(x)

    assert "TM301" in [d.code for d in outer.check().errors]


def test_body_errors_do_not_hide_unused_warnings() -> None:
    @tm.pipeline
    def p(x: Float[Array, "n"], unused: Float[Array, "n"]) -> Float[Array, "n"]:
        return off_by_one(x)

    assert [d.code for d in p.check().diagnostics] == ["TM301", "TM153"]


def test_check_bodies_on_a_graph() -> None:
    @tm.pipeline
    def p(x: Float[Array, "b 3"]) -> Float[Array, "b 3"]:
        return four_columns(four_columns(x))

    assert [d.code for d in check_bodies(p.graph)] == ["TM301"]


# -- caching -------------------------------------------------------------------------------


def test_results_are_cached_by_code_and_types(monkeypatch: pytest.MonkeyPatch) -> None:
    @tm.stage
    def fresh(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return x + 1

    from typedml import _body

    calls: list[object] = []
    real = _body._Checker._evaluate  # pyright: ignore[reportPrivateUsage]

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(_body._Checker, "_evaluate", counting)  # pyright: ignore[reportPrivateUsage]
    assert check_stage(fresh) == []
    assert len(calls) == 1
    assert check_stage(fresh) == []
    assert len(calls) == 1  # cached


def test_closures_are_not_confused() -> None:
    def make(extra: int) -> Any:
        @tm.stage
        def padded(x: Float[Array, "n"]) -> Float[Array, "n+1"]:
            return jnp.pad(x, (0, extra))

        return padded

    assert make(1).check().ok
    assert not make(2).check().ok


# -- whole pipelines, end to end ----------------------------------------------------------


@tm.stage
def outer_flat(x: Float[Array, "n"]) -> Float[Array, "n**2"]:
    return jnp.outer(x, x).reshape(-1)


@tm.stage
def drop_first(y: Float[Array, "k"]) -> Float[Array, "k-1"]:
    return y[1:]


@tm.pipeline
def squares_minus_one(x: Float[Array, "n"]) -> Float[Array, "n*n+n%n"]:
    return drop_first(outer_flat(x))  # really n**2-1 long: no edge check can prove it (`%`: TM151)


@tm.pipeline
def squares_minus_one_declared(x: Float[Array, "n"]) -> Float[Array, "n*n-1+n%n"]:
    return drop_first(outer_flat(x))


def test_whole_pipeline_is_evaluated_end_to_end() -> None:
    report = squares_minus_one.check()
    assert [d.code for d in report.warnings] == ["TM151"]  # the edge check does not solve `%`
    (err,) = report.errors
    assert err.code == "TM301"
    assert err.message == (
        "body of pipeline 'squares_minus_one' returns the wrong shape for its return value: "
        "declared (n*n+n%n), computed (n^2-1)"
    )
    assert err.location == return_location(squares_minus_one.fn, squares_minus_one.spec.location)
    assert "checked for every size of n (symbolic, no data)" in err.notes
    with pytest.raises(tm.BodyError):
        squares_minus_one(jnp.ones(3))
    # declared right, the same pipeline passes, and the output edge's TM151 is settled: the
    # end-to-end evaluation proved the output's shape for every size
    good = squares_minus_one_declared.check()
    assert good.ok and good.diagnostics == []
    assert squares_minus_one_declared(jnp.ones(3)).shape == (8,)


def test_a_power_is_a_product_between_stages() -> None:
    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "n**2"]:
        return drop_first(outer_flat(x))  # n**2 is n*n: the edge check finds the missing element

    assert [d.code for d in p.check().diagnostics] == ["TM103"], str(p.check())
    assert "expected n*n, found (n*n)-1" in p.check().errors[0].message


def test_a_product_of_sizes_is_checked_between_stages() -> None:
    @tm.stage
    def outer_product_flat(x: Float[Array, "n"]) -> Float[Array, "n*n"]:
        return jnp.outer(x, x).reshape(-1)

    @tm.pipeline
    def wrong(x: Float[Array, "n"]) -> Float[Array, "n*n"]:
        return drop_first(outer_product_flat(x))

    (err,) = wrong.check().errors
    assert err.code == "TM103"
    assert "expected n*n, found (n*n)-1" in err.message


def test_sizes_implied_by_the_signature_let_slicing_bodies_be_proven():
    @tm.stage
    def moving_average(x: Float[Array, "n"]) -> Float[Array, "n-2"]:
        return (x[:-2] + x[1:-1] + x[2:]) / 3.0  # JAX alone sees max(0, n - 2): n >= 2 settles it

    @tm.stage
    def tail(x: Float[Array, "n"], y: Float[Array, "m"]) -> Float[Array, "m-n"]:
        return y[x.shape[0] :]

    assert moving_average.check().diagnostics == []
    assert tail.check().diagnostics == []

    @tm.stage
    def one_short(x: Float[Array, "n"]) -> Float[Array, "n-2"]:
        return x[:-3]  # still wrong for every n >= 3

    (d,) = one_short.check().errors
    assert d.code == "TM301" and "declared (n-2), computed (max(0,n-3))" in d.message
