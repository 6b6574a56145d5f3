"""Unit mistakes: prefixes (ms/s, mm/m), imperial/metric, affine temperatures, rate vs amount,
per-unit-time confusions. Families from Ore et al. (ISSTA 2017, IROS 2017) and McKeever et al.

Data is labelled with its true unit where it enters (the sensor driver or the file header knows
it); the mistake is in what the processing code assumes. typedml and pint (with ``ureg.wraps``)
both convert on the way in, so a prefix or imperial/metric mistake between two declared units is
``converted``: the buggy twin computes the fixed twin's numbers.
"""

import jax
import jax.numpy as jnp
import numpy as np
from corpus import case, f32, pick, q, rng, ureg
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]


@case(
    "U01",
    "units",
    "odometry timestamps in ms used as seconds in a velocity",
    cite=("ore2017", "ore2017iros"),
    expect="converted",
)
class U01:
    def data():
        r = rng(1)
        return f32(r.uniform(0.1, 2.0, 64)), f32(r.uniform(90, 110, 64))  # metres, milliseconds

    def typedml(fixed):
        @tm.stage
        def velocity(d: Q[V, "m"], dt: Q[V, "s"]) -> Q[V, "m/s"]:
            return d / dt

        @tm.pipeline
        def odom(d: Q[V, "m"], dt: Q[V, pick(fixed, "ms", "s")]) -> Q[V, "m/s"]:
            return velocity(d, dt)

        d, dt = U01.data()
        return odom, (q(d, "m"), q(dt, "ms"))

    def jax(fixed, check):
        @check
        def velocity(d: Float[Array, "n"], dt: Float[Array, "n"]) -> Float[Array, "n"]:
            return d / dt

        d, dt = U01.data()
        return lambda: jax.jit(velocity)(d, dt / 1000 if fixed else dt)

    def pint(fixed):
        @ureg().wraps("m/s", ("m", "s"))
        def velocity(d, dt):
            return d / dt

        d, dt = U01.data()
        return lambda: velocity(q(d, "m"), q(dt, "ms"))


@case("U02", "units", "lidar ranges in mm compared with a safety margin in m", cite=("ore2017",), expect="converted")
class U02:
    def data():
        return f32(rng(2).uniform(200, 5000, 128)), f32([0.5])

    def typedml(fixed):
        @tm.stage
        def clearance(r: Q[V, "m"], margin: Q[Float[Array, "1"], "m"]) -> Q[V, "m"]:
            return jnp.maximum(r - margin, 0.0)

        @tm.pipeline
        def safety(r: Q[V, pick(fixed, "mm", "m")], margin: Q[Float[Array, "1"], "m"]) -> Q[V, "m"]:
            return clearance(r, margin)

        r, m = U02.data()
        return safety, (q(r, "mm"), q(m, "m"))

    def jax(fixed, check):
        @check
        def clearance(r: Float[Array, "n"], margin: Float[Array, "1"]) -> Float[Array, "n"]:
            return jnp.maximum(r - margin, 0.0)

        r, m = U02.data()
        return lambda: jax.jit(clearance)(r / 1000 if fixed else r, m)

    def pint(fixed):
        @ureg().wraps("m", ("m", "m"))
        def clearance(r, margin):
            return (r - margin).clip(0.0)

        r, m = U02.data()
        return lambda: clearance(q(r, "mm"), q(m, "m"))


@case(
    "U03", "units", "thruster impulse in lbf*s fed to a model in N*s", cite=("mco1999", "ore2017"), expect="converted"
)
class U03:
    def data():
        return f32(rng(3).uniform(1, 20, 32)), f32([340.0])  # lbf*s impulses; kg spacecraft mass

    def typedml(fixed):
        @tm.stage
        def delta_v(impulse: Q[V, "N*s"], mass: Q[Float[Array, "1"], "kg"]) -> Q[V, "m/s"]:
            return impulse / mass

        @tm.pipeline
        def trajectory(impulse: Q[V, pick(fixed, "lbf*s", "N*s")], mass: Q[Float[Array, "1"], "kg"]) -> Q[V, "m/s"]:
            return delta_v(impulse, mass)

        i, m = U03.data()
        return trajectory, (q(i, "lbf*s"), q(m, "kg"))

    def jax(fixed, check):
        @check
        def delta_v(impulse: Float[Array, "n"], mass: Float[Array, "1"]) -> Float[Array, "n"]:
            return impulse / mass

        i, m = U03.data()
        return lambda: jax.jit(delta_v)(i * 4.448222 if fixed else i, m)

    def pint(fixed):
        @ureg().wraps("m/s", ("N*s", "kg"))
        def delta_v(impulse, mass):
            return impulse / mass

        i, m = U03.data()
        return lambda: delta_v(q(i, "lbf*s"), q(m, "kg"))


@case(
    "U04",
    "units",
    "ideal-gas density computed from a temperature in degC",
    cite=("ore2017", "mckeever2021"),
    expect="converted",
)
class U04:
    def data():
        r = rng(4)
        return f32(r.uniform(95e3, 105e3, 48)), f32(r.uniform(-10, 35, 48))  # Pa, degC

    def typedml(fixed):
        @tm.stage
        def density(p: Q[V, "Pa"], t: Q[V, "K"]) -> Q[V, "kg/m**3"]:
            return p / (287.05 * t)

        @tm.pipeline
        def air(p: Q[V, "Pa"], t: Q[V, pick(fixed, "degC", "K")]) -> Q[V, "kg/m**3"]:
            return density(p, t)

        p, t = U04.data()
        return air, (q(p, "Pa"), q(t, "degC"))

    def jax(fixed, check):
        @check
        def density(p: Float[Array, "n"], t: Float[Array, "n"]) -> Float[Array, "n"]:
            return p / (287.05 * t)

        p, t = U04.data()
        return lambda: jax.jit(density)(p, t + 273.15 if fixed else t)

    def pint(fixed):
        @ureg().wraps("kg/m**3", ("Pa", "K"))
        def density(p, t):
            return p / (287.05 * t)

        p, t = U04.data()
        return lambda: density(q(p, "Pa"), q(t, "degC"))


@case("U05", "units", "metered energy per interval (kWh) used as power (W)", cite=("ore2017iros",), expect="build")
class U05:
    def data():
        return f32(rng(5).uniform(0.1, 1.5, 96)), f32([0.25])  # kWh per 15 min; hours

    def typedml(fixed):
        @tm.stage
        def to_power(e: Q[V, "kWh"], dt: Q[Float[Array, "1"], "h"]) -> Q[V, "W"]:
            return e / dt * 1000.0

        @tm.stage
        def peak_load(p: Q[V, "W"]) -> Q[Float[Array, ""], "W"]:
            return p.max()

        @tm.pipeline
        def grid(e: Q[V, "kWh"], dt: Q[Float[Array, "1"], "h"]) -> Q[Float[Array, ""], "W"]:
            return peak_load(to_power(e, dt) if fixed else e)

        e, dt = U05.data()
        return grid, (q(e, "kWh"), q(dt, "h"))

    def jax(fixed, check):
        @check
        def to_power(e: Float[Array, "n"], dt: Float[Array, "1"]) -> Float[Array, "n"]:
            return e / dt * 1000.0

        @check
        def peak_load(p: Float[Array, "n"]) -> Float[Array, ""]:
            return p.max()

        e, dt = U05.data()
        return lambda: jax.jit(lambda e, dt: peak_load(to_power(e, dt) if fixed else e))(e, dt)

    def pint(fixed):
        reg = ureg()

        @reg.wraps("W", ("kWh", "h"))
        def to_power(e, dt):
            return e / dt * 1000.0

        @reg.wraps("W", ("W",))
        def peak_load(p):
            return p.max()

        e, dt = U05.data()
        return lambda: peak_load(to_power(q(e, "kWh"), q(dt, "h")) if fixed else q(e, "kWh"))


@case(
    "U06", "units", "flow rate (L/min) added to a volume without multiplying by dt", cite=("ore2017",), expect="build"
)
class U06:
    def data():
        r = rng(6)
        return f32(r.uniform(100, 200, 60)), f32(r.uniform(1, 3, 60)), f32([0.5])  # L, L/min, min

    def typedml(fixed):
        @tm.stage
        def inflow(rate: Q[V, "L/min"], dt: Q[Float[Array, "1"], "min"]) -> Q[V, "L"]:
            return rate * dt

        @tm.stage
        def tank(volume: Q[V, "L"], added: Q[V, "L"]) -> Q[V, "L"]:
            return volume + added

        @tm.pipeline
        def level(volume: Q[V, "L"], rate: Q[V, "L/min"], dt: Q[Float[Array, "1"], "min"]) -> Q[V, "L"]:
            return tank(volume, inflow(rate, dt) if fixed else rate)

        return level, tuple(q(x, u) for x, u in zip(U06.data(), ("L", "L/min", "min"), strict=True))

    def jax(fixed, check):
        @check
        def tank(volume: Float[Array, "n"], added: Float[Array, "n"]) -> Float[Array, "n"]:
            return volume + added

        v, r, dt = U06.data()
        return lambda: jax.jit(tank)(v, r * dt if fixed else r)

    def pint(fixed):
        @ureg().wraps("L", ("L", "L"))
        def tank(volume, added):
            return volume + added

        v, r, dt = U06.data()
        rate = q(r, "L/min")
        return lambda: tank(q(v, "L"), rate * q(dt, "min") if fixed else rate)


@case(
    "U07",
    "units",
    "heading in degrees passed to a trigonometric stage in radians",
    cite=("ore2017", "ore2017iros"),
    expect="converted",
)
class U07:
    def data():
        r = rng(7)
        return f32(r.uniform(0, 360, 40)), f32(r.uniform(0, 5, 40))  # deg, m/s

    def typedml(fixed):
        @tm.stage
        def east(heading: Q[V, "rad"], speed: Q[V, "m/s"]) -> Q[V, "m/s"]:
            return speed * jnp.sin(heading)

        @tm.pipeline
        def nav(heading: Q[V, pick(fixed, "deg", "rad")], speed: Q[V, "m/s"]) -> Q[V, "m/s"]:
            return east(heading, speed)

        h, s = U07.data()
        return nav, (q(h, "deg"), q(s, "m/s"))

    def jax(fixed, check):
        @check
        def east(heading: Float[Array, "n"], speed: Float[Array, "n"]) -> Float[Array, "n"]:
            return speed * jnp.sin(heading)

        h, s = U07.data()
        return lambda: jax.jit(east)(jnp.deg2rad(h) if fixed else h, s)

    def pint(fixed):
        @ureg().wraps("m/s", ("rad", "m/s"))
        def east(heading, speed):
            return speed * jnp.sin(heading)

        h, s = U07.data()
        return lambda: east(q(h, "deg"), q(s, "m/s"))


@case(
    "U08",
    "units",
    "stage declares seconds and also divides by 1000 (double conversion)",
    cite=("ore2017",),
    expect="warned",
)
class U08:
    def data():
        r = rng(8)
        return f32(r.uniform(0.1, 2.0, 64)), f32(r.uniform(90, 110, 64))  # m, ms

    def typedml(fixed):
        @tm.stage
        def velocity(d: Q[V, "m"], dt: Q[V, "s"]) -> Q[V, "m/s"]:
            return d / (dt if fixed else dt / 1000.0)  # the body still thinks dt is in ms

        @tm.pipeline
        def odom(d: Q[V, "m"], dt: Q[V, "ms"]) -> Q[V, "m/s"]:
            return velocity(d, dt)

        d, dt = U08.data()
        return odom, (q(d, "m"), q(dt, "ms"))

    def jax(fixed, check):
        @check
        def velocity(d: Float[Array, "n"], dt_s: Float[Array, "n"]) -> Float[Array, "n"]:
            return d / (dt_s if fixed else dt_s / 1000.0)

        d, dt = U08.data()
        return lambda: jax.jit(velocity)(d, dt / 1000)

    def pint(fixed):
        @ureg().wraps("m/s", ("m", "s"))
        def velocity(d, dt):
            return d / (dt if fixed else dt / 1000.0)

        d, dt = U08.data()
        return lambda: velocity(q(d, "m"), q(dt, "ms"))


@case(
    "U09",
    "units",
    "sampling rate (Hz) passed where a sampling period (s) is expected",
    cite=("ore2017",),
    expect="build",
)
class U09:
    def data():
        return f32(rng(9).normal(0, 1, 256)), f32([200.0])  # signal, Hz

    def typedml(fixed):
        @tm.stage
        def period(rate: Q[Float[Array, "1"], "Hz"]) -> Q[Float[Array, "1"], "s"]:
            return 1.0 / rate

        @tm.stage
        def integrate(x: Float[Array, "n"], dt: Q[Float[Array, "1"], "s"]) -> Q[Float[Array, "n"], "s"]:
            return jnp.cumsum(x) * dt

        @tm.pipeline
        def dose(x: Float[Array, "n"], rate: Q[Float[Array, "1"], "Hz"]) -> Q[Float[Array, "n"], "s"]:
            return integrate(x, period(rate) if fixed else rate)

        x, fs = U09.data()
        return dose, (x, q(fs, "Hz"))

    def jax(fixed, check):
        @check
        def integrate(x: Float[Array, "n"], dt: Float[Array, "1"]) -> Float[Array, "n"]:
            return jnp.cumsum(x) * dt

        x, fs = U09.data()
        return lambda: jax.jit(integrate)(x, 1.0 / fs if fixed else fs)

    def pint(fixed):
        @ureg().wraps("s", (None, "s"))
        def integrate(x, dt):
            return jnp.cumsum(x) * dt

        x, fs = U09.data()
        rate = q(fs, "Hz")
        return lambda: integrate(x, 1 / rate if fixed else rate)


@case(
    "U10",
    "units",
    "Carnot efficiency from temperatures in degC through a generic unit",
    cite=("ore2017", "mckeever2021"),
    expect="body",
)
class U10:
    def data():
        r = rng(10)
        return f32(r.uniform(10, 30, 16)), f32(r.uniform(300, 500, 16))  # degC

    def typedml(fixed):
        unit = pick(fixed, "K", "'u")

        @tm.stage
        def carnot(cold: Q[V, unit], hot: Q[V, unit]) -> Float[Array, "n"]:
            return 1.0 - cold / hot

        @tm.pipeline
        def plant(cold: Q[V, "degC"], hot: Q[V, "degC"]) -> Float[Array, "n"]:
            return carnot(cold, hot)

        c, h = U10.data()
        return plant, (q(c, "degC"), q(h, "degC"))

    def jax(fixed, check):
        @check
        def carnot(cold: Float[Array, "n"], hot: Float[Array, "n"]) -> Float[Array, "n"]:
            return 1.0 - cold / hot

        c, h = U10.data()
        return lambda: jax.jit(carnot)(*((c + 273.15, h + 273.15) if fixed else (c, h)))

    def pint(fixed):
        reg = ureg()

        def carnot(cold, hot):
            return (1.0 - cold / hot).to("")

        c, h = U10.data()
        if fixed:
            return lambda: carnot(q(c, "degC").to("K"), q(h, "degC").to("K"))
        return lambda: carnot(reg.Quantity(c, "degC"), reg.Quantity(h, "degC"))


@case(
    "U11",
    "units",
    "frequency in Hz used as angular frequency (rad/s): the 2*pi is lost",
    cite=("ore2017", "mckeever2021"),
    expect="warned",
)
class U11:
    def data():
        return f32(rng(111).uniform(0, 1, 50)), f32([50.0])  # s, Hz

    def typedml(fixed):
        @tm.stage
        def angular(f: Q[Float[Array, "1"], "Hz"]) -> Q[Float[Array, "1"], "rad/s"]:
            return 2 * jnp.pi * f

        @tm.stage
        def phase(t: Q[V, "s"], omega: Q[Float[Array, "1"], "rad/s"]) -> Q[V, "rad"]:
            return omega * t

        @tm.pipeline
        def carrier(t: Q[V, "s"], f: Q[Float[Array, "1"], "Hz"]) -> Q[V, "rad"]:
            return phase(t, angular(f) if fixed else f)

        t, f = U11.data()
        return carrier, (q(t, "s"), q(f, "Hz"))

    def jax(fixed, check):
        @check
        def phase(t: V, omega: Float[Array, "1"]) -> V:
            return omega * t

        t, f = U11.data()
        return lambda: jax.jit(phase)(t, 2 * jnp.pi * f if fixed else f)

    def pint(fixed):
        @ureg().wraps("rad", ("s", "rad/s"))
        def phase(t, omega):
            return omega * t

        t, f = q(U11.data()[0], "s"), q(U11.data()[1], "Hz")
        return lambda: phase(t, 2 * np.pi * ureg().rad * f if fixed else f)


@case(
    "U12",
    "units",
    "IMU acceleration in g read by a stage that expects m/s**2",
    cite=("ore2017", "ore2017iros"),
    expect="converted",
)
class U12:
    def data():
        return f32(rng(112).normal(1.0, 0.05, 100)), f32([0.01])  # g0, s

    def typedml(fixed):
        @tm.stage
        def integrate(a: Q[V, "m/s**2"], dt: Q[Float[Array, "1"], "s"]) -> Q[V, "m/s"]:
            return jnp.cumsum(a) * dt

        @tm.pipeline
        def imu(a: Q[V, "g0" if fixed else "m/s**2"], dt: Q[Float[Array, "1"], "s"]) -> Q[V, "m/s"]:
            return integrate(a, dt)

        a, dt = U12.data()
        return imu, (q(a, "g0"), q(dt, "s"))

    def jax(fixed, check):
        @check
        def integrate(a: V, dt: Float[Array, "1"]) -> V:
            return jnp.cumsum(a) * dt

        a, dt = U12.data()
        return lambda: jax.jit(integrate)(a * 9.80665 if fixed else a, dt)

    def pint(fixed):
        @ureg().wraps("m/s", ("m/s**2", "s"))
        def integrate(a, dt):
            return np.cumsum(a) * dt

        a, dt = U12.data()
        return lambda: integrate(q(a, "g0"), q(dt, "s"))


@case(
    "U13",
    "units",
    "temperature rise declared as a temperature ('u, not delta('u)), then shown in K",
    cite=("ore2017", "mckeever2021"),
    expect="body",
)
class U13:
    def data():
        r = rng(113)
        t_in = r.uniform(15, 25, 20)
        return f32(t_in), f32(t_in + r.uniform(2, 8, 20))  # degC at inlet and outlet

    def typedml(fixed):
        out = "delta('u)" if fixed else "'u"

        @tm.stage
        def rise(t_out: Q[V, "'u"], t_in: Q[V, "'u"]) -> Q[V, out]:
            return t_out - t_in

        @tm.pipeline
        def exchanger(t_in: Q[V, "degC"], t_out: Q[V, "degC"]) -> Q[V, "K"]:
            return rise(t_out, t_in)

        a, b = U13.data()
        return exchanger, (q(a, "degC"), q(b, "degC"))

    def jax(fixed, check):
        @check
        def rise(t_out: V, t_in: V) -> V:
            return t_out - t_in

        a, b = U13.data()
        # the result is reported in K: a difference needs no offset, a temperature does
        return lambda: jax.jit(lambda a, b: rise(b, a) if fixed else rise(b, a) + 273.15)(a, b)

    def pint(fixed):
        reg = ureg()

        @reg.wraps("delta_degC" if fixed else "degC", ("degC", "degC"))
        def rise(t_out, t_in):
            return t_out - t_in

        a, b = U13.data()
        return lambda: rise(reg.Quantity(b, "degC"), reg.Quantity(a, "degC")).to("K")
