"""Angle mistakes: a lost or extra 2*pi, cycles for radians, solid for plane angles, degrees
for radians.

pint's default registry (and the SI) treat the radian as a pure number, so Hz converts to
rad/s by 1 and its rpm is 2*pi rad/min. The typedml twins here opt into angles as a dimension
(``registry="angles"``: ``tm.angle_registry()``), as a project that handles rotations would;
the pint baseline keeps pint's default, which is the behaviour those projects meet.
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
    "N01",
    "angles",
    "a vibration frequency in Hz fed to an oscillator model in rad/s: the 2*pi is lost",
    cite=("bipm2019", "quincey2016"),
    expect="build",
    registry="angles",
)
class N01:
    def data():
        r = rng(301)
        return f32(r.uniform(0, 0.1, 40)), f32([50.0])  # s, Hz

    def typedml(fixed):
        @tm.stage
        def angular(f: Q[Float[Array, "1"], "Hz"]) -> Q[Float[Array, "1"], "rad/s"]:
            return 2 * jnp.pi * f

        @tm.stage
        def displacement(t: Q[V, "s"], omega: Q[Float[Array, "1"], "rad/s"]) -> Q[V, "mm"]:
            return 0.5 * jnp.cos(omega * t)

        @tm.pipeline
        def shaker(t: Q[V, "s"], f: Q[Float[Array, "1"], "Hz"]) -> Q[V, "mm"]:
            return displacement(t, angular(f) if fixed else f)

        t, f = N01.data()
        return shaker, (q(t, "s"), q(f, "Hz"))

    def jax(fixed, check):
        @check
        def displacement(t: V, omega: Float[Array, "1"]) -> V:
            return 0.5 * jnp.cos(omega * t)

        t, f = N01.data()
        return lambda: jax.jit(displacement)(t, 2 * jnp.pi * f if fixed else f)

    def pint(fixed):
        @ureg().wraps("mm", ("s", "rad/s"))
        def displacement(t, omega):
            return 0.5 * np.cos(omega * t)

        t, f = N01.data()
        f = q(f, "Hz")
        return lambda: displacement(q(t, "s"), 2 * np.pi * ureg().rad * f if fixed else f)


@case(
    "N02",
    "angles",
    "shaft speed in rpm into an order-tracking stage in Hz (pint's rpm/Hz factor is 2*pi/60, not 1/60)",
    cite=("bipm2019", "mohr2015"),
    expect="build",
    registry="angles",
)
class N02:
    def data():
        return f32(rng(302).uniform(1200, 3600, 20))  # rpm

    def typedml(fixed):
        @tm.stage
        def harmonics(
            rotation: Q[V, pick(fixed, "turn/s", "Hz")],
        ) -> Q[Float[Array, "n 3"], pick(fixed, "turn/s", "Hz")]:
            return rotation[:, None] * jnp.arange(1, 4)

        @tm.pipeline
        def orders(speed: Q[V, "rpm"]) -> Q[Float[Array, "n 3"], pick(fixed, "turn/s", "Hz")]:
            return harmonics(speed)

        return orders, (q(N02.data(), "rpm"),)

    def jax(fixed, check):
        @check
        def harmonics(rotation: V) -> Float[Array, "n 3"]:
            return rotation[:, None] * jnp.arange(1, 4)

        rpm = N02.data()
        return lambda: jax.jit(harmonics)(rpm / 60 if fixed else rpm * 2 * np.pi / 60)

    def pint(fixed):
        @ureg().wraps("Hz", ("Hz",))
        def harmonics(rotation):
            return rotation[:, None] * np.arange(1, 4)

        rpm = q(N02.data(), "rpm")
        return lambda: harmonics(q(rpm.magnitude / 60, "Hz") if fixed else rpm)


@case(
    "N03",
    "angles",
    "a filter's angular frequency (rad/s) taken as its frequency (Hz) in a period",
    cite=("scipydoc", "bipm2019"),
    expect="build",
    registry="angles",
)
class N03:
    def data():
        return f32(rng(303).uniform(100, 600, 10))  # rad/s

    def typedml(fixed):
        @tm.stage
        def cycles(omega: Q[V, "rad/s"]) -> Q[V, "Hz"]:
            return omega / (2 * jnp.pi)

        @tm.stage
        def period(f: Q[V, "Hz"]) -> Q[V, "ms"]:
            return 1000.0 / f

        @tm.pipeline
        def timing(omega: Q[V, "rad/s"]) -> Q[V, "ms"]:
            return period(cycles(omega) if fixed else omega)

        return timing, (q(N03.data(), "rad/s"),)

    def jax(fixed, check):
        @check
        def period(f: V) -> V:
            return 1000.0 / f

        omega = N03.data()
        return lambda: jax.jit(period)(omega / (2 * np.pi) if fixed else omega)

    def pint(fixed):
        @ureg().wraps("ms", ("Hz",))
        def period(f):
            return 1000.0 / f

        omega = q(N03.data(), "rad/s")
        return lambda: period(omega / (2 * np.pi * ureg().rad) if fixed else omega)


@case(
    "N04",
    "angles",
    "a phase in cycles (f*t) given to a sine that takes radians",
    cite=("quincey2016", "mohr2015"),
    expect="build",
    registry="angles",
)
class N04:
    def data():
        return f32(rng(304).uniform(0, 0.05, 32))  # s

    def typedml(fixed):
        @tm.stage
        def cycles(t: Q[V, "s"], f: Q[Float[Array, "1"], "Hz"]) -> V:
            return t * f

        @tm.stage
        def phase(t: Q[V, "s"], f: Q[Float[Array, "1"], "Hz"]) -> Q[V, "rad"]:
            return 2 * jnp.pi * t * f

        @tm.pipeline
        def carrier(t: Q[V, "s"], f: Q[Float[Array, "1"], "Hz"]) -> V:
            return tm.stdlib.sin(phase(t, f) if fixed else cycles(t, f))

        return carrier, (q(N04.data(), "s"), q([50.0], "Hz"))

    def jax(fixed, check):
        @check
        def carrier(x: V) -> V:
            return jnp.sin(x)

        t = N04.data()
        return lambda: jax.jit(carrier)(2 * np.pi * t * 50.0 if fixed else t * 50.0)

    def pint(fixed):
        @ureg().wraps("", ("rad",))
        def carrier(x):
            return np.sin(x)

        t = q(N04.data(), "s")
        f = q(50.0, "Hz")
        return lambda: carrier(2 * np.pi * ureg().rad * t * f if fixed else (t * f).to(""))


@case(
    "N05",
    "angles",
    "a lamp's beam solid angle (sr) used as its half-angle (rad) in an illuminated area",
    cite=("bipm2019",),
    expect="build",
    registry="angles",
)
class N05:
    def data():
        return f32(rng(305).uniform(0.2, 0.8, 6))  # sr

    def typedml(fixed):
        @tm.stage
        def half_angle(omega: Q[V, "sr"]) -> Q[V, "rad"]:
            return jnp.arccos(1 - omega / (2 * jnp.pi))

        @tm.stage
        def spot_radius(theta: Q[V, "rad"], distance: Q[Float[Array, ""], "m"]) -> Q[V, "m"]:
            return distance * jnp.tan(theta)

        @tm.pipeline
        def lighting(omega: Q[V, "sr"], distance: Q[Float[Array, ""], "m"]) -> Q[V, "m"]:
            return spot_radius(half_angle(omega) if fixed else omega, distance)

        return lighting, (q(N05.data(), "sr"), q(3.0, "m"))

    def jax(fixed, check):
        @check
        def spot_radius(theta: V, distance: Float[Array, ""]) -> V:
            return distance * jnp.tan(theta)

        omega = N05.data()
        theta = np.arccos(1 - omega / (2 * np.pi)).astype(np.float32)
        return lambda: jax.jit(spot_radius)(theta if fixed else omega, jnp.float32(3.0))

    def pint(fixed):
        @ureg().wraps("m", ("rad", "m"))
        def spot_radius(theta, distance):
            return distance * np.tan(theta)

        omega = N05.data()
        theta = np.arccos(1 - omega / (2 * np.pi))
        return lambda: spot_radius(q(theta, "rad") if fixed else q(omega, "sr"), q(3.0, "m"))


@case(
    "N06",
    "angles",
    "a bearing computed in radians but returned as a plain number, then read as degrees",
    cite=("rep103", "ore2017iros"),
    expect="build",
    registry="angles",
)
class N06:
    def data():
        r = rng(306)
        return f32(r.uniform(-100, 100, 12)), f32(r.uniform(-100, 100, 12))  # east, north (m)

    def typedml(fixed):
        @tm.stage
        def bearing(east: Q[V, "m"], north: Q[V, "m"]) -> Q[V, "rad"] if fixed else V:
            return jnp.arctan2(east, north)

        @tm.stage
        def compass(b: Q[V, "deg"]) -> Q[V, "deg"]:
            return jnp.mod(b, 360.0)

        @tm.pipeline
        def heading(east: Q[V, "m"], north: Q[V, "m"]) -> Q[V, "deg"]:
            return compass(bearing(east, north))

        e, n = N06.data()
        return heading, (q(e, "m"), q(n, "m"))

    def jax(fixed, check):
        @check
        def compass(b: V) -> V:
            return jnp.mod(b, 360.0)

        e, n = N06.data()
        b = np.arctan2(e, n)
        return lambda: jax.jit(compass)(np.rad2deg(b) if fixed else b)

    def pint(fixed):
        @ureg().wraps("deg", ("deg",))
        def compass(b):
            return np.mod(b, 360.0)

        e, n = N06.data()
        b = np.arctan2(e, n)
        return lambda: compass(q(b, "rad") if fixed else q(np.float32(1.0), "deg") * b)


@case(
    "N07",
    "angles",
    "gyro rates in deg/s integrated by a stage that works in rad/s",
    cite=("ore2017iros", "rep103"),
    expect="converted",
    registry="angles",
)
class N07:
    def data():
        return f32(rng(307).uniform(-30, 30, 50))  # deg/s

    def typedml(fixed):
        @tm.stage
        def integrate(rate: Q[V, "rad/s"], dt: Q[Float[Array, ""], "s"]) -> Q[Float[Array, ""], "rad"]:
            return rate.sum() * dt

        @tm.pipeline
        def attitude(
            rate: Q[V, pick(fixed, "deg/s", "rad/s")], dt: Q[Float[Array, ""], "s"]
        ) -> Q[Float[Array, ""], "rad"]:
            return integrate(rate, dt)

        return attitude, (q(N07.data(), "deg/s"), q(0.01, "s"))

    def jax(fixed, check):
        @check
        def integrate(rate: V, dt: Float[Array, ""]) -> Float[Array, ""]:
            return rate.sum() * dt

        rate = N07.data()
        return lambda: jax.jit(integrate)(np.deg2rad(rate) if fixed else rate, jnp.float32(0.01))

    def pint(fixed):
        @ureg().wraps("rad", ("rad/s", "s"))
        def integrate(rate, dt):
            return rate.sum() * dt

        return lambda: integrate(q(N07.data(), "deg/s"), q(0.01, "s"))


@case(
    "N08",
    "angles",
    "compass headings averaged arithmetically (359 deg and 1 deg give 180 deg)",
    cite=("rep103", "ore2017iros"),
    expect="missed",
    registry="angles",
)
class N08:
    """Units, shapes and dtypes are right: the mean of angles is a direction only when taken on
    the circle. typedml ships ``stdlib.circular_mean`` but cannot tell which mean was meant."""

    def data():
        return f32([359.0, 1.0, 358.0, 2.0, 357.0, 3.0])

    def typedml(fixed):
        @tm.pipeline
        def mean_heading(h: Q[V, "deg"]) -> Q[Float[Array, ""], "deg"]:
            return tm.stdlib.circular_mean(h) if fixed else tm.stdlib.mean(h)

        return mean_heading, (q(N08.data(), "deg"),)

    def jax(fixed, check):
        @check
        def mean_heading(h: V) -> Float[Array, ""]:
            if fixed:
                return jnp.arctan2(jnp.sin(h).mean(), jnp.cos(h).mean())
            return h.mean()

        h = np.deg2rad(N08.data())
        return lambda: jax.jit(mean_heading)(h)

    def pint(fixed):
        @ureg().wraps("rad", ("rad",))
        def mean_heading(h):
            return np.arctan2(np.sin(h).mean(), np.cos(h).mean()) if fixed else h.mean()

        return lambda: mean_heading(q(N08.data(), "deg"))
