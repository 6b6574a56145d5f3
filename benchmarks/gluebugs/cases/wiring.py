"""Wiring mistakes: swapped arguments, a stage skipped, the wrong output of a stage, a stale
value used instead of the fresh one. Rice et al. (OOPSLA 2017) measured swapped arguments in
production code; Humbatova et al. (ICSE 2020) list wrong API usage and missing preprocessing.
"""

import jax
import jax.numpy as jnp
import numpy as np
from corpus import case, f32, q, rng, ureg
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]


@case("W01", "wiring", "distance and duration swapped in a speed stage", cite=("rice2017",), expect="build")
class W01:
    def data():
        r = rng(61)
        return f32(r.uniform(1, 10, 20)), f32(r.uniform(0.2, 2, 20))  # km, h

    def typedml(fixed):
        @tm.stage
        def speed(distance: Q[V, "m"], duration: Q[V, "s"]) -> Q[V, "m/s"]:
            return distance / duration

        @tm.pipeline
        def trips(d: Q[V, "km"], t: Q[V, "h"]) -> Q[V, "km/h"]:
            return speed(d, t) if fixed else speed(t, d)

        d, t = W01.data()
        return trips, (q(d, "km"), q(t, "h"))

    def jax(fixed, check):
        @check
        def speed(distance: V, duration: V) -> V:
            return distance / duration

        d, t = W01.data()
        return lambda: jax.jit(lambda d, t: speed(d, t) if fixed else speed(t, d))(d, t)

    def pint(fixed):
        @ureg().wraps("m/s", ("m", "s"))
        def speed(distance, duration):
            return distance / duration

        d, t = q(W01.data()[0], "km"), q(W01.data()[1], "h")
        return lambda: speed(d, t) if fixed else speed(t, d)


@case("W02", "wiring", "atan2(x, y) instead of atan2(y, x): both in metres", cite=("rice2017",), expect="missed")
class W02:
    def data():
        r = rng(62)
        return f32(r.normal(0, 5, 30)), f32(r.normal(0, 5, 30))

    def typedml(fixed):
        @tm.stage
        def bearing(y: Q[V, "m"], x: Q[V, "m"]) -> Q[V, "rad"]:
            return jnp.arctan2(y, x)

        @tm.pipeline
        def heading(east: Q[V, "m"], north: Q[V, "m"]) -> Q[V, "deg"]:
            return bearing(north, east) if fixed else bearing(east, north)

        e, n = W02.data()
        return heading, (q(e, "m"), q(n, "m"))

    def jax(fixed, check):
        @check
        def bearing(y: V, x: V) -> V:
            return jnp.arctan2(y, x)

        e, n = W02.data()
        return lambda: jax.jit(lambda e, n: bearing(n, e) if fixed else bearing(e, n))(e, n)

    def pint(fixed):
        @ureg().wraps("rad", ("m", "m"))
        def bearing(y, x):
            return np.arctan2(y, x)

        e, n = q(W02.data()[0], "m"), q(W02.data()[1], "m")
        return lambda: bearing(n, e) if fixed else bearing(e, n)


@case(
    "W03",
    "wiring",
    "outliers removed, then the raw signal (not the cleaned one) is featurised",
    cite=("humbatova2020",),
    expect="warned",
)
class W03:
    def data():
        x = rng(63).normal(0, 1, 100)
        x[::17] = 40.0
        return f32(x)

    def typedml(fixed):
        @tm.stage
        def clip_outliers(x: Q[V, "mV"]) -> Q[V, "mV"]:
            return jnp.clip(x, -5.0, 5.0)

        @tm.stage
        def energy(x: Q[V, "mV"]) -> Q[Float[Array, ""], "mV**2"]:
            return (x**2).mean()

        @tm.pipeline
        def feature(x: Q[V, "mV"]) -> Q[Float[Array, ""], "mV**2"]:
            cleaned = clip_outliers(x)
            return energy(cleaned if fixed else x)

        return feature, (q(W03.data(), "mV"),)

    def jax(fixed, check):
        @check
        def energy(x: V) -> Float[Array, ""]:
            return (x**2).mean()

        def run(x):
            cleaned = jnp.clip(x, -5.0, 5.0)
            return energy(cleaned if fixed else x)

        x = W03.data()
        return lambda: jax.jit(run)(x)

    def pint(fixed):
        @ureg().wraps("mV**2", ("mV",))
        def energy(x):
            return (x**2).mean()

        x = q(W03.data(), "mV")

        def run():
            cleaned = np.clip(x, q(-5.0, "mV"), q(5.0, "mV"))
            return energy(cleaned if fixed else x)

        return run


@case(
    "W04",
    "wiring",
    "predictions and targets swapped in a relative error (divides by the target)",
    cite=("rice2017",),
    expect="warned",
)
class W04:
    def data():
        r = rng(64)
        y = r.uniform(10, 100, 50)
        return f32(y * r.uniform(0.8, 1.2, 50)), f32(y)

    def typedml(fixed):
        @tm.stage
        def mape(pred: Q[V, "kW"], target: Q[V, "kW"]) -> Float[Array, ""]:
            return jnp.mean(jnp.abs(pred - target) / target)

        @tm.pipeline
        def evaluate(pred: Q[V, "kW"], load: Q[V, "kW"]) -> Float[Array, ""]:
            return mape(pred, load) if fixed else mape(load, pred)

        p, y = W04.data()
        return evaluate, (q(p, "kW"), q(y, "kW"))

    def jax(fixed, check):
        @check
        def mape(pred: V, target: V) -> Float[Array, ""]:
            return jnp.mean(jnp.abs(pred - target) / target)

        p, y = W04.data()
        return lambda: jax.jit(lambda p, y: mape(p, y) if fixed else mape(y, p))(p, y)

    def pint(fixed):
        @ureg().wraps("", ("kW", "kW"))
        def mape(pred, target):
            return np.mean(np.abs(pred - target) / target)

        p, y = q(W04.data()[0], "kW"), q(W04.data()[1], "kW")
        return lambda: mape(p, y) if fixed else mape(y, p)


@case(
    "W05", "wiring", "weights and inputs swapped in a dense layer call", cite=("rice2017", "zhang2018"), expect="build"
)
class W05:
    def data():
        r = rng(65)
        return f32(r.normal(0, 1, (32, 6))), f32(r.normal(0, 1, (6, 3)))

    def typedml(fixed):
        @tm.stage
        def dense(x: Float[Array, "b f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return jnp.tanh(x @ w)

        @tm.pipeline
        def model(x: Float[Array, "b f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return dense(x, w) if fixed else dense(w, x)

        return model, W05.data()

    def jax(fixed, check):
        @check
        def dense(x: Float[Array, "b f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return jnp.tanh(x @ w)

        x, w = W05.data()
        return lambda: jax.jit(lambda x, w: dense(x, w) if fixed else dense(w, x))(x, w)

    def pint(fixed):
        def dense(x, w):
            return np.tanh(x @ w)

        x, w = W05.data()
        return lambda: dense(x, w) if fixed else dense(w, x)


@case(
    "W06", "wiring", "the variance of a summary used where its mean was meant", cite=("humbatova2020",), expect="build"
)
class W06:
    def data():
        r = rng(66)
        return f32(r.normal(300, 5, (200, 2))), f32(r.normal(300, 5, (10, 2)))

    def typedml(fixed):
        @tm.stage
        def drift(
            x: Q[Float[Array, "n f"], "'u"], ref: Q[Float[Array, "f"], "'u"]
        ) -> Q[Float[Array, "n f"], "delta('u)"]:
            return x - ref

        @tm.pipeline
        def monitor(
            history: Q[Float[Array, "a f"], "K"], x: Q[Float[Array, "n f"], "K"]
        ) -> Q[Float[Array, "n f"], "K"]:
            ref = tm.stdlib.mean(history) if fixed else tm.stdlib.variance(history)
            return drift(x, ref)

        h, x = W06.data()
        return monitor, (q(h, "K"), q(x, "K"))

    def jax(fixed, check):
        @check
        def drift(x: Float[Array, "n f"], ref: Float[Array, "f"]) -> Float[Array, "n f"]:
            return x - ref

        h, x = W06.data()
        return lambda: jax.jit(lambda h, x: drift(x, h.mean(0) if fixed else h.var(0)))(h, x)

    def pint(fixed):
        @ureg().wraps("K", ("K", "K"))
        def drift(x, ref):
            return x - ref

        h, x = q(W06.data()[0], "K"), q(W06.data()[1], "K")
        return lambda: drift(x, h.mean(0) if fixed else h.var(0))


@case("W07", "wiring", "calibration gain and offset swapped", cite=("rice2017", "ore2017"), expect="build")
class W07:
    def data():
        r = rng(67)
        return f32(r.uniform(0, 50, (40, 2))), f32([0.1, 0.12]), f32([273.0, 272.5])

    def typedml(fixed):
        @tm.stage
        def calibrate(
            raw: Q[Float[Array, "n c"], "mV"], gain: Q[Float[Array, "c"], "K/mV"], offset: Q[Float[Array, "c"], "K"]
        ) -> Q[Float[Array, "n c"], "K"]:
            return raw * gain + offset

        @tm.pipeline
        def sensor(
            raw: Q[Float[Array, "n c"], "mV"], gain: Q[Float[Array, "c"], "K/mV"], offset: Q[Float[Array, "c"], "K"]
        ) -> Q[Float[Array, "n c"], "K"]:
            return calibrate(raw, gain, offset) if fixed else calibrate(raw, offset, gain)

        r, g, o = W07.data()
        return sensor, (q(r, "mV"), q(g, "K/mV"), q(o, "K"))

    def jax(fixed, check):
        @check
        def calibrate(
            raw: Float[Array, "n c"], gain: Float[Array, "c"], offset: Float[Array, "c"]
        ) -> Float[Array, "n c"]:
            return raw * gain + offset

        r, g, o = W07.data()
        return lambda: jax.jit(lambda r, g, o: calibrate(r, g, o) if fixed else calibrate(r, o, g))(r, g, o)

    def pint(fixed):
        @ureg().wraps("K", ("mV", "K/mV", "K"))
        def calibrate(raw, gain, offset):
            return raw * gain + offset

        r, g, o = W07.data()
        r, g, o = q(r, "mV"), q(g, "K/mV"), q(o, "K")
        return lambda: calibrate(r, g, o) if fixed else calibrate(r, o, g)


@case(
    "W08",
    "wiring",
    "second filter step reuses the initial state instead of the updated one",
    cite=("humbatova2020",),
    expect="warned",
)
class W08:
    def data():
        r = rng(68)
        return f32([0.0, 0.0]), f32(r.normal(1, 0.1, 2)), f32(r.normal(2, 0.1, 2))

    def typedml(fixed):
        @tm.stage
        def update(state: Q[Float[Array, "d"], "m"], z: Q[Float[Array, "d"], "m"]) -> Q[Float[Array, "d"], "m"]:
            return state + 0.5 * (z - state)

        @tm.pipeline
        def track(
            s0: Q[Float[Array, "d"], "m"], z1: Q[Float[Array, "d"], "m"], z2: Q[Float[Array, "d"], "m"]
        ) -> Q[Float[Array, "d"], "m"]:
            s1 = update(s0, z1)
            return update(s1 if fixed else s0, z2)

        s, a, b = W08.data()
        return track, (q(s, "m"), q(a, "m"), q(b, "m"))

    def jax(fixed, check):
        @check
        def update(state: Float[Array, "d"], z: Float[Array, "d"]) -> Float[Array, "d"]:
            return state + 0.5 * (z - state)

        def run(s0, z1, z2):
            s1 = update(s0, z1)
            return update(s1 if fixed else s0, z2)

        return lambda: jax.jit(run)(*W08.data())

    def pint(fixed):
        @ureg().wraps("m", ("m", "m"))
        def update(state, z):
            return state + 0.5 * (z - state)

        s0, z1, z2 = (q(v, "m") for v in W08.data())

        def run():
            s1 = update(s0, z1)
            return update(s1 if fixed else s0, z2)

        return run


@case(
    "W09",
    "wiring",
    "raw voltages fed to a stage that expects calibrated temperatures (stage skipped)",
    cite=("humbatova2020",),
    expect="build",
)
class W09:
    def data():
        return f32(rng(69).uniform(1.0, 1.5, 24))  # V

    def typedml(fixed):
        @tm.stage
        def thermistor(v: Q[V, "V"]) -> Q[V, "K"]:
            return 250.0 * v - 20.0

        @tm.stage
        def alarm_margin(t: Q[V, "K"]) -> Q[V, "K"]:
            return 330.0 - t

        @tm.pipeline
        def monitor(v: Q[V, "V"]) -> Q[V, "K"]:
            return alarm_margin(thermistor(v) if fixed else v)

        return monitor, (q(W09.data(), "V"),)

    def jax(fixed, check):
        @check
        def alarm_margin(t: V) -> V:
            return 330.0 - t

        v = W09.data()
        return lambda: jax.jit(lambda v: alarm_margin(250.0 * v - 20.0 if fixed else v))(v)

    def pint(fixed):
        reg = ureg()

        @reg.wraps("K", ("V",))
        def thermistor(v):
            return 250.0 * v - 20.0

        @reg.wraps("K", ("K",))
        def alarm_margin(t):
            return 330.0 - t

        v = q(W09.data(), "V")
        return lambda: alarm_margin(thermistor(v) if fixed else v)


@case(
    "W10",
    "wiring",
    "resampler called with source and target rates swapped (both Hz)",
    cite=("rice2017",),
    expect="missed",
)
class W10:
    def data():
        return f32(np.sin(np.linspace(0, 20, 400))), f32([400.0]), f32([100.0])

    def typedml(fixed):
        @tm.stage
        def duration(
            x: Float[Array, "n"], rate_in: Q[Float[Array, "1"], "Hz"], rate_out: Q[Float[Array, "1"], "Hz"]
        ) -> Q[Float[Array, "1"], "s"]:
            return x.shape[0] / rate_in + 0.0 * rate_out

        @tm.stage
        def samples_out(t: Q[Float[Array, "1"], "s"], rate_out: Q[Float[Array, "1"], "Hz"]) -> Float[Array, "1"]:
            return t * rate_out

        @tm.pipeline
        def plan(
            x: Float[Array, "n"], source: Q[Float[Array, "1"], "Hz"], target: Q[Float[Array, "1"], "Hz"]
        ) -> Float[Array, "1"]:
            if fixed:
                return samples_out(duration(x, rate_in=source, rate_out=target), rate_out=target)
            return samples_out(duration(x, rate_in=target, rate_out=source), rate_out=source)

        x, s, t = W10.data()
        return plan, (x, q(s, "Hz"), q(t, "Hz"))

    def jax(fixed, check):
        @check
        def samples_out(
            x: Float[Array, "n"], rate_in: Float[Array, "1"], rate_out: Float[Array, "1"]
        ) -> Float[Array, "1"]:
            return x.shape[0] / rate_in * rate_out

        x, s, t = W10.data()
        return lambda: jax.jit(
            lambda x, s, t: samples_out(x, rate_in=s, rate_out=t) if fixed else samples_out(x, rate_in=t, rate_out=s)
        )(x, s, t)

    def pint(fixed):
        @ureg().wraps("", (None, "Hz", "Hz"))
        def samples_out(x, rate_in, rate_out):
            return x.shape[0] / rate_in * rate_out

        x, s, t = W10.data()
        s, t = q(s, "Hz"), q(t, "Hz")
        return lambda: samples_out(x, rate_in=s, rate_out=t) if fixed else samples_out(x, rate_in=t, rate_out=s)


@case(
    "W11",
    "wiring",
    "log response times centred with the mean of the raw times (a stale statistic)",
    cite=("humbatova2020",),
    expect="build",
)
class W11:
    def data():
        return f32(rng(70).lognormal(5, 0.5, 80))  # ms

    def typedml(fixed):
        @tm.stage
        def log_time(t: Q[V, "ms"]) -> Float[Array, "n"]:
            return jnp.log(t)

        @tm.stage
        def centre(x: Q[V, "'u"], mu: Q[Float[Array, ""], "'u"]) -> Q[V, "'u"]:
            return x - mu

        @tm.pipeline
        def features(t: Q[V, "ms"]) -> Float[Array, "n"]:
            logt = log_time(t)
            return centre(logt, tm.stdlib.mean(logt if fixed else t))

        return features, (q(W11.data(), "ms"),)

    def jax(fixed, check):
        @check
        def centre(x: V, mu: Float[Array, ""]) -> V:
            return x - mu

        t = W11.data()
        return lambda: jax.jit(lambda t: centre(jnp.log(t), jnp.log(t).mean() if fixed else t.mean()))(t)

    def pint(fixed):
        def centre(x, mu):
            return x - mu

        t = q(W11.data(), "ms")
        logt = np.log(t.m_as("ms"))
        return lambda: centre(logt, logt.mean() if fixed else t.mean())
