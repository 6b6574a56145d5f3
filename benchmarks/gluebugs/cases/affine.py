"""Absolute vs difference: temperatures (degC, degF) have an arbitrary zero; a difference of
two of them does not. Converted to K, a temperature gains 273.15 and a difference does not,
so a rise declared as a temperature is off by the offset, and a ratio of degC values is not
a ratio of temperatures at all.

The data is in degC or degF, as thermometers and weather feeds give it; each mistake is in
what a stage declares about its result, or in arithmetic that only holds in an absolute unit.
"""

import jax
from corpus import case, f32, pick, q, rng, ureg
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]
S = Float[Array, ""]
M = Float[Array, "n f"]


@case(
    "F01",
    "affine",
    "a heat exchanger's temperature rise declared in degC, then reported in K (14 K shown as 287 K)",
    cite=("mckeever2021", "iso80000"),
    expect="body",
)
class F01:
    def data():
        r = rng(501)
        t_in = r.uniform(15, 25, 20)
        return f32(t_in), f32(t_in + r.uniform(8, 20, 20))

    def typedml(fixed):
        @tm.stage
        def rise(t_out: Q[V, "degC"], t_in: Q[V, "degC"]) -> Q[V, pick(fixed, "delta_degC", "degC")]:
            return t_out - t_in

        @tm.pipeline
        def exchanger(t_in: Q[V, "degC"], t_out: Q[V, "degC"]) -> Q[V, "K"]:
            return rise(t_out, t_in)

        a, b = F01.data()
        return exchanger, (q(a, "degC"), q(b, "degC"))

    def jax(fixed, check):
        @check
        def rise(t_out: V, t_in: V) -> V:
            return t_out - t_in

        a, b = F01.data()
        return lambda: jax.jit(lambda a, b: rise(b, a) if fixed else rise(b, a) + 273.15)(a, b)

    def pint(fixed):
        @ureg().wraps(pick(fixed, "delta_degC", "degC"), ("degC", "degC"))
        def rise(t_out, t_in):
            return t_out - t_in

        a, b = F01.data()
        return lambda: rise(q(b, "degC"), q(a, "degC")).to("K")


@case(
    "F02",
    "affine",
    "a daily temperature range (max - min) declared as a temperature in degC",
    cite=("mckeever2021",),
    expect="body",
)
class F02:
    def data():
        return f32(rng(502).normal(12, 4, (7, 24)))  # degC, 7 days of hourly readings

    def typedml(fixed):
        @tm.stage
        def daily_range(t: Q[Float[Array, "d h"], "degC"]) -> Q[Float[Array, "d"], pick(fixed, "delta_degC", "degC")]:
            return t.max(axis=1) - t.min(axis=1)

        @tm.pipeline
        def climate(t: Q[Float[Array, "d h"], "degC"]) -> Q[Float[Array, "d"], "K"]:
            return daily_range(t)

        return climate, (q(F02.data(), "degC"),)

    def jax(fixed, check):
        @check
        def daily_range(t: Float[Array, "d h"]) -> Float[Array, "d"]:
            return t.max(axis=1) - t.min(axis=1)

        t = F02.data()
        return lambda: jax.jit(lambda t: daily_range(t) + (0.0 if fixed else 273.15))(t)

    def pint(fixed):
        @ureg().wraps(pick(fixed, "delta_degC", "degC"), ("degC",))
        def daily_range(t):
            return t.max(axis=1) - t.min(axis=1)

        return lambda: daily_range(q(F02.data(), "degC")).to("K")


@case(
    "F03",
    "affine",
    "a generic spread stage declares its result 'u instead of delta('u): degC readings come out +273.15",
    cite=("mckeever2021",),
    expect="body",
)
class F03:
    def data():
        return f32(rng(503).normal(21, 0.6, (48, 3)))

    def typedml(fixed):
        @tm.stage
        def spread(x: Q[M, "'u"]) -> Q[Float[Array, "f"], pick(fixed, "delta('u)", "'u")]:
            return x.std(axis=0)

        @tm.pipeline
        def room(x: Q[M, "degC"]) -> Q[Float[Array, "f"], "K"]:
            return spread(x)

        return room, (q(F03.data(), "degC"),)

    def jax(fixed, check):
        @check
        def spread(x: M) -> Float[Array, "f"]:
            return x.std(axis=0)

        x = F03.data()
        return lambda: jax.jit(lambda x: spread(x) + (0.0 if fixed else 273.15))(x)

    def pint(fixed):
        @ureg().wraps(pick(fixed, "delta_degC", "degC"), ("degC",))
        def spread(x):
            return x.std(axis=0)

        return lambda: spread(q(F03.data(), "degC")).to("K")


@case(
    "F04",
    "affine",
    "temperature anomalies (reading minus the period mean) declared as temperatures",
    cite=("mckeever2021", "iso80000"),
    expect="body",
)
class F04:
    def data():
        return f32(rng(504).normal(9, 3, 30))

    def typedml(fixed):
        @tm.stage
        def anomaly(t: Q[V, "'u"]) -> Q[V, pick(fixed, "delta('u)", "'u")]:
            return t - t.mean()

        @tm.pipeline
        def series(t: Q[V, "degC"]) -> Q[V, "K"]:
            return anomaly(t)

        return series, (q(F04.data(), "degC"),)

    def jax(fixed, check):
        @check
        def anomaly(t: V) -> V:
            return t - t.mean()

        t = F04.data()
        return lambda: jax.jit(lambda t: anomaly(t) + (0.0 if fixed else 273.15))(t)

    def pint(fixed):
        @ureg().wraps(pick(fixed, "delta_degC", "degC"), ("degC",))
        def anomaly(t):
            return t - t.mean()

        return lambda: anomaly(q(F04.data(), "degC")).to("K")


@case(
    "F05",
    "affine",
    "relative warming (t1 - t0) / t0 computed on degC values: a ratio needs an absolute scale",
    cite=("mckeever2021", "iso80000"),
    expect="body",
)
class F05:
    def data():
        r = rng(505)
        return f32(r.uniform(10, 20, 12)), f32(r.uniform(12, 22, 12))

    def typedml(fixed):
        unit = pick(fixed, "K", "'u")

        @tm.stage
        def relative_change(t0: Q[V, unit], t1: Q[V, unit]) -> V:
            return (t1 - t0) / t0

        @tm.pipeline
        def warming(t0: Q[V, "degC"], t1: Q[V, "degC"]) -> V:
            return relative_change(t0, t1)

        a, b = F05.data()
        return warming, (q(a, "degC"), q(b, "degC"))

    def jax(fixed, check):
        @check
        def relative_change(t0: V, t1: V) -> V:
            return (t1 - t0) / t0

        a, b = F05.data()
        shift = 273.15 if fixed else 0.0
        return lambda: jax.jit(relative_change)(a + shift, b + shift)

    def pint(fixed):
        def relative_change(t0, t1):
            return ((t1 - t0) / t0).to("")

        a, b = F05.data()
        unit = pick(fixed, "K", "degC")
        return lambda: relative_change(q(a, "degC").to(unit), q(b, "degC").to(unit))


@case(
    "F06",
    "affine",
    "a heat pump's Carnot COP T_hot / (T_hot - T_cold) from degC through a generic stage",
    cite=("iso80000", "mckeever2021"),
    expect="body",
)
class F06:
    def data():
        r = rng(506)
        return f32(r.uniform(-5, 10, 10)), f32(r.uniform(35, 55, 10))

    def typedml(fixed):
        unit = pick(fixed, "K", "'u")

        @tm.stage
        def cop(cold: Q[V, unit], hot: Q[V, unit]) -> V:
            return hot / (hot - cold)

        @tm.pipeline
        def heating(cold: Q[V, "degC"], hot: Q[V, "degC"]) -> V:
            return cop(cold, hot)

        c, h = F06.data()
        return heating, (q(c, "degC"), q(h, "degC"))

    def jax(fixed, check):
        @check
        def cop(cold: V, hot: V) -> V:
            return hot / (hot - cold)

        c, h = F06.data()
        shift = 273.15 if fixed else 0.0
        return lambda: jax.jit(cop)(c + shift, h + shift)

    def pint(fixed):
        def cop(cold, hot):
            return (hot / (hot - cold)).to("")

        c, h = F06.data()
        unit = pick(fixed, "K", "degC")
        return lambda: cop(q(c, "degC").to(unit), q(h, "degC").to(unit))


@case(
    "F07",
    "affine",
    "a mean temperature declared as a difference (delta('u)): converted to K without its offset",
    cite=("mckeever2021",),
    expect="body",
)
class F07:
    def data():
        return f32(rng(507).normal(18, 2, (24, 4)))

    def typedml(fixed):
        @tm.stage
        def average(x: Q[M, "'u"]) -> Q[Float[Array, "f"], pick(fixed, "'u", "delta('u)")]:
            return x.mean(axis=0)

        @tm.pipeline
        def zones(x: Q[M, "degC"]) -> Q[Float[Array, "f"], "K"]:
            return average(x)

        return zones, (q(F07.data(), "degC"),)

    def jax(fixed, check):
        @check
        def average(x: M) -> Float[Array, "f"]:
            return x.mean(axis=0)

        x = F07.data()
        return lambda: jax.jit(lambda x: average(x) + (273.15 if fixed else 0.0))(x)

    def pint(fixed):
        @ureg().wraps(pick(fixed, "degC", "delta_degC"), ("degC",))
        def average(x):
            return x.mean(axis=0)

        return lambda: average(q(F07.data(), "degC")).to("K")


@case(
    "F08",
    "affine",
    "a thermostat's hysteresis band labelled degC in its config, used as a temperature difference",
    cite=("mckeever2021", "ore2017"),
    expect="build",
)
class F08:
    def data():
        r = rng(508)
        return f32(r.uniform(19, 23, 6)), f32(r.uniform(0.5, 1.5, 6))  # setpoints (degC), bands

    def typedml(fixed):
        @tm.stage
        def switch_on(setpoint: Q[V, "K"], band: Q[V, "delta_degC"]) -> Q[V, "K"]:
            return setpoint - band

        @tm.pipeline
        def thermostat(setpoint: Q[V, "degC"], band: Q[V, pick(fixed, "delta_degC", "degC")]) -> Q[V, "degC"]:
            return switch_on(setpoint, band)

        s, b = F08.data()
        return thermostat, (q(s, "degC"), q(b, pick(fixed, "delta_degC", "degC")))

    def jax(fixed, check):
        @check
        def switch_on(setpoint: V, band: V) -> V:
            return setpoint - band

        s, b = F08.data()
        return lambda: jax.jit(lambda s, b: switch_on(s + 273.15, b if fixed else b + 273.15) - 273.15)(s, b)

    def pint(fixed):
        @ureg().wraps("K", ("K", "delta_degC"))
        def switch_on(setpoint, band):
            return setpoint - band

        s, b = F08.data()
        return lambda: switch_on(q(s, "degC"), q(b, pick(fixed, "delta_degC", "degC"))).to("degC")


@case(
    "F09",
    "affine",
    "degrees above a 20 degC setpoint (t - 20) declared in degC",
    cite=("mckeever2021",),
    expect="missed",
)
class F09:
    """A stage with concrete degC ports may mean its unit's zero (t < 0 is frost), so typedml
    flags only a provable difference: one that moves neither with a common shift of the inputs
    nor fails to double with them. ``t - 20`` does not double when t does: it stays unflagged."""

    def data():
        return f32(rng(509).uniform(15, 28, 24))

    def typedml(fixed):
        @tm.stage
        def over_setpoint(t: Q[V, "degC"]) -> Q[V, pick(fixed, "delta_degC", "degC")]:
            return t - 20.0

        @tm.pipeline
        def hvac(t: Q[V, "degC"]) -> Q[V, "K"]:
            return over_setpoint(t)

        return hvac, (q(F09.data(), "degC"),)

    def jax(fixed, check):
        @check
        def over_setpoint(t: V) -> V:
            return t - 20.0

        t = F09.data()
        return lambda: jax.jit(lambda t: over_setpoint(t) + (0.0 if fixed else 273.15))(t)

    def pint(fixed):
        @ureg().wraps(pick(fixed, "delta_degC", "degC"), ("degC",))
        def over_setpoint(t):
            return t - 20.0

        return lambda: over_setpoint(q(F09.data(), "degC")).to("K")


@case(
    "F10",
    "affine",
    "a weighted mean of degC readings whose weights do not sum to one (a weighted sum of temperatures)",
    cite=("mckeever2021", "iso80000"),
    expect="body",
)
class F10:
    def data():
        r = rng(510)
        return f32(r.normal(20, 2, 16)), f32(r.uniform(0.5, 1.5, 16))

    def typedml(fixed):
        @tm.stage
        def blend(t: Q[V, "'u"], w: V) -> Q[S, "'u"]:
            return (t * w).sum() / w.sum() if fixed else (t * w).sum() / len(w)

        @tm.pipeline
        def mixing(t: Q[V, "degC"], w: V) -> Q[S, "K"]:
            return blend(t, w)

        t, w = F10.data()
        return mixing, (q(t, "degC"), w)

    def jax(fixed, check):
        @check
        def blend(t: V, w: V) -> S:
            return (t * w).sum() / w.sum() if fixed else (t * w).sum() / len(w)

        t, w = F10.data()
        return lambda: jax.jit(lambda t, w: blend(t, w) + 273.15)(t, w)

    def pint(fixed):
        @ureg().wraps("degC", ("degC", None))
        def blend(t, w):
            return (t * w).sum() / w.sum() if fixed else (t * w).sum() / len(w)

        t, w = F10.data()
        return lambda: blend(q(t, "degC"), w).to("K")


@case(
    "F11",
    "affine",
    "an overnight temperature drop in degF declared as a temperature, then shown in degC",
    cite=("mckeever2021",),
    expect="body",
)
class F11:
    def data():
        r = rng(511)
        evening = r.uniform(60, 75, 14)
        return f32(evening), f32(evening - r.uniform(5, 25, 14))

    def typedml(fixed):
        @tm.stage
        def drop(evening: Q[V, "degF"], morning: Q[V, "degF"]) -> Q[V, pick(fixed, "delta_degF", "degF")]:
            return evening - morning

        @tm.pipeline
        def frost_watch(evening: Q[V, "degF"], morning: Q[V, "degF"]) -> Q[V, pick(fixed, "delta_degC", "degC")]:
            return drop(evening, morning)

        e, m = F11.data()
        return frost_watch, (q(e, "degF"), q(m, "degF"))

    def jax(fixed, check):
        @check
        def drop(evening: V, morning: V) -> V:
            return evening - morning

        e, m = F11.data()
        return lambda: jax.jit(lambda e, m: drop(e, m) / 1.8 - (0.0 if fixed else 32 / 1.8))(e, m)

    def pint(fixed):
        @ureg().wraps(pick(fixed, "delta_degF", "degF"), ("degF", "degF"))
        def drop(evening, morning):
            return evening - morning

        e, m = F11.data()
        return lambda: drop(q(e, "degF"), q(m, "degF")).to(pick(fixed, "delta_degC", "degC"))
