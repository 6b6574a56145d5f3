"""Named axes on a device mesh: 8 simulated CPU devices in a fresh process, and argument errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from jax.sharding import Mesh

import typedml as tm

SCRIPT = Path(__file__).resolve().parent / "scripts" / "sharded_run.py"


def test_sharded_run_on_eight_devices_equals_the_plain_run():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["devices"] == 8
    assert result["temps_equal"] and result["spreads_equal"]  # a reduction over the sharded axis included
    assert result["units"] == ["degree_Celsius", "kelvin"]
    assert result["temps_sharding"] == result["expected_temps_spec"] == "P('data', None)"
    assert result["temps_devices"] == 8
    assert result["spreads_sharding"] == "P(None,)"  # reduced over b: replicated
    # the axis name followed through the graph: the intermediate is sharded like the input
    assert result["edge_specs"] == {
        "raw": "P('data', None)",
        "gain": "P(None,)",
        "calibrate": "P('data', None)",
        "spread": "P(None,)",
    }
    assert result["stream_equal"] and result["stream_mean_close"]  # chunk states merged across devices
    assert result["indivisible"] == [
        "TM216",
        "axis 'b' of input 'raw' has size 10, which the 8 devices of mesh axis 'data' do not divide",
    ]


def test_sharding_by_an_unknown_axis_or_mesh_axis_is_an_input_error():
    from examples.sensor.pipeline import sensor

    mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
    with pytest.raises(tm.InputError) as info:
        sensor.sharded(mesh, {"batch": "data"})
    assert info.value.code == "TM216"
    assert info.value.diagnostic.message == "sensor.sharded(): 'batch' is not an axis of the pipeline's inputs"
    with pytest.raises(tm.InputError) as info:
        sensor.sharded(mesh, {"b": "model"})
    assert info.value.diagnostic.message == "sensor.sharded(): mesh has no axis 'model'"


def test_one_device_mesh_runs_like_the_plain_pipeline():
    from examples.sensor.main import make_data
    from examples.sensor.pipeline import sensor

    data = make_data(batch=8)
    inputs = {k: data[k] for k in ("raw", "gain", "offset")}
    mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
    out = sensor.sharded(mesh, {"b": "data"})(**inputs)
    np.testing.assert_allclose(np.asarray(out.magnitude), np.asarray(sensor(**inputs).magnitude), rtol=1e-6)


@pytest.mark.gpu
def test_sharded_run_on_gpus():
    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    if not gpus:
        pytest.skip("no GPU available to JAX")
    from examples.sensor.main import make_data
    from examples.sensor.pipeline import sensor

    count = len(gpus)
    data = make_data(batch=8 * count)
    inputs = {k: data[k] for k in ("raw", "gain", "offset")}
    mesh = Mesh(np.array(gpus), ("data",))
    out = sensor.sharded(mesh, {"b": "data"})(**inputs)
    np.testing.assert_allclose(np.asarray(out.magnitude), np.asarray(sensor(**inputs).magnitude), rtol=1e-5)
