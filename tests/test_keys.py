"""Typed PRNG keys (``jax.random.key``, annotated with jaxtyping's ``Key``) as stage inputs and outputs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float, Key

import typedml as tm


@tm.stage
def split(key: Key[Array, ""]) -> Key[Array, "2"]:
    return jax.random.split(key)


@tm.stage
def noise(key: Key[Array, "2"], x: Float[Array, "n"]) -> Float[Array, "n"]:
    return x + jax.random.normal(key[0], x.shape)


@tm.pipeline
def noisy(key: Key[Array, ""], x: Float[Array, "n"]) -> Float[Array, "n"]:
    return noise(split(key), x)


def test_keys_are_checked_and_run_in_every_mode():
    assert noisy.check().diagnostics == []  # bodies proven, key dtype included
    key, x = jax.random.key(0), jnp.zeros(3)
    out = noisy(key, x)
    np.testing.assert_allclose(np.asarray(noisy.checked(key, x)), np.asarray(out))
    run = noisy.debug(key, x)
    np.testing.assert_allclose(np.asarray(run.outputs), np.asarray(out), rtol=1e-6)
    assert run["split"].shape == (2,)
    assert run.summary()["noise"].count == 3  # keys themselves are summarised as non-numeric
    np.testing.assert_allclose(np.asarray(noisy.record(key, x).outputs), np.asarray(out))


def test_a_key_where_an_array_is_expected_and_the_reverse_are_dtype_errors():
    with pytest.raises(tm.InputError) as info:
        noisy(jnp.zeros(()), jnp.zeros(3))
    assert info.value.code == "TM207"

    @tm.stage
    def wrong(key: Key[Array, ""]) -> Float[Array, "2"]:
        return jax.random.split(key)

    (d,) = wrong.check().errors
    assert d.code == "TM303" and d.message.endswith("declared Float, computed prng_key")
