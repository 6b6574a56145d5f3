"""The fused pipeline on a GPU, when one is present (skipped cleanly otherwise)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import typedml as tm

from .test_core import sensor

_gpus = [d for d in jax.devices() if d.platform == "gpu"] if jax.default_backend() == "gpu" else []

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not _gpus, reason="no GPU available to JAX")]


def test_sensor_runs_on_gpu_and_matches_numpy():
    ureg = tm.get_registry()
    raw = jax.device_put(np.full((128, 3), 0.01, dtype=np.float32), _gpus[0])
    out = sensor(
        ureg.Quantity(raw, "V"),
        ureg.Quantity(np.ones(3, np.float32), "K/mV"),
        ureg.Quantity(np.full(3, 273.15, np.float32), "K"),
    )
    assert next(iter(out.magnitude.devices())).platform == "gpu"
    np.testing.assert_allclose(np.asarray(out.magnitude), 10.0, rtol=1e-4)
