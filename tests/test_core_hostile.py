"""Hostile inputs to the core features (sizes, records, host stages, kinds): each a clear
typed error or a coded warning, never an internal traceback, a hang or a silent pass."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, NamedTuple

import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

# -- sizes ---------------------------------------------------------------------------------


@tm.stage
def astronomical(x: Float[Array, "n"]) -> Float[Array, "n*10**10**10"]:
    return x


@tm.stage
def split(x: Float[Array, "n"], k: int = 2) -> Float[Array, "n//k"]:
    return x[: x.shape[0] // max(k, 1)]  # the declared size, not the body, divides by zero


@tm.stage
def doubling(x: Float[Array, "n"], p: int = 3) -> Float[Array, "2**p"]:
    return jnp.zeros(2**p if p < 64 else 1) + x.sum()


@tm.stage
def exponent_from_data(x: Float[Array, "p"]) -> Float[Array, "2**p"]:
    return jnp.zeros(2 ** x.shape[0])


def test_a_size_no_array_can_have_is_refused_without_computing_it() -> None:
    # 10**10**10 has ten billion digits: computing it would never end
    report = astronomical.check()
    assert [d.code for d in report.errors] == ["TM301"]
    assert "larger than any array axis" in str(report)


def test_a_static_divisor_of_zero_is_a_typed_error() -> None:
    assert split(jnp.ones(6), k=3).shape == (2,)
    report = split.check(k=0)
    assert [d.code for d in report.errors] == ["TM301"]
    assert "divides by zero" in str(report)
    with pytest.raises(tm.BodyError) as caught:
        split(jnp.ones(6), k=0)
    assert caught.value.code == "TM301"


def test_a_huge_static_exponent_is_refused_without_computing_it() -> None:
    assert doubling(jnp.ones(3), p=4).shape == (16,)
    with pytest.raises(tm.BodyError, match="larger than any array axis") as caught:
        doubling(jnp.ones(3), p=10**10)
    assert caught.value.code == "TM301"


def test_a_power_of_a_size_the_data_gives_is_not_an_internal_error() -> None:
    # 2**p with p a symbolic size: JAX cannot raise 2 to it; the check says it cannot decide
    report = exponent_from_data.check()
    assert [d.code for d in report.warnings] == ["TM350"]
    assert report.errors == []


# -- records and pytrees -------------------------------------------------------------------


@tm.stage
def total(params: dict[Any, Any]) -> Float[Array, ""]:
    return sum((jnp.sum(v) for v in params.values()), jnp.zeros(()))


def test_a_dict_whose_keys_do_not_sort_is_a_typed_error() -> None:
    assert float(total({"w": jnp.ones(3), "b": jnp.ones(2)})) == 5.0
    for params in ({1: jnp.ones(3), "bias": jnp.ones(2)}, {(1, 2): jnp.ones(3), 3: jnp.ones(2)}):
        with pytest.raises(tm.InputError, match="cannot flatten") as caught:
            total(params)
        assert caught.value.code == "TM238"
        assert caught.value.diagnostic.location is not None
        assert caught.value.diagnostic.location.path == __file__


class Pair(NamedTuple):
    a: Float[Array, "n"]
    b: Float[Array, "n"]


@dataclasses.dataclass(frozen=True)
class PairDC:
    a: Float[Array, "n"]
    b: Float[Array, "n"]


@tm.stage
def column_sums(x: Float[Array, "r n"]) -> Float[Array, "n"]:
    return x.sum(0)


@tm.pipeline
def sums(x: Float[Array, "r n"]) -> Float[Array, "n"]:
    return column_sums(x)


@pytest.mark.parametrize("call", [column_sums, sums], ids=["stage", "pipeline"])
def test_a_record_where_an_array_is_expected_is_not_stacked_into_one(call: Any) -> None:
    assert call(jnp.ones((2, 3))).tolist() == [2.0, 2.0, 2.0]  # warm: the fast path is ready
    for record in (Pair(jnp.ones(3), jnp.ones(3)), PairDC(jnp.ones(3), jnp.ones(3))):
        with pytest.raises(tm.InputError, match=f"is a {type(record).__name__}, not an array") as caught:
            call(record)
        assert caught.value.code == "TM208"
    assert call([[1.0, 2.0], [3.0, 4.0]]).tolist() == [4.0, 6.0]  # nested lists are still arrays


# -- host stages ---------------------------------------------------------------------------


class Abort(BaseException):
    """A BaseException that is not an interrupt: a body's failure like any other."""


@tm.stage(host=True)
def host_raising(x: Float[Array, "n"], what: str = "none") -> Float[Array, "n"]:
    if what == "interrupt":
        raise KeyboardInterrupt
    if what == "exit":
        raise SystemExit(3)
    if what == "abort":
        raise Abort("stop here")
    return np.asarray(x) * 2


def test_a_host_body_interrupted_is_an_interrupt_not_jax_runtime_error() -> None:
    assert host_raising(jnp.ones(3)).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(KeyboardInterrupt):
        host_raising(jnp.ones(3), what="interrupt")
    with pytest.raises(SystemExit):
        host_raising(jnp.ones(3), what="exit")


def test_a_host_body_raising_a_base_exception_is_a_body_error() -> None:
    with pytest.raises(tm.BodyError, match="raised Abort: stop here") as caught:
        host_raising(jnp.ones(3), what="abort")
    assert caught.value.code == "TM314"
    assert host_raising(jnp.ones(3)).tolist() == [2.0, 2.0, 2.0]  # the next call still runs


# -- kinds and static configuration ---------------------------------------------------------


KIND_OF_NONE: Any = tm.Kind(None)  # pyright: ignore[reportArgumentType]
KIND_OF_INT: Any = tm.Kind(3)  # pyright: ignore[reportArgumentType]


def test_a_kind_not_named_by_a_string_is_a_definition_error() -> None:
    with pytest.raises(tm.StageDefinitionError, match="a kind is named by a string, got NoneType") as caught:

        @tm.stage
        def gauge(h: Q[Float[Array, "n"], "m", KIND_OF_NONE]) -> Q[Float[Array, "n"], "m"]:
            return h

    assert caught.value.code == "TM030"
    with pytest.raises(tm.StageDefinitionError, match="a kind is named by a string, got int"):

        @tm.stage
        def other(h: Q[Float[Array, "n"], "m", KIND_OF_INT]) -> Q[Float[Array, "n"], "m"]:
            return h


def test_a_kind_defined_with_a_unit_that_cannot_apply_is_refused() -> None:
    tree = tm.kinds.copy()
    with tm.use_kinds(tree):
        tree.define("rim_radius", parent="length", unit="mm")  # another unit of the same dimension
        assert tree.is_a("rim_radius", "length")
        with pytest.raises(ValueError, match="cannot be read"):
            tree.define("wheel_size", parent="length", unit="furlongz")
        with pytest.raises(ValueError, match=r"is \[time\], but its parent 'length'"):
            tree.define("lap", parent="length", unit="s")
        with pytest.raises(ValueError, match="a unit expression"):
            tree.define("spoke", unit=3)  # pyright: ignore[reportArgumentType]
        with pytest.raises(ValueError, match="a kind's name"):
            tree.define("hub", parent=["length"])  # pyright: ignore[reportArgumentType]
        assert [k for k in ("wheel_size", "lap", "spoke", "hub") if k in tree] == []


@tm.stage
def scaled_mean(x: Float[Array, "n"], scale: float = 1.0) -> Float[Array, ""]:
    return x.mean() * scale


def test_as_pipeline_refuses_a_static_parameter_the_stage_does_not_have() -> None:
    assert float(scaled_mean.as_pipeline(scale=2.0)(jnp.ones(3))) == 2.0
    with pytest.raises(tm.InputError, match=r"as_pipeline\(\) got an unexpected static parameter 'sclae'") as caught:
        scaled_mean.as_pipeline(sclae=2.0)
    assert caught.value.code == "TM202"
    with pytest.raises(tm.InputError, match="is an input: pass it when the pipeline is called"):
        scaled_mean.as_pipeline(x=jnp.ones(3))


@tm.stage
def peak(x: Float[Array, "n *rest"], axis: Annotated[int | None, tm.Axis("n")] = None) -> Float[Array, "*rest"]:
    return x.max(axis=0)


def test_an_axis_named_by_a_numpy_integer_is_that_position() -> None:
    x = jnp.arange(6.0).reshape(2, 3)
    assert peak(x, axis=1).tolist() == [2.0, 5.0]
    assert peak(x, axis=np.int64(1)).tolist() == [2.0, 5.0]
    with pytest.raises(tm.InputError, match="a bool is not an axis position") as caught:
        peak(x, axis=True)
    assert caught.value.code == "TM122"
