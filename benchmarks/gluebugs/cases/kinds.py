"""Kind mistakes: two quantities with one unit but different kinds (ISO 80000's "kind of
quantity"): torque and energy (N*m = J), height and width, latitude and longitude, radius and
diameter, frequency and activity (1/s = Bq), absorbed dose and dose equivalent (Gy = Sv),
apparent and active power (VA = W).

No unit check can see these: the units agree. The typedml twins declare kinds on their ports
(``tm.Kind``), as a user of kinds would; the baselines have no such notion. Kinds that are not
ISO 80000 basics (latitude, image sizes) are defined below, as a project would define its own.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from corpus import case, f32, pick, q, rng, ureg
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]
S = Float[Array, ""]

for _name, _parent in (("latitude", "plane_angle"), ("longitude", "plane_angle")):
    tm.kinds.define(_name, parent=_parent)
tm.kinds.define("image_extent", unit="", doc="a size in pixels")
for _name in ("image_height", "image_width"):
    tm.kinds.define(_name, parent="image_extent")


@case(
    "K01",
    "kinds",
    "dynamometer torque and brake heat swapped between two stages (N*m and J are one unit)",
    cite=("iso80000", "bipm2019"),
    expect="build",
)
class K01:
    def data():
        r = rng(201)
        return f32(r.uniform(20, 40, 30)), f32(r.uniform(100, 300, 30)), f32(r.uniform(150, 250, 30))

    def typedml(fixed):
        class Out(NamedTuple):
            power: Q[V, "W"]
            losses: Q[V, "W"]

        @tm.stage
        def shaft_power(torque: Q[V, "N*m", tm.Kind("torque")], speed: Q[V, "rad/s"]) -> Q[V, "W"]:
            return torque * speed

        @tm.stage
        def heat_rate(heat: Q[V, "J", tm.Kind("heat")], interval: Q[S, "s"]) -> Q[V, "W"]:
            return heat / interval

        @tm.pipeline
        def bench(
            torque: Q[V, "N*m", tm.Kind("torque")],
            speed: Q[V, "rad/s"],
            heat: Q[V, "J", tm.Kind("heat")],
            interval: Q[S, "s"],
        ) -> Out:
            a, b = pick(fixed, (torque, heat), (heat, torque))
            return Out(shaft_power(a, speed), heat_rate(b, interval))

        t, w, h = K01.data()
        return bench, (q(t, "N*m"), q(w, "rad/s"), q(h, "J"), q(10.0, "s"))

    def jax(fixed, check):
        @check
        def shaft_power(torque: V, speed: V) -> V:
            return torque * speed

        @check
        def heat_rate(heat: V, interval: S) -> V:
            return heat / interval

        t, w, h = K01.data()
        a, b = pick(fixed, (t, h), (h, t))
        return lambda: jax.jit(lambda a, w, b: (shaft_power(a, w), heat_rate(b, jnp.float32(10.0))))(a, w, b)

    def pint(fixed):
        @ureg().wraps("W", ("N*m", "rad/s"))
        def shaft_power(torque, speed):
            return torque * speed

        @ureg().wraps("W", ("J", "s"))
        def heat_rate(heat, interval):
            return heat / interval

        t, w, h = K01.data()
        t, w, h = q(t, "N*m"), q(w, "rad/s"), q(h, "J")
        a, b = pick(fixed, (t, h), (h, t))
        return lambda: (shaft_power(a, w), heat_rate(b, q(10.0, "s")))


@case(
    "K02",
    "kinds",
    "image height and width passed in (width, height) order to a resize (cv2.resize's dsize order)",
    cite=("opencv", "pillow"),
    expect="build",
)
class K02:
    def data():
        return f32(rng(202).uniform(0, 1, (48, 64)))

    def typedml(fixed):
        @tm.stage
        def scale_factors(
            height: Q[S, "", tm.Kind("image_height")],
            width: Q[S, "", tm.Kind("image_width")],
            target_height: Q[S, "", tm.Kind("image_height")],
            target_width: Q[S, "", tm.Kind("image_width")],
        ) -> Float[Array, "2"]:
            return jnp.stack([target_height / height, target_width / width])

        @tm.pipeline
        def thumbnail(
            height: Q[S, "", tm.Kind("image_height")],
            width: Q[S, "", tm.Kind("image_width")],
            target_height: Q[S, "", tm.Kind("image_height")],
            target_width: Q[S, "", tm.Kind("image_width")],
        ) -> Float[Array, "2"]:
            if fixed:
                return scale_factors(height, width, target_height, target_width)
            return scale_factors(width, height, target_width, target_height)

        image = K02.data()
        return thumbnail, (f32(image.shape[0]), f32(image.shape[1]), f32(24.0), f32(16.0))

    def jax(fixed, check):
        @check
        def scale_factors(height: S, width: S, target_height: S, target_width: S) -> Float[Array, "2"]:
            return jnp.stack([target_height / height, target_width / width])

        image = K02.data()
        h, w = f32(image.shape[0]), f32(image.shape[1])
        args = pick(fixed, (h, w, f32(24.0), f32(16.0)), (w, h, f32(16.0), f32(24.0)))
        return lambda: jax.jit(scale_factors)(*args)

    def pint(fixed):
        def scale_factors(height, width, target_height, target_width):
            return np.stack([target_height / height, target_width / width])

        image = K02.data()
        h, w = f32(image.shape[0]), f32(image.shape[1])
        args = pick(fixed, (h, w, f32(24.0), f32(16.0)), (w, h, f32(16.0), f32(24.0)))
        return lambda: scale_factors(*args)


@case(
    "K03",
    "kinds",
    "GeoJSON positions (longitude, latitude) read as (latitude, longitude) in a distance",
    cite=("rfc7946",),
    expect="build",
)
class K03:
    def data():
        r = rng(203)
        return f32(r.uniform(-10, 30, 20)), f32(r.uniform(35, 60, 20))  # longitude, latitude (deg)

    def typedml(fixed):
        @tm.stage
        def east_west(
            lat: Q[V, "rad", tm.Kind("latitude")], lon: Q[V, "rad", tm.Kind("longitude")]
        ) -> Q[V, "km", tm.Kind("distance")]:
            return 6371.0 * jnp.cos(lat) * (lon - lon[0])

        @tm.pipeline
        def spread(
            lon: Q[V, "deg", tm.Kind("longitude")], lat: Q[V, "deg", tm.Kind("latitude")]
        ) -> Q[V, "km", tm.Kind("distance")]:
            return east_west(lat, lon) if fixed else east_west(lon, lat)

        lon, lat = K03.data()
        return spread, (q(lon, "deg"), q(lat, "deg"))

    def jax(fixed, check):
        @check
        def east_west(lat: V, lon: V) -> V:
            return 6371.0 * jnp.cos(lat) * (lon - lon[0])

        lon, lat = np.deg2rad(K03.data())
        return lambda: jax.jit(east_west)(*pick(fixed, (lat, lon), (lon, lat)))

    def pint(fixed):
        @ureg().wraps("km", ("rad", "rad"))
        def east_west(lat, lon):
            return 6371.0 * np.cos(lat) * (lon - lon[0])

        lon, lat = (q(x, "deg") for x in K03.data())
        return lambda: east_west(*pick(fixed, (lat, lon), (lon, lat)))


@case(
    "K04",
    "kinds",
    "pipe diameter passed as the radius of a flow area (4x the flow)",
    cite=("iso80000",),
    expect="build",
)
class K04:
    def data():
        r = rng(204)
        return f32(r.uniform(0.05, 0.2, 12)), f32(r.uniform(0.5, 2.0, 12))  # diameter m, speed m/s

    def typedml(fixed):
        @tm.stage
        def radius_of(d: Q[V, "m", tm.Kind("diameter")]) -> Q[V, "m", tm.Kind("radius")]:
            return d / 2

        @tm.stage
        def flow(r: Q[V, "m", tm.Kind("radius")], v: Q[V, "m/s"]) -> Q[V, "m**3/s"]:
            return jnp.pi * r**2 * v

        @tm.pipeline
        def pipes(d: Q[V, "mm", tm.Kind("diameter")], v: Q[V, "m/s"]) -> Q[V, "L/s"]:
            return flow(radius_of(d) if fixed else d, v)

        d, v = K04.data()
        return pipes, (q(d * 1000, "mm"), q(v, "m/s"))

    def jax(fixed, check):
        @check
        def flow(r: V, v: V) -> V:
            return jnp.pi * r**2 * v

        d, v = K04.data()
        return lambda: jax.jit(flow)(d / 2 if fixed else d, v)

    def pint(fixed):
        @ureg().wraps("m**3/s", ("m", "m/s"))
        def flow(r, v):
            return np.pi * r**2 * v

        d, v = K04.data()
        return lambda: flow(q(d / 2 if fixed else d, "m"), q(v, "m/s"))


@case(
    "K05",
    "kinds",
    "a detector's count rate (1/s) used as the source's activity (Bq) without the efficiency",
    cite=("bipm2019", "iso80000"),
    expect="build",
)
class K05:
    def data():
        return f32(rng(205).uniform(200, 400, 16))  # counts per second

    def typedml(fixed):
        @tm.stage
        def activity(rate: Q[V, "1/s", tm.Kind("frequency")], efficiency: S) -> Q[V, "Bq", tm.Kind("activity")]:
            return rate / efficiency

        @tm.stage
        def dose_rate(a: Q[V, "Bq", tm.Kind("activity")]) -> Q[V, "uSv/h"]:
            return a * 3.1e-4  # a dose-rate constant for this geometry

        @tm.pipeline
        def survey(rate: Q[V, "1/s", tm.Kind("frequency")], efficiency: S) -> Q[V, "uSv/h"]:
            a = activity(rate, efficiency)
            return dose_rate(a if fixed else rate)

        return survey, (q(K05.data(), "1/s"), f32(0.25))

    def jax(fixed, check):
        @check
        def dose_rate(a: V) -> V:
            return a * 3.1e-4

        rate = K05.data()
        return lambda: jax.jit(dose_rate)(rate / 0.25 if fixed else rate)

    def pint(fixed):
        @ureg().wraps("uSv/h", ("Bq",))
        def dose_rate(a):
            return a * 3.1e-4

        rate = q(K05.data(), "1/s")
        return lambda: dose_rate(rate / 0.25 if fixed else rate)


@case(
    "K06",
    "kinds",
    "absorbed dose (Gy) reported as dose equivalent (Sv) without the radiation weighting",
    cite=("bipm2019", "iso80000"),
    expect="build",
)
class K06:
    def data():
        return f32(rng(206).uniform(0.001, 0.01, 10))  # Gy of alpha radiation

    def typedml(fixed):
        @tm.stage
        def equivalent(d: Q[V, "Gy", tm.Kind("absorbed_dose")], w_r: S) -> Q[V, "Sv", tm.Kind("dose_equivalent")]:
            return d * w_r

        @tm.stage
        def record(h: Q[V, "mSv", tm.Kind("dose_equivalent")]) -> Q[S, "mSv", tm.Kind("dose_equivalent")]:
            return h.sum()

        @tm.pipeline
        def exposure(d: Q[V, "Gy", tm.Kind("absorbed_dose")], w_r: S) -> Q[S, "mSv"]:
            return record(equivalent(d, w_r) if fixed else d)

        return exposure, (q(K06.data(), "Gy"), f32(20.0))

    def jax(fixed, check):
        @check
        def record(h: V) -> S:
            return h.sum()

        d = K06.data() * 1000  # mSv / mGy
        return lambda: jax.jit(record)(d * 20.0 if fixed else d)

    def pint(fixed):
        @ureg().wraps("mSv", ("mSv",))
        def record(h):
            return h.sum()

        d = q(K06.data(), "Gy")
        return lambda: record((d * 20.0).magnitude * ureg().Sv if fixed else d)


@case(
    "K07",
    "kinds",
    "apparent power (VA) billed as active power (W): the power factor is dropped",
    cite=("iso80000",),
    expect="build",
)
class K07:
    def data():
        r = rng(207)
        return f32(r.uniform(2, 5, 24)), f32(r.uniform(0.7, 0.95, 24))  # kVA per hour, power factor

    def typedml(fixed):
        @tm.stage
        def active(s: Q[V, "kVA", tm.Kind("apparent_power")], pf: V) -> Q[V, "kW", tm.Kind("active_power")]:
            return s * pf

        @tm.stage
        def energy(p: Q[V, "kW", tm.Kind("active_power")], hours: Q[S, "h"]) -> Q[S, "kWh"]:
            return (p * hours).sum()

        @tm.pipeline
        def bill(s: Q[V, "kVA", tm.Kind("apparent_power")], pf: V, hours: Q[S, "h"]) -> Q[S, "kWh"]:
            p = active(s, pf)
            return energy(p if fixed else s, hours)

        s, pf = K07.data()
        return bill, (q(s, "kVA"), pf, q(1.0, "h"))

    def jax(fixed, check):
        @check
        def energy(p: V, hours: S) -> S:
            return (p * hours).sum()

        s, pf = K07.data()
        return lambda: jax.jit(energy)(s * pf if fixed else s, jnp.float32(1.0))

    def pint(fixed):
        @ureg().wraps("kWh", ("kW", "h"))
        def energy(p, hours):
            return (p * hours).sum()

        s, pf = K07.data()
        s = q(s, "kVA")
        return lambda: energy(s * pf if fixed else s, q(1.0, "h"))


@case(
    "K08",
    "kinds",
    "mean crown width of trees passed where their mean height is expected (through a generic mean)",
    cite=("iso80000", "mpunits"),
    expect="build",
)
class K08:
    def data():
        r = rng(208)
        return f32(r.uniform(8, 25, 40)), f32(r.uniform(2, 9, 40))  # heights, crown widths (m)

    def typedml(fixed):
        class Stand(NamedTuple):
            volume: Q[S, "m**3"]
            crown: Q[S, "m", tm.Kind("width")]

        @tm.stage
        def volume(mean_height: Q[S, "m", tm.Kind("height")], basal_area: Q[S, "m**2"]) -> Q[S, "m**3"]:
            return 0.45 * mean_height * basal_area  # form factor 0.45

        @tm.pipeline
        def stand(
            height: Q[V, "m", tm.Kind("height")], crown: Q[V, "m", tm.Kind("width")], basal_area: Q[S, "m**2"]
        ) -> Stand:
            h, w = tm.stdlib.mean(height), tm.stdlib.mean(crown)
            return Stand(volume(h if fixed else w, basal_area), w)

        h, w = K08.data()
        return stand, (q(h, "m"), q(w, "m"), q(30.0, "m**2"))

    def jax(fixed, check):
        @check
        def volume(mean_height: S, basal_area: S) -> S:
            return 0.45 * mean_height * basal_area

        h, w = K08.data()
        return lambda: (jax.jit(volume)(jnp.mean(h if fixed else w), jnp.float32(30.0)), jnp.mean(w))

    def pint(fixed):
        @ureg().wraps("m**3", ("m", "m**2"))
        def volume(mean_height, basal_area):
            return 0.45 * mean_height * basal_area

        h, w = K08.data()
        x = q(h if fixed else w, "m")
        return lambda: (volume(x.mean(), q(30.0, "m**2")), q(w, "m").mean())


@case(
    "K09",
    "kinds",
    "shaft torque added to electrical energy in one total (N*m + J passes every unit check)",
    cite=("mpunits", "iso80000"),
    expect="build",
)
class K09:
    def data():
        r = rng(209)
        return f32(r.uniform(20, 40, 8)), f32(r.uniform(500, 900, 8)), f32(r.uniform(100, 300, 8))

    def typedml(fixed):
        @tm.stage
        def total(a: Q[V, "'u"], b: Q[V, "'u"]) -> Q[V, "'u"]:
            return a + b

        @tm.stage
        def work(torque: Q[V, "N*m", tm.Kind("torque")], angle: Q[V, "rad"]) -> Q[V, "J", tm.Kind("work")]:
            return torque * angle

        @tm.pipeline
        def budget(
            torque: Q[V, "N*m", tm.Kind("torque")], electric: Q[V, "J", tm.Kind("energy")], angle: Q[V, "rad"]
        ) -> Q[V, "J"]:
            mechanical = work(torque, angle)
            return total(mechanical if fixed else torque, electric)

        t, e, a = K09.data()
        return budget, (q(t, "N*m"), q(e, "J"), q(a, "rad"))

    def jax(fixed, check):
        @check
        def total(a: V, b: V) -> V:
            return a + b

        t, e, a = K09.data()
        return lambda: jax.jit(total)(t * a if fixed else t, e)

    def pint(fixed):
        @ureg().wraps("J", ("J", "J"))
        def total(a, b):
            return a + b

        t, e, a = K09.data()
        t, e, a = q(t, "N*m"), q(e, "J"), q(a, "rad")
        return lambda: total(t * a if fixed else t, e)


@case(
    "K10",
    "kinds",
    "a drone's altitude above sea level used as its height above ground for a camera footprint",
    cite=("iso80000", "ore2017iros"),
    expect="missed",
)
class K10:
    """ISO 80000 makes altitude a kind of height, so a port for a height takes it: a stage that
    needs the height above ground must declare a kind of its own to refuse an altitude."""

    def data():
        r = rng(210)
        return f32(r.uniform(420, 460, 15)), f32([380.0])  # altitude (m above sea level), ground elevation

    def typedml(fixed):
        @tm.stage
        def above_ground(
            altitude: Q[V, "m", tm.Kind("altitude")], ground: Q[Float[Array, "1"], "m", tm.Kind("altitude")]
        ) -> Q[V, "m", tm.Kind("height")]:
            return altitude - ground

        @tm.stage
        def footprint(h: Q[V, "m", tm.Kind("height")]) -> Q[V, "m", tm.Kind("width")]:
            return 2.0 * h * 0.7  # 2 tan(35 deg): the camera's half field of view

        if fixed:

            @tm.pipeline
            def survey(
                altitude: Q[V, "m", tm.Kind("altitude")], ground: Q[Float[Array, "1"], "m", tm.Kind("altitude")]
            ) -> Q[V, "m"]:
                return footprint(above_ground(altitude, ground))

            a, g = K10.data()
            return survey, (q(a, "m"), q(g, "m"))

        @tm.pipeline
        def survey_buggy(altitude: Q[V, "m", tm.Kind("altitude")]) -> Q[V, "m"]:
            return footprint(altitude)  # the ground elevation is forgotten

        return survey_buggy, (q(K10.data()[0], "m"),)

    def jax(fixed, check):
        @check
        def footprint(h: V) -> V:
            return 2.0 * h * 0.7

        a, g = K10.data()
        return lambda: jax.jit(footprint)(a - g if fixed else a)

    def pint(fixed):
        @ureg().wraps("m", ("m",))
        def footprint(h):
            return 2.0 * h * 0.7

        a, g = K10.data()
        return lambda: footprint(q(a - g if fixed else a, "m"))
