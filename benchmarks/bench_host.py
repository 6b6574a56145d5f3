"""Per-call cost of a host stage vs. the same NumPy code called directly, and vs. a plain JAX stage.

A host stage (``@tm.stage(host=True)``) runs a NumPy body inside the compiled pipeline through
``jax.pure_callback``: JAX hands the inputs to Python, typedml copies them (the body may write
them; compiled libraries refuse JAX's read-only buffers), calls the body, checks its result's
structure, shape and dtype against the signature, and hands it back. This script measures
what that costs, in one run, on the same body — centre each channel and integrate along time,
``np.cumsum(x - x.mean(axis=0), axis=0)`` on a float32 ``(t, 4)`` array:

  (a) a one-stage pipeline whose stage is that host body, called with a NumPy array;
  (b) the NumPy function called directly on the NumPy array — the baseline;
  (c) the same body under ``jax.jit`` through a bare ``jax.pure_callback`` (no typedml): the
      callback's own cost, so that (a)/(c) is typedml's share;
  (d) the same computation as a plain (JAX) stage's pipeline, called with the NumPy array
      (context: what staying in JAX costs).

All four must agree with (b) or the script fails (the honesty check). Each variant is warmed
up first (compilation and typedml's caches are not timed); then ``--repeat`` rounds, each
timing every variant in turn with ``timeit`` over a calibrated number of calls (garbage
collection off), the order rotating from round to round. Outputs are waited for
(``block_until_ready``). Reported: median µs per call and each variant's ratio to (b), (c) and
(d), over the rounds.

Run from the repository root::

    .venv/bin/python benchmarks/bench_host.py
    .venv/bin/python benchmarks/bench_host.py --sizes 1000 100000 --repeat 21
    .venv/bin/python benchmarks/bench_host.py --timer cpu      # CPU time: steadier on a loaded machine
    .venv/bin/python benchmarks/bench_host.py --quick          # smoke run: seconds, not a measurement
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import time
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

import typedml as tm

CHANNELS = 4
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "bench_host.json"


def integrate(x: np.ndarray) -> np.ndarray:
    """The body every variant computes: centred, integrated along time."""
    return np.cumsum(x - x.mean(axis=0), axis=0)


@tm.stage(host=True)
def integrate_host(x: Float[Array, "t c"]) -> Float[Array, "t c"]:
    return integrate(x)


@tm.stage
def integrate_jax(x: Float[Array, "t c"]) -> Float[Array, "t c"]:
    return jnp.cumsum(x - x.mean(axis=0), axis=0)


@tm.pipeline
def host_pipeline(x: Float[Array, "t c"]) -> Float[Array, "t c"]:
    return integrate_host(x)


@tm.pipeline
def plain_pipeline(x: Float[Array, "t c"]) -> Float[Array, "t c"]:
    return integrate_jax(x)


def bare_callback(shape: tuple[int, int]) -> Callable[[Any], Any]:
    result = jax.ShapeDtypeStruct(shape, jnp.float32)

    @jax.jit
    def run(x: Any) -> Any:
        return jax.pure_callback(lambda v: integrate(np.asarray(v)), result, x)

    return run


def variants(n: int) -> tuple[np.ndarray, dict[str, Callable[[], Any]]]:
    x = np.random.default_rng(0).normal(size=(n, CHANNELS)).astype(np.float32)
    bare = bare_callback(x.shape)
    return x, {
        "a_host_stage": lambda: host_pipeline(x).block_until_ready(),
        "b_numpy_direct": lambda: integrate(x),
        "c_bare_pure_callback": lambda: bare(x).block_until_ready(),
        "d_plain_stage": lambda: plain_pipeline(x).block_until_ready(),
    }


def honesty(x: np.ndarray, calls: dict[str, Callable[[], Any]]) -> list[dict[str, Any]]:
    expected = integrate(x)
    scale = float(np.abs(expected).max())
    checks: list[dict[str, Any]] = []
    for name, call in calls.items():
        got = np.asarray(call(), np.float64)
        error = float(np.abs(got - expected).max()) / scale
        checks.append(
            {"variant": name, "max_rel_error": error, "ok": bool(got.shape == expected.shape and error < 1e-4)}
        )
    return checks


def time_variants(
    calls: dict[str, Callable[[], Any]], repeat: int, min_time: float, warmup: int, timer: Callable[[], float]
) -> dict[str, list[float]]:
    for call in calls.values():
        for _ in range(warmup):
            call()
    numbers = {}
    for name, call in calls.items():  # calls per timing so that each takes about min_time
        number, took = 1, 0.0
        while True:
            took = timeit.timeit(call, number=number, timer=timer)
            if took >= min_time or number >= 1 << 20:
                break
            number *= 2
        numbers[name] = number
    samples: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotating order
            samples[name].append(timeit.timeit(calls[name], number=numbers[name], timer=timer) / numbers[name] * 1e6)
    return samples


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--min-time", type=float, default=0.05)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument(
        "--timer", choices=["wall", "cpu"], default="wall", help="cpu: this process's CPU time (steadier when loaded)"
    )
    parser.add_argument("--quick", action="store_true", help="sizes 100 and 1000, 3 short rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat, args.min_time, args.warmup = [100, 1000], 3, 0.002, 2

    results: list[dict[str, Any]] = []
    for n in args.sizes:
        x, calls = variants(n)
        checks = honesty(x, calls)
        if not all(c["ok"] for c in checks):
            raise SystemExit(f"honesty check failed at n={n}: {checks}")
        timer = time.process_time if args.timer == "cpu" else time.perf_counter
        samples = time_variants(calls, args.repeat, args.min_time, args.warmup, timer)
        median = {name: statistics.median(s) for name, s in samples.items()}
        results.append(
            {
                "n": n,
                "shape": [n, CHANNELS],
                "variants": {
                    name: {
                        "median_us": median[name],
                        "min_us": min(s),
                        "samples_us": s,
                        "ratio_to_numpy": median[name] / median["b_numpy_direct"],
                        "ratio_to_plain_stage": median[name] / median["d_plain_stage"],
                        "ratio_to_bare_callback": median[name] / median["c_bare_pure_callback"],
                    }
                    for name, s in samples.items()
                },
                "correctness": checks,
            }
        )
    result = {
        "benchmark": "bench_host",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "settings": {
            "sizes": args.sizes,
            "repeat": args.repeat,
            "min_time": args.min_time,
            "warmup": args.warmup,
            "timer": args.timer,
        },
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print("| n | variant | median µs | × numpy direct | × bare callback | × plain stage |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in results:
        for name, v in row["variants"].items():
            print(
                f"| {row['n']} | {name} | {v['median_us']:.1f} | {v['ratio_to_numpy']:.2f} | "
                f"{v['ratio_to_bare_callback']:.2f} | {v['ratio_to_plain_stage']:.2f} |"
            )
    print(f"results written to {args.json}")
    return result


if __name__ == "__main__":
    main()
