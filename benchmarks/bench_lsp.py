"""The language server as an editor uses it: start time, check latency on save, memory over time.

``typedml lsp`` is started over stdio and driven by the small client of the test suite
(``tests/lsp_client.py``), as an editor drives it. Measured, in one run:

  start       spawn -> ``initialize`` answered; and spawn -> first diagnostics of a small file
              (the worker process imports JAX and typedml meanwhile)
  save        ``didSave`` -> ``publishDiagnostics``, warm, for generated files of 10 and 200
              stages (one pipeline chaining them, a unit conversion on most edges); each save
              changes a comment, so each check runs the file afresh: median and p95 of the wall
              time, and of the CPU time the server and its worker spent (steadier on a shared
              machine: other jobs lengthen the wall time, not the CPU time)
  memory      resident memory of the server and of its worker after 1,000 checks of the
              10-stage file, against the figure after the first checks

Baseline, in the same run: ``typedml check FILE`` on the same files, a fresh process each time
(what an editor that runs the command line on save gets).

Run from the repository root (``pip install -e '.[lsp]'`` first)::

    .venv/bin/python benchmarks/bench_lsp.py            # 10/200 stages, 40 saves each, 1,000 checks
    .venv/bin/python benchmarks/bench_lsp.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lsp_client import LspClient  # noqa: E402

UNITS = ("m", "mm", "km")


def generate(n: int) -> str:
    """A module with ``n`` distinct stages and one pipeline chaining them."""
    lines = ["from jaxtyping import Array, Float", "import typedml as tm", "from typedml import Q", ""]
    for k in range(n):
        unit_in, unit_out = UNITS[k % 3], UNITS[(k + 1) % 3]
        lines += [
            "@tm.stage",
            f'def s{k}(x: Q[Float[Array, "b c"], "{unit_in}"], w: Q[Float[Array, "c"], ""]) -> Q[Float[Array, "b c"], "{unit_out}"]:',
            f"    return x * w + {k}.0",
            "",
        ]
    lines += [
        "@tm.pipeline",
        f'def chain(x: Q[Float[Array, "b c"], "{UNITS[0]}"], w: Q[Float[Array, "c"], ""]) -> Q[Float[Array, "b c"], "{UNITS[n % 3]}"]:',
    ]
    lines += [f"    x = s{k}(x, w)" for k in range(n)]
    lines += ["    return x", ""]
    return "\n".join(lines)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (started from any of its threads)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes (what a check costs, whatever else loads the machine)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def saves(client: LspClient, uri: str, text: str, count: int, version: int) -> tuple[list[float], list[float], int]:
    """Wall time from didSave to publishDiagnostics, and CPU time of server and worker, per save."""
    times: list[float] = []
    cpu: list[float] = []
    server = client.proc.pid
    for i in range(count):
        version += 1
        edited = text + f"# save {i}\n"
        client.change(uri, edited, version)  # (debounce set long: only the save checks)
        pids = [server, *children(server)]
        start, start_cpu = time.perf_counter(), cpu_seconds(pids)
        client.save(uri)
        diagnostics = client.wait_diagnostics(uri, timeout=120)
        times.append(time.perf_counter() - start)
        cpu.append(cpu_seconds(pids) - start_cpu)
        assert not [d for d in diagnostics if d["severity"] == 1], diagnostics
    return times, cpu, version


def cli_check(path: Path, runs: int) -> list[float]:
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "typedml", "check", str(path)], check=True, capture_output=True, cwd=path.parent
        )
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 200])
    parser.add_argument("--saves", type=int, default=40, help="saves timed per size")
    parser.add_argument("--checks", type=int, default=1000, help="checks for the memory figure")
    parser.add_argument("--cli-runs", type=int, default=3, help="typedml check runs per size (baseline)")
    parser.add_argument("--quick", action="store_true", help="smoke run: few saves and checks")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.saves, args.checks, args.cli_runs = [10], 3, 20, 1
    print(f"# typedml lsp benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}")
    print(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# load average at start: {load:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = {n: root / f"stages_{n}.py" for n in args.sizes}
        for n, path in files.items():
            path.write_text(generate(n))
        log = (root / "server.log").open("w")
        spawn = time.perf_counter()
        client = LspClient("--debounce", "600", "--timeout", "120", cwd=str(root), stderr=log)
        try:
            client.initialize(root)
            initialized = time.perf_counter() - spawn
            first = files[args.sizes[0]]
            uri = client.open(first, first.read_text())
            client.wait_diagnostics(uri, timeout=300)
            ready = time.perf_counter() - spawn
            print("\n## start")
            print(f"initialize answered       {initialized * 1000:8.0f} ms")
            print(f"first diagnostics ({args.sizes[0]:>3})   {ready * 1000:8.0f} ms  (worker cold: imports JAX)")
            print("\n## check on save (warm): wall time and CPU time (server + worker), ms")
            print("stages  saves   wall median  wall p95   CPU median  CPU p95   typedml check (fresh process)  ratio")
            version = 1
            for n, path in files.items():
                text = path.read_text()
                uri = client.open(path, text)
                client.wait_diagnostics(uri, timeout=300)
                _, _, version = saves(client, uri, text, 3, version)  # warm-up
                times, cpu, version = saves(client, uri, text, args.saves, version)
                cli = statistics.median(cli_check(path, args.cli_runs))
                median = statistics.median(times)
                print(
                    f"{n:>6}  {args.saves:>5}   {median * 1000:11.1f}  {p95(times) * 1000:8.1f}"
                    f"   {statistics.median(cpu) * 1000:10.1f}  {p95(cpu) * 1000:7.1f}"
                    f"   {cli * 1000:10.0f}                     {cli / median:5.1f}x"
                )
            client.shutdown()
        finally:
            client.kill()
        print(f"\n## memory over {args.checks} checks of the {args.sizes[0]}-stage file")
        for label, options in (
            ("one worker throughout", ["--recycle-after", str(10 * args.checks)]),
            ("default: a fresh worker every 500 checks", []),
        ):
            memory(files[args.sizes[0]], root, args.checks, label, options, log)
        log.close()


def memory(path: Path, root: Path, checks: int, label: str, options: list[str], log: object) -> None:
    client = LspClient("--debounce", "600", "--timeout", "120", *options, cwd=str(root), stderr=log)
    try:
        client.initialize(root)
        text = path.read_text()
        uri = client.open(path, text)
        client.wait_diagnostics(uri, timeout=300)
        server = client.proc.pid
        for i in range(5):  # the first checks fill what any run needs (JAX's own caches)
            client.change(uri, text + f"# warm {i}\n", i + 2)
            client.save(uri)
            client.wait_diagnostics(uri, timeout=120)
        first_worker = children(server)
        before_server, before_worker = rss_mb(server), sum(rss_mb(p) for p in first_worker)
        start = time.perf_counter()
        for i in range(checks):
            client.change(uri, text + f"# check {i}\n", i + 10)
            client.save(uri)
            client.wait_diagnostics(uri, timeout=120)
        elapsed = time.perf_counter() - start
        workers = children(server)
        after_server, after_worker = rss_mb(server), sum(rss_mb(p) for p in workers)
        growth = after_server + after_worker - before_server - before_worker
        print(f"- {label}: {checks / elapsed:.1f} checks/s")
        print(f"    server RSS  {before_server:7.1f} MB -> {after_server:7.1f} MB")
        print(
            f"    worker RSS  {before_worker:7.1f} MB -> {after_worker:7.1f} MB"
            f"  ({'replaced since' if set(workers) != set(first_worker) else 'the same process'})"
        )
        print(f"    growth      {growth:+7.1f} MB (server + worker)")
        client.shutdown()
    finally:
        client.kill()


if __name__ == "__main__":
    main()
