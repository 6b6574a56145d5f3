"""Performance suite: typedml against the tools users have today, on the same computations, in one run.

Four parts, each printed as a table and written to one JSON file:

1. **steady state** per call (compilation and caches warmed up), on ``bench_fused.py``'s
   10-stage chain with 7 converting edges, at a small and a large size: the typedml pipeline,
   the same arithmetic hand-written under one ``jax.jit`` (the baseline), pint Quantities on
   numpy, the same DAG run by Apache Hamilton's driver with numpy functions (if ``sf-hamilton``
   is installed: ``pip install -e '.[bench]'``), and per-stage calls each checked by
   jaxtyping+beartype (each stage jitted, the check on every call);
2. **first call**: trace + check + compile of a fresh pipeline against the first call of a fresh
   ``jax.jit`` function, with ``check()`` alone timed separately;
3. **static check time** against the number of stages (``bench_check.py``'s generated chains),
   with the growth exponent k in time ∝ N^k;
4. **memory** held by a built and checked pipeline, per stage (tracemalloc).

Run from the repository root::

    .venv/bin/python benchmarks/perf/run.py                  # full, CPU (several minutes)
    .venv/bin/python benchmarks/perf/run.py --quick          # smoke run (CI): seconds, not a measurement
    .venv/bin/python benchmarks/perf/run.py --device gpu     # parts 1-2 on the GPU; skips cleanly without one
"""

import argparse
import datetime
import functools
import gc
import importlib.util
import json
import math
import statistics
import sys
import tempfile
import time
import tracemalloc
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from beartype import beartype
from jaxtyping import Array, Float, jaxtyped

import typedml as tm
from typedml import Q

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE.parent / "results" / "perf.json"
TARGET_STEADY = 1.05
TARGET_FIRST = 1.2


def _load(name: str) -> types.ModuleType:
    """A sibling benchmark script as a module (benchmarks are scripts, not a package)."""
    key = f"_perf_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, HERE.parent / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


fused = _load("bench_fused")
check_bench = _load("bench_check")


# -- part 1: steady state -------------------------------------------------------------------
def make_hamilton(hand_constants: list[tuple[float, float]]) -> Callable[[np.ndarray], Any] | None:
    """The chain as a Hamilton DAG of numpy functions (conversions as literals), or None without Hamilton."""
    try:
        from hamilton import driver
    except ImportError:
        return None
    module = types.ModuleType("perf_hamilton_chain")
    module.np = np  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module  # Hamilton collects functions defined in an importable module
    prev = "x"
    for i, (scale, offset) in enumerate(hand_constants):
        name = f"x{i + 1}"
        exec(
            f"def {name}({prev}: np.ndarray) -> np.ndarray:\n    return {prev} * {scale!r} + {offset!r}\n",
            module.__dict__,
        )
        prev = name
    exec(f"def out({prev}: np.ndarray) -> float:\n    return np.mean({prev}) - 273.15\n", module.__dict__)
    dr = driver.Builder().with_modules(module).build()
    return lambda x: dr.execute(["out"], inputs={"x": x})["out"]


# The hand-written chain's affine steps, conversions folded into neighbouring constants.
HAND_STEPS = [
    (1.01, 0.5),
    (1e-3, 0.0),
    (0.98, 0.002),
    (250.0, 280.0),
    (1e3, 0.0),
    (1.002, -150.0),
    (1e-3, 0.0),
    (1.38, 0.1),
    (1e-3, 0.0),
    (0.97, 0.01),
    (1.05, -0.002),
    (1e3, 0.0),
    (0.5, 3.0),
    (1e3, 0.0),
    (0.999, 10.0),
    (0.0015, 0.2),
]


def make_checked_stages() -> Callable[[Any], Any]:
    """Per-stage calls, each stage jitted and its call checked by jaxtyping+beartype (conversions by hand)."""

    def checked(fn: Callable[..., Any], into: Callable[[Any], Any]) -> Callable[[Any], Any]:
        kernel = jax.jit(lambda x: fn(into(x)))

        @functools.wraps(fn)
        def call(x: Float[Array, "n"]) -> Float[Array, "n"]:
            return kernel(x)

        call.__annotations__ = {"x": Float[Array, "n"], "return": Float[Array, "n"]}
        return jaxtyped(typechecker=beartype)(call)

    calls = [checked(s.fn, fused._affine(c)) for s, c in zip(fused.STAGES, fused.EDGE_CONVERSIONS, strict=False)]
    mean_kernel = jax.jit(lambda x: jnp.mean(x, axis=0) - 273.15)

    @jaxtyped(typechecker=beartype)
    def mean_out(x: Float[Array, "n"]) -> Float[Array, ""]:
        return mean_kernel(x)

    def run(x: Any) -> Any:
        for c in calls:
            x = c(x)
        return mean_out(x)

    return run


def steady(n: int, args: argparse.Namespace, device: Any) -> dict[str, Any]:
    ureg = tm.get_registry()
    host = np.random.default_rng(n).uniform(0.0, 200.0, size=n).astype(np.float32)
    x = jax.device_put(jnp.asarray(host), device)
    xq = ureg.Quantity(x, "mV")
    xq_np = ureg.Quantity(host, "mV")
    pint_run = fused.make_pint_numpy(ureg)
    hamilton = make_hamilton(HAND_STEPS)
    checked = make_checked_stages()
    variants: dict[str, Callable[[], object]] = {
        "typedml": lambda: fused.chain(xq).magnitude.block_until_ready(),
        "jax.jit": lambda: fused.hand_written(x).block_until_ready(),
        "pint+numpy": lambda: pint_run(xq_np),
        "jaxtyping+beartype per stage": lambda: checked(x).block_until_ready(),
    }
    if hamilton is not None:
        variants["hamilton+numpy"] = lambda: hamilton(host)
    # honesty: every variant computes the baseline's number (numpy reduces in another order)
    want = float(fused.hand_written(x))
    got = {
        "typedml": float(fused.chain(xq).to("degC").magnitude),
        "pint+numpy": float(pint_run(xq_np).to("degC").magnitude),
        "jaxtyping+beartype per stage": float(checked(x)),
    }
    if hamilton is not None:
        got["hamilton+numpy"] = float(hamilton(host))
    for name, value in got.items():
        if not math.isclose(value, want, rel_tol=1e-3):
            raise AssertionError(f"honesty check failed: {name} = {value}, jax.jit = {want}")
    numbers, samples = fused.measure(variants, args.repeat, args.min_time, args.warmup)
    base = samples["jax.jit"]
    rows = {}
    for name, s in samples.items():
        rows[name] = {
            "median_us": statistics.median(s) * 1e6,
            "min_us": min(s) * 1e6,
            "ratio_paired": statistics.median(v / b for v, b in zip(s, base, strict=True)),
            "calls_per_round": numbers[name],
            "samples_us": [v * 1e6 for v in s],
        }
    return {"n": n, "variants": rows, "hamilton": hamilton is not None}


# -- part 2: first call ---------------------------------------------------------------------
def _affine_body(name: str, a: float, b: float, u_in: str, u_out: str) -> Callable[[Any], Any]:
    def body(x: Any) -> Any:
        return x * a + b

    body.__annotations__ = {"x": Q[Float[Array, "n"], u_in], "return": Q[Float[Array, "n"], u_out]}
    body.__name__ = body.__qualname__ = name
    return body


def fresh_pipeline(k: int) -> tm.Pipeline[Any, Any]:
    """A new 10-stage chain whose constants depend on k, so no cache (typedml's or XLA's) can hit."""
    units = ["mV", "V", "V", "mK", "K", "kJ", "kJ", "J", "mW", "mW"]
    outs = ["mV", "V", "K", "mK", "J", "kJ", "kJ", "W", "mW", "K"]
    eps = 1e-6 * (k + 1)
    stages = []
    for i, (u_in, u_out) in enumerate(zip(units, outs, strict=True)):
        stages.append(tm.stage(_affine_body(f"s{i}", 1.0 + 0.01 * i + eps, 0.1 * i, u_in, u_out)))

    def chain(x: Q[Float[Array, "n"], "mV"]) -> Q[Float[Array, ""], "degC"]:
        for s in stages:
            x = s(x)
        return tm.stdlib.mean(x)

    return tm.pipeline(chain)


def fresh_jit(k: int) -> Callable[[Any], Any]:
    eps = 1e-6 * (k + 1)

    def hand(x: Any) -> Any:
        for i, (scale, offset) in enumerate(HAND_STEPS):
            x = x * (scale + (eps if i == 0 else 0.0)) + offset
        return jnp.mean(x) - 273.15

    return jax.jit(hand)


def first_call(n: int, repeat: int, device: Any) -> dict[str, Any]:
    ureg = tm.get_registry()
    x = jax.device_put(jnp.asarray(np.linspace(0, 200, n, dtype=np.float32)), device)
    xq = ureg.Quantity(x, "mV")
    fresh_pipeline(10_000).check()  # import-time costs (stdlib, jax tracing machinery) out of the way
    fresh_jit(10_000)(x).block_until_ready()
    rows: dict[str, list[float]] = {"jax_first": [], "typedml_first": [], "check": [], "typedml_after_check": []}
    for k in range(repeat):
        f = fresh_jit(k)
        t0 = time.perf_counter()
        f(x).block_until_ready()
        rows["jax_first"].append(time.perf_counter() - t0)
        p = fresh_pipeline(2 * k)
        t0 = time.perf_counter()
        p(xq).magnitude.block_until_ready()
        rows["typedml_first"].append(time.perf_counter() - t0)
        p = fresh_pipeline(2 * k + 1)
        t0 = time.perf_counter()
        report = p.check()
        rows["check"].append(time.perf_counter() - t0)
        assert report.ok, report
        t0 = time.perf_counter()
        p(xq).magnitude.block_until_ready()
        rows["typedml_after_check"].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) * 1e3 for k, v in rows.items()}
    return {
        "n": n,
        "repeat": repeat,
        "median_ms": med,
        "samples_ms": {k: [v * 1e3 for v in vs] for k, vs in rows.items()},
        "ratio_total": med["typedml_first"] / med["jax_first"],
        "ratio_without_check": med["typedml_after_check"] / med["jax_first"],
    }


# -- part 3: static check time vs stages ----------------------------------------------------
def check_scaling(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for form in ("distinct", "reused"):
            prev = None
            for n in sizes:
                t = check_bench.time_check(n, distinct=form == "distinct", folder=Path(tmp), repeat=repeat)
                row = {
                    "form": form,
                    "stages": n,
                    "check_s": t["check_s"],
                    "cpu_s": t["cpu_s"],
                    "per_stage_ms": t["cpu_s"] / n * 1e3,
                }
                if prev is not None:
                    row["growth_k"] = math.log(row["cpu_s"] / prev["cpu_s"]) / math.log(n / prev["stages"])
                rows.append(row)
                prev = row
    return rows


# -- part 4: memory per stage ---------------------------------------------------------------
def memory_per_stage(n: int) -> dict[str, Any]:
    """Bytes still allocated after building and checking a pipeline of n stage calls, per stage call."""
    with tempfile.TemporaryDirectory() as tmp:
        source = check_bench.generate(n, distinct=False)
        module = check_bench.import_source(source, Path(tmp), f"perf_mem_{n}")
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        report = module.chain.check()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert report.ok, report
        nodes = module.chain.graph.number_of_nodes()
    return {"stages": n, "graph_nodes": nodes, "bytes": after - before, "bytes_per_stage": (after - before) / n}


# -- reporting ------------------------------------------------------------------------------
def print_tables(result: dict[str, Any]) -> None:
    print(f"device: {result['device']}  ({result['mode']})")
    print("\n1. steady state, µs per call (median over rounds; ratio = paired median vs jax.jit)")
    for size in result["steady"]:
        print(f"  n = {size['n']:,}")
        for name, row in size["variants"].items():
            print(f"    {name:<30} {row['median_us']:>12.1f} µs   ×{row['ratio_paired']:.2f}")
        if not size["hamilton"]:
            print("    hamilton+numpy                 not installed (pip install -e '.[bench]')")
        r = size["variants"]["typedml"]["ratio_paired"]
        print(
            f"    typedml / jax.jit = {r:.3f} (target ≤ {TARGET_STEADY}: {'met' if r <= TARGET_STEADY else 'not met'})"
        )
    f = result["first_call"]
    m = f["median_ms"]
    print(f"\n2. first call, ms (median of {f['repeat']} fresh functions, n = {f['n']:,})")
    print(f"    plain jax.jit first call          {m['jax_first']:>9.1f}")
    print(f"    typedml first call (all in)       {m['typedml_first']:>9.1f}   ×{f['ratio_total']:.2f}")
    print(f"    typedml check() alone             {m['check']:>9.1f}")
    print(f"    typedml first call after check()  {m['typedml_after_check']:>9.1f}   ×{f['ratio_without_check']:.2f}")
    print(
        f"    target ≤ {TARGET_FIRST}× without the check: {'met' if f['ratio_without_check'] <= TARGET_FIRST else 'not met'}"
    )
    if result.get("check_scaling"):
        print("\n3. static check time vs stages (CPU seconds; growth N^k from the previous size)")
        for row in result["check_scaling"]:
            k = f"k = {row['growth_k']:.2f}" if "growth_k" in row else ""
            print(
                f"    {row['form']:<9}{row['stages']:>7,} stages  {row['cpu_s']:>8.2f} s  {row['per_stage_ms']:>6.2f} ms/stage  {k}"
            )
    if result.get("memory"):
        mem = result["memory"]
        print(
            f"\n4. memory held by a built, checked pipeline: {mem['bytes'] / 1e6:.1f} MB for {mem['stages']:,} stage calls = {mem['bytes_per_stage'] / 1e3:.1f} kB per stage"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    p.add_argument("--quick", action="store_true", help="tiny sizes and few rounds: a smoke run, not a measurement")
    p.add_argument("--sizes", type=int, nargs="+", help="steady-state sizes (default 1000 1000000)")
    p.add_argument("--repeat", type=int, help="timing rounds (default 15)")
    p.add_argument("--min-time", type=float, help="seconds per variant per round (default 0.05)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--check-sizes", type=int, nargs="+", help="stage counts for part 3 (default 100 1000 10000)")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or [1000]
        args.repeat = args.repeat or 2
        args.min_time = args.min_time or 0.002
        args.warmup = min(args.warmup, 1)
        args.check_sizes = args.check_sizes or [10, 40]
        args.first_repeat = 2
        args.memory_stages = 50
    else:
        args.sizes = args.sizes or [1000, 1_000_000]
        args.repeat = args.repeat or 15
        args.min_time = args.min_time or 0.05
        args.check_sizes = args.check_sizes or [100, 1000, 10_000]
        args.first_repeat = 5
        args.memory_stages = 1000
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    result: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "mode": "quick (not a measurement)" if args.quick else "full",
        "argv": list(argv) if argv is not None else sys.argv[1:],
        "environment": fused.environment(),
    }
    if args.device == "gpu":
        try:
            device = jax.devices("gpu")[0]
        except RuntimeError as exc:
            result["skipped"] = f"no GPU: {exc}"
            print(f"--device gpu: skipped, no GPU available ({exc})")
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
            return result
    else:
        device = jax.devices("cpu")[0]
    result["device"] = str(device)
    with jax.default_device(device):
        result["steady"] = [steady(n, args, device) for n in args.sizes]
        result["first_call"] = first_call(args.sizes[0], args.first_repeat, device)
    if args.device == "cpu":  # parts 3-4 measure the checker and the graph, host-side only
        result["check_scaling"] = check_scaling(args.check_sizes, repeat=1)
        result["memory"] = memory_per_stage(args.memory_stages)
    print_tables(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
