"""Vibration levels of two accelerometers, with drift and noise filtered out by SciPy.

python -m examples.vibration.main

The signals are synthetic: a 50 Hz vibration of known amplitude on each channel, a slow
thermal drift of the sensor far larger than it, and broadband electrical noise, read in
volts. After calibration and a 40–60 Hz band-pass, each channel's RMS level is the
vibration's alone (amplitude / √2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import typedml as tm

from .pipeline import Calibration, design_bandpass, vibration

RATE_HZ = 1000.0
AMPLITUDES = np.array([2.0, 0.5])  # m/s², the vibration each channel sees
SENSITIVITY = np.array([10.0, 9.6])  # mV per m/s²
OFFSET = np.array([12.0, -7.0])  # mV


def make_signals(seconds: float, seed: int) -> np.ndarray:
    """Raw readings in volts, shape (samples, channels)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    accel = AMPLITUDES * np.sin(2 * np.pi * 50.0 * t[:, None] + np.array([0.0, 1.0]))  # m/s²
    drift = 5.0 * np.sin(2 * np.pi * 0.2 * t[:, None])  # m/s²-equivalent, slow
    noise = rng.normal(0.0, 0.3, accel.shape)  # broadband
    return ((accel + drift + noise) * SENSITIVITY + OFFSET) / 1000.0  # mV → V


def main(seconds: float = 4.0) -> dict[str, Any]:
    ureg = tm.get_registry()
    print("vibration pipeline:", vibration.check())
    volts = make_signals(seconds, seed=0)
    raw = ureg.Quantity(volts.astype(np.float32), "V")
    cal = Calibration(
        ureg.Quantity(SENSITIVITY.astype(np.float32), "mV/(m/s**2)"), ureg.Quantity(OFFSET.astype(np.float32), "mV")
    )
    out = vibration(raw, cal, design_bandpass(40.0, 60.0, RATE_HZ))
    rms = np.asarray(out.rms.to("m/s**2").magnitude, np.float64)
    expected = AMPLITUDES / np.sqrt(2.0)
    unfiltered = np.sqrt(np.mean(((volts * 1000.0 - OFFSET) / SENSITIVITY) ** 2, axis=0))  # drift and noise included
    for c in range(len(rms)):
        print(
            f"channel {c}: RMS {rms[c]:.3f} m/s² (vibration alone: {expected[c]:.3f}, unfiltered: {unfiltered[c]:.3f}), peak {float(out.peak[c].magnitude):.3f} m/s²"
        )
    return {"rms": rms, "expected": expected, "unfiltered": unfiltered, "levels": out}


if __name__ == "__main__":
    main()
