"""Size mistakes: off-by-one windows and alignments, feature counts after one-hot encoding or an
added column, padding modes. Zhang et al. (ISSTA 2018) and Wu et al. list them among shape faults.
"""

import jax
import jax.numpy as jnp
import numpy as np
from corpus import case, f32, q, rng, ureg
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q


@case(
    "S01",
    "sizes",
    "moving average declared for a 5-sample window computed with 4",
    cite=("zhang2018", "wu2021"),
    expect="body",
)
class S01:
    def data():
        return f32(rng(21).normal(20, 2, 100))

    def typedml(fixed):
        @tm.stage
        def smooth(x: Q[Float[Array, "n"], "degC"]) -> Q[Float[Array, "n-4"], "degC"]:
            w = 5 if fixed else 4
            return jnp.convolve(x, jnp.ones(w) / w, mode="valid")

        @tm.pipeline
        def trend(x: Q[Float[Array, "n"], "degC"]) -> Q[Float[Array, "n-4"], "degC"]:
            return smooth(x)

        return trend, (q(S01.data(), "degC"),)

    def jax(fixed, check):
        @check
        def smooth(x: Float[Array, "n"]) -> Float[Array, "n-4"]:
            w = 5 if fixed else 4
            return jnp.convolve(x, jnp.ones(w) / w, mode="valid")

        x = S01.data()
        return lambda: jax.jit(smooth)(x)

    def pint(fixed):
        @ureg().wraps("degC", ("degC",))
        def smooth(x):
            w = 5 if fixed else 4
            return np.convolve(x, np.ones(w) / w, mode="valid")

        x = S01.data()
        return lambda: smooth(q(x, "degC"))


@case(
    "S02",
    "sizes",
    "differenced series (n-1) scored against the undifferenced target (n)",
    cite=("zhang2018",),
    expect="build",
)
class S02:
    def data():
        r = rng(22)
        return f32(np.cumsum(r.normal(0, 1, 60))), f32(r.normal(0, 1, 60))

    def typedml(fixed):
        @tm.stage
        def diff(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n-1"], "m"]:
            return x[1:] - x[:-1]

        @tm.stage
        def align(y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n-1"], "m"]:
            return y[1:]

        @tm.stage
        def mse(pred: Q[Float[Array, "k"], "m"], y: Q[Float[Array, "k"], "m"]) -> Q[Float[Array, ""], "m**2"]:
            return ((pred - y) ** 2).mean()

        @tm.pipeline
        def score(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, ""], "m**2"]:
            return mse(diff(x), align(y) if fixed else y)

        x, y = S02.data()
        return score, (q(x, "m"), q(y, "m"))

    def jax(fixed, check):
        @check
        def mse(pred: Float[Array, "k"], y: Float[Array, "k"]) -> Float[Array, ""]:
            return ((pred - y) ** 2).mean()

        x, y = S02.data()
        return lambda: jax.jit(lambda x, y: mse(jnp.diff(x), y[1:] if fixed else y))(x, y)

    def pint(fixed):
        @ureg().wraps("m**2", ("m", "m"))
        def mse(pred, y):
            return ((pred - y) ** 2).mean()

        x, y = S02.data()
        return lambda: mse(q(np.diff(x), "m"), q(y[1:] if fixed else y, "m"))


@case(
    "S03",
    "sizes",
    "one-hot with num_classes = max label (9) instead of 10",
    cite=("humbatova2020", "islam2019"),
    expect="build",
)
class S03:
    def data():
        r = rng(23)
        return np.arange(40, dtype=np.int32) % 10, f32(r.normal(0, 1, (10, 3)))

    def typedml(fixed):
        k = 10 if fixed else 9

        @tm.stage
        def encode(y: Int[Array, "n"]) -> Float[Array, f"n {k}"]:
            return jax.nn.one_hot(y, k)

        @tm.stage
        def embed(x: Float[Array, "n 10"], w: Float[Array, "10 h"]) -> Float[Array, "n h"]:
            return x @ w

        @tm.pipeline
        def model(y: Int[Array, "n"], w: Float[Array, "10 h"]) -> Float[Array, "n h"]:
            return embed(encode(y), w)

        return model, S03.data()

    def jax(fixed, check):
        @check
        def embed(x: Float[Array, "n 10"], w: Float[Array, "10 h"]) -> Float[Array, "n h"]:
            return x @ w

        y, w = S03.data()
        return lambda: jax.jit(lambda y, w: embed(jax.nn.one_hot(y, 10 if fixed else 9), w))(y, w)

    def pint(fixed):
        def embed(x, w):
            return x @ w

        y, w = S03.data()
        return lambda: embed(np.eye(10 if fixed else 9, dtype=np.float32)[np.minimum(y, 9 if fixed else 8)], w)


@case(
    "S04",
    "sizes",
    "'valid' convolution output added to its 'same'-length residual",
    cite=("zhang2018", "wu2021"),
    expect="build",
)
class S04:
    def data():
        return f32(rng(24).normal(0, 1, 80))

    def typedml(fixed):
        mode = "same" if fixed else "valid"

        @tm.stage
        def conv(x: Float[Array, "n"]) -> Float[Array, "n"] if fixed else Float[Array, "n-2"]:
            return jnp.convolve(x, jnp.array([0.25, 0.5, 0.25]), mode=mode)

        @tm.stage
        def residual(x: Float[Array, "n"], h: Float[Array, "n"]) -> Float[Array, "n"]:
            return x + h

        @tm.pipeline
        def block(x: Float[Array, "n"]) -> Float[Array, "n"]:
            return residual(x, conv(x))

        return block, (S04.data(),)

    def jax(fixed, check):
        @check
        def residual(x: Float[Array, "n"], h: Float[Array, "n"]) -> Float[Array, "n"]:
            return x + h

        x = S04.data()
        k = jnp.array([0.25, 0.5, 0.25])
        return lambda: jax.jit(lambda x: residual(x, jnp.convolve(x, k, mode="same" if fixed else "valid")))(x)

    def pint(fixed):
        def residual(x, h):
            return x + h

        x = S04.data()
        return lambda: residual(x, np.convolve(x, [0.25, 0.5, 0.25], mode="same" if fixed else "valid"))


@case(
    "S05",
    "sizes",
    "a scaler fitted on 5 features applied after a sixth column was added",
    cite=("humbatova2020",),
    expect="run",
)
class S05:
    def data(fixed):
        r = rng(25)
        x = f32(r.normal(0, 1, (30, 6)))
        return (x if not fixed else x[:, :5]), f32(r.uniform(1, 2, 5)), f32(r.normal(0, 1, 5))

    def typedml(fixed):
        @tm.stage
        def scale(
            x: Q[Float[Array, "n f"], "V"], mu: Q[Float[Array, "f"], "V"], sd: Q[Float[Array, "f"], "V"]
        ) -> Float[Array, "n f"]:
            return (x - mu) / sd

        @tm.pipeline
        def prep(
            x: Q[Float[Array, "n f"], "V"], mu: Q[Float[Array, "f"], "V"], sd: Q[Float[Array, "f"], "V"]
        ) -> Float[Array, "n f"]:
            return scale(x, mu, sd)

        x, sd, mu = S05.data(fixed)
        return prep, (q(x, "V"), q(mu, "V"), q(sd, "V"))

    def jax(fixed, check):
        @check
        def scale(x: Float[Array, "n f"], mu: Float[Array, "f"], sd: Float[Array, "f"]) -> Float[Array, "n f"]:
            return (x - mu) / sd

        x, sd, mu = S05.data(fixed)
        return lambda: jax.jit(scale)(x, mu, sd)

    def pint(fixed):
        @ureg().wraps("", ("V", "V", "V"))
        def scale(x, mu, sd):
            return (x - mu) / sd

        x, sd, mu = S05.data(fixed)
        return lambda: scale(q(x, "V"), q(mu, "V"), q(sd, "V"))


@case("S06", "sizes", "lag-1 features aligned with a target shifted by two", cite=("zhang2018",), expect="body")
class S06:
    def data():
        r = rng(26)
        return f32(r.normal(0, 1, 50)), f32(r.normal(0, 1, 50))

    def typedml(fixed):
        @tm.stage
        def lagged(x: Float[Array, "n"]) -> Float[Array, "n-1"]:
            return x[:-1]

        @tm.stage
        def target(y: Float[Array, "n"]) -> Float[Array, "n-1"]:
            return y[1:] if fixed else y[2:]

        @tm.stage
        def corr(a: Float[Array, "k"], b: Float[Array, "k"]) -> Float[Array, ""]:
            return jnp.corrcoef(a, b)[0, 1]

        @tm.pipeline
        def autocorr(x: Float[Array, "n"], y: Float[Array, "n"]) -> Float[Array, ""]:
            return corr(lagged(x), target(y))

        return autocorr, S06.data()

    def jax(fixed, check):
        @check
        def corr(a: Float[Array, "k"], b: Float[Array, "k"]) -> Float[Array, ""]:
            return jnp.corrcoef(a, b)[0, 1]

        x, y = S06.data()
        return lambda: jax.jit(lambda x, y: corr(x[:-1], y[1:] if fixed else y[2:]))(x, y)

    def pint(fixed):
        def corr(a, b):
            return np.corrcoef(a, b)[0, 1]

        x, y = S06.data()
        return lambda: corr(x[:-1], y[1:] if fixed else y[2:])


@case("S07", "sizes", "histogram bin edges (k+1) used as bin centres (k)", cite=("zhang2018",), expect="build")
class S07:
    def data():
        r = rng(27)
        return f32(np.linspace(0, 10, 11)), f32(r.integers(0, 50, 10))  # edges (11), counts (10)

    def typedml(fixed):
        @tm.stage
        def centres(edges: Q[Float[Array, "k+1"], "mm"]) -> Q[Float[Array, "k"], "mm"]:
            return (edges[1:] + edges[:-1]) / 2

        @tm.stage
        def mean_size(centre: Q[Float[Array, "k"], "mm"], counts: Float[Array, "k"]) -> Q[Float[Array, ""], "mm"]:
            return (centre * counts).sum() / counts.sum()

        @tm.pipeline
        def grains(edges: Q[Float[Array, "k+1"], "mm"], counts: Float[Array, "k"]) -> Q[Float[Array, ""], "mm"]:
            return mean_size(centres(edges) if fixed else edges, counts)

        e, c = S07.data()
        return grains, (q(e, "mm"), c)

    def jax(fixed, check):
        @check
        def mean_size(centre: Float[Array, "k"], counts: Float[Array, "k"]) -> Float[Array, ""]:
            return (centre * counts).sum() / counts.sum()

        e, c = S07.data()
        return lambda: jax.jit(lambda e, c: mean_size((e[1:] + e[:-1]) / 2 if fixed else e, c))(e, c)

    def pint(fixed):
        @ureg().wraps("mm", ("mm", None))
        def mean_size(centre, counts):
            return (centre * counts).sum() / counts.sum()

        e, c = S07.data()
        return lambda: mean_size(q((e[1:] + e[:-1]) / 2 if fixed else e, "mm"), c)


@case(
    "S08",
    "sizes",
    "per-bin counts (a fixed number of bins) divided by the raw ids instead of another count",
    cite=("zhang2018", "wu2021"),
    expect="build",
)
class S08:
    def data():
        r = rng(28)
        return jnp.asarray(r.integers(0, 5, 8), jnp.int32), jnp.asarray(r.integers(0, 5, 6), jnp.int32)

    def typedml(fixed):
        @tm.stage
        def counts(ids: Int[Array, "e"], bins: int = 5) -> Int[Array, "bins"]:
            return jnp.zeros(bins, jnp.int32).at[ids].add(1)

        @tm.stage
        def ratio_of_sums(a: Int[Array, "u"], b: Int[Array, "u"]) -> Float[Array, ""]:
            return a.sum() / b.sum()

        @tm.pipeline
        def ratio(ids: Int[Array, "e"], other: Int[Array, "f"]) -> Float[Array, ""]:
            return ratio_of_sums(counts(ids), counts(other) if fixed else ids)

        return ratio, S08.data()

    def jax(fixed, check):
        @check
        def counts(ids: Int[Array, " e"]) -> Int[Array, " u"]:
            return jnp.zeros(5, jnp.int32).at[ids].add(1)

        @check
        def ratio_of_sums(a: Int[Array, " u"], b: Int[Array, " u"]) -> Float[Array, ""]:
            return a.sum() / b.sum()

        ids, other = S08.data()
        return lambda: ratio_of_sums(counts(ids), counts(other) if fixed else ids)

    def pint(fixed):
        def counts(ids):
            return np.bincount(np.asarray(ids), minlength=5)

        ids, other = S08.data()
        return lambda: counts(ids).sum() / (counts(other) if fixed else np.asarray(ids)).sum()


@case(
    "S09",
    "sizes",
    "first differences (one sample shorter, so odd) decimated by two",
    cite=("zhang2018",),
    expect="build",
)
class S09:
    def data():
        return f32(np.cumsum(rng(29).normal(0, 1, 64)))

    def typedml(fixed):
        @tm.stage
        def diff(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"] if fixed else Float[Array, "n-1"], "m"]:
            return jnp.diff(x, prepend=x[:1]) if fixed else jnp.diff(x)

        @tm.stage
        def decimate(x: Q[Float[Array, "2*k"], "m"]) -> Q[Float[Array, "k"], "m"]:
            return x.reshape(-1, 2).sum(axis=1)

        @tm.pipeline
        def steps(x: Q[Float[Array, "2*m"], "m"]) -> Q[Float[Array, "m"], "m"]:
            return decimate(diff(x))

        return steps, (q(S09.data(), "m"),)

    def jax(fixed, check):
        @check
        def decimate(x: Float[Array, " n"]) -> Float[Array, " n//2"]:
            return x[: x.shape[0] // 2 * 2].reshape(-1, 2).sum(axis=1)  # what runs when the shape is not declared

        x = S09.data()
        return lambda: jax.jit(decimate)(jnp.diff(x, prepend=x[:1]) if fixed else jnp.diff(x))

    def pint(fixed):
        def decimate(x):
            return x[: x.shape[0] // 2 * 2].reshape(-1, 2).sum(axis=1)

        x = S09.data()
        return lambda: decimate(q(np.diff(x, prepend=x[:1]) if fixed else np.diff(x), "m"))


@case(
    "S10",
    "sizes",
    "a 16-sample moving sum over a 10-sample recording (valid convolution swaps its operands)",
    cite=("zhang2018", "wu2021"),
    expect="run",
)
class S10:
    def data(fixed):
        return f32(rng(30).normal(0, 1, 20 if fixed else 10))

    def typedml(fixed):
        @tm.stage
        def moving_sum16(x: Float[Array, "t"]) -> Float[Array, "t-15"]:
            c = jnp.concatenate([jnp.zeros(1, x.dtype), jnp.cumsum(x)])
            return c[16:] - c[:-16]

        @tm.pipeline
        def smooth(x: Float[Array, "n"]) -> Float[Array, "n-15"]:
            return moving_sum16(x)

        return smooth, (S10.data(fixed),)

    def jax(fixed, check):
        @check
        def moving_sum16(x: Float[Array, " t"]) -> Float[Array, " t-15"]:
            return jnp.convolve(x, jnp.ones(16, x.dtype), mode="valid")

        x = S10.data(fixed)
        return lambda: jax.jit(moving_sum16)(x)

    def pint(fixed):
        def moving_sum16(x):
            return np.convolve(x, np.ones(16), mode="valid")

        x = S10.data(fixed)
        return lambda: moving_sum16(x)
