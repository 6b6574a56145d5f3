"""One process of a ``jax.distributed`` job started by ``typedml.testing.run_processes``.

Usage: ``distributed_run.py FOLDER`` where FOLDER holds the ``.npy`` files the test wrote.
Runs, in the same order on every process: (a) a sharded pipeline over a global batch whose
rows each process gives, (b) streams over files split between the processes and merged, and
(c) calls where one process's share differs from the others'. Prints one JSON line.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import jax

jax.distributed.initialize(
    num_processes=int(os.environ["TYPEDML_NUM_PROCESSES"]),
    process_id=int(os.environ["TYPEDML_PROCESS_ID"]),
    initialization_timeout=60,
)

import numpy as np  # noqa: E402
from jax.experimental import multihost_utils  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

import typedml as tm  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sharded_run import sensor  # noqa: E402  (calibrate, then temps and their spread over b)

ME, COUNT = jax.process_index(), jax.process_count()
ureg = tm.get_registry()
std = tm.stdlib
report: dict[str, Any] = {"process": ME, "processes": COUNT, "devices": len(jax.devices())}


def caught(fn: Any) -> list[Any]:
    try:
        fn()
    except tm.TypedMLError as err:
        d = err.diagnostic
        return [type(err).__name__, d.code, d.message, list(d.notes)]
    return ["no error"]


def my_rows(full: np.ndarray) -> np.ndarray:
    per = len(full) // COUNT
    return full[ME * per : (ME + 1) * per]


def gathered(x: Any) -> np.ndarray:
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


# --- (a) a sharded pipeline over a global batch --------------------------------------------
mesh = Mesh(np.array(jax.devices()), ("data",))
run = sensor.sharded(mesh, {"b": "data"}, timeout=30)
full = np.random.default_rng(0).uniform(0.001, 0.02, (64, 3)).astype(np.float32)
gain = ureg.Quantity(np.array([1.0, 2.0, 0.5], dtype=np.float32), "K/mV")
temps, spreads = run(ureg.Quantity(my_rows(full), "V"), gain)  # this process's rows only
plain_temps, plain_spreads = sensor(ureg.Quantity(full, "V"), gain)  # the single-process run
report["sharded"] = {
    "temps_equal": bool(np.allclose(gathered(temps.magnitude), np.asarray(plain_temps.magnitude), rtol=1e-6)),
    "spreads_equal": bool(np.allclose(np.asarray(spreads.magnitude), np.asarray(plain_spreads.magnitude), rtol=1e-5)),
    "units": [str(temps.units), str(spreads.units)],
    "temps_shape": list(temps.magnitude.shape),
    "temps_local_rows": sum(s.data.shape[0] for s in temps.magnitude.addressable_shards),
}
# global arrays built by the caller are taken as they are
global_raw = jax.make_array_from_process_local_data(NamedSharding(mesh, PartitionSpec("data", None)), my_rows(full))
_, spreads_g = run(ureg.Quantity(global_raw, "V"), gain)
report["sharded"]["global_input_equal"] = bool(
    np.allclose(np.asarray(spreads_g.magnitude), np.asarray(plain_spreads.magnitude), rtol=1e-5)
)

# --- (b) streams over files split between the processes --------------------------------------
folder = Path(sys.argv[1])
paths = sorted(folder.glob("temps_*.npy"))
zero = np.zeros(2, dtype=np.float32)
init = (zero, ureg.Quantity(zero, "degC"), ureg.Quantity(zero, "delta_degC**2"))
read = functools.partial(tm.npy_chunks, rows=128, unit="degC")
stats = tm.StreamStats()
across = tm.stream(
    std.weighted_moments_update,
    tm.file_chunks(paths, read),
    init=init,
    weights="w",
    merge=std.moments_merge,
    finalize=std.moments_finalize,
    stats=stats,
    timeout=30,
)
alone = tm.stream(  # the single-process stream: every file, in this process, no merge
    std.weighted_moments_update,
    itertools.chain.from_iterable(read(p) for p in paths),
    init=init,
    weights="w",
    finalize=std.moments_finalize,
)
values = np.concatenate([np.load(p) for p in paths])
report["stream"] = {
    "files_here": [p.name for p in tm.file_chunks(paths, read).share(ME, COUNT).paths],
    "rows_here": stats.rows,
    "rows_total": len(values),
    "n": float(across.n[0]),
    "mean_equal": bool(np.allclose(np.asarray(across.mean.magnitude), np.asarray(alone.mean.magnitude), rtol=1e-6)),
    "variance_equal": bool(
        np.allclose(np.asarray(across.variance.magnitude), np.asarray(alone.variance.magnitude), rtol=1e-5)
    ),
    "mean_close_to_numpy": bool(np.allclose(np.asarray(across.mean.magnitude), values.mean(0), rtol=1e-5)),
    "units": [str(across.mean.units), str(across.variance.units)],
}
ids = sorted(folder.glob("ids_*.npy"))
read_ids = functools.partial(tm.npy_chunks, rows=500)
hll_init = std.hll_init(np.array([7, 11], dtype=np.uint32), precision=10)
hll_across = tm.stream(std.hll_update, tm.file_chunks(ids, read_ids), init=hll_init, merge=std.hll_merge, timeout=30)
hll_alone = tm.stream(std.hll_update, itertools.chain.from_iterable(read_ids(p) for p in ids), init=hll_init)
report["stream"]["hll_registers_identical"] = bool(
    np.array_equal(np.asarray(hll_across.registers), np.asarray(hll_alone.registers))
)
# the same moments through the sharded update: each process gives its rows of every chunk
update = std.weighted_moments_update.as_pipeline()
rows = my_rows(values[:1024])
chunks = [ureg.Quantity(rows[i : i + 64], "degC") for i in range(0, len(rows), 64)]
on_mesh = tm.stream(update.sharded(mesh, {"n": "data"}, timeout=30), chunks, init=init, weights="w")
one = tm.stream(update, [ureg.Quantity(values[:1024], "degC")], init=init, weights="w")
report["stream"]["sharded_update_equal"] = bool(
    np.allclose(np.asarray(on_mesh.mean.magnitude), np.asarray(one.mean.magnitude), rtol=1e-5)
    and np.allclose(np.asarray(on_mesh.m2.magnitude), np.asarray(one.m2.magnitude), rtol=1e-4)
)

# --- (c) one process's share differs: a typed error on every process, not a hang -------------
last = ME == COUNT - 1
mine = my_rows(full)
report["mismatch"] = {
    # the same readings, but the last process gives its rows in mV
    "unit": caught(lambda: run(ureg.Quantity(mine * (1000 if last else 1), "mV" if last else "V"), gain)),
    "size": caught(lambda: run(ureg.Quantity(np.ones((40 if last else 32, 3), np.float32), "V"), gain)),
    "replicated": caught(lambda: run(ureg.Quantity(mine, "V"), ureg.Quantity(gain.magnitude + last, "K/mV"))),
    "refused": caught(lambda: run(ureg.Quantity(mine, "s" if last else "V"), gain)),
    "files": caught(
        lambda: tm.stream(
            std.weighted_moments_update,
            tm.file_chunks(paths[: len(paths) - last], read),
            init=init,
            weights="w",
            merge=std.moments_merge,
            timeout=30,
        )
    ),
}


def bad_last_file(path: Path) -> Any:  # the last file is in seconds: refused while folding
    return tm.npy_chunks(path, rows=128, unit="s" if path == paths[-1] else "degC")


report["mismatch"]["fold"] = caught(
    lambda: tm.stream(
        std.weighted_moments_update,
        tm.file_chunks(paths, bad_last_file),
        init=init,
        weights="w",
        merge=std.moments_merge,
        timeout=30,
    )
)
# the last process comes too late: the others give up after the timeout, and it cannot go on alone
started = time.monotonic()
if last:
    time.sleep(3)
report["mismatch"]["absent" if not last else "late"] = caught(
    lambda: sensor.sharded(mesh, {"b": "data"}, timeout=1.5)(ureg.Quantity(mine, "V"), gain)
)
report["mismatch"]["waited_seconds"] = time.monotonic() - started
print(json.dumps(report), flush=True)
