"""Streaming: chunks folded through a mergeable state equal the in-memory result, with one
executable for every chunk (a ragged last chunk padded and weighted out), and bounded reads."""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


class Sums(NamedTuple):
    weight: Float[Array, ""]
    total: Q[Float[Array, ""], "'u"]
    squares: Q[Float[Array, ""], "'u**2"]


@tm.stage
def sums_update(
    weight: Float[Array, ""],
    total: Q[Float[Array, ""], "'u"],
    squares: Q[Float[Array, ""], "'u**2"],
    x: Q[Float[Array, "n"], "'u"],
    w: Float[Array, "n"],
) -> Sums:
    return Sums(weight + w.sum(), total + (w * x).sum(), squares + (w * x * x).sum())


class Moments(NamedTuple):
    mean: Q[Float[Array, ""], "'u"]
    variance: Q[Float[Array, ""], "'u**2"]


@tm.stage
def sums_finalize(
    weight: Float[Array, ""], total: Q[Float[Array, ""], "'u"], squares: Q[Float[Array, ""], "'u**2"]
) -> Moments:
    mean = total / weight
    return Moments(mean, squares / weight - mean * mean)


def empty(unit: str) -> Sums:
    reg = tm.get_registry()
    return Sums(jnp.float32(0.0), reg.Quantity(jnp.float32(0.0), unit), reg.Quantity(jnp.float32(0.0), f"{unit}**2"))


def chunked(values: np.ndarray, rows: int, unit: str):
    reg = tm.get_registry()
    for start in range(0, len(values), rows):
        yield reg.Quantity(values[start : start + rows], unit)


def test_streamed_moments_equal_the_in_memory_ones_and_compile_once():
    values = np.random.default_rng(0).normal(3.0, 2.0, 1030).astype(np.float32)
    stats = tm.StreamStats()
    result = tm.stream(
        sums_update, chunked(values, 100, "m"), init=empty("m"), finalize=sums_finalize, weights="w", stats=stats
    )
    assert result.mean.magnitude == pytest.approx(values.mean(), rel=1e-4)
    assert result.variance.magnitude == pytest.approx(values.var(), rel=1e-3)
    assert str(result.mean.units) == "meter" and str(result.variance.units) == "meter ** 2"
    assert (stats.chunks, stats.rows, stats.padded_rows) == (11, 1030, 70)  # the last 30 rows padded to 100
    runner = sums_update.as_pipeline()
    (exe,) = runner._caller.executables.values()  # one executable...
    assert exe.fn._cache_size() == 1  # ...traced for one shape only: the ragged chunk was padded


def test_chunks_in_other_units_are_converted():
    values = np.arange(10, dtype=np.float32)
    state = tm.stream(sums_update, chunked(values * 1000, 5, "mm"), init=empty("m"), weights="w")
    assert float(state.total.magnitude) == pytest.approx(values.sum())
    assert str(state.total.units) == "meter"


def test_npy_chunks_reads_rows_lazily(tmp_path):
    values = np.random.default_rng(1).normal(size=(1001, 3)).astype(np.float32)
    path = tmp_path / "data.npy"
    np.save(path, values)
    chunks = list(tm.npy_chunks(path, rows=250, unit="K"))
    assert [c.magnitude.shape for c in chunks] == [(250, 3)] * 4 + [(1, 3)]
    np.testing.assert_array_equal(np.concatenate([c.magnitude for c in chunks]), values)
    assert str(chunks[0].units) == "kelvin"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": "weights"}, "weights='weights' is not a data port of sums_update"),
        (
            {"init": ()},
            "sums_update takes data on 'weight', 'total', 'squares', 'x': give each chunk as a mapping of them",
        ),
    ],
)
def test_bad_stream_arguments_are_input_errors(kwargs, message):
    args = {"init": empty("m"), "weights": "w"} | kwargs
    with pytest.raises(tm.InputError) as info:
        tm.stream(sums_update, chunked(np.ones(4, dtype=np.float32), 2, "m"), **args)
    assert info.value.code == "TM217"
    assert info.value.diagnostic.message == message


def test_a_chunk_larger_than_the_first_is_refused():
    reg = tm.get_registry()
    chunks = [reg.Quantity(np.ones(2, dtype=np.float32), "m"), reg.Quantity(np.ones(3, dtype=np.float32), "m")]
    with pytest.raises(tm.InputError) as info:
        tm.stream(sums_update, chunks, init=empty("m"), weights="w")
    assert info.value.diagnostic.message == "chunk 1 has 3 rows, more than the first chunk's 2"


def test_progress_bar_reports_rows(capsys):
    tm.stream(
        sums_update,
        chunked(np.ones(50, dtype=np.float32), 10, "m"),
        init=empty("m"),
        weights="w",
        progress=True,
        total_rows=50,
    )
    err = capsys.readouterr().err
    assert "rows" in err and "50" in err
