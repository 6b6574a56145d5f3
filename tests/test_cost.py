"""Cost contracts: XLA's figures per stage and in total without data, and declared budgets."""

from __future__ import annotations

import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@tm.stage
def center(x: Q[Float[Array, "n d"], "m"]) -> Q[Float[Array, "n d"], "m"]:
    return x - x.mean(0)


@tm.stage
def project(x: Q[Float[Array, "n d"], "m"], w: Float[Array, "d k"]) -> Q[Float[Array, "n k"], "m"]:
    return x @ w


@tm.pipeline
def reduce(x: Q[Float[Array, "n d"], "mm"], w: Float[Array, "d k"]) -> Q[Float[Array, "n k"], "m"]:
    return project(center(x), w)


def test_cost_per_stage_follows_the_sizes_without_data():
    small = reduce.cost(n=100, d=8, k=4)
    big = reduce.cost(n=1000, d=8, k=4)
    assert [s.name for s in small.stages] == ["center", "project"]
    # a matrix product costs 2*n*d*k FLOPs: XLA's count, scaled with n
    assert small["project"].flops == pytest.approx(2 * 100 * 8 * 4, rel=0.05)
    assert big["project"].flops == pytest.approx(10 * small["project"].flops, rel=0.05)
    # memory: at least the float32 arguments and the result
    assert big["project"].peak_bytes >= 4 * (1000 * 8 + 8 * 4 + 1000 * 4)
    assert big["center"].bytes_accessed >= 4 * 2 * 1000 * 8
    assert big.total.flops >= big["project"].flops  # the fused whole includes every stage
    table = big.table()
    assert "cost of reduce at n=1000, d=8, k=4" in table and "total (fused)" in table


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"n": 10, "d": 3}, "reduce.cost(): no size for axis 'k'"),
        ({"n": 10, "d": 3, "k": 2, "m": 4}, "reduce.cost(): 'm' is not an axis of the inputs"),
        ({"n": -1, "d": 3, "k": 2}, "reduce.cost(): size of axis 'n' must be a non-negative int, got -1"),
        ({"n": 2.5, "d": 3, "k": 2}, "reduce.cost(): size of axis 'n' must be a non-negative int, got 2.5"),
    ],
)
def test_bad_sizes_are_input_errors(sizes, message):
    with pytest.raises(tm.InputError) as info:
        reduce.cost(**sizes)
    assert info.value.code == "TM215"
    assert info.value.diagnostic.message == message


def test_cost_is_shown_on_the_graph_picture():
    cost = reduce.cost(n=1000, d=8, k=4)
    page = reduce.to_html(cost=cost)
    assert "FLOP" in page and "B peak" in page
    assert "FLOP" not in reduce.to_html()


@tm.stage(budget=tm.Budget(per="n", bytes_per_item=1024, at={"d": 4}))
def distances(x: Q[Float[Array, "n d"], "m"]) -> Q[Float[Array, "n n"], "m"]:
    return jnp.sqrt(jnp.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=-1))  # (n, n): grows with n


@tm.stage(budget=tm.Budget(per="n", bytes_per_item=1024, at={"d": 4}))
def norms(x: Q[Float[Array, "n d"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return jnp.sqrt(jnp.sum(x**2, axis=-1))


def test_a_budget_breach_is_reported_by_check():
    (d,) = distances.check().errors
    assert (d.code, d.stage) == ("TM307", "distances")
    assert d.message.startswith("stage 'distances' costs ")
    assert d.message.endswith("bytes of peak memory per item of 'n', over its budget of 1024")
    per_item = float(d.message.split("costs ")[1].split()[0])
    assert per_item >= 4 * 1024  # one float32 row of the (n, n) result per item
    assert "d=4, n=1024" in d.notes[0]
    assert norms.check().ok

    @tm.pipeline
    def pairwise(x: Q[Float[Array, "n d"], "m"]) -> Q[Float[Array, "n n"], "m"]:
        return distances(x)

    assert [e.code for e in pairwise.check().errors] == ["TM307"]
    with pytest.raises(tm.BodyError):
        pairwise(tm.get_registry().Quantity(jnp.ones((3, 4)), "m"))
    assert pairwise.cost(n=64, d=4)["distances"].peak_bytes >= 4 * 64 * 64  # cost still answers
