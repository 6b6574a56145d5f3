"""Axis mistakes: transposed axes, wrong reduction axis, missing or extra batch axis, wrong
flatten/reshape. Tensor shape faults are the largest root cause in Zhang et al. (ISSTA 2018) and
a category of their own in Islam et al. (FSE 2019), Humbatova et al. (ICSE 2020) and Wu et al.
"""

import jax
import jax.numpy as jnp
import numpy as np
from corpus import case, f32, q, rng, ureg
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@case(
    "A01",
    "axes",
    "channel-major recording fed to a time-major calibration",
    cite=("zhang2018", "wu2021"),
    expect="build",
)
class A01:
    def data():
        r = rng(11)
        return f32(r.normal(0, 1, (3, 50))), f32([1.0, 2.0, 0.5])  # (channel, time) mV; K/mV

    def typedml(fixed):
        @tm.stage
        def to_time_major(x: Q[Float[Array, "c t"], "mV"]) -> Q[Float[Array, "t c"], "mV"]:
            return x.T

        @tm.stage
        def calibrate(
            x: Q[Float[Array, "t c"], "mV"], gain: Q[Float[Array, "c"], "K/mV"]
        ) -> Q[Float[Array, "t c"], "K"]:
            return x * gain

        @tm.pipeline
        def sensor(
            raw: Q[Float[Array, "c t"], "mV"], gain: Q[Float[Array, "c"], "K/mV"]
        ) -> Q[Float[Array, "t c"], "K"]:
            return calibrate(to_time_major(raw) if fixed else raw, gain)

        x, g = A01.data()
        return sensor, (q(x, "mV"), q(g, "K/mV"))

    def jax(fixed, check):
        @check
        def calibrate(x: Float[Array, "t c"], gain: Float[Array, "c"]) -> Float[Array, "t c"]:
            return x * gain

        x, g = A01.data()
        return lambda: jax.jit(calibrate)(x.T if fixed else x, g)

    def pint(fixed):
        @ureg().wraps("K", ("mV", "K/mV"))
        def calibrate(x, gain):
            return x * gain

        x, g = A01.data()
        return lambda: calibrate(q(x.T if fixed else x, "mV"), q(g, "K/mV"))


@case(
    "A02",
    "axes",
    "per-feature mean taken over the feature axis instead of the sample axis",
    cite=("zhang2018", "humbatova2020"),
    expect="body",
)
class A02:
    def data():
        return f32(rng(12).normal(5, 2, (200, 8)))

    def typedml(fixed):
        @tm.stage
        def feature_mean(x: Q[Float[Array, "n f"], "'u"]) -> Q[Float[Array, "f"], "'u"]:
            return x.mean(axis=0 if fixed else 1)

        @tm.pipeline
        def profile(x: Q[Float[Array, "n f"], "m"]) -> Q[Float[Array, "f"], "m"]:
            return feature_mean(x)

        return profile, (q(A02.data(), "m"),)

    def jax(fixed, check):
        @check
        def feature_mean(x: Float[Array, "n f"]) -> Float[Array, "f"]:
            return x.mean(axis=0 if fixed else 1)

        x = A02.data()
        return lambda: jax.jit(feature_mean)(x)

    def pint(fixed):
        @ureg().wraps("m", ("m",))
        def feature_mean(x):
            return x.mean(axis=0 if fixed else 1)

        x = A02.data()
        return lambda: feature_mean(q(x, "m"))


@case(
    "A03",
    "axes",
    "a single sample (no batch axis) passed to a batched model",
    cite=("zhang2018", "islam2019"),
    expect="build",
)
class A03:
    def data():
        r = rng(13)
        return f32(r.normal(0, 1, 6)), f32(r.normal(0, 1, (6, 4)))

    def typedml(fixed):
        @tm.stage
        def add_batch(x: Float[Array, "f"]) -> Float[Array, "1 f"]:
            return x[None, :]

        @tm.stage
        def dense(x: Float[Array, "b f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return jnp.tanh(x @ w)

        @tm.pipeline
        def predict_one(x: Float[Array, "f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return dense(add_batch(x) if fixed else x, w)

        return predict_one, A03.data()

    def jax(fixed, check):
        @check
        def dense(x: Float[Array, "b f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return jnp.tanh(x @ w)

        x, w = A03.data()
        return lambda: jax.jit(dense)(x[None, :] if fixed else x, w)

    def pint(fixed):
        import numpy as np

        def dense(x, w):
            return np.tanh(x @ w)

        x, w = A03.data()
        return lambda: dense(x[None, :] if fixed else x, w)


@case(
    "A04",
    "axes",
    "an extra leading axis from expand_dims before a batched matmul",
    cite=("zhang2018", "wu2021"),
    expect="build",
)
class A04:
    def data():
        r = rng(14)
        return f32(r.normal(0, 1, (10, 6))), f32(r.normal(0, 1, (6, 4)))

    def typedml(fixed):
        @tm.stage
        def prepare(x: Float[Array, "b f"]) -> Float[Array, "b f"] if fixed else Float[Array, "1 b f"]:
            return x if fixed else x[None]

        @tm.stage
        def dense(x: Float[Array, "b f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return x @ w

        @tm.pipeline
        def model(x: Float[Array, "b f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return dense(prepare(x), w)

        return model, A04.data()

    def jax(fixed, check):
        @check
        def dense(x: Float[Array, "b f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return x @ w

        x, w = A04.data()
        return lambda: jax.jit(dense)(x if fixed else x[None], w)

    def pint(fixed):
        def dense(x, w):
            return x @ w

        x, w = A04.data()
        return lambda: dense(x if fixed else x[None], w)


@case(
    "A05",
    "axes",
    "(h, w, batch) images flattened with reshape instead of transpose+reshape",
    cite=("wu2021", "humbatova2020"),
    expect="warned",
)
class A05:
    def data():
        return f32(rng(15).normal(0, 1, (4, 5, 7)))

    def typedml(fixed):
        @tm.stage
        def flatten(x: Float[Array, "h w b"]) -> Float[Array, "b h*w"]:
            b = x.shape[2]
            return jnp.transpose(x, (2, 0, 1)).reshape(b, -1) if fixed else x.reshape(b, -1)

        @tm.pipeline
        def features(x: Float[Array, "h w b"]) -> Float[Array, "b h*w"]:
            return flatten(x)

        return features, (A05.data(),)

    def jax(fixed, check):
        @check
        def flatten(x: Float[Array, "h w b"]) -> Float[Array, "b h*w"]:
            b = x.shape[2]
            return jnp.transpose(x, (2, 0, 1)).reshape(b, -1) if fixed else x.reshape(b, -1)

        x = A05.data()
        return lambda: jax.jit(flatten)(x)

    def pint(fixed):
        def flatten(x):
            b = x.shape[2]
            return x.transpose(2, 0, 1).reshape(b, -1) if fixed else x.reshape(b, -1)

        x = A05.data()
        return lambda: flatten(x)


@case("A06", "axes", "weights stored (out, in) used as (in, out)", cite=("zhang2018", "islam2019"), expect="build")
class A06:
    def data():
        r = rng(16)
        return f32(r.normal(0, 1, (16, 6))), f32(r.normal(0, 1, (4, 6)))  # x (b, f); w as saved (h, f)

    def typedml(fixed):
        @tm.stage
        def transpose(w: Float[Array, "h f"]) -> Float[Array, "f h"]:
            return w.T

        @tm.stage
        def dense(x: Float[Array, "b f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return x @ w

        @tm.pipeline
        def model(x: Float[Array, "b f"], w: Float[Array, "h f"]) -> Float[Array, "b h"]:
            return dense(x, transpose(w) if fixed else w)

        return model, A06.data()

    def jax(fixed, check):
        @check
        def dense(x: Float[Array, "b f"], w: Float[Array, "f h"]) -> Float[Array, "b h"]:
            return x @ w

        x, w = A06.data()
        return lambda: jax.jit(dense)(x, w.T if fixed else w)

    def pint(fixed):
        def dense(x, w):
            return x @ w

        x, w = A06.data()
        return lambda: dense(x, w.T if fixed else w)


@case(
    "A07",
    "axes",
    "softmax normalised over the batch axis instead of the class axis",
    cite=("humbatova2020", "islam2019"),
    expect="missed",
)
class A07:
    def data():
        return f32(rng(17).normal(0, 1, (32, 5)))

    def typedml(fixed):
        @tm.stage
        def probabilities(logits: Float[Array, "b k"]) -> Float[Array, "b k"]:
            return jax.nn.softmax(logits, axis=-1 if fixed else 0)

        @tm.pipeline
        def classify(logits: Float[Array, "b k"]) -> Float[Array, "b k"]:
            return probabilities(logits)

        return classify, (A07.data(),)

    def jax(fixed, check):
        @check
        def probabilities(logits: Float[Array, "b k"]) -> Float[Array, "b k"]:
            return jax.nn.softmax(logits, axis=-1 if fixed else 0)

        x = A07.data()
        return lambda: jax.jit(probabilities)(x)

    def pint(fixed):
        import numpy as np

        def probabilities(logits):
            e = np.exp(logits - logits.max(axis=-1 if fixed else 0, keepdims=True))
            return e / e.sum(axis=-1 if fixed else 0, keepdims=True)

        x = A07.data()
        return lambda: probabilities(x)


@case("A08", "axes", "feature blocks concatenated along the sample axis", cite=("zhang2018", "wu2021"), expect="body")
class A08:
    def data():
        r = rng(18)
        return f32(r.normal(0, 1, (20, 3))), f32(r.normal(0, 1, (20, 4)))

    def typedml(fixed):
        @tm.stage
        def combine(a: Float[Array, "n f"], b: Float[Array, "n g"]) -> Float[Array, "n f+g"]:
            return jnp.concatenate([a, b], axis=1 if fixed else 0)

        @tm.pipeline
        def features(a: Float[Array, "n f"], b: Float[Array, "n g"]) -> Float[Array, "n f+g"]:
            return combine(a, b)

        return features, A08.data()

    def jax(fixed, check):
        @check
        def combine(a: Float[Array, "n f"], b: Float[Array, "n g"]) -> Float[Array, "n f+g"]:
            return jnp.concatenate([a, b], axis=1 if fixed else 0)

        a, b = A08.data()
        return lambda: jax.jit(combine)(a, b)

    def pint(fixed):
        import numpy as np

        def combine(a, b):
            return np.concatenate([a, b], axis=1 if fixed else 0)

        a, b = A08.data()
        return lambda: combine(a, b)


@case(
    "A09",
    "axes",
    "an NHWC image batch fed to an NCHW per-channel normalisation",
    cite=("zhang2018", "wu2021"),
    expect="build",
)
class A09:
    def data():
        r = rng(19)
        return f32(r.uniform(0, 1, (4, 8, 8, 3))), f32([0.48, 0.46, 0.41])

    def typedml(fixed):
        @tm.stage
        def to_nchw(x: Float[Array, "b h w c"]) -> Float[Array, "b c h w"]:
            return jnp.transpose(x, (0, 3, 1, 2))

        @tm.stage
        def normalise(x: Float[Array, "b c h w"], mean: Float[Array, "c"]) -> Float[Array, "b c h w"]:
            return x - mean[:, None, None]

        @tm.pipeline
        def preprocess(x: Float[Array, "b h w c"], mean: Float[Array, "c"]) -> Float[Array, "b c h w"]:
            return normalise(to_nchw(x) if fixed else x, mean)

        return preprocess, A09.data()

    def jax(fixed, check):
        @check
        def normalise(x: Float[Array, "b c h w"], mean: Float[Array, "c"]) -> Float[Array, "b c h w"]:
            return x - mean[:, None, None]

        x, m = A09.data()
        return lambda: jax.jit(lambda x, m: normalise(jnp.transpose(x, (0, 3, 1, 2)) if fixed else x, m))(x, m)

    def pint(fixed):
        def normalise(x, mean):
            return x - mean[:, None, None]

        x, m = A09.data()
        return lambda: normalise(x.transpose(0, 3, 1, 2) if fixed else x, m)


@case(
    "A10",
    "axes",
    "standard error per feature divided by the square root of the feature count, not the sample count",
    cite=("humbatova2020",),
    expect="build",
)
class A10:
    def data():
        return f32(rng(20).normal(10, 2, (40, 3)))

    def typedml(fixed):
        @tm.stage
        def standard_error(std: Q[Float[Array, "f"], "'u"], count: Float[Array, "f"]) -> Q[Float[Array, "f"], "'u"]:
            return std / jnp.sqrt(count)

        @tm.pipeline
        def sem(x: Q[Float[Array, "n f"], "V"]) -> Q[Float[Array, "f"], "V"]:
            return standard_error(tm.stdlib.std(x, axis="n"), tm.stdlib.count(x, axis="n" if fixed else "f"))

        return sem, (q(A10.data(), "V"),)

    def jax(fixed, check):
        @check
        def standard_error(std: Float[Array, " f"], count: Float[Array, " f"]) -> Float[Array, " f"]:
            return std / jnp.sqrt(count)

        x = A10.data()
        return lambda: standard_error(
            jnp.std(x, axis=0), jnp.sum(~jnp.isnan(x), axis=0 if fixed else 1).astype(jnp.float32)
        )

    def pint(fixed):
        def standard_error(std, count):
            return std / np.sqrt(count)

        x = q(A10.data(), "V")
        return lambda: standard_error(np.std(x, axis=0), np.sum(~np.isnan(x.magnitude), axis=0 if fixed else 1))
