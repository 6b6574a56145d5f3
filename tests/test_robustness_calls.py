"""Trust on the call path: what the first call refuses, every later call refuses (the same typed
error); conversions that overflow are errors naming the place and the value; checks under a
user's own JAX transformation; devices and masked arrays; pickling; bounded caches."""

# No `from __future__ import annotations`: stages below are defined in functions.
import multiprocessing
import pickle
import subprocess
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q

REG = tm.get_registry()
ROOT = Path(__file__).resolve().parent.parent


@tm.stage
def add(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return x + y


@tm.pipeline
def total(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return add(x, y)


@tm.pipeline
def plain(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return unitless(x)


@tm.stage
def unitless(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return x * 2


def m(values: Any) -> Any:
    return REG.Quantity(values, "m")


GOOD = np.ones(3, np.float32)

# (label, bad magnitude, code): each refused by the first call's check
BAD = [
    ("strings", np.array(["a", "b", "c"]), "TM208"),
    ("objects", np.array([1.0, "a", None], dtype=object), "TM208"),
    ("object floats", np.ones(3, dtype=object), "TM208"),
    ("list of strings", ["a", "b", "c"], "TM208"),
    ("masked", np.ma.masked_array(GOOD, mask=[0, 1, 0]), "TM227"),
    ("wrong rank", np.ones((3, 1), np.float32), "TM205"),
    ("ints", np.ones(3, np.int32), "TM207"),
    ("numpy scalar", np.float32(1.0), "TM205"),  # (taken by the fast path: its trace checks the rank)
    ("wide numpy scalar", np.float64(1.0), "TM205"),
]


def _code(fn: Any) -> str:
    with pytest.raises(tm.TypedMLError) as info:
        fn()
    return info.value.code


@pytest.mark.parametrize(("label", "bad", "code"), BAD, ids=[b[0] for b in BAD])
def test_a_warm_call_refuses_what_a_cold_call_refuses(label: str, bad: Any, code: str) -> None:
    @tm.pipeline
    def cold(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return add(x, y)

    assert _code(lambda: cold(m(bad), m(GOOD))) == code  # first call: the full check
    np.testing.assert_array_equal(np.asarray(total(m(GOOD), m(GOOD)).magnitude), 2 * GOOD)  # warm: fast path
    assert _code(lambda: total(m(bad), m(GOOD))) == code  # warm, positional
    assert _code(lambda: total(x=m(bad), y=m(GOOD))) == code  # warm, by name
    assert _code(lambda: total(m(GOOD), y=m(bad))) == code  # warm, mixed


@pytest.mark.parametrize("bad", [None, {"a": 1}, "text", [None, None, None], object()], ids=repr)
def test_a_warm_unitless_call_refuses_python_objects(bad: Any) -> None:
    np.testing.assert_array_equal(np.asarray(plain(GOOD)), 2 * GOOD)
    assert _code(lambda: plain(bad)) == "TM208"


def test_float64_data_into_a_float32_port_is_refused_warm_as_cold() -> None:
    from jaxtyping import Float32

    @tm.stage
    def narrow(x: Q[Float32[Array, "n"], "m"]) -> Q[Float32[Array, "n"], "m"]:
        return x

    wide = np.ones(3, np.float64)
    assert _code(lambda: narrow(m(wide))) == "TM207"
    narrow(m(GOOD))  # warm
    assert _code(lambda: narrow(m(wide))) == "TM207"


def test_inputs_on_different_devices_are_TM228() -> None:
    devices = jax.devices()
    if len(devices) < 2:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"{__file__}::test_devices_in_this_process",
            ],
            env={**__import__("os").environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        return
    _devices_test()


def _devices_test() -> None:
    devices = jax.devices()
    if len(devices) < 2:
        pytest.skip("one device: run by test_inputs_on_different_devices_are_TM228 in a process with two")
    a = jax.device_put(GOOD, devices[0])
    b = jax.device_put(GOOD, devices[1])
    for call in (lambda: total(m(a), m(b)), lambda: total(m(a), m(b))):  # cold, then warm
        with pytest.raises(tm.InputError) as info:
            call()
        assert info.value.code == "TM228"
        assert "input 'y' of total() is on" in str(info.value) and "but input 'x' is on" in str(info.value)
    np.testing.assert_array_equal(np.asarray(total(m(a), m(a)).magnitude), 2 * GOOD)
    # a sharded run checks its conversions too
    from jax.sharding import Mesh

    sharded = in_mm.as_pipeline().sharded(Mesh(np.array(devices[:2]), ("data",)), {"n": "data"})
    ok = sharded(REG.Quantity(np.array([1, 2], np.int32), "km"))
    np.testing.assert_array_equal(np.asarray(ok.magnitude), [1_000_000, 2_000_000])
    with pytest.raises(tm.InputError) as info:
        sharded(REG.Quantity(np.array([1, 3000], np.int32), "km"))
    assert info.value.code == "TM229" and "3000 becomes 3e+09" in str(info.value)


test_devices_in_this_process = _devices_test  # runs (and counts) in the two-device process


# -- overflow on converting edges --------------------------------------------------------------


@tm.stage
def in_mm(x: Q[Int[Array, "n"], "mm"]) -> Q[Int[Array, "n"], "mm"]:
    return x


@tm.stage
def in_km(x: Q[Int[Array, "n"], "km"]) -> Q[Int[Array, "n"], "km"]:
    return x


@tm.pipeline
def through_edge(x: Q[Int[Array, "n"], "km"]) -> Q[Int[Array, "n"], "mm"]:
    return in_mm(in_km(x))


@tm.stage
def f_mm(x: Q[Float[Array, "n"], "mm"]) -> Q[Float[Array, "n"], "mm"]:
    return x


def test_integer_input_conversion_that_overflows_is_TM229_in_every_mode() -> None:
    bad = REG.Quantity(np.array([1, 3000], np.int32), "km")
    runner = in_mm.as_pipeline()
    for call in (runner, runner.checked, runner.debug, runner.record):
        with pytest.raises(tm.InputError) as info:
            call(bad)
        err = info.value
        assert err.code == "TM229", (call, str(err))
        assert "input 'x' of in_mm() overflows int32 when converted: 3000 becomes 3e+09" in str(err)
        assert "conversion: km → mm, ×1e+06" in err.diagnostic.notes
    ok = runner(REG.Quantity(np.array([1, 2000], np.int32), "km"))
    np.testing.assert_array_equal(np.asarray(ok.magnitude), [1_000_000, 2_000_000_000])


def test_integer_edge_conversion_that_overflows_is_TM505_naming_the_edge() -> None:
    bad = REG.Quantity(np.array([1, 3000], np.int32), "km")
    for call in (through_edge, through_edge.checked, through_edge.debug, through_edge.record):
        with pytest.raises(tm.ContractError) as info:
            call(bad)
        err = info.value
        assert err.code == "TM505"
        assert "edge in_km -> in_mm.x overflows int32 when converted" in str(err)
        if call is not through_edge.checked:  # (checked() re-runs eagerly to name the value)
            assert "3000 becomes 3e+09" in str(err)
    np.testing.assert_array_equal(
        np.asarray(through_edge(REG.Quantity(np.array([2], np.int32), "km")).magnitude), [2_000_000]
    )


def test_int64_that_jax_would_narrow_is_checked_by_value_cold_and_warm() -> None:
    big = REG.Quantity(np.array([2**40], np.int64), "mm")
    small = REG.Quantity(np.array([5], np.int64), "mm")
    runner = in_mm.as_pipeline()
    first = True
    for _ in range(2):  # cold, then warm: every call checks the values
        with pytest.raises(tm.InputError) as info:
            runner(big)
        assert info.value.code == "TM244" and "holds 1099511627776 at [0]" in str(info.value)
        with warnings.catch_warnings(record=True) as said:  # TM243: said once, on the first good call
            warnings.simplefilter("always", tm.PrecisionWarning)
            np.testing.assert_array_equal(np.asarray(runner(small).magnitude), [5])
        assert [w.message.code for w in said] == (["TM243"] if first else [])  # type: ignore[union-attr]
        first = False


def test_float16_conversion_that_overflows_is_named_not_blamed_on_the_input() -> None:
    runner = f_mm.as_pipeline()
    fits = runner(REG.Quantity(np.array([0.01], np.float16), "km"))  # 1e4 mm: fits float16
    np.testing.assert_allclose(np.asarray(fits.magnitude, np.float64), [1e4], rtol=1e-3)
    bad = REG.Quantity(np.array([100.0], np.float16), "km")  # 1e8 mm: float16 holds up to 65504
    for call in (runner, runner.checked, runner.debug):
        with pytest.raises(tm.InputError) as info:
            call(bad)
        assert info.value.code == "TM229"  # not TM502: the input was finite
        assert "overflows float16 when converted: 100.0 becomes 1e+08" in str(info.value)


# -- checks under the user's own jax transformations -------------------------------------------


@tm.stage
def root(x: Q[Float[Array, "n"], "m", tm.NonNegative]) -> Q[Float[Array, "n"], "m"]:
    return jnp.sqrt(x)


def _root(x: Any) -> Any:
    return root(tm.Quantity(x, "m")).magnitude


def test_contracts_inside_a_bare_jit_are_refused_TM230() -> None:
    with pytest.raises(tm.InputError) as info:
        jax.jit(_root)(jnp.ones(3))
    assert info.value.code == "TM230"
    assert "tm.checkify" in str(info.value)
    runner = root.as_pipeline()
    for mode in (runner.checked, runner.debug, runner.record):
        with pytest.raises(tm.InputError) as info:
            jax.jit(lambda x, mode=mode: _unwrap(mode(tm.Quantity(x, "m"))))(jnp.ones(3))
        assert info.value.code == "TM230"


def _unwrap(result: Any) -> Any:
    return getattr(getattr(result, "outputs", result), "magnitude", result)


def test_contracts_through_checkify() -> None:
    err, out = tm.checkify(jax.jit(_root))(jnp.array([4.0, 9.0]))
    assert err.get() is None
    np.testing.assert_allclose(np.asarray(out), [2.0, 3.0])
    err, _ = tm.checkify(jax.jit(_root))(jnp.array([4.0, -9.0]))
    assert "input 'x' of root() breaks its contract" in str(err.get())
    checked = root.as_pipeline().checked
    err, _ = tm.checkify(jax.jit(lambda x: checked(tm.Quantity(x, "m")).magnitude))(jnp.array([-1.0]))
    assert "breaks its contract" in str(err.get())


def test_contracts_under_eager_vmap_and_grad_raise_typed_errors() -> None:
    np.testing.assert_allclose(np.asarray(jax.vmap(_root)(jnp.ones((2, 3)))), np.ones((2, 3)))
    with pytest.raises(tm.InputError) as info:
        jax.vmap(_root)(-jnp.ones((2, 3)))
    assert info.value.code == "TM214"
    grad = jax.grad(lambda x: _root(x).sum())(jnp.array([4.0]))
    np.testing.assert_allclose(np.asarray(grad), [0.25])


# -- a stage that calls itself -----------------------------------------------------------------


def test_a_stage_that_calls_itself_says_so() -> None:
    @tm.stage
    def again(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return again(x)

    (d,) = again.check().errors
    assert d.code == "TM305"
    assert "error[TM119] 'again' is called while it is being built: a stage or pipeline that calls itself" in d.message
    with pytest.raises(tm.BodyError) as info:
        again(GOOD)
    assert "calls itself" in str(info.value)


# -- pickling ----------------------------------------------------------------------------------


def _round_trips(obj: Any) -> None:
    import cloudpickle

    assert pickle.loads(pickle.dumps(obj)) is obj
    assert cloudpickle.loads(cloudpickle.dumps(obj)) is obj


def test_pipelines_and_stages_pickle_by_reference_before_and_after_use() -> None:
    fresh = total.configure()
    for obj in (total, add, fresh, add.as_pipeline()):
        _round_trips(obj)
    total(m(GOOD), m(GOOD))  # built and compiled: still by reference
    _round_trips(total)
    data = pickle.dumps(total)
    assert len(data) < 200 and b"typedml._pickling" in data


def test_a_local_pipeline_travels_by_value_with_cloudpickle() -> None:
    import cloudpickle

    @tm.pipeline
    def local(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return add(x, x)

    local(m(GOOD))
    again = cloudpickle.loads(cloudpickle.dumps(local))
    assert again is not local
    np.testing.assert_array_equal(np.asarray(again(m(GOOD)).magnitude), 2 * GOOD)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(local)


def test_a_pipeline_is_a_process_pool_function_and_its_quantities_come_home() -> None:
    reg = tm.get_registry()  # the registry in use now (another test may have set one)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        out = pool.submit(total, reg.Quantity(GOOD, "m"), reg.Quantity(np.full(3, 2.0, np.float32), "m")).result()
    assert out._REGISTRY is reg
    np.testing.assert_array_equal(np.asarray((out + reg.Quantity(np.float32(1.0), "m")).magnitude), [4.0, 4.0, 4.0])


# -- bounded caches ----------------------------------------------------------------------------


@tm.stage
def shifted(x: Q[Float[Array, "n"], "m"], by: float = 0.0) -> Q[Float[Array, "n"], "m"]:
    return x + by


def test_static_variants_are_bounded() -> None:
    from typedml._lru import MAX_VARIANTS

    for i in range(MAX_VARIANTS + 10):
        out = shifted(m(GOOD), by=float(i))
        np.testing.assert_array_equal(np.asarray(out.magnitude), GOOD + i)
    assert len(shifted._runners) == MAX_VARIANTS  # pyright: ignore[reportPrivateUsage]
    np.testing.assert_array_equal(np.asarray(shifted(m(GOOD), by=0.0).magnitude), GOOD)  # dropped: made again


def test_shapes_per_executable_are_bounded() -> None:
    from typedml._lru import MAX_SHAPES

    runner = shifted.as_pipeline()
    for n in range(1, MAX_SHAPES + 8):
        np.testing.assert_array_equal(np.asarray(runner(m(np.ones(n, np.float32))).magnitude), np.ones(n))
    (exe,) = runner._caller.executables.values()  # pyright: ignore[reportPrivateUsage]
    assert exe.fn._cache_size() <= MAX_SHAPES


# -- first calls from many threads -------------------------------------------------------------


def test_first_calls_from_eight_threads_in_fresh_processes() -> None:
    """8 threads x fresh pipelines x mixed units and shapes (and bad inputs), in fresh processes."""
    import json

    script = ROOT / "tests" / "scripts" / "threads_run.py"
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, str(script), "8", "2"], capture_output=True, text=True, timeout=300, cwd=ROOT
        )
        assert out.returncode == 0, out.stderr[-3000:]
        found = json.loads(out.stdout.strip().splitlines()[-1])
        assert found["calls"] == 8 * 2 * 4
        assert found["failures"] == 0, found["first"]


# -- streams: a bad chunk after good ones ------------------------------------------------------


def test_a_stream_refuses_a_bad_chunk_after_good_ones_and_keeps_the_state() -> None:
    from tests.test_robustness import Total, _zero, add_up

    good = [m(np.ones(4, np.float32))] * 3
    for bad, code in ((m(np.array(["a"] * 4)), "TM208"), (m(np.ma.masked_array(np.ones(4, np.float32))), "TM227")):
        with pytest.raises(tm.InputError) as info:
            tm.stream(add_up, [*good, bad], init=_zero())
        assert info.value.code == code
        state: Total = info.value.state  # type: ignore[attr-defined]
        assert float(state.total.magnitude) == 12.0
