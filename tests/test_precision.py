"""64-bit data under JAX's 32 bits: said once per signature (TM243), refused when values change (TM244).

Every run mode is covered, and so is the compiled fast path: a pipeline first called with
float32 data (compiled and cached) and then with float64 data must warn exactly like a first
call, and a cached call with int64 values beyond int32 must be refused like a first call.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q


@tm.stage
def double(x: Q[Float[Array, "n"], "mV"]) -> Q[Float[Array, "n"], "mV"]:
    return x * 2


@tm.pipeline
def doubled(x: Q[Float[Array, "n"], "V"]) -> Q[Float[Array, "n"], "mV"]:
    return double(x)


@tm.stage
def add_ids(ids: Int[Array, "n"], offset: Int[Array, "n"]) -> Int[Array, "n"]:
    return ids + offset


def fresh_pipeline() -> tm.Pipeline:
    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "V"]) -> Q[Float[Array, "n"], "mV"]:
        return double(x)

    return p


def volts(values: object, dtype: object = np.float64) -> object:
    return tm.get_registry().Quantity(np.asarray(values, dtype=dtype), "V")


def test_float64_warns_once_naming_the_port_and_computes_float32() -> None:
    p = fresh_pipeline()
    x = np.array([6.19568245, 1.0])
    with pytest.warns(tm.PrecisionWarning) as caught:
        out = p(tm.get_registry().Quantity(x, "V"))
    assert len(caught) == 1
    warning = caught[0].message
    assert isinstance(warning, tm.PrecisionWarning)
    assert warning.code == "TM243"
    assert warning.diagnostic.port == "x"
    assert "'x' (float64 as float32)" in str(warning)
    assert warning.diagnostic.location is not None and warning.diagnostic.location.path.endswith("test_precision.py")
    assert out.magnitude.dtype == np.float32
    np.testing.assert_allclose(out.magnitude, np.float32(x) * 2000, rtol=1e-6)
    assert x.dtype == np.float64 and x[0] == 6.19568245  # the user's data is untouched
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p(tm.get_registry().Quantity(x, "V"))  # same signature: said once
        p(tm.get_registry().Quantity(x * 3, "V"))


def test_cached_fast_path_warns_like_a_first_call() -> None:
    for first in (np.float32, np.float64):
        p = fresh_pipeline()
        if first is np.float64:
            with pytest.warns(tm.PrecisionWarning):
                p(volts([1.0, 2.0]))
        else:
            p(volts([1.0, 2.0], np.float32))  # compiled and cached for these units
            with pytest.warns(tm.PrecisionWarning, match=r"'x' \(float64 as float32\)"):
                p(volts([1.0, 2.0]))  # the fast path: same units, a cached executable


def test_one_input_shortcut_warns_too() -> None:
    p = fresh_pipeline()
    q32 = volts([1.0], np.float32)
    p(q32)
    p(q32)  # the single-input shortcut now holds these units
    q64 = tm.get_registry().Quantity(np.array([1.0]), q32.units)
    assert q64._units is q32._units  # the shortcut's identity test matches
    with pytest.warns(tm.PrecisionWarning):
        p(q64)


def test_each_new_dtype_signature_warns() -> None:
    @tm.pipeline
    def shifted(ids: Int[Array, "n"], offset: Int[Array, "n"]) -> Int[Array, "n"]:
        return add_ids(ids, offset)

    a64, a32 = np.arange(3), np.arange(3, dtype=np.int32)
    with pytest.warns(tm.PrecisionWarning, match=r"inputs 'ids' \(int64 as int32\), 'offset'"):
        shifted(a64, a64)
    with pytest.warns(tm.PrecisionWarning, match=r"input 'ids' \(int64 as int32\)\n"):
        shifted(a64, a32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shifted(a64 + 1, a32)  # a signature already said
        shifted(a32, a32)


def test_int64_warns_and_out_of_range_values_are_refused_on_every_call() -> None:
    @tm.pipeline
    def shifted(ids: Int[Array, "n"], offset: Int[Array, "n"]) -> Int[Array, "n"]:
        return add_ids(ids, offset)

    small = np.array([1, 2, 3])
    with pytest.warns(tm.PrecisionWarning, match=r"'ids' \(int64 as int32\), 'offset' \(int64 as int32\)"):
        out = shifted(small, small)
    np.testing.assert_array_equal(np.asarray(out), [2, 4, 6])
    big = np.array([1, 2**40 + 5, 3])
    for _ in range(2):  # the first call of this signature and the cached one refuse alike
        with pytest.raises(tm.InputError) as err:
            shifted(big, small)
        assert err.value.code == "TM244"
        assert "'ids'" in str(err.value) and "1099511627781 at [1]" in str(err.value)
        assert "int32 holds -2147483648..2147483647" in str(err.value)
    with pytest.raises(tm.InputError, match="TM207"):  # uint64 is no Int: refused as a first call refuses it
        shifted(small.astype(np.uint64) + np.uint64(2**33), small)


def test_float_overflow_is_refused_but_inf_and_nan_are_kept() -> None:
    p = fresh_pipeline()
    with pytest.raises(tm.InputError, match=r"TM244.*1e\+39 at \[2\]"):
        p(volts([1.0, np.nan, 1e39]))
    with pytest.warns(tm.PrecisionWarning):
        out = p(volts([np.inf, np.nan, 1.0]))
    assert np.isinf(out.magnitude[0]) and np.isnan(out.magnitude[1])


def test_jax_arrays_python_scalars_and_float32_are_not_reported() -> None:
    @tm.stage
    def scale(x: Q[Float[Array, ""], "m"]) -> Q[Float[Array, ""], "m"]:
        return x * 2

    reg = tm.get_registry()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doubled(reg.Quantity(jnp.ones(3), "V"))
        doubled(volts([1.0], np.float32))
        scale(reg.Quantity(2.5, "m"))  # a Python float is weakly typed: JAX's own rule


def test_x64_computes_in_float64_and_says_nothing() -> None:
    with jax.enable_x64(True):
        p = fresh_pipeline()
        x = np.array([6.19568245, 1.0])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = p(tm.get_registry().Quantity(x, "V"))
        assert out.magnitude.dtype == np.float64
        assert float(out.magnitude[0]) == pytest.approx(12391.3649, rel=1e-12)


def test_other_run_modes_warn_and_refuse() -> None:
    from jax.sharding import Mesh

    mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
    for mode in ("debug", "record", "checked", "sharded"):
        p = fresh_pipeline()
        run = p.sharded(mesh, {"n": "data"}) if mode == "sharded" else getattr(p, mode)
        with pytest.warns(tm.PrecisionWarning, match=r"'x' \(float64 as float32\)"):
            run(volts([1.0, 2.0]))
        with pytest.raises(tm.InputError, match="TM244"):
            run(volts([1e40]))


class Total(NamedTuple):
    total: Q[Float[Array, ""], "mV"]


@tm.stage
def accumulate(total: Q[Float[Array, ""], "mV"], x: Q[Float[Array, "n"], "mV"]) -> Total:
    return Total(total + x.sum())


def test_stream_chunks_warn_once() -> None:
    reg = tm.get_registry()
    chunks = [reg.Quantity(np.full(4, 0.1), "V") for _ in range(3)]
    init = Total(reg.Quantity(np.float32(0), "mV"))
    with pytest.warns(tm.PrecisionWarning) as caught:
        out = tm.stream(accumulate, chunks, init=init)
    assert len(caught) == 1
    assert float(out.total.magnitude) == pytest.approx(1200.0, rel=1e-6)
