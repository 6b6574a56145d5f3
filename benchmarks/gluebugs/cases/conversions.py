"""Hidden conversions: a unit-conversion factor written in a stage body, applied to a value
whose port already declares the unit (a conversion done twice), and constants that hide one.

In typedml the signature says what a body computes in and edges convert, so a factor such as
1000, 3.6 or pi/180 inside a body is either a second conversion or one the signature should
declare (TM161, a warning). Each buggy twin is a body written for the unit the data used to
come in; its fixed twin trusts the declared unit.
"""

import jax
import jax.numpy as jnp
import numpy as np
from corpus import case, f32, q, rng, ureg
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]
S = Float[Array, ""]


@case(
    "C01",
    "conversions",
    "energy from power and duration divided by 3600 although the duration is declared in hours",
    cite=("ore2017", "ore2017iros"),
    expect="warned",
)
class C01:
    def data():
        r = rng(401)
        return f32(r.uniform(1, 5, 24)), f32(r.uniform(0.5, 2, 24))  # kW, h

    def typedml(fixed):
        @tm.stage
        def energy(p: Q[V, "kW"], t: Q[V, "h"]) -> Q[S, "kWh"]:
            return (p * t).sum() if fixed else (p * t / 3600).sum()

        @tm.pipeline
        def meter(p: Q[V, "kW"], t: Q[V, "min"]) -> Q[S, "kWh"]:
            return energy(p, t)

        p, t = C01.data()
        return meter, (q(p, "kW"), q(t * 60, "min"))

    def jax(fixed, check):
        @check
        def energy(p: V, t: V) -> S:
            return (p * t).sum() if fixed else (p * t / 3600).sum()

        p, t = C01.data()
        return lambda: jax.jit(energy)(p, t)

    def pint(fixed):
        @ureg().wraps("kWh", ("kW", "h"))
        def energy(p, t):
            return (p * t).sum() if fixed else (p * t / 3600).sum()

        p, t = C01.data()
        return lambda: energy(q(p, "kW"), q(t * 60, "min"))


@case(
    "C02",
    "conversions",
    "stopping distance: the body still divides the speed by 3.6 after the port was declared in m/s",
    cite=("ore2017iros",),
    expect="warned",
)
class C02:
    def data():
        return f32(rng(402).uniform(30, 130, 16))  # km/h from the vehicle bus

    def typedml(fixed):
        @tm.stage
        def stopping(v: Q[V, "m/s"], reaction: Q[S, "s"], decel: Q[S, "m/s**2"]) -> Q[V, "m"]:
            speed = v if fixed else v / 3.6  # written when the bus gave km/h
            return speed * reaction + speed**2 / (2 * decel)

        @tm.pipeline
        def braking(v: Q[V, "km/h"], reaction: Q[S, "s"], decel: Q[S, "m/s**2"]) -> Q[V, "m"]:
            return stopping(v, reaction, decel)

        return braking, (q(C02.data(), "km/h"), q(1.0, "s"), q(7.0, "m/s**2"))

    def jax(fixed, check):
        @check
        def stopping(v: V, reaction: S, decel: S) -> V:
            speed = v if fixed else v / 3.6
            return speed * reaction + speed**2 / (2 * decel)

        v = C02.data() / 3.6  # the caller converts to m/s, as the signature asks
        return lambda: jax.jit(stopping)(v, jnp.float32(1.0), jnp.float32(7.0))

    def pint(fixed):
        @ureg().wraps("m", ("m/s", "s", "m/s**2"))
        def stopping(v, reaction, decel):
            speed = v if fixed else v / 3.6
            return speed * reaction + speed**2 / (2 * decel)

        return lambda: stopping(q(C02.data(), "km/h"), q(1.0, "s"), q(7.0, "m/s**2"))


@case(
    "C03",
    "conversions",
    "a heading already in radians (REP 103) converted with deg2rad again inside a stage",
    cite=("rep103", "ore2017iros"),
    expect="warned",
)
class C03:
    def data():
        r = rng(403)
        return f32(r.uniform(0, 2 * np.pi, 30)), f32(r.uniform(0, 3, 30))  # rad, m/s

    def typedml(fixed):
        @tm.stage
        def east(heading: Q[V, "rad"], speed: Q[V, "m/s"]) -> Q[V, "m/s"]:
            return speed * jnp.sin(heading if fixed else jnp.deg2rad(heading))

        @tm.pipeline
        def odometry(heading: Q[V, "rad"], speed: Q[V, "m/s"]) -> Q[V, "m/s"]:
            return east(heading, speed)

        h, s = C03.data()
        return odometry, (q(h, "rad"), q(s, "m/s"))

    def jax(fixed, check):
        @check
        def east(heading: V, speed: V) -> V:
            return speed * jnp.sin(heading if fixed else jnp.deg2rad(heading))

        h, s = C03.data()
        return lambda: jax.jit(east)(h, s)

    def pint(fixed):
        @ureg().wraps("m/s", ("rad", "m/s"))
        def east(heading, speed):
            return speed * np.sin(heading if fixed else np.deg2rad(heading))

        h, s = C03.data()
        return lambda: east(q(h, "rad"), q(s, "m/s"))


@case(
    "C04",
    "conversions",
    "273.15 added in a body to a temperature its port already declares in K",
    cite=("mckeever2021", "ore2017"),
    expect="warned",
)
class C04:
    def data():
        return f32(rng(404).uniform(15, 30, 20))  # degC from the sensor

    def typedml(fixed):
        @tm.stage
        def sound_speed(t: Q[V, "K"]) -> Q[V, "m/s"]:
            kelvin = t if fixed else t + 273.15
            return 20.05 * jnp.sqrt(kelvin)

        @tm.pipeline
        def sonar(t: Q[V, "degC"]) -> Q[V, "m/s"]:
            return sound_speed(t)

        return sonar, (q(C04.data(), "degC"),)

    def jax(fixed, check):
        @check
        def sound_speed(t: V) -> V:
            kelvin = t if fixed else t + 273.15
            return 20.05 * jnp.sqrt(kelvin)

        t = C04.data() + 273.15
        return lambda: jax.jit(sound_speed)(t)

    def pint(fixed):
        @ureg().wraps("m/s", ("K",))
        def sound_speed(t):
            kelvin = t if fixed else t + 273.15
            return 20.05 * np.sqrt(kelvin)

        return lambda: sound_speed(q(C04.data(), "degC"))


@case(
    "C05",
    "conversions",
    "a heart rate declared per minute multiplied by 60 again ('to get beats per minute')",
    cite=("ore2017",),
    expect="warned",
)
class C05:
    def data():
        return f32(rng(405).uniform(1.0, 2.5, 40))  # beats per second from the sensor

    def typedml(fixed):
        @tm.stage
        def zone(rate: Q[V, "1/min"], rest: Q[S, "1/min"], peak: Q[S, "1/min"]) -> V:
            bpm = rate if fixed else rate * 60
            return (bpm - rest) / (peak - rest)

        @tm.pipeline
        def training(rate: Q[V, "1/s"], rest: Q[S, "1/min"], peak: Q[S, "1/min"]) -> V:
            return zone(rate, rest, peak)

        return training, (q(C05.data(), "1/s"), q(60.0, "1/min"), q(190.0, "1/min"))

    def jax(fixed, check):
        @check
        def zone(rate: V, rest: S, peak: S) -> V:
            bpm = rate if fixed else rate * 60
            return (bpm - rest) / (peak - rest)

        rate = C05.data() * 60
        return lambda: jax.jit(zone)(rate, jnp.float32(60.0), jnp.float32(190.0))

    def pint(fixed):
        @ureg().wraps("", ("1/min", "1/min", "1/min"))
        def zone(rate, rest, peak):
            bpm = rate if fixed else rate * 60
            return (bpm - rest) / (peak - rest)

        return lambda: zone(q(C05.data(), "1/s"), q(60.0, "1/min"), q(190.0, "1/min"))


@case(
    "C06",
    "conversions",
    "a Fahrenheit-to-Celsius formula left in a body whose port is already in degC",
    cite=("mckeever2021",),
    expect="warned",
)
class C06:
    def data():
        return f32(rng(406).uniform(50, 90, 20))  # degF from a US weather feed

    def typedml(fixed):
        @tm.stage
        def frost_margin(t: Q[V, "degC"]) -> Q[V, "delta_degC"]:
            celsius = t if fixed else (t - 32) / 1.8
            return celsius - 0.0

        @tm.pipeline
        def orchard(t: Q[V, "degF"]) -> Q[V, "delta_degC"]:
            return frost_margin(t)

        return orchard, (q(C06.data(), "degF"),)

    def jax(fixed, check):
        @check
        def frost_margin(t: V) -> V:
            celsius = t if fixed else (t - 32) / 1.8
            return celsius - 0.0

        t = (C06.data() - 32) / 1.8
        return lambda: jax.jit(frost_margin)(t)

    def pint(fixed):
        @ureg().wraps("delta_degC", ("degC",))
        def frost_margin(t):
            celsius = t if fixed else (t - 32) / 1.8
            return celsius - 0.0

        return lambda: frost_margin(q(C06.data(), "degF"))


@case(
    "C07",
    "conversions",
    "barometric pressure multiplied by 100 (hPa to Pa) in a body that declares Pa",
    cite=("ore2017",),
    expect="warned",
)
class C07:
    def data():
        return f32(rng(407).uniform(980, 1030, 24))  # hPa

    def typedml(fixed):
        @tm.stage
        def altitude(p: Q[V, "Pa"], qnh: Q[S, "Pa"]) -> Q[V, "m"]:
            pascal = p if fixed else p * 100
            return 44330.0 * (1 - (pascal / qnh) ** 0.1903)

        @tm.pipeline
        def baro(p: Q[V, "hPa"], qnh: Q[S, "hPa"]) -> Q[V, "m"]:
            return altitude(p, qnh)

        return baro, (q(C07.data(), "hPa"), q(1013.25, "hPa"))

    def jax(fixed, check):
        @check
        def altitude(p: V, qnh: S) -> V:
            pascal = p if fixed else p * 100
            return 44330.0 * (1 - (pascal / qnh) ** 0.1903)

        p = C07.data() * 100
        return lambda: jax.jit(altitude)(p, jnp.float32(101325.0))

    def pint(fixed):
        @ureg().wraps("m", ("Pa", "Pa"))
        def altitude(p, qnh):
            pascal = p if fixed else p * 100
            return 44330.0 * (1 - (pascal / qnh) ** 0.1903)

        return lambda: altitude(q(C07.data(), "hPa"), q(1013.25, "hPa"))


@case(
    "C08",
    "conversions",
    "fuel mass from volume with a density in lb/L (1.77) where kg/L (0.803) was needed",
    cite=("gimli1985",),
    expect="missed",
)
class C08:
    """A conversion hidden in a physical constant: 1.77 is a density in the wrong unit, and a
    density is not a pure number, so nothing about the body's dimensions is wrong. Declaring the
    density as an input with its unit (``Q[..., "kg/L"]``) is what would catch it."""

    def data():
        return f32([7682.0, 4916.0])  # litres measured by dripstick

    def typedml(fixed):
        @tm.stage
        def fuel_mass(volume: Q[V, "L"]) -> Q[V, "kg"]:
            return volume * (0.803 if fixed else 1.77)

        @tm.pipeline
        def load(volume: Q[V, "L"]) -> Q[V, "kg"]:
            return fuel_mass(volume)

        return load, (q(C08.data(), "L"),)

    def jax(fixed, check):
        @check
        def fuel_mass(volume: V) -> V:
            return volume * (0.803 if fixed else 1.77)

        v = C08.data()
        return lambda: jax.jit(fuel_mass)(v)

    def pint(fixed):
        @ureg().wraps("kg", ("L",))
        def fuel_mass(volume):
            return volume * (0.803 if fixed else 1.77)

        return lambda: fuel_mass(q(C08.data(), "L"))


@case(
    "C09",
    "conversions",
    "a steering angle declared in radians multiplied by 180/pi 'for display' inside the stage",
    cite=("rep103",),
    expect="warned",
)
class C09:
    def data():
        return f32(rng(409).uniform(-0.5, 0.5, 20))  # rad

    def typedml(fixed):
        @tm.stage
        def limit(angle: Q[V, "rad"], max_angle: Q[S, "rad"]) -> Q[V, "rad"]:
            shown = angle if fixed else angle * 180 / np.pi
            return jnp.clip(shown, -max_angle, max_angle)

        @tm.pipeline
        def steering(angle: Q[V, "rad"], max_angle: Q[S, "deg"]) -> Q[V, "deg"]:
            return limit(angle, max_angle)

        return steering, (q(C09.data(), "rad"), q(30.0, "deg"))

    def jax(fixed, check):
        @check
        def limit(angle: V, max_angle: S) -> V:
            shown = angle if fixed else angle * 180 / np.pi
            return jnp.clip(shown, -max_angle, max_angle)

        a = C09.data()
        return lambda: jax.jit(limit)(a, jnp.float32(np.deg2rad(30.0)))

    def pint(fixed):
        @ureg().wraps("rad", ("rad", "rad"))
        def limit(angle, max_angle):
            shown = angle if fixed else angle * 180 / np.pi
            return np.clip(shown, -max_angle, max_angle)

        return lambda: limit(q(C09.data(), "rad"), q(30.0, "deg"))


@case(
    "C10",
    "conversions",
    "request latencies declared in s multiplied by 1000 before an SLO check in s",
    cite=("ore2017",),
    expect="warned",
)
class C10:
    def data():
        return f32(rng(410).gamma(2.0, 0.05, 200))  # s

    def typedml(fixed):
        @tm.stage
        def breach_share(latency: Q[V, "s"], slo: Q[S, "s"]) -> S:
            value = latency if fixed else latency * 1000
            return (value > slo).mean()

        @tm.pipeline
        def slo_report(latency: Q[V, "ms"], slo: Q[S, "ms"]) -> S:
            return breach_share(latency, slo)

        return slo_report, (q(C10.data() * 1000, "ms"), q(250.0, "ms"))

    def jax(fixed, check):
        @check
        def breach_share(latency: V, slo: S) -> S:
            value = latency if fixed else latency * 1000
            return (value > slo).mean()

        return lambda: jax.jit(breach_share)(C10.data(), jnp.float32(0.25))

    def pint(fixed):
        @ureg().wraps("", ("s", "s"))
        def breach_share(latency, slo):
            value = latency if fixed else latency * 1000
            return (value > slo).mean()

        return lambda: breach_share(q(C10.data() * 1000, "ms"), q(250.0, "ms"))


@case(
    "C11",
    "conversions",
    "an efficiency declared as a fraction multiplied by 100 again before a threshold of 0.9",
    cite=("ore2017",),
    expect="missed",
)
class C11:
    """Dimensionless ports are outside TM161's rule: counts and ratios are scaled by 100 or 1000
    for legitimate reasons too often. Declaring the port in ``percent`` would convert instead."""

    def data():
        return f32(rng(411).uniform(0.8, 0.98, 30))

    def typedml(fixed):
        @tm.stage
        def good(efficiency: V) -> V:
            value = efficiency if fixed else efficiency * 100
            return (value > 0.9).astype(jnp.float32)

        @tm.pipeline
        def inverter(efficiency: V) -> V:
            return good(efficiency)

        return inverter, (C11.data(),)

    def jax(fixed, check):
        @check
        def good(efficiency: V) -> V:
            value = efficiency if fixed else efficiency * 100
            return (value > 0.9).astype(jnp.float32)

        return lambda: jax.jit(good)(C11.data())

    def pint(fixed):
        def good(efficiency):
            value = efficiency if fixed else efficiency * 100
            return (value > 0.9).astype(np.float32)

        return lambda: good(C11.data())
