"""Every compiled run checks each stage call against its signature while JAX traces it (TM306).

The body check before data proves a body for every size where JAX evaluates it symbolically,
and samples it where it cannot (a branch on ``x.shape``). A body that lies about its result
only at some sizes passes that check; the run that meets such a size must refuse it, in every
run mode, as a debug run does. The check remembers calls that passed (per stage, static
configuration and types): that memory must never let a call through that the check refuses.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float, Float32, Int, PyTree

import typedml as tm
from typedml import Q


@tm.stage
def trim(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return x[:-1] if x.shape[0] == 5 else x  # right for every size but 5


@tm.stage
def widen(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return x.astype(jnp.int32) if x.shape[0] == 5 else x  # a dtype the signature does not declare, at 5


@tm.stage
def pad(x: Float[Array, "n"], k: int) -> Float[Array, "n+k"]:
    wrong = k == 2 and x.shape[0] == 3  # wrong for k=2 at n=3 only: the body check cannot see it
    return jnp.concatenate([x, jnp.zeros(k + 1 if wrong else k, x.dtype)])


@tm.pipeline
def clean(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return trim(x)


@tm.pipeline
def cast(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return widen(x)


def _refused(run: Any, *args: Any) -> tm.BodyError:
    with pytest.raises(tm.BodyError) as info:
        run(*args)
    assert info.value.code == "TM306", str(info.value)
    return info.value


def test_the_body_check_cannot_see_it() -> None:
    assert clean.check().ok and cast.check().ok  # sampled at other sizes: nothing found


@pytest.mark.parametrize("mode", ["plain", "checked", "debug", "record"])
def test_every_run_mode_refuses_a_stage_that_lies_at_the_size_it_meets(mode: str) -> None:
    x = tm.Quantity(jnp.ones(5), "m")
    run = clean if mode == "plain" else getattr(clean, mode)
    err = _refused(run, x)
    assert err.diagnostic.stage == "trim"
    assert "found: shape (4,)" in str(err) and "n=5" in str(err)
    np.testing.assert_allclose(np.asarray(clean(tm.Quantity(jnp.arange(6.0), "m")).magnitude), np.arange(6.0))


def test_a_wrong_dtype_at_one_size_is_refused_too() -> None:
    err = _refused(cast, jnp.ones(5))
    assert "int32" in str(err)
    assert cast(jnp.ones(4)).dtype == jnp.float32


def test_a_stage_called_on_its_own_is_checked() -> None:
    err = _refused(trim, tm.Quantity(jnp.ones(5), "m"))
    assert err.diagnostic.stage == "trim"


def test_inside_the_users_own_jit_and_vmap() -> None:
    _refused(jax.jit(cast), jnp.ones(5))
    _refused(jax.vmap(cast), jnp.ones((3, 5)))  # each item has 5 values
    assert jax.vmap(cast)(jnp.ones((5, 4))).shape == (5, 4)  # 5 items of 4: right


def test_a_streamed_chunk_of_the_size_that_lies_is_refused() -> None:
    @tm.stage
    def add(total: Float[Array, ""], x: Float[Array, "n"]) -> Float[Array, ""]:
        s = x.sum()
        return jnp.stack([s, s]) if x.shape[0] == 5 else total + s  # the wrong shape for 5 rows

    chunks = [np.ones(4, np.float32), np.ones(4, np.float32)]
    (total,) = tm.stream(add, chunks, init=(jnp.zeros((), jnp.float32),))
    assert float(total) == 8.0
    with pytest.raises(tm.BodyError) as info:
        tm.stream(add, [np.ones(5, np.float32), *chunks], init=(jnp.zeros((), jnp.float32),))
    assert info.value.code == "TM306"


def test_a_call_remembered_as_checked_never_lets_another_through() -> None:
    @tm.pipeline
    def twice(x: Float[Array, "n"], y: Float[Array, "m"]) -> Float[Array, "m"]:
        widen(x)  # passes at n=4
        return widen(y)  # the same stage, another size: checked anew

    assert twice(jnp.ones(4), jnp.ones(4)).shape == (4,)  # the same types twice: checked once
    _refused(twice, jnp.ones(4), jnp.ones(5))
    _refused(twice, jnp.ones(5), jnp.ones(4))

    @tm.pipeline
    def by_one(x: Float[Array, "n"]) -> Float[Array, "n+1"]:
        return pad(x, k=1)

    @tm.pipeline
    def by_two(x: Float[Array, "n"]) -> Float[Array, "n+2"]:
        return pad(x, k=2)

    assert by_one(jnp.ones(3)).shape == (4,)  # remembered for k=1, same input types as below
    err = _refused(by_two, jnp.ones(3))  # the static configuration is part of what is remembered
    assert "found: shape (6,)" in str(err)


class Parts(NamedTuple):
    values: Float[Array, "n"]
    labels: Int[Array, "n"]


def test_several_outputs_are_checked_field_by_field() -> None:
    @tm.stage
    def split(x: Float[Array, "n"]) -> Parts:
        labels = jnp.zeros(x.shape[0], jnp.int32)
        return Parts(x[:-1] if x.shape[0] == 5 else x, labels)

    @tm.pipeline
    def both(x: Float[Array, "n"]) -> Parts:
        return split(x)

    assert both.check().ok
    out = both(jnp.ones(4))
    assert out.values.shape == out.labels.shape == (4,)
    err = _refused(both, jnp.ones(5))
    assert "values" in str(err)


def test_a_plain_tuple_of_arrays_is_checked_position_by_position() -> None:
    @tm.stage
    def split(x: Q[Float[Array, "n"], "m"]) -> tuple[Q[Float[Array, "n"], "m"], Int[Array, "n"]]:
        return x * 2, jnp.zeros(x.shape[0], jnp.int32)

    @tm.stage
    def bad(x: Float[Array, "n"]) -> tuple[Float[Array, "n"], Int[Array, "n"]]:
        return x[:-1], jnp.zeros(x.shape[0], jnp.float32)

    @tm.stage
    def join(pair: tuple[Q[Float[Array, "n"], "mm"], Int[Array, "n"]]) -> Q[Float[Array, "n"], "mm"]:
        a, b = pair
        return a + b

    @tm.pipeline
    def both(x: Q[Float[Array, "n"], "m"]) -> tuple[Q[Float[Array, "n"], "mm"], Int[Array, "n"]]:
        a, b = split(x)
        return join((a, b)), b

    @tm.pipeline
    def swapped(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "mm"]:
        a, b = split(x)
        return join((b, a))

    assert [p.name for p in split.spec.outputs] == ["0", "1"]
    assert [p.name for p in join.spec.inputs] == ["pair.0", "pair.1"]
    assert both.check().ok and split.check().ok
    assert {(d.code, d.port) for d in bad.check().errors} == {("TM301", "0"), ("TM303", "1")}
    assert {d.code for d in swapped.check().errors} >= {"TM101", "TM102"}  # positions swapped: caught
    out = both(tm.Quantity(jnp.arange(3.0), "m"))
    assert type(out) is tuple and len(out) == 2  # a plain tuple, as declared
    np.testing.assert_allclose(np.asarray(out[0].to("mm").magnitude), [0.0, 2000.0, 4000.0])
    assert str(out[0].units) == "millimeter" and out[1].dtype == jnp.int32
    with pytest.raises(tm.InputError) as info:
        join.as_pipeline()([jnp.ones(2), jnp.ones(2, jnp.int32)])  # a list is not the declared tuple
    assert info.value.code == "TM235" and info.value.diagnostic.port == "pair"
    assert "is a list, not a tuple of 2" in str(info.value) and "pass a tuple of 2" in str(info.value)


def test_containers_that_stay_opaque_are_said_to_be_unchecked() -> None:
    @tm.stage
    def halves(x: Float[Array, "n"]) -> dict[str, Float[Array, "n"]]:
        return {"head": x[:-1], "tail": x[1:]}

    @tm.stage
    def weigh(x: Float[Array, "n"], w: list[Float[Array, "n"]]) -> Float[Array, "n"]:
        return x * w[0]

    @tm.stage
    def many(x: Float[Array, "n"]) -> tuple[Float[Array, "n"], ...]:
        return (x, x)

    @tm.stage
    def opaque(x: Float[Array, "n"]) -> PyTree[Float[Array, "n"]]:
        return {"x": x}

    @tm.pipeline
    def both(x: Float[Array, "n"]) -> dict[str, Float[Array, "n"]]:
        return halves(x)

    (said,) = halves.check().warnings
    assert said.code == "TM352" and said.port == "return" and "dict of arrays" in said.message
    assert [(d.code, d.port) for d in weigh.check().warnings] == [("TM352", "w")]
    assert [(d.code, d.port) for d in many.check().warnings] == [("TM352", "return")]
    assert not opaque.check().warnings  # PyTree[...] says it is opaque on purpose
    codes = [(d.code, d.stage) for d in both.check().warnings]
    assert ("TM352", "halves") in codes and ("TM352", "both") in codes


def test_an_edge_whose_dtype_was_unverified_is_checked_on_the_call() -> None:
    @tm.stage
    def narrow(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return x.astype(jnp.float16)

    @tm.stage
    def need32(x: Float32[Array, "n"]) -> Float32[Array, "n"]:
        return x

    @tm.pipeline
    def chain(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return need32(narrow(x))

    assert [d.code for d in chain.check().warnings] == ["TM150"]  # may not match: said before data
    err = _refused(chain, jnp.ones(3))
    assert err.diagnostic.stage == "need32" and "expected Float32, found float16" in str(err)


@tm.stage
def stretch(x: Float[Array, "n"], k: int) -> Float[Array, "n+k"]:
    extra = 1 if x.shape[0] == 3 else k  # at n=3 one element whatever k is: right for k=1 only
    return jnp.concatenate([x, jnp.zeros(extra, x.dtype)])


def test_a_call_of_the_same_types_under_another_static_size_is_checked_anew() -> None:
    @tm.pipeline
    def by_one(x: Float[Array, "n"]) -> Float[Array, "_"]:
        return stretch(x, k=1)

    @tm.pipeline
    def by_two(x: Float[Array, "n"]) -> Float[Array, "_"]:  # "_": only the stage's check can refuse
        return stretch(x, k=2)

    assert by_one.check().ok and by_two.check().ok  # the body check samples other sizes
    assert by_one(jnp.ones(3)).shape == (4,)  # passed, and remembered: (3,) in, (4,) out
    err = _refused(by_two, jnp.ones(3))  # the same types in and out, but k=2 declares (5,)
    assert err.diagnostic.stage == "stretch" and "found: shape (4,)" in str(err)
