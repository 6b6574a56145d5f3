"""Dtype mistakes: integer division, integer overflow, masks used as the wrong type, float16
accumulation, precision lost to float32, integer truncation in unit conversions. From Zhang et al.
(ISSTA 2018, "incorrect data type"), Islam et al. (FSE 2019, data bugs) and Micikevicius et al.
"""

import jax
import jax.numpy as jnp
import numpy as np
from corpus import case, f32, q, rng, ureg
from jaxtyping import Array, Bool, Float, Float16, Float32, Int, UInt8

import typedml as tm
from typedml import Q


@case("D01", "dtypes", "mean item count computed with integer division", cite=("zhang2018", "islam2019"), expect="body")
class D01:
    def data():
        return rng(31).integers(0, 7, 26).astype(np.int32)

    def typedml(fixed):
        @tm.stage
        def mean_count(c: Int[Array, "n"]) -> Float[Array, ""]:
            return c.sum() / c.shape[0] if fixed else c.sum() // c.shape[0]

        @tm.pipeline
        def basket(c: Int[Array, "n"]) -> Float[Array, ""]:
            return mean_count(c)

        return basket, (D01.data(),)

    def jax(fixed, check):
        @check
        def mean_count(c: Int[Array, "n"]) -> Float[Array, ""]:
            return c.sum() / c.shape[0] if fixed else c.sum() // c.shape[0]

        c = D01.data()
        return lambda: jax.jit(mean_count)(c)

    def pint(fixed):
        def mean_count(c):
            return c.sum() / c.shape[0] if fixed else c.sum() // c.shape[0]

        c = D01.data()
        return lambda: mean_count(c)


@case("D02", "dtypes", "validity mask loaded as 0/1 floats, inverted with ~", cite=("zhang2018",), expect="build")
class D02:
    def data():
        r = rng(32)
        return f32(r.normal(0, 1, 40)), (r.uniform(size=40) > 0.2)

    def typedml(fixed):
        @tm.stage
        def load_mask(m: Bool[Array, "n"]) -> Bool[Array, "n"] if fixed else Float[Array, "n"]:
            return m if fixed else m.astype(jnp.float32)

        @tm.stage
        def fill_invalid(x: Float[Array, "n"], valid: Bool[Array, "n"]) -> Float[Array, "n"]:
            return jnp.where(~valid, 0.0, x)

        @tm.pipeline
        def clean(x: Float[Array, "n"], m: Bool[Array, "n"]) -> Float[Array, "n"]:
            return fill_invalid(x, load_mask(m))

        return clean, D02.data()

    def jax(fixed, check):
        @check
        def fill_invalid(x: Float[Array, "n"], valid: Bool[Array, "n"]) -> Float[Array, "n"]:
            return jnp.where(~valid, 0.0, x)

        x, m = D02.data()
        return lambda: jax.jit(fill_invalid)(x, m if fixed else m.astype(np.float32))

    def pint(fixed):
        def fill_invalid(x, valid):
            return np.where(~valid, 0.0, x)

        x, m = D02.data()
        return lambda: fill_invalid(x, m if fixed else m.astype(np.float32))


@case(
    "D03",
    "dtypes",
    "float16 activations summed in float16 (overflow past 65504)",
    cite=("micikevicius2018", "islam2019"),
    expect="body",
)
class D03:
    def data():
        return rng(33).uniform(0, 4, 40000).astype(np.float16)

    def typedml(fixed):
        @tm.stage
        def total(x: Float16[Array, "n"]) -> Float32[Array, ""]:
            return x.astype(jnp.float32).sum() if fixed else x.sum()

        @tm.pipeline
        def energy(x: Float16[Array, "n"]) -> Float32[Array, ""]:
            return total(x)

        return energy, (D03.data(),)

    def jax(fixed, check):
        @check
        def total(x: Float16[Array, "n"]) -> Float32[Array, ""]:
            return x.astype(jnp.float32).sum() if fixed else x.sum()

        x = D03.data()
        return lambda: jax.jit(total)(x)

    def pint(fixed):
        def total(x):
            return x.astype(np.float32).sum() if fixed else x.sum(dtype=np.float16)

        x = D03.data()
        return lambda: total(x)


@case(
    "D04",
    "dtypes",
    "uint8 image brightened by +60 in uint8 (wraps around past 255)",
    cite=("zhang2018",),
    expect="body",
)
class D04:
    def data():
        return rng(34).integers(0, 256, (8, 8)).astype(np.uint8)

    def typedml(fixed):
        @tm.stage
        def brighten(img: UInt8[Array, "h w"]) -> Float32[Array, "h w"]:
            return jnp.minimum(img.astype(jnp.float32) + 60, 255.0) if fixed else img + 60

        @tm.pipeline
        def augment(img: UInt8[Array, "h w"]) -> Float32[Array, "h w"]:
            return brighten(img)

        return augment, (D04.data(),)

    def jax(fixed, check):
        @check
        def brighten(img: UInt8[Array, "h w"]) -> Float32[Array, "h w"]:
            return jnp.minimum(img.astype(jnp.float32) + 60, 255.0) if fixed else img + 60

        x = D04.data()
        return lambda: jax.jit(brighten)(x)

    def pint(fixed):
        def brighten(img):
            return np.minimum(img.astype(np.float32) + 60, 255.0) if fixed else img + np.uint8(60)

        x = D04.data()
        return lambda: brighten(x)


@case(
    "D05",
    "dtypes",
    "integer millimetres converted to integer metres (truncated)",
    cite=("ore2017", "zhang2018"),
    expect="build",
)
class D05:
    def data():
        return rng(35).integers(100, 5000, 30).astype(np.int32)

    def typedml(fixed):
        @tm.stage
        def depth(d: Q[Float[Array, "n"], "m"] if fixed else Q[Int[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
            return d.astype(jnp.float32)

        @tm.stage
        def as_float(d: Q[Int[Array, "n"], "mm"]) -> Q[Float[Array, "n"], "mm"]:
            return d.astype(jnp.float32)

        @tm.pipeline
        def survey(d: Q[Int[Array, "n"], "mm"]) -> Q[Float[Array, "n"], "m"]:
            return depth(as_float(d) if fixed else d)

        return survey, (q(D05.data(), "mm", np.int32),)

    def jax(fixed, check):
        @check
        def depth(d: Float[Array, "n"]) -> Float[Array, "n"]:
            return d

        x = D05.data()
        return lambda: jax.jit(lambda x: depth(x / 1000 if fixed else (x // 1000).astype(jnp.float32)))(x)

    def pint(fixed):
        @ureg().wraps("m", ("m",))
        def depth(d):
            return d.astype(np.float32)

        x = D05.data()
        return lambda: depth(q(x, "mm", np.float32) if fixed else q(x, "mm", np.int32).to("m").astype(np.int32))


@case(
    "D06",
    "dtypes",
    "epoch timestamps (~1.7e9 s) squeezed into float32 before differencing",
    cite=("islam2019", "higham2002"),
    expect="run",
)
class D06:
    def data():
        t0 = 1.7e9
        return t0 + np.cumsum(rng(36).uniform(0.5, 1.5, 50))  # float64 seconds since 1970

    def typedml(fixed):
        @tm.stage
        def intervals(t: Q[Float32[Array, "n"], "s"]) -> Q[Float32[Array, "n-1"], "s"]:
            return t[1:] - t[:-1]

        @tm.pipeline
        def log(t: Q[Float32[Array, "n"], "s"]) -> Q[Float32[Array, "n-1"], "s"]:
            return intervals(t)

        t = D06.data()
        return log, (q(t - t[0] if fixed else t, "s", np.float32 if fixed else np.float64),)

    def jax(fixed, check):
        @check
        def intervals(t: Float32[Array, "n"]) -> Float32[Array, "n-1"]:
            return t[1:] - t[:-1]

        t = D06.data()
        return lambda: jax.jit(intervals)(f32(t - t[0]) if fixed else jnp.asarray(t))

    def pint(fixed):
        @ureg().wraps("s", ("s",))
        def intervals(t):
            t = t.astype(np.float32)  # the model is float32 throughout
            return t[1:] - t[:-1]

        t = D06.data()
        return lambda: intervals(q(t - t[0] if fixed else t, "s", np.float64))


@case(
    "D07",
    "dtypes",
    "predicted class index (int) passed where the predicted probability is expected",
    cite=("humbatova2020",),
    expect="build",
)
class D07:
    def data():
        r = rng(37)
        return f32(r.normal(0, 2, (50, 4))), r.integers(0, 4, 50).astype(np.int32)

    def typedml(fixed):
        @tm.stage
        def confidence(logits: Float[Array, "n k"]) -> Float[Array, "n"]:
            return jax.nn.softmax(logits, axis=-1).max(axis=-1)

        @tm.stage
        def predicted(logits: Float[Array, "n k"]) -> Int[Array, "n"]:
            return logits.argmax(axis=-1).astype(jnp.int32)

        @tm.stage
        def overconfidence(p: Float[Array, "n"], correct: Bool[Array, "n"]) -> Float[Array, ""]:
            return p.mean() - correct.mean()

        @tm.stage
        def is_correct(pred: Int[Array, "n"], y: Int[Array, "n"]) -> Bool[Array, "n"]:
            return pred == y

        @tm.pipeline
        def calibration(logits: Float[Array, "n k"], y: Int[Array, "n"]) -> Float[Array, ""]:
            pred = predicted(logits)
            return overconfidence(confidence(logits) if fixed else pred, is_correct(pred, y))

        return calibration, D07.data()

    def jax(fixed, check):
        @check
        def overconfidence(p: Float[Array, "n"], correct: Bool[Array, "n"]) -> Float[Array, ""]:
            return p.mean() - correct.mean()

        x, y = D07.data()

        def run(x, y):
            pred = x.argmax(-1)
            p = jax.nn.softmax(x, -1).max(-1) if fixed else pred
            return overconfidence(p, pred == y)

        return lambda: jax.jit(run)(x, y)

    def pint(fixed):
        def overconfidence(p, correct):
            return p.mean() - correct.mean()

        x, y = D07.data()
        e = np.exp(x - x.max(-1, keepdims=True))
        pred = x.argmax(-1)
        return lambda: overconfidence((e / e.sum(-1, keepdims=True)).max(-1) if fixed else pred, pred == y)


@case(
    "D08",
    "dtypes",
    "customer ids above 2**24 loaded as float32, then matched to integer ids",
    cite=("islam2019", "higham2002"),
    expect="build",
)
class D08:
    def data():
        r = rng(38)
        ids = r.integers(30_000_000, 40_000_000, 30).astype(np.int32)
        return ids, ids[::3] + 1  # ids one past existing ones: no exact match expected

    def typedml(fixed):
        @tm.stage
        def load_ids(ids: Int[Array, "n"]) -> Int[Array, "n"] if fixed else Float32[Array, "n"]:
            return ids if fixed else ids.astype(jnp.float32)

        @tm.stage
        def matches(ids: Int[Array, "n"], wanted: Int[Array, "m"]) -> Int[Array, ""]:
            return (ids[:, None] == wanted[None, :]).any(axis=1).sum()

        @tm.pipeline
        def lookup(ids: Int[Array, "n"], wanted: Int[Array, "m"]) -> Int[Array, ""]:
            return matches(load_ids(ids), wanted)

        return lookup, D08.data()

    def jax(fixed, check):
        @check
        def matches(ids: Int[Array, "n"], wanted: Int[Array, "m"]) -> Int[Array, ""]:
            return (ids[:, None] == wanted[None, :]).any(axis=1).sum()

        ids, wanted = D08.data()
        return lambda: jax.jit(matches)(ids if fixed else ids.astype(np.float32), wanted)

    def pint(fixed):
        def matches(ids, wanted):
            return (ids[:, None] == wanted[None, :]).any(axis=1).sum()

        ids, wanted = D08.data()
        return lambda: matches(ids if fixed else ids.astype(np.float32), wanted)
