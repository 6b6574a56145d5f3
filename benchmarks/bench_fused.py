"""Per-call cost of a fused typedml pipeline vs. the same computation hand-written in ``jax.jit``.

DESIGN.md §4 promises that, once compiled, a pipeline called with pint Quantities costs what the
hand-written ``jax.jit`` function costs: unit conversions fold into the XLA computation and the
boundary (unit stripping, cache lookup, re-wrapping) is a few dictionary lookups. This script
measures that promise on a 10-stage affine chain followed by a ``mean`` over the leading axis,
float32, at n = 10^3 (dispatch-bound) and n = 10^6 (compute-bound), in one run:

  (a) the typedml pipeline called with a pint Quantity (jax-array magnitude already on device);
  (b) the same computation hand-written as one ``jax.jit`` function — the baseline;
  (c) eleven separately jitted calls, one per stage (context: what fusing saves);
  (d) the same computation with pint Quantities on numpy (context: eager units);
  (e) ``pipeline.jax_fn`` jitted directly (the pure function typedml exposes).

(a), (c), (d) and (e) must agree numerically with (b) (compared in the same unit) or the
script fails: that is the honesty check that the baseline computes the same thing.

Then, in the same run, the **call forms** (``--no-forms`` skips them): the pipeline called
positionally, with keywords, with three inputs (an array and two scalars, positionally and by
keyword), with numpy-backed pint Quantities, and with ``tm.Quantity``, each beside the
hand-written ``jax.jit`` function given the same arrays (numpy arrays for the numpy-backed
forms), timed in the same interleaved rounds. Reported per form: the paired ratio to its
baseline and the overhead in µs; and the cost of each extra input (the three-input overhead
less the one-input overhead, halved). Last, **import time** (``--import-runs``, 0 skips):
``import typedml`` after ``import jax`` in fresh processes, bytecode caches written first.

Every variant is warmed up first (compilation and typedml's per-signature caches are not
timed). Then ``--repeat`` rounds are run; in each round every variant is timed in turn with
``timeit`` (garbage collection off) over a calibrated number of calls, the variant order
rotating from round to round so slow drift hits all variants alike. Each call ends with
``.block_until_ready()`` on its jax output (for a pint output, on ``.magnitude``). Reported:
median and minimum µs per call over the rounds and the ratio of each variant to (b).

Run from the repository root::

    .venv/bin/python benchmarks/bench_fused.py
    .venv/bin/python benchmarks/bench_fused.py --sizes 1000 1000000 --repeat 31
    .venv/bin/python benchmarks/bench_fused.py --quick          # fast smoke run
    .venv/bin/python benchmarks/bench_fused.py --timer cpu      # CPU time: steadier on a loaded machine
"""

import argparse
import datetime
import functools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pint
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "bench_fused.json"
TARGET_RATIO = 1.05  # (a)/(b), from the issue
FORM_TARGETS = {1000: 1.2, 1_000_000: 1.02}  # every call form / its jax.jit baseline, by size
EXTRA_INPUT_TARGET_US = 0.5  # typedml's added cost per extra input
IMPORT_TARGET_S = 0.15  # import typedml after import jax
NOISY_SPREAD = 1.25  # median/min of the baseline above this: flag the run as noisy

# -- the pipeline -------------------------------------------------------------------------
# Ten affine stages. Declared units change along the chain so that seven edges carry a real
# conversion (mV->V, K->mK, mK->K, J->kJ, kJ->J, W->mW and the affine K->degC at the output);
# the other edges connect equal units. Values stay around 10^2..10^5, fine for float32.


@tm.stage
def s01_amplify(x: Q[Float[Array, "n"], "mV"]) -> Q[Float[Array, "n"], "mV"]:
    return x * 1.01 + 0.5


@tm.stage
def s02_trim(x: Q[Float[Array, "n"], "V"]) -> Q[Float[Array, "n"], "V"]:
    return x * 0.98 + 0.002


@tm.stage
def s03_thermistor(x: Q[Float[Array, "n"], "V"]) -> Q[Float[Array, "n"], "K"]:
    return x * 250.0 + 280.0


@tm.stage
def s04_offset(x: Q[Float[Array, "n"], "mK"]) -> Q[Float[Array, "n"], "mK"]:
    return x * 1.002 - 150.0


@tm.stage
def s05_heat(x: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "J"]:
    return x * 1.38 + 0.1


@tm.stage
def s06_loss(x: Q[Float[Array, "n"], "kJ"]) -> Q[Float[Array, "n"], "kJ"]:
    return x * 0.97 + 0.01


@tm.stage
def s07_gain(x: Q[Float[Array, "n"], "kJ"]) -> Q[Float[Array, "n"], "kJ"]:
    return x * 1.05 - 0.002


@tm.stage
def s08_power(x: Q[Float[Array, "n"], "J"]) -> Q[Float[Array, "n"], "W"]:
    return x * 0.5 + 3.0


@tm.stage
def s09_bias(x: Q[Float[Array, "n"], "mW"]) -> Q[Float[Array, "n"], "mW"]:
    return x * 0.999 + 10.0


@tm.stage
def s10_sensor(x: Q[Float[Array, "n"], "mW"]) -> Q[Float[Array, "n"], "K"]:
    return x * 0.0015 + 0.2


@tm.pipeline
def chain(x: Q[Float[Array, "n"], "mV"]) -> Q[Float[Array, ""], "degC"]:
    x1 = s01_amplify(x)
    x2 = s02_trim(x1)  # mV -> V
    x3 = s03_thermistor(x2)
    x4 = s04_offset(x3)  # K -> mK
    x5 = s05_heat(x4)  # mK -> K
    x6 = s06_loss(x5)  # J -> kJ
    x7 = s07_gain(x6)
    x8 = s08_power(x7)  # kJ -> J
    x9 = s09_bias(x8)  # W -> mW
    x10 = s10_sensor(x9)
    return tm.stdlib.mean(x10)  # K -> degC on the output edge


STAGES = [
    s01_amplify,
    s02_trim,
    s03_thermistor,
    s04_offset,
    s05_heat,
    s06_loss,
    s07_gain,
    s08_power,
    s09_bias,
    s10_sensor,
]
# Conversion (scale, offset) on the edge *into* each stage, then into mean, then to the output.
EDGE_CONVERSIONS: list[tuple[float, float] | None] = [
    None,
    (1e-3, 0.0),
    None,
    (1e3, 0.0),
    (1e-3, 0.0),
    (1e-3, 0.0),
    None,
    (1e3, 0.0),
    (1e3, 0.0),
    None,
    None,  # s10 -> mean: K -> K
]
OUTPUT_CONVERSION = (1.0, -273.15)  # mean's K -> the pipeline's degC


# -- (b) the baseline: the same computation written by hand as one jax.jit function ---------
@jax.jit
def hand_written(x: jax.Array) -> jax.Array:
    x = x * 1.01 + 0.5  # s01 (mV)
    x = x * 1e-3  # mV -> V
    x = x * 0.98 + 0.002  # s02 (V)
    x = x * 250.0 + 280.0  # s03 (V -> K)
    x = x * 1e3  # K -> mK
    x = x * 1.002 - 150.0  # s04 (mK)
    x = x * 1e-3  # mK -> K
    x = x * 1.38 + 0.1  # s05 (K -> J)
    x = x * 1e-3  # J -> kJ
    x = x * 0.97 + 0.01  # s06 (kJ)
    x = x * 1.05 - 0.002  # s07 (kJ)
    x = x * 1e3  # kJ -> J
    x = x * 0.5 + 3.0  # s08 (J -> W)
    x = x * 1e3  # W -> mW
    x = x * 0.999 + 10.0  # s09 (mW)
    x = x * 0.0015 + 0.2  # s10 (mW -> K)
    return jnp.mean(x, axis=0) - 273.15  # mean, K -> degC


# -- call forms: the same chain with three inputs (an array and two scalars) ---------------
@tm.stage
def s01_calibrate(
    x: Q[Float[Array, "n"], "mV"], gain: Q[Float[Array, ""], ""], offset: Q[Float[Array, ""], "mV"]
) -> Q[Float[Array, "n"], "mV"]:
    return x * gain + offset


@tm.pipeline
def chain3(
    x: Q[Float[Array, "n"], "mV"], gain: Q[Float[Array, ""], ""], offset: Q[Float[Array, ""], "mV"]
) -> Q[Float[Array, ""], "degC"]:
    x1 = s01_calibrate(x, gain, offset)
    x2 = s02_trim(x1)  # mV -> V
    x3 = s03_thermistor(x2)
    x4 = s04_offset(x3)  # K -> mK
    x5 = s05_heat(x4)  # mK -> K
    x6 = s06_loss(x5)  # J -> kJ
    x7 = s07_gain(x6)
    x8 = s08_power(x7)  # kJ -> J
    x9 = s09_bias(x8)  # W -> mW
    x10 = s10_sensor(x9)
    return tm.stdlib.mean(x10)


@jax.jit
def hand_written3(x: jax.Array, gain: jax.Array, offset: jax.Array) -> jax.Array:
    x = x * gain + offset  # s01 (mV)
    x = x * 1e-3  # mV -> V
    x = x * 0.98 + 0.002
    x = x * 250.0 + 280.0
    x = x * 1e3
    x = x * 1.002 - 150.0
    x = x * 1e-3
    x = x * 1.38 + 0.1
    x = x * 1e-3
    x = x * 0.97 + 0.01
    x = x * 1.05 - 0.002
    x = x * 1e3
    x = x * 0.5 + 3.0
    x = x * 1e3
    x = x * 0.999 + 10.0
    x = x * 0.0015 + 0.2
    return jnp.mean(x, axis=0) - 273.15


# form -> (description, its baseline)
FORMS = {
    "positional": ("chain(q), pint on jax", "jit"),
    "keywords": ("chain(x=q), pint on jax", "jit"),
    "3 inputs": ("chain3(q, g, o), pint on jax", "jit3"),
    "3 inputs, keywords": ("chain3(x=q, gain=g, offset=o)", "jit3"),
    "numpy pint": ("chain(q), pint on numpy", "jit_np"),
    "numpy pint, 3 inputs": ("chain3(q, g, o), pint on numpy", "jit3_np"),
    "tm.Quantity": ("chain(tm.Quantity(x, 'mV'))", "jit"),
    "tm.Quantity, 3 inputs": ("chain3 with tm.Quantity inputs", "jit3"),
}
BASELINES = {
    "jit": "hand_written(x), jax array",
    "jit3": "hand_written3(x, g, o), jax arrays",
    "jit_np": "hand_written(x), numpy array",
    "jit3_np": "hand_written3(x, g, o), numpy arrays",
}


# -- (c) eleven separately jitted calls ----------------------------------------------------
def _affine(conv: tuple[float, float] | None) -> Callable[[Any], Any]:
    if conv is None:
        return lambda x: x
    scale, offset = conv
    return lambda x: x * scale + offset if offset else x * scale


def make_separate() -> list[Callable[[Any], Any]]:
    """One jitted function per stage (its incoming conversion included), then a jitted mean."""
    fns: list[Callable[[Any], Any]] = []
    for stage, conv in zip(STAGES, EDGE_CONVERSIONS, strict=False):
        body, into = stage.fn, _affine(conv)
        fns.append(jax.jit(lambda x, body=body, into=into: body(into(x))))
    mean_body, into, out = tm.stdlib.mean.fn, _affine(EDGE_CONVERSIONS[-1]), _affine(OUTPUT_CONVERSION)
    fns.append(jax.jit(lambda x: out(mean_body(into(x)))))
    assert len(fns) == 11
    return fns


# -- (d) pint Quantities on numpy ------------------------------------------------------------
def make_pint_numpy(ureg: pint.UnitRegistry) -> Callable[[Any], Any]:
    """Each stage ``x.to(in_unit) * a + b`` with ``a``, ``b`` Quantities; constants and units built once."""
    unit = ureg.Unit
    quantity = ureg.Quantity
    # (input unit, a, unit of a, b, output unit) per stage, as declared above.
    table = [
        ("mV", 1.01, "mV/mV", 0.5, "mV"),
        ("V", 0.98, "V/V", 0.002, "V"),
        ("V", 250.0, "K/V", 280.0, "K"),
        ("mK", 1.002, "mK/mK", -150.0, "mK"),
        ("K", 1.38, "J/K", 0.1, "J"),
        ("kJ", 0.97, "kJ/kJ", 0.01, "kJ"),
        ("kJ", 1.05, "kJ/kJ", -0.002, "kJ"),
        ("J", 0.5, "W/J", 3.0, "W"),
        ("mW", 0.999, "mW/mW", 10.0, "mW"),
        ("mW", 0.0015, "K/mW", 0.2, "K"),
    ]
    steps = [(unit(u_in), quantity(a, u_a), quantity(b, u_out)) for u_in, a, u_a, b, u_out in table]
    kelvin, celsius = unit("K"), unit("degC")

    def run(x: Any) -> Any:
        for u_in, a, b in steps:
            x = x.to(u_in) * a + b
        return np.mean(x.to(kelvin), axis=0).to(celsius)

    return run


# -- measurement -----------------------------------------------------------------------------
VARIANTS = {
    "a": "typedml pipeline, pint Quantity in/out (jax magnitudes)",
    "b": "hand-written single jax.jit (baseline)",
    "c": "11 separately jitted calls",
    "d": "pint Quantities on numpy",
    "e": "jax.jit(pipeline.jax_fn)",
}


TIMERS = {"wall": time.perf_counter, "cpu": time.process_time}
TIMER = TIMERS["wall"]  # set from --timer


def calibrate_number(fn: Callable[[], object], min_time: float) -> int:
    """Calls per timing so that one timing lasts at least ``min_time`` seconds (like timeit.autorange)."""
    timer = timeit.Timer(fn, timer=TIMER)
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= min_time:
            return number
        # aim a little past min_time, at most x10 per step
        number = max(number + 1, min(number * 10, int(number * 1.2 * min_time / max(elapsed, 1e-9)) + 1))


def measure(
    variants: dict[str, Callable[[], object]], repeat: int, min_time: float, warmup: int
) -> tuple[dict[str, int], dict[str, list[float]]]:
    """Per-call seconds for each variant, ``repeat`` interleaved rounds with rotating order."""
    for fn in variants.values():
        for _ in range(warmup):
            fn()
    numbers = {name: calibrate_number(fn, min_time) for name, fn in variants.items()}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(repeat):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            elapsed = timeit.Timer(variants[name], timer=TIMER).timeit(numbers[name])
            samples[name].append(elapsed / numbers[name])
    return numbers, samples


def _close(name: str, got: Any, want: Any, rtol: float, atol: float) -> dict[str, Any]:
    got_np = np.asarray(got, dtype=np.float64)
    want_np = np.asarray(want, dtype=np.float64)
    ok = got_np.shape == want_np.shape and bool(np.allclose(got_np, want_np, rtol=rtol, atol=atol))
    info = {
        "variant": name,
        "value": got_np.tolist(),
        "baseline": want_np.tolist(),
        "max_abs_diff": float(np.max(np.abs(got_np - want_np))) if got_np.shape == want_np.shape else None,
        "rtol": rtol,
        "atol": atol,
        "ok": ok,
    }
    if not ok:
        raise AssertionError(f"honesty check failed: ({name}) = {got_np} differs from (b) = {want_np}")
    return info


def graph_conversions(pipe: tm.Pipeline[Any, Any]) -> list[dict[str, Any]]:
    """Every edge of the traced graph that carries a non-identity conversion."""
    found = []
    for u, v, data in pipe.graph.edges(data=True):
        conv = data.get("conversion")
        if conv is not None and tuple(conv) != (1.0, 0.0):
            found.append({"edge": f"{u} -> {v}", "from": str(data.get("unit")), "to": str(data.get("dst_unit"))})
            found[-1]["scale"], found[-1]["offset"] = float(conv[0]), float(conv[1])
    return found


def _hlo_signature(compiled_text: str) -> str:
    """Optimized HLO with names, metadata and source locations removed, for structural comparison."""
    lines = compiled_text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(("%", "ENTRY", "fused"))), 0)
    body = "\n".join(lines[start:])
    body = re.sub(r",?\s*metadata=\{[^}]*\}", "", body)
    body = re.sub(r",?\s*stack_frame_id=\d+", "", body)
    body = re.sub(r"([(,]\s*)[A-Za-z_][\w.]*: ", r"\1p: ", body)  # parameter names in signatures
    return re.sub(r"%[\w.\-]+", "%v", body)


def same_compiled_code(x: jax.Array, jax_fn: Any) -> bool | None:
    """Whether (e) and (b) compile to the same optimized HLO (informational; None if undeterminable)."""
    try:
        e = jax_fn.lower(x).compile().as_text()
        b = hand_written.lower(x).compile().as_text()
    except Exception:  # noqa: BLE001 - an informational check must not break the benchmark
        return None
    return _hlo_signature(e) == _hlo_signature(b)


def bench_size(n: int, args: argparse.Namespace, separate: list[Callable[[Any], Any]], pint_run: Any) -> dict[str, Any]:
    ureg = tm.get_registry()
    host = np.random.default_rng(n).uniform(0.0, 200.0, size=n).astype(np.float32)  # mV
    x = jax.device_put(jnp.asarray(host))
    x.block_until_ready()
    xq = ureg.Quantity(x, "mV")  # (a): jax magnitude, already on device
    xq_np = ureg.Quantity(host, "mV")  # (d): numpy magnitude
    jax_fn = jax.jit(chain.jax_fn)

    def run_separate(x: Any) -> Any:
        for f in separate:
            x = f(x)
        return x

    variants: dict[str, Callable[[], object]] = {
        "a": lambda: chain(xq).magnitude.block_until_ready(),
        "b": lambda: hand_written(x).block_until_ready(),
        "c": lambda: run_separate(x).block_until_ready(),
        "d": lambda: pint_run(xq_np),
        "e": lambda: jax_fn(x)[0].block_until_ready(),
    }

    # Correctness first (this also compiles everything).
    out_a = chain(xq)
    out_b = hand_written(x)
    out_c = run_separate(x)
    out_d = pint_run(xq_np)
    out_e = jax_fn(x)[0]
    degc = ureg.Unit("degC")
    if out_a.units != degc or out_d.units != degc:
        raise AssertionError(f"unexpected output units: (a) {out_a.units}, (d) {out_d.units}")
    # (a), (c), (e) run the same float32 ops as (b): they must agree to float32 rounding.
    checks = [
        _close("a", out_a.to(degc).magnitude, out_b, rtol=1e-5, atol=1e-4),
        _close("c", out_c, out_b, rtol=1e-5, atol=1e-4),
        _close("e", out_e, out_b, rtol=1e-5, atol=1e-4),
        # pint/numpy may compute in another precision and reduces in another order
        _close("d", out_d.to(degc).magnitude, out_b, rtol=1e-3, atol=1e-2),
    ]
    dtypes = {
        "a": str(out_a.magnitude.dtype),
        "b": str(out_b.dtype),
        "c": str(out_c.dtype),
        "d": str(np.asarray(out_d.magnitude).dtype),
        "e": str(out_e.dtype),
    }

    same_hlo = same_compiled_code(x, jax_fn)

    numbers, samples = measure(variants, args.repeat, args.min_time, args.warmup)
    medians = {k: statistics.median(v) for k, v in samples.items()}
    minima = {k: min(v) for k, v in samples.items()}
    paired = {k: statistics.median(s / b for s, b in zip(v, samples["b"], strict=True)) for k, v in samples.items()}
    results = {
        name: {
            "description": VARIANTS[name],
            "median_us": medians[name] * 1e6,
            "min_us": minima[name] * 1e6,
            "ratio_to_b_median": medians[name] / medians["b"],
            "ratio_to_b_min": minima[name] / minima["b"],
            "ratio_to_b_paired_median": paired[name],
            "calls_per_round": numbers[name],
            "output_dtype": dtypes[name],
            "samples_us": [s * 1e6 for s in samples[name]],
        }
        for name in VARIANTS
    }
    # The target is judged on the paired ratio: (a) and (b) timed in the same round, so a burst of
    # machine noise that hits one round cancels out. The ratio of medians is reported beside it.
    ratio = results["a"]["ratio_to_b_paired_median"]
    spread = medians["b"] / minima["b"]
    return {
        "n": n,
        "dtype": "float32",
        "variants": results,
        "correctness": checks,
        "same_optimized_hlo_e_b": same_hlo,
        "ratio_a_to_b": ratio,
        "ratio_a_to_b_of_medians": results["a"]["ratio_to_b_median"],
        "target_ratio": TARGET_RATIO,
        "target_met": ratio <= TARGET_RATIO,
        "baseline_spread": spread,  # median/min of (b): above NOISY_SPREAD the machine was noisy
        "noisy": spread > NOISY_SPREAD,
    }


def bench_forms(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every call form beside its hand-written jax.jit baseline, in the same interleaved rounds."""
    ureg = tm.get_registry()
    host = np.random.default_rng(n).uniform(0.0, 200.0, size=n).astype(np.float32)
    g_np, o_np = np.float32(1.01), np.float32(0.5)  # gain and offset of s01, so chain3 == chain
    x, g, o = (jax.device_put(jnp.asarray(v)) for v in (host, g_np, o_np))
    xq, gq, oq = ureg.Quantity(x, "mV"), ureg.Quantity(g, ""), ureg.Quantity(o, "mV")
    xn, gn, on = ureg.Quantity(host, "mV"), ureg.Quantity(g_np, ""), ureg.Quantity(o_np, "mV")
    xt, gt, ot = tm.Quantity(x, "mV"), tm.Quantity(g, ""), tm.Quantity(o, "mV")
    variants: dict[str, Callable[[], object]] = {
        "jit": lambda: hand_written(x).block_until_ready(),
        "jit3": lambda: hand_written3(x, g, o).block_until_ready(),
        "jit_np": lambda: hand_written(host).block_until_ready(),
        "jit3_np": lambda: hand_written3(host, g_np, o_np).block_until_ready(),
        "positional": lambda: chain(xq).magnitude.block_until_ready(),
        "keywords": lambda: chain(x=xq).magnitude.block_until_ready(),
        "3 inputs": lambda: chain3(xq, gq, oq).magnitude.block_until_ready(),
        "3 inputs, keywords": lambda: chain3(x=xq, gain=gq, offset=oq).magnitude.block_until_ready(),
        "numpy pint": lambda: chain(xn).magnitude.block_until_ready(),
        "numpy pint, 3 inputs": lambda: chain3(xn, gn, on).magnitude.block_until_ready(),
        "tm.Quantity": lambda: chain(xt).magnitude.block_until_ready(),
        "tm.Quantity, 3 inputs": lambda: chain3(xt, gt, ot).magnitude.block_until_ready(),
    }
    # honesty: every form computes what the hand-written function computes
    want = np.asarray(hand_written(x))
    for name, fn in variants.items():
        got = fn()
        got = np.asarray(getattr(got, "magnitude", got))
        _close(name, got, want, rtol=1e-5, atol=1e-4)
    numbers, samples = measure(variants, args.repeat, args.min_time, args.warmup)
    forms: dict[str, Any] = {}
    for name, (description, base) in FORMS.items():
        pairs = list(zip(samples[name], samples[base], strict=True))
        forms[name] = {
            "description": description,
            "baseline": base,
            "median_us": statistics.median(samples[name]) * 1e6,
            "baseline_median_us": statistics.median(samples[base]) * 1e6,
            "ratio_paired_median": statistics.median(a / b for a, b in pairs),
            "overhead_us_paired_median": statistics.median(a - b for a, b in pairs) * 1e6,
            "calls_per_round": numbers[name],
            "samples_us": [t * 1e6 for t in samples[name]],
        }
    extra = {
        kind: (forms[three]["overhead_us_paired_median"] - forms[one]["overhead_us_paired_median"]) / 2
        for kind, one, three in (
            ("positional", "positional", "3 inputs"),
            ("keywords", "keywords", "3 inputs, keywords"),
            ("tm.Quantity", "tm.Quantity", "tm.Quantity, 3 inputs"),
        )
    }
    target = FORM_TARGETS.get(n)
    worst = max(f["ratio_paired_median"] for f in forms.values())
    return {
        "n": n,
        "forms": forms,
        "baselines": {
            k: {"description": v, "median_us": statistics.median(samples[k]) * 1e6} for k, v in BASELINES.items()
        },
        "extra_input_us": extra,
        "worst_ratio": worst,
        "target_ratio": target,
        "target_met": None if target is None else worst <= target,
        "extra_input_target_met": max(extra.values()) <= EXTRA_INPUT_TARGET_US,
    }


def boundary_costs(rounds: int) -> dict[str, Any]:
    """typedml's own cost per call, each form's compiled function replaced by a stub returning its output.

    The end-to-end ratios above carry the noise of XLA's dispatch (µs) on a shared machine; this
    isolates what typedml adds in Python (binding, units, cache lookup, output wrapping) to a
    precision of tens of ns: the minimum, over ``rounds``, of this process's CPU time per call,
    less that of calling the stub directly with the same arrays. It reaches into the cached
    executables (``pipeline._caller``) to put the stub in, and puts them back afterwards.
    """
    from typedml._runtime import Executable

    ureg = tm.get_registry()
    host = np.linspace(1.0, 200.0, 1000, dtype=np.float32)
    g_np, o_np = np.float32(1.01), np.float32(0.5)
    x, g, o = (jax.device_put(jnp.asarray(v)) for v in (host, g_np, o_np))
    xq, gq, oq = ureg.Quantity(x, "mV"), ureg.Quantity(g, ""), ureg.Quantity(o, "mV")
    xn, gn, on = ureg.Quantity(host, "mV"), ureg.Quantity(g_np, ""), ureg.Quantity(o_np, "mV")
    xt, gt, ot = tm.Quantity(x, "mV"), tm.Quantity(g, ""), tm.Quantity(o, "mV")
    forms: dict[str, tuple[Any, Callable[[], object], tuple[Any, ...]]] = {  # pipeline, call, its inputs
        "positional": (chain, lambda: chain(xq), (xq,)),
        "keywords": (chain, lambda: chain(x=xq), (xq,)),
        "3 inputs": (chain3, lambda: chain3(xq, gq, oq), (xq, gq, oq)),
        "3 inputs, keywords": (chain3, lambda: chain3(x=xq, gain=gq, offset=oq), (xq, gq, oq)),
        "numpy pint": (chain, lambda: chain(xn), (xn,)),
        "numpy pint, 3 inputs": (chain3, lambda: chain3(xn, gn, on), (xn, gn, on)),
        "tm.Quantity": (chain, lambda: chain(xt), (xt,)),
        "tm.Quantity, 3 inputs": (chain3, lambda: chain3(xt, gt, ot), (xt, gt, ot)),
    }
    number = 20_000
    costs: dict[str, float] = {}
    for name, (pipe, call, inputs) in forms.items():
        call()
        caller = pipe._caller  # the benchmark measures the call path itself
        key = tuple(q._units for q in inputs)  # the executable is cached under the inputs' units
        arrays = tuple(q._magnitude for q in inputs)
        saved = dict(caller.executables)
        exe = saved[key]
        out = exe.fn(*arrays)

        def stub(*_: Any, out: Any = out) -> Any:
            return out

        caller.executables = {key: Executable(stub, exe.wrap)}
        caller.forget_last()
        try:
            direct = min(
                timeit.repeat(functools.partial(stub, *arrays), number=number, repeat=rounds, timer=time.process_time)
            )
            typed = min(timeit.repeat(call, number=number, repeat=rounds, timer=time.process_time))
        finally:
            caller.executables = saved
            caller.forget_last()
        costs[name] = (typed - direct) / number * 1e6
    extra = {
        kind: (costs[three] - costs[one]) / 2
        for kind, one, three in (
            ("positional", "positional", "3 inputs"),
            ("keywords", "keywords", "3 inputs, keywords"),
            ("numpy pint", "numpy pint", "numpy pint, 3 inputs"),
            ("tm.Quantity", "tm.Quantity", "tm.Quantity, 3 inputs"),
        )
    }
    return {"rounds": rounds, "calls_per_round": number, "overhead_us": costs, "extra_input_us": extra}


def print_boundary(result: dict[str, Any]) -> None:
    print("\ntypedml's own cost per call (compiled function stubbed out; min CPU time; µs)")
    for name, cost in result["overhead_us"].items():
        print(f"  {name:<24} {cost:>7.3f}")
    extra = ", ".join(f"{k} {v:+.3f}" for k, v in result["extra_input_us"].items())
    print(f"  per extra input: {extra}; target ≤ {EXTRA_INPUT_TARGET_US}")


def print_forms(result: dict[str, Any]) -> None:
    n = result["n"]
    print(f"\ncall forms, n = {n:,} (float32, {jax.default_backend()}; each against its own jax.jit baseline)")
    header = f"  {'form':<24} {'call':<34} {'median µs':>10} {'jit µs':>8} {'÷jit pair':>9} {'+µs pair':>9}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, r in result["forms"].items():
        print(
            f"  {name:<24} {r['description']:<34} {r['median_us']:>10.1f} {r['baseline_median_us']:>8.1f}"
            f" {r['ratio_paired_median']:>9.3f} {r['overhead_us_paired_median']:>9.2f}"
        )
    extra = ", ".join(f"{k} {v:+.2f}" for k, v in result["extra_input_us"].items())
    print(f"  per extra input (µs, typedml's overhead only): {extra}; target ≤ {EXTRA_INPUT_TARGET_US}")
    if result["target_ratio"] is not None:
        verdict = "met" if result["target_met"] else "NOT met"
        print(f"  worst ratio {result['worst_ratio']:.3f}; target ≤ {result['target_ratio']}: {verdict}")


IMPORT_CODE = (
    "import time\n"
    "def now(): return time.perf_counter(), time.process_time()\n"
    "t0 = now(); import jax; t1 = now()\n"
    "import typedml; t2 = now()\n"
    "typedml.get_registry(); t3 = now()\n"
    "typedml.stdlib.mean; t4 = now()\n"
    "print(*[b[i] - a[i] for i in (0, 1) for a, b in ((t0, t1), (t1, t2), (t2, t3), (t3, t4))])\n"
)
IMPORT_STEPS = ("jax", "typedml after jax", "first get_registry()", "first tm.stdlib")


def import_times(runs: int) -> dict[str, Any]:
    """``import jax``, then ``import typedml``, in fresh processes (bytecode caches written first).

    Each step is timed by the wall clock and by the process's CPU time (steadier on a loaded
    machine: waiting for a core is not counted).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # a user's install has .pyc
    subprocess.run([sys.executable, "-c", IMPORT_CODE], env=env, check=True, capture_output=True)  # writes them
    samples: dict[str, dict[str, list[float]]] = {clock: {s: [] for s in IMPORT_STEPS} for clock in ("wall", "cpu")}
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", IMPORT_CODE], env=env, check=True, capture_output=True, text=True)
        values = [float(v) for v in out.stdout.split()]
        for clock, chunk in zip(("wall", "cpu"), (values[:4], values[4:]), strict=True):
            for step, value in zip(IMPORT_STEPS, chunk, strict=True):
                samples[clock][step].append(value)
    medians = {clock: {k: statistics.median(v) for k, v in steps.items()} for clock, steps in samples.items()}
    added = medians["wall"]["typedml after jax"]
    return {
        "runs": runs,
        "median_s": medians,
        "min_s": {clock: {k: min(v) for k, v in steps.items()} for clock, steps in samples.items()},
        "samples_s": samples,
        "typedml_over_jax": {c: m["typedml after jax"] / m["jax"] for c, m in medians.items()},
        "target_s": IMPORT_TARGET_S,
        "target_met": added <= IMPORT_TARGET_S,
        "target_met_cpu": medians["cpu"]["typedml after jax"] <= IMPORT_TARGET_S,
    }


def print_imports(result: dict[str, Any]) -> None:
    print(f"\nimport time, {result['runs']} fresh processes (seconds: median and min, wall clock then CPU time)")
    for step in IMPORT_STEPS:
        wall, cpu = result["median_s"]["wall"][step], result["median_s"]["cpu"][step]
        wmin, cmin = result["min_s"]["wall"][step], result["min_s"]["cpu"][step]
        print(f"  {step:<24} {wall:>7.3f} {wmin:>7.3f}   {cpu:>7.3f} {cmin:>7.3f}")
    for clock in ("wall", "cpu"):
        added = result["median_s"][clock]["typedml after jax"]
        verdict = "met" if added <= IMPORT_TARGET_S else "NOT met"
        print(
            f"  {clock}: typedml adds {added:.3f} s to jax ({result['typedml_over_jax'][clock]:.2f}× jax's own);"
            f" target ≤ {IMPORT_TARGET_S} s: {verdict}"
        )


def print_table(result: dict[str, Any]) -> None:
    n = result["n"]
    print(f"\nn = {n:,} (float32, {jax.default_backend()})")
    header = f"  {'variant':<60} {'median µs':>10} {'min µs':>10} {'÷(b) med':>9} {'÷(b) min':>9} {'÷(b) pair':>9}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, r in result["variants"].items():
        label = f"({name}) {r['description']}"
        print(
            f"  {label:<60} {r['median_us']:>10.1f} {r['min_us']:>10.1f}"
            f" {r['ratio_to_b_median']:>9.3f} {r['ratio_to_b_min']:>9.3f} {r['ratio_to_b_paired_median']:>9.3f}"
        )
    verdict = "met" if result["target_met"] else "NOT met"
    print(
        f"  (a)/(b) = {result['ratio_a_to_b']:.3f} paired ({result['ratio_a_to_b_of_medians']:.3f} of medians);"
        f" target ≤ {TARGET_RATIO}: {verdict}"
    )
    diffs = ", ".join(f"({c['variant']}) {c['max_abs_diff']:.2g}" for c in result["correctness"])
    print(f"  honesty check passed; max |x - (b)| in degC: {diffs}")
    if result["noisy"]:
        print(
            f"  warning: noisy run, (b) median is {result['baseline_spread']:.2f}× its minimum; "
            "prefer ÷(b) pair / ÷(b) min, or run again"
        )
    hlo = {True: "identical", False: "DIFFERENT", None: "not compared"}[result["same_optimized_hlo_e_b"]]
    print(f"  optimized HLO of (e) vs (b): {hlo}")


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "numpy": np.__version__,
        "pint": pint.__version__,
        "typedml": tm.__version__,
        "XLA_FLAGS": os.environ.get("XLA_FLAGS"),
        "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS"),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="element counts (default: 1000 1000000)")
    parser.add_argument("--repeat", type=int, default=None, help="interleaved timing rounds (default 21, quick 3)")
    parser.add_argument(
        "--min-time", type=float, default=None, help="seconds per variant per round (default 0.05, quick 0.002)"
    )
    parser.add_argument("--warmup", type=int, default=None, help="untimed calls per variant (default 20, quick 2)")
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help=f"where to write results (default {DEFAULT_JSON})"
    )
    parser.add_argument("--quick", action="store_true", help="few short rounds: a smoke run, not a measurement")
    parser.add_argument("--no-forms", action="store_true", help="skip the call forms")
    parser.add_argument(
        "--import-runs", type=int, default=None, help="fresh processes timing imports (default 10, quick 0)"
    )
    parser.add_argument(
        "--timer", choices=sorted(TIMERS), default="wall", help="wall clock (default) or this process's CPU time"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    if args.sizes is None:
        args.sizes = [1000, 10_000] if quick else [1000, 1_000_000]
    if args.repeat is None:
        args.repeat = 3 if quick else 21
    if args.min_time is None:
        args.min_time = 0.002 if quick else 0.05
    if args.warmup is None:
        args.warmup = 2 if quick else 20
    if args.import_runs is None:
        args.import_runs = 0 if quick else 10
    if args.repeat < 1 or args.min_time <= 0 or any(n < 1 for n in args.sizes):
        parser.error("--repeat, --min-time and --sizes must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print the table, write the JSON and return what was written."""
    args = parse_args(argv)
    report = chain.check()
    if report.errors:
        raise SystemExit(f"the benchmark pipeline does not check:\n{report}")
    conversions = graph_conversions(chain)
    separate = make_separate()
    pint_run = make_pint_numpy(tm.get_registry())
    print(f"typedml fused-pipeline benchmark: 10 affine stages + mean; {len(conversions)} converting edges")
    print(f"  jax {jax.__version__} on {jax.default_backend()} ({', '.join(str(d) for d in jax.devices())})")
    print(f"  rounds={args.repeat}, ≥{args.min_time * 1e3:g} ms per variant per round, quick={args.quick}")
    print("  ÷(b) med: median/median(b); ÷(b) min: min/min(b); ÷(b) pair: median over rounds of (x/(b) in that round)")
    global TIMER
    TIMER = TIMERS[args.timer]
    print(f"  timer: {args.timer}")
    sizes = []
    for n in args.sizes:
        result = bench_size(n, args, separate, pint_run)
        print_table(result)
        sizes.append(result)
    forms = []
    if not args.no_forms:
        for n in args.sizes:
            result = bench_forms(n, args)
            print_forms(result)
            forms.append(result)
    boundary = None
    if not args.no_forms:
        boundary = boundary_costs(3 if args.quick else 15)
        print_boundary(boundary)
    imports = None
    if args.import_runs > 0:
        imports = import_times(args.import_runs)
        print_imports(imports)
    output = {
        "benchmark": "bench_fused",
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": [Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else list(argv))],
        "settings": {
            "sizes": args.sizes,
            "repeat": args.repeat,
            "min_time_s": args.min_time,
            "warmup": args.warmup,
            "quick": args.quick,
            "timer": args.timer,
        },
        "environment": environment(),
        "edge_conversions": conversions,
        "variants": VARIANTS,
        "target": {"ratio_a_to_b": TARGET_RATIO},
        "results": sizes,
        "forms": forms,
        "boundary": boundary,
        "form_targets": {
            "ratio_by_n": {str(k): v for k, v in FORM_TARGETS.items()},
            "extra_input_us": EXTRA_INPUT_TARGET_US,
        },
        "imports": imports,
        "load_average": list(os.getloadavg()),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(output, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")
    return output


if __name__ == "__main__":
    main()
