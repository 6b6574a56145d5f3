"""Find what moved: a reference week against a new week, as an HTML report.

python -m examples.drift.main [--out drift_report.html]

Both weeks run through ``station.debug(...)``, which keeps every value of the run (by edge
name, in its unit). The new week's humidity sensor drifted (it reads 15 % high), and its
thermistor readings arrive in volts instead of millivolts: the report converts units before
comparing, so only the humidity and what depends on it are marked as moved.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import typedml as tm

from .pipeline import station


def make_week(seed: int, *, humidity_gain: float = 1.0, volts: bool = False, n: int = 7 * 24) -> dict[str, object]:
    """Hourly readings of one week: a daily temperature cycle and humidity that follows it."""
    ureg = tm.get_registry()
    rng = np.random.default_rng(seed)
    hours = np.arange(n)
    celsius = 12.0 + 6.0 * np.sin(2 * np.pi * (hours - 9) / 24) + rng.normal(0.0, 0.8, n)
    gain, offset = 0.05, 273.15  # K per mV, K at 0 mV
    millivolts = (celsius + 273.15 - offset) / gain
    rh = np.clip(0.75 - 0.02 * (celsius - 12.0) + rng.normal(0.0, 0.04, n), 0.05, 0.98)
    counts = np.clip(rh * humidity_gain * 4095.0, 0.0, 4095.0)
    raw = (
        ureg.Quantity((millivolts / 1000.0).astype(np.float32), "V")
        if volts
        else ureg.Quantity(millivolts.astype(np.float32), "mV")
    )
    return {
        "raw": raw,
        "gain": ureg.Quantity(np.float32(gain), "K/mV"),
        "offset": ureg.Quantity(np.float32(offset), "K"),
        "counts": counts.astype(np.float32),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("drift_report.html"), help="where to write the report")
    args = parser.parse_args(argv)

    print("build-time check:", station.check())
    reference = station.debug(**make_week(seed=1)).summary()
    new = station.debug(**make_week(seed=2, humidity_gain=1.15, volts=True)).summary()
    print()
    print("new week, every value of the run:")
    print(new.table())
    comparison = reference.compare(new)
    print()
    print("compared with the reference week:")
    print(comparison.table())
    args.out.write_text(new.to_html(reference=reference), encoding="utf-8")
    print()
    print(f"moved: {', '.join(comparison.shifted) or 'nothing'}")
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
