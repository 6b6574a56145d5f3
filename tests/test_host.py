"""Host stages: NumPy/SciPy bodies inside the compiled pipeline, outputs checked on every call."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q


class Filter(NamedTuple):
    b: Float[Array, "k"]
    a: Float[Array, "k"]


@tm.stage(host=True)
def smooth(x: Q[Float[Array, "t c"], "'u"], filt: Filter) -> Q[Float[Array, "t c"], "'u"]:
    """A zero-phase IIR filter along time, by SciPy (the body sees NumPy arrays)."""
    assert isinstance(x, np.ndarray) and isinstance(filt.b, np.ndarray)
    return scipy.signal.filtfilt(filt.b, filt.a, x, axis=0)


@tm.stage
def calibrate(raw: Q[Float[Array, "t c"], "mV"], gain: Q[Float[Array, "c"], "K/mV"]) -> Q[Float[Array, "t c"], "K"]:
    return raw * gain


@tm.stage
def peak(x: Q[Float[Array, "t c"], "'u"]) -> Q[Float[Array, "c"], "'u"]:
    return jnp.max(x, axis=0)


@tm.pipeline
def sensor(
    raw: Q[Float[Array, "t c"], "V"], gain: Q[Float[Array, "c"], "K/mV"], filt: Filter
) -> Q[Float[Array, "c"], "degC"]:
    return peak(smooth(calibrate(raw, gain), filt))


B, A = (np.asarray(c, np.float32) for c in scipy.signal.butter(2, 0.2))
RAW = np.random.default_rng(0).normal(0.3, 0.01, (64, 2)).astype(np.float32)  # V


def expected() -> np.ndarray:
    kelvin = RAW * 1000 * np.array([1.0, 2.0], np.float32)
    return scipy.signal.filtfilt(B, A, kelvin, axis=0).max(axis=0) - 273.15


def test_a_host_stage_gives_the_scipy_answer_inside_the_compiled_pipeline():
    report = sensor.check()
    assert report.ok and report.errors == []
    (info,) = report.infos
    assert info.code == "TM311" and "host stage 'smooth'" in info.message
    out = sensor(
        tm.get_registry().Quantity(RAW, "V"),
        tm.get_registry().Quantity(np.array([1.0, 2.0], np.float32), "K/mV"),
        Filter(B, A),
    )
    assert str(out.units) == "degree_Celsius"
    np.testing.assert_allclose(out.magnitude, expected(), rtol=1e-4)
    # debug and checked runs take the same body
    debug = sensor.debug(
        tm.get_registry().Quantity(RAW, "V"),
        tm.get_registry().Quantity(np.array([1.0, 2.0], np.float32), "K/mV"),
        Filter(B, A),
    )
    np.testing.assert_allclose(debug.outputs.magnitude, expected(), rtol=1e-4)
    assert debug["smooth"].units == tm.get_registry().K


def test_the_compiled_pipeline_is_still_one_jit_with_a_callback():
    gain = jnp.array([1.0, 2.0], jnp.float32)
    fn = sensor.jax_fn
    text = jax.jit(fn).lower(jnp.asarray(RAW), gain, Filter(jnp.asarray(B), jnp.asarray(A))).as_text()
    assert text.count("func.func public @main") == 1  # one program
    assert "callback" in text  # the host body is a callback inside it
    (out,) = jax.jit(fn)(jnp.asarray(RAW), gain, Filter(jnp.asarray(B), jnp.asarray(A)))
    np.testing.assert_allclose(np.asarray(out), expected(), rtol=1e-4)


@tm.stage(host=True)
def wrong_shape(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return np.concatenate([x, x])


@tm.stage(host=True)
def wrong_dtype(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return np.arange(x.shape[0])  # integers for a float port


@tm.stage(host=True)
def doubled(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return x.astype(np.float64) * 2


@tm.stage(host=True)
def counts(x: Float[Array, "n"], bins: int = 4) -> Int[Array, "bins"]:
    return np.histogram(x, bins=bins)[0]


@pytest.mark.parametrize("mode", ["call", "debug", "checked"])
def test_a_host_body_returning_the_wrong_shape_is_a_typed_error_naming_the_stage(mode):
    @tm.pipeline
    def p(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return wrong_shape(x)

    run = {"call": p, "debug": p.debug, "checked": p.checked}[mode]
    with pytest.raises(tm.BodyError) as err:
        run(np.ones(3, np.float32))
    d = err.value.diagnostic
    assert d.code == "TM310" and d.stage == "wrong_shape"
    assert "host stage 'wrong_shape' returned shape (6,) for its return value, declared 'n' = (3,)" in d.message


def test_a_host_body_returning_the_wrong_dtype_is_refused_and_a_right_one_cast():
    with pytest.raises(tm.BodyError) as err:
        wrong_dtype(np.ones(3, np.float32))
    assert err.value.code == "TM310" and "returned dtype int64 for its return value, declared Float" in str(err.value)
    # float64 from NumPy for a Float port: accepted, cast to the float32 JAX computes in
    out = doubled(np.arange(3, dtype=np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(out), [0.0, 2.0, 4.0])
    # an axis named after a static int takes its value
    np.testing.assert_array_equal(np.asarray(counts(np.arange(8, dtype=np.float32), bins=2)), [4, 4])


def test_a_host_stage_whose_outputs_the_signature_does_not_size_is_refused_at_definition():
    with pytest.raises(tm.StageDefinitionError) as err:

        @tm.stage(host=True)
        def unique(x: Float[Array, "n"]) -> Float[Array, "u"]:
            return np.unique(x)

    d = err.value.diagnostic
    assert d.code == "TM027" and "output 'return' has axis 'u': u is set by no input" in d.message


def test_a_host_stage_batches_under_vmap():
    batched = jax.vmap(lambda x: sensor.jax_fn(x, jnp.array([1.0, 2.0]), Filter(jnp.asarray(B), jnp.asarray(A)))[0])
    out = batched(jnp.stack([jnp.asarray(RAW), jnp.asarray(RAW)]))
    np.testing.assert_allclose(np.asarray(out), np.stack([expected(), expected()]), rtol=1e-4)


class Sections(NamedTuple):
    sos: Float[Array, "s 6"]


@tm.stage(host=True)
def sos_filter(x: Float[Array, "t"], filt: Sections) -> Float[Array, "t"]:
    """SciPy's Cython filter refuses read-only buffers; the body writes its input in place too."""
    x -= x.mean()
    return scipy.signal.sosfiltfilt(filt.sos, x)


@tm.stage(host=True)
def raises(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return np.linalg.cholesky(np.diag(x))[0]  # not positive definite for a negative value


@pytest.mark.parametrize("mode", ["call", "debug", "checked"])
def test_a_host_body_gets_writable_copies_and_one_that_raises_is_a_typed_error_naming_its_line(mode):
    @tm.pipeline
    def p(x: Float[Array, "t"], filt: Sections) -> Float[Array, "t"]:
        return sos_filter(x, filt)

    @tm.pipeline
    def q(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return raises(x)

    x = np.sin(np.arange(64, dtype=np.float32)) + 3
    sos = np.asarray(scipy.signal.butter(2, 0.3, output="sos"), np.float32)
    run = {"call": p, "debug": lambda *a: p.debug(*a).outputs, "checked": p.checked}[mode]
    expected = scipy.signal.sosfiltfilt(sos, x - x.mean())
    np.testing.assert_allclose(np.asarray(run(x, Sections(sos))), expected, rtol=1e-4, atol=1e-5)
    assert x[0] == np.float32(3.0)  # the caller's array is not written
    run = {"call": q, "debug": q.debug, "checked": q.checked}[mode]
    with pytest.raises(tm.BodyError) as err:
        run(np.array([1.0, -1.0], np.float32))
    d = err.value.diagnostic
    assert d.code == "TM314" and d.stage == "raises"
    assert d.message.startswith("host stage 'raises' raised LinAlgError: ")
    (here,) = d.related  # the line of the body that raised
    assert here.location.path == __file__ and "np.linalg.cholesky" in here.message
