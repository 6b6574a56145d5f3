"""Statistics mistakes: test-set statistics (leakage), per-batch vs global statistics, variance
where a standard deviation belongs, temperature spreads converted as temperatures, degrees of
freedom, wrong sample counts. Kapoor and Narayanan (2023) and Yang et al. (ASE 2022) on leakage;
Humbatova et al. (ICSE 2020, "training data quality" and "preprocessing") for the rest.
"""

import jax
import jax.numpy as jnp
import numpy as np
from corpus import case, f32, q, rng, ureg
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

M = Float[Array, "n f"]


def _z(x, mu, sd):
    return (x - mu) / sd


@case(
    "T01",
    "statistics",
    "test set standardised with its own statistics instead of the training set's",
    cite=("kapoor2023", "yang2022"),
    expect="warned",
)
class T01:
    def data():
        r = rng(51)
        return f32(r.normal(3, 2, (200, 4))), f32(r.normal(3.5, 2.5, (50, 4)))

    def typedml(fixed):
        @tm.stage
        def standardise(
            x: Q[M, "'u"], mu: Q[Float[Array, "f"], "'u"], sd: Q[Float[Array, "f"], "delta('u)"]
        ) -> Float[Array, "n f"]:
            return _z(x, mu, sd)

        @tm.pipeline
        def prep(train: Q[Float[Array, "a f"], "kPa"], test: Q[Float[Array, "b f"], "kPa"]) -> Float[Array, "b f"]:
            ref = train if fixed else test
            return standardise(test, tm.stdlib.mean(ref), tm.stdlib.std(ref))

        tr, te = T01.data()
        return prep, (q(tr, "kPa"), q(te, "kPa"))

    def jax(fixed, check):
        @check
        def standardise(x: M, mu: Float[Array, "f"], sd: Float[Array, "f"]) -> M:
            return _z(x, mu, sd)

        tr, te = T01.data()
        ref = tr if fixed else te
        return lambda: jax.jit(lambda x, r: standardise(x, r.mean(0), r.std(0)))(te, ref)

    def pint(fixed):
        @ureg().wraps("", ("kPa", "kPa", "kPa"))
        def standardise(x, mu, sd):
            return _z(x, mu, sd)

        tr, te = T01.data()
        ref = q(tr if fixed else te, "kPa")
        return lambda: standardise(q(te, "kPa"), ref.mean(0), ref.std(0))


@case(
    "T02",
    "statistics",
    "at inference each batch is centred on its own mean, not the training mean",
    cite=("humbatova2020",),
    expect="missed",
)
class T02:
    def data():
        r = rng(52)
        return f32(r.normal(10, 1, (16, 3))), f32([9.0, 10.0, 11.0])

    def typedml(fixed):
        @tm.stage
        def centre(x: Q[M, "'u"], mu: Q[Float[Array, "f"], "'u"]) -> Q[M, "delta('u)"]:
            return x - mu

        if fixed:

            @tm.pipeline
            def infer(x: Q[M, "mV"], mu: Q[Float[Array, "f"], "mV"]) -> Q[M, "mV"]:
                return centre(x, mu)

            x, mu = T02.data()
            return infer, (q(x, "mV"), q(mu, "mV"))

        @tm.pipeline
        def infer_batch(x: Q[M, "mV"]) -> Q[M, "mV"]:
            return centre(x, tm.stdlib.mean(x))

        return infer_batch, (q(T02.data()[0], "mV"),)

    def jax(fixed, check):
        @check
        def centre(x: M, mu: Float[Array, "f"]) -> M:
            return x - mu

        x, mu = T02.data()
        return lambda: jax.jit(centre)(x, mu if fixed else x.mean(0))

    def pint(fixed):
        @ureg().wraps("mV", ("mV", "mV"))
        def centre(x, mu):
            return x - mu

        x, mu = T02.data()
        return lambda: centre(q(x, "mV"), q(mu if fixed else x.mean(0), "mV"))


@case(
    "T03",
    "statistics",
    "z-scores divided by the variance instead of the standard deviation",
    cite=("humbatova2020",),
    expect="build",
)
class T03:
    def data():
        return f32(rng(53).normal(1.7, 0.1, (100, 2)))

    def typedml(fixed):
        @tm.stage
        def standardise(
            x: Q[M, "'u"], mu: Q[Float[Array, "f"], "'u"], sd: Q[Float[Array, "f"], "delta('u)"]
        ) -> Float[Array, "n f"]:
            return _z(x, mu, sd)

        @tm.pipeline
        def prep(x: Q[M, "m"]) -> Float[Array, "n f"]:
            spread = tm.stdlib.std(x) if fixed else tm.stdlib.variance(x)
            return standardise(x, tm.stdlib.mean(x), spread)

        return prep, (q(T03.data(), "m"),)

    def jax(fixed, check):
        @check
        def standardise(x: M, mu: Float[Array, "f"], sd: Float[Array, "f"]) -> M:
            return _z(x, mu, sd)

        x = T03.data()
        return lambda: jax.jit(lambda x: standardise(x, x.mean(0), x.std(0) if fixed else x.var(0)))(x)

    def pint(fixed):
        @ureg().wraps("", ("m", "m", "m"))
        def standardise(x, mu, sd):
            return _z(x, mu, sd)

        x = q(T03.data(), "m")
        return lambda: standardise(x, x.mean(0), x.std(0) if fixed else x.var(0))


@case(
    "T04",
    "statistics",
    "a spread of temperatures in degC converted to K by adding 273.15",
    cite=("ore2017", "mckeever2021"),
    expect="build",
)
class T04:
    def data():
        return f32(rng(54).normal(21, 0.8, (96, 1)))

    def typedml(fixed):
        @tm.stage
        def to_kelvin(t: Q[Float[Array, "f"], "degC"]) -> Q[Float[Array, "f"], "K"]:
            return t + 273.15

        @tm.stage
        def tolerance(sd: Q[Float[Array, "f"], "K"]) -> Q[Float[Array, "f"], "K"]:
            return 3.0 * sd

        @tm.pipeline
        def spec(t: Q[M, "degC"]) -> Q[Float[Array, "f"], "K"]:
            sd = tm.stdlib.std(t)
            return tolerance(sd if fixed else to_kelvin(sd))

        return spec, (q(T04.data(), "degC"),)

    def jax(fixed, check):
        @check
        def tolerance(sd: Float[Array, "f"]) -> Float[Array, "f"]:
            return 3.0 * sd

        t = T04.data()
        return lambda: jax.jit(lambda t: tolerance(t.std(0) if fixed else t.std(0) + 273.15))(t)

    def pint(fixed):
        reg = ureg()

        @reg.wraps("K", ("K",))
        def tolerance(sd):
            return 3.0 * sd

        t = q(T04.data(), "degC")
        if fixed:
            return lambda: tolerance(t.std(0))
        return lambda: tolerance(reg.Quantity(t.std(0).magnitude, "degC").to("K"))


@case(
    "T05",
    "statistics",
    "sample standard deviation (ddof=1) computed as population (ddof=0)",
    cite=("humbatova2020",),
    expect="missed",
)
class T05:
    def data():
        return f32(rng(55).normal(0, 1, (6, 3)))

    def typedml(fixed):
        @tm.stage
        def sample_sd(x: Q[M, "'u"]) -> Q[Float[Array, "f"], "delta('u)"]:
            return x.std(axis=0, ddof=1 if fixed else 0)

        @tm.pipeline
        def spread(x: Q[M, "N"]) -> Q[Float[Array, "f"], "N"]:
            return sample_sd(x)

        return spread, (q(T05.data(), "N"),)

    def jax(fixed, check):
        @check
        def sample_sd(x: M) -> Float[Array, "f"]:
            return x.std(axis=0, ddof=1 if fixed else 0)

        x = T05.data()
        return lambda: jax.jit(sample_sd)(x)

    def pint(fixed):
        @ureg().wraps("N", ("N",))
        def sample_sd(x):
            return x.std(axis=0, ddof=1 if fixed else 0)

        x = T05.data()
        return lambda: sample_sd(q(x, "N"))


@case(
    "T06",
    "statistics",
    "calibration mean stored in mm subtracted from readings in m",
    cite=("ore2017",),
    expect="converted",
)
class T06:
    def data():
        r = rng(56)
        return f32(r.normal(1.2, 0.01, 30)), f32([1190.0])

    def typedml(fixed):
        @tm.stage
        def deviation(x: Q[Float[Array, "n"], "m"], ref: Q[Float[Array, "1"], "m"]) -> Q[Float[Array, "n"], "m"]:
            return x - ref

        @tm.pipeline
        def qc(
            x: Q[Float[Array, "n"], "m"], ref: Q[Float[Array, "1"], "mm" if fixed else "m"]
        ) -> Q[Float[Array, "n"], "m"]:
            return deviation(x, ref)

        x, ref = T06.data()
        return qc, (q(x, "m"), q(ref, "mm"))

    def jax(fixed, check):
        @check
        def deviation(x: Float[Array, "n"], ref: Float[Array, "1"]) -> Float[Array, "n"]:
            return x - ref

        x, ref = T06.data()
        return lambda: jax.jit(deviation)(x, ref / 1000 if fixed else ref)

    def pint(fixed):
        @ureg().wraps("m", ("m", "m"))
        def deviation(x, ref):
            return x - ref

        x, ref = T06.data()
        return lambda: deviation(q(x, "m"), q(ref, "mm"))


@case(
    "T07",
    "statistics",
    "standard error divides by sqrt of the feature count, not the sample count",
    cite=("humbatova2020",),
    expect="warned",
)
class T07:
    def data():
        return f32(rng(57).normal(5, 1, (120, 3)))

    def typedml(fixed):
        @tm.stage
        def std_error(x: Q[M, "'u"]) -> Q[Float[Array, "f"], "delta('u)"]:
            n = x.shape[0 if fixed else 1]
            return x.std(axis=0, ddof=1) / jnp.sqrt(n)

        @tm.pipeline
        def summary(x: Q[M, "ms"]) -> Q[Float[Array, "f"], "ms"]:
            return std_error(x)

        return summary, (q(T07.data(), "ms"),)

    def jax(fixed, check):
        @check
        def std_error(x: M) -> Float[Array, "f"]:
            return x.std(axis=0, ddof=1) / jnp.sqrt(x.shape[0 if fixed else 1])

        x = T07.data()
        return lambda: jax.jit(std_error)(x)

    def pint(fixed):
        @ureg().wraps("ms", ("ms",))
        def std_error(x):
            return x.std(axis=0, ddof=1) / np.sqrt(x.shape[0 if fixed else 1])

        x = T07.data()
        return lambda: std_error(q(x, "ms"))


@case(
    "T08",
    "statistics",
    "latency percentiles asked of a quantile stage as 50, 95, 99 (it takes levels in [0, 1])",
    cite=("numpydoc",),
    expect="run",
)
class T08:
    """The levels are data, so the stage's contract (``tm.Probability``) refuses them when they
    arrive, not before; numpy raises too, JAX returns the maximum three times."""

    def data():
        return f32(rng(58).gamma(2.0, 40.0, 500)), f32([50.0, 95.0, 99.0])

    def typedml(fixed):
        @tm.pipeline
        def slo(latency: Q[Float[Array, "n"], "ms"], levels: Float[Array, "k"]) -> Q[Float[Array, "k"], "ms"]:
            return tm.stdlib.quantile(latency, levels)

        x, levels = T08.data()
        return slo, (q(x, "ms"), levels / 100 if fixed else levels)

    def jax(fixed, check):
        @check
        def slo(latency: Float[Array, "n"], levels: Float[Array, "k"]) -> Float[Array, "k"]:
            return jnp.quantile(latency, levels)

        x, levels = T08.data()
        return lambda: jax.jit(slo)(x, levels / 100 if fixed else levels)

    def pint(fixed):
        @ureg().wraps("ms", ("ms", None))
        def slo(latency, levels):
            return np.quantile(latency, levels)

        x, levels = T08.data()
        return lambda: slo(q(x, "ms"), levels / 100 if fixed else levels)
