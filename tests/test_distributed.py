"""Several processes under ``jax.distributed``: 2 processes × 4 CPU devices joined by JAX's
CPU collectives (gloo) run a sharded pipeline and streams over split files, equal to the
single-process run, and a process whose share differs is a typed error on every process.
Also the single-process side of the same features, and the launcher leaving no process behind.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q
from typedml.testing import run_processes

SCRIPT = Path(__file__).resolve().parent / "scripts" / "distributed_run.py"
std = tm.stdlib


def no_cpu_collectives() -> str | None:
    """Why this platform cannot join CPU processes with collectives, or None if it can."""
    from jax._src.lib import _jax

    impl = jax.config.jax_cpu_collectives_implementation  # pyright: ignore[reportAttributeAccessIssue]
    if impl is None:
        return "JAX has no CPU collectives configured (jax_cpu_collectives_implementation is unset)"
    if impl == "gloo" and not hasattr(_jax, "make_gloo_tcp_collectives"):
        return "this jaxlib was built without gloo, JAX's CPU collectives"
    return None


def write_files(folder: Path) -> None:
    rng = np.random.default_rng(3)
    for i, rows in enumerate([700, 300, 1000, 450, 550]):  # uneven: the split balances bytes
        np.save(folder / f"temps_{i}.npy", rng.normal(20.0, 3.0, (rows, 2)).astype(np.float32))
    for i, rows in enumerate([2000, 1500, 2500]):
        np.save(folder / f"ids_{i}.npy", rng.integers(0, 3000, rows).astype(np.int32))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    reason = no_cpu_collectives()
    if reason is not None:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("files")
    write_files(folder)
    runs = run_processes(SCRIPT, str(folder), processes=2, devices=4, timeout=150)
    for run in runs:
        assert run.returncode == 0 and not run.timed_out, f"process {run.index}:\n{run.stderr[-4000:]}"
    return [run.last_json() for run in runs]


def test_two_processes_of_four_devices_make_one_mesh(reports: list[dict[str, Any]]) -> None:
    assert [(r["process"], r["processes"], r["devices"]) for r in reports] == [(0, 2, 8), (1, 2, 8)]


def test_sharded_pipeline_over_process_shares_equals_the_single_process_run(reports: list[dict[str, Any]]) -> None:
    for r in reports:
        sharded = r["sharded"]
        assert sharded["temps_equal"] and sharded["spreads_equal"]  # spread reduces over the split axis
        assert sharded["units"] == ["degree_Celsius", "kelvin"]
        assert sharded["temps_shape"] == [64, 3]  # the global batch, of which this process holds 32 rows
        assert sharded["temps_local_rows"] == 32
        assert sharded["global_input_equal"]


def test_stream_over_files_split_between_processes_equals_the_single_process_stream(
    reports: list[dict[str, Any]],
) -> None:
    shares = [r["stream"]["files_here"] for r in reports]
    assert shares == [["temps_0.npy", "temps_1.npy"], ["temps_2.npy", "temps_3.npy", "temps_4.npy"]]
    assert sum(r["stream"]["rows_here"] for r in reports) == 3000  # each row folded once, somewhere
    for r in reports:
        stream = r["stream"]
        assert stream["n"] == 3000.0  # ...and every process holds the merged state
        assert stream["mean_equal"] and stream["variance_equal"] and stream["mean_close_to_numpy"]
        assert stream["units"] == ["degree_Celsius", "delta_degree_Celsius ** 2"]
        assert stream["hll_registers_identical"]  # a sketch merged across processes, bit for bit
        assert stream["sharded_update_equal"]  # the same through an update sharded over both processes


MISMATCHES = {
    "unit": (
        "InputError",
        "TM250",
        "the 2 processes disagree on raw at sensor.sharded()",
        "raw: rows float32[32, 3] in volt on process 0; rows float32[32, 3] in millivolt on process 1",
    ),
    "size": (
        "InputError",
        "TM250",
        "the 2 processes disagree on raw at sensor.sharded()",
        "raw: rows float32[32, 3] in volt on process 0; rows float32[40, 3] in volt on process 1",
    ),
    "replicated": ("InputError", "TM250", "the 2 processes disagree on gain at sensor.sharded()", "gain: float32[3]"),
    "files": (
        "InputError",
        "TM250",
        "the 2 processes disagree on files at stream(weighted_moments_update)",
        "files: 5 files, ",
    ),
}


@pytest.mark.parametrize("case", MISMATCHES)
def test_a_share_that_differs_is_the_same_typed_error_on_every_process(
    reports: list[dict[str, Any]], case: str
) -> None:
    kind, code, message, note = MISMATCHES[case]
    for r in reports:
        found_kind, found_code, found_message, notes = r["mismatch"][case]
        assert (found_kind, found_code, found_message) == (kind, code, message)
        assert notes[0] == f"this is process {r['process']} of 2"
        assert notes[1].startswith(note)
    if case == "replicated":  # equal shapes and units, other values: told apart by their digest
        assert "values #" in reports[0]["mismatch"][case][3][1]


def test_a_process_that_fails_stops_the_others_with_its_error(reports: list[dict[str, Any]]) -> None:
    first, last = reports
    # refused by its own check before running: its own error there, TM515 naming it elsewhere
    assert last["mismatch"]["refused"][:2] == ["InputError", "TM203"]
    assert first["mismatch"]["refused"][:3] == [
        "DistributedError",
        "TM515",
        "process 1 failed at sensor.sharded(): error[TM203] unit mismatch on input 'raw' of sensor(): expected V, "
        "found s",
    ]
    # a file of its share refused while folding: the others learn it at the merge
    assert last["mismatch"]["fold"][:2] == ["InputError", "TM203"]
    assert first["mismatch"]["fold"][:2] == ["DistributedError", "TM515"]
    assert first["mismatch"]["fold"][2].startswith("process 1 failed at stream(weighted_moments_update): error[TM203]")


def test_a_process_that_comes_too_late_is_a_timeout_on_every_process_not_a_hang(
    reports: list[dict[str, Any]],
) -> None:
    first, last = reports
    absent = first["mismatch"]["absent"]
    assert absent[:3] == ["DistributedError", "TM515", "process 1 did not reach sensor.sharded() within 1.5 s"]
    assert absent[3] == ["this is process 0 of 2", "processes not heard from: 1"]
    assert 1.5 <= first["mismatch"]["waited_seconds"] < 30
    # the late one finds that the others stopped waiting: it cannot run the call alone
    assert last["mismatch"]["late"][:3] == [
        "DistributedError",
        "TM515",
        "process 1 (this one) reached sensor.sharded() after the others had stopped waiting for it",
    ]
    assert 3 <= last["mismatch"]["waited_seconds"] < 30


# --- the launcher ----------------------------------------------------------------------------


def test_launcher_stops_the_other_processes_when_one_fails(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(
        "import os, sys, time\n"
        "print(os.getpid(), os.environ['TYPEDML_NUM_PROCESSES'], os.environ['JAX_COORDINATOR_ADDRESS'], flush=True)\n"
        "if os.environ['TYPEDML_PROCESS_ID'] == '0':\n"
        "    sys.exit(3)\n"
        "time.sleep(120)\n"
    )
    started = time.monotonic()
    first, second = run_processes(script, processes=2, timeout=60, grace=0.5)
    assert time.monotonic() - started < 30
    assert (first.returncode, first.stopped, first.timed_out) == (3, False, False)
    assert second.stopped and second.returncode < 0
    pid, count, address = second.stdout.split()
    assert count == "2" and address.startswith("127.0.0.1:")
    with pytest.raises(ProcessLookupError):  # gone, not orphaned
        os.kill(int(pid), 0)


def test_launcher_kills_every_process_at_the_timeout(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("import time\ntime.sleep(120)\n")
    runs = run_processes(script, processes=2, timeout=1.0)
    assert [(r.timed_out, r.returncode < 0) for r in runs] == [(True, True), (True, True)]
    with pytest.raises(AssertionError, match="printed no JSON line"):
        runs[0].last_json()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_processes_die_with_the_launcher(tmp_path: Path) -> None:
    job = tmp_path / "job.py"
    job.write_text("import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(120)\n")
    launcher = tmp_path / "launcher.py"
    launcher.write_text(
        "import sys\nfrom typedml._launch import run_processes\nrun_processes(sys.argv[1], processes=2, timeout=120)\n"
    )
    parent = subprocess.Popen([sys.executable, str(launcher), str(job)])
    try:
        deadline = time.monotonic() + 60
        children: list[int] = []
        while len(children) < 2 and time.monotonic() < deadline:  # the jobs' own pids, once they run
            children = [p for p in _children_of(parent.pid) if _is_job(p, job)]
            time.sleep(0.1)
        assert len(children) == 2
    finally:
        parent.kill()  # the launcher dies without cleaning up...
        parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in children)  # ...and the kernel takes its processes with it


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _is_job(pid: int, job: Path) -> bool:
    with contextlib.suppress(OSError):
        return str(job) in (Path("/proc") / str(pid) / "cmdline").read_text()
    return False


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_launcher_refuses_nonsense_counts() -> None:
    with pytest.raises(ValueError, match="processes >= 1"):
        run_processes(sys.executable, processes=0)


# --- one process: the split, and the merge stage checked before a long job --------------------


def test_file_chunks_split_in_order_balanced_by_bytes(tmp_path: Path) -> None:
    sizes = [1000, 10, 10, 10, 500, 500]
    paths = []
    for i, n in enumerate(sizes):
        paths.append(tmp_path / f"f{i}.bin")
        paths[-1].write_bytes(b"x" * n)
    files = tm.file_chunks(paths, lambda p: [p])
    assert [len(files.share(i, 2)) for i in range(2)] == [2, 4]  # 1010 bytes against 1020
    assert [len(files.share(i, 3)) for i in range(3)] == [1, 4, 1]  # 1000, 530, 500
    for count in range(1, 8):
        shares = [files.share(i, count).paths for i in range(count)]
        assert [p for share in shares for p in share] == paths  # every file once, in order
    assert list(files) == paths
    before = files.fingerprint()
    assert before.startswith("6 files, 2030 bytes #")
    paths[1].write_bytes(b"xx")  # another size: another fingerprint
    assert files.fingerprint() != before


def test_file_chunks_wants_a_list_of_paths(tmp_path: Path) -> None:
    with pytest.raises(tm.InputError) as info:
        tm.file_chunks(str(tmp_path / "a.npy"), tm.npy_chunks)  # pyright: ignore[reportArgumentType]
    assert info.value.code == "TM251"
    assert info.value.diagnostic.hint == "wrap it in a list: file_chunks([path], read)"


def moments_of(paths: list[Path], read: Any) -> Any:
    zero = np.zeros(2, dtype=np.float32)
    init = (zero, tm.get_registry().Quantity(zero, "K"), tm.get_registry().Quantity(zero, "K**2"))
    return tm.stream(std.weighted_moments_update, tm.file_chunks(paths, read), init=init, weights="w")


def test_shares_folded_apart_and_merged_equal_the_whole_stream(tmp_path: Path) -> None:
    write_files(tmp_path)
    paths = sorted(tmp_path.glob("temps_*.npy"))
    read = functools.partial(tm.npy_chunks, rows=256, unit="K")
    whole = moments_of(paths, read)
    for count in (2, 3):
        states = [moments_of(list(tm.file_chunks(paths, read).share(i, count).paths), read) for i in range(count)]
        merged = states[0]
        for other in states[1:]:
            merged = std.moments_merge(merged, other)
        np.testing.assert_allclose(np.asarray(merged.mean.magnitude), np.asarray(whole.mean.magnitude), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(merged.m2.magnitude), np.asarray(whole.m2.magnitude), rtol=1e-5)


def test_stream_with_merge_in_one_process_is_the_plain_stream(tmp_path: Path) -> None:
    write_files(tmp_path)
    paths = sorted(tmp_path.glob("temps_*.npy"))
    read = functools.partial(tm.npy_chunks, rows=256, unit="K")
    zero = np.zeros(2, dtype=np.float32)
    init = (zero, tm.get_registry().Quantity(zero, "K"), tm.get_registry().Quantity(zero, "K**2"))
    args = {"init": init, "weights": "w", "finalize": std.moments_finalize}
    with_merge = tm.stream(std.weighted_moments_update, tm.file_chunks(paths, read), merge=std.moments_merge, **args)
    plain = tm.stream(std.weighted_moments_update, tm.file_chunks(paths, read), **args)
    np.testing.assert_array_equal(np.asarray(with_merge.mean.magnitude), np.asarray(plain.mean.magnitude))
    nothing = tm.stream(std.weighted_moments_update, tm.file_chunks([], read), merge=std.moments_merge, **args)
    assert float(nothing.n[0]) == 0.0 and np.isnan(np.asarray(nothing.mean.magnitude)).all()


class Sums(NamedTuple):
    total: Q[Float[Array, ""], "'u"]
    squares: Q[Float[Array, ""], "'u**2"]


@tm.stage
def sums_update(
    total: Q[Float[Array, ""], "'u"], squares: Q[Float[Array, ""], "'u**2"], x: Q[Float[Array, "n"], "'u"]
) -> Sums:
    return Sums(total + x.sum(), squares + (x * x).sum())


@tm.stage
def squares_as_totals(  # a merge that does not fit: it reads the squares as the same unit as totals
    total_a: Q[Float[Array, ""], "'u"],
    squares_a: Q[Float[Array, ""], "'u"],
    total_b: Q[Float[Array, ""], "'u"],
    squares_b: Q[Float[Array, ""], "'u"],
) -> Sums:
    return Sums(total_a + total_b, squares_a + squares_b)


@pytest.mark.parametrize(
    ("merge", "message"),
    [
        (std.sum_merge, "merge=sum_merge takes 2 inputs; two states of 2 fields need 4"),
        (squares_as_totals, "merge=squares_as_totals does not accept two initial states of this stream"),
        (len, "merge= needs a typedml stage or pipeline, got builtin_function_or_method"),
    ],
)
def test_a_merge_stage_that_does_not_fit_the_state_is_refused_before_folding(merge: Any, message: str) -> None:
    reg = tm.get_registry()
    init = Sums(reg.Quantity(np.float32(0), "m"), reg.Quantity(np.float32(0), "m**2"))

    def chunks() -> Any:
        raise AssertionError("no chunk may be read before the merge stage is checked")
        yield

    with pytest.raises(tm.InputError) as info:
        tm.stream(sums_update, chunks(), init=init, merge=merge)
    assert info.value.code == "TM251"
    assert info.value.diagnostic.message == message


def test_agreement_in_one_process_exchanges_nothing() -> None:
    from typedml._distributed import Agreement

    agreement = Agreement("x()", timeout=0.0)
    agreement.check("inputs", {"x": "anything"})  # no client, no wait
    with pytest.raises(KeyError):
        agreement.check("inputs", {}, failure=KeyError("its own error"))
