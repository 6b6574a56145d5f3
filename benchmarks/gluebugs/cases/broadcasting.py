"""Broadcasting mistakes: an (n,) array meeting an (n, 1) one silently becomes (n, n); a bias or
weight vector with the wrong orientation. Islam et al. (FSE 2019) and Wu et al. describe the
silent case; Humbatova et al. (ICSE 2020) list it under tensor shape faults.
"""

import jax
import jax.numpy as jnp
import numpy as np
from corpus import case, f32, q, rng, ureg
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


@case(
    "B01",
    "broadcasting",
    "regression residual y (n,) - prediction (n, 1) becomes (n, n)",
    cite=("islam2019", "wu2021"),
    expect="build",
)
class B01:
    def data():
        r = rng(41)
        return f32(r.normal(0, 1, (64, 3))), f32(r.normal(0, 1, (3, 1))), f32(r.normal(0, 1, 64))

    def typedml(fixed):
        @tm.stage
        def predict(x: Float[Array, "n f"], w: Float[Array, "f 1"]) -> Float[Array, "n 1"]:
            return x @ w

        @tm.stage
        def squeeze(p: Float[Array, "n 1"]) -> Float[Array, "n"]:
            return p[:, 0]

        @tm.stage
        def mse(pred: Float[Array, "n"], y: Float[Array, "n"]) -> Float[Array, ""]:
            return ((y - pred) ** 2).mean()

        @tm.pipeline
        def fit_error(x: Float[Array, "n f"], w: Float[Array, "f 1"], y: Float[Array, "n"]) -> Float[Array, ""]:
            p = predict(x, w)
            return mse(squeeze(p) if fixed else p, y)

        return fit_error, B01.data()

    def jax(fixed, check):
        @check
        def mse(pred: Float[Array, "n"], y: Float[Array, "n"]) -> Float[Array, ""]:
            return ((y - pred) ** 2).mean()

        x, w, y = B01.data()
        return lambda: jax.jit(lambda x, w, y: mse((x @ w)[:, 0] if fixed else x @ w, y))(x, w, y)

    def pint(fixed):
        def mse(pred, y):
            return ((y - pred) ** 2).mean()

        x, w, y = B01.data()
        return lambda: mse((x @ w)[:, 0] if fixed else x @ w, y)


@case(
    "B02",
    "broadcasting",
    "binary cross-entropy of labels (n,) against logits (n, 1)",
    cite=("islam2019", "humbatova2020"),
    expect="build",
)
class B02:
    def data():
        r = rng(42)
        return f32(r.normal(0, 2, (48, 1))), f32(r.integers(0, 2, 48))

    def typedml(fixed):
        @tm.stage
        def model_head(h: Float[Array, "n 1"]) -> Float[Array, "n"] if fixed else Float[Array, "n 1"]:
            return h[:, 0] if fixed else h

        @tm.stage
        def bce(logits: Float[Array, "n"], y: Float[Array, "n"]) -> Float[Array, ""]:
            return jnp.mean(jnp.logaddexp(0.0, logits) - y * logits)

        @tm.pipeline
        def loss(h: Float[Array, "n 1"], y: Float[Array, "n"]) -> Float[Array, ""]:
            return bce(model_head(h), y)

        return loss, B02.data()

    def jax(fixed, check):
        @check
        def bce(logits: Float[Array, "n"], y: Float[Array, "n"]) -> Float[Array, ""]:
            return jnp.mean(jnp.logaddexp(0.0, logits) - y * logits)

        h, y = B02.data()
        return lambda: jax.jit(lambda h, y: bce(h[:, 0] if fixed else h, y))(h, y)

    def pint(fixed):
        def bce(logits, y):
            return np.mean(np.logaddexp(0.0, logits) - y * logits)

        h, y = B02.data()
        return lambda: bce(h[:, 0] if fixed else h, y)


@case(
    "B03",
    "broadcasting",
    "row-normalising a square affinity matrix divides by column sums",
    cite=("islam2019",),
    expect="warned",
)
class B03:
    def data():
        return f32(rng(43).uniform(0, 1, (12, 12)))

    def typedml(fixed):
        @tm.stage
        def row_normalise(a: Float[Array, "n n"]) -> Float[Array, "n n"]:
            return a / a.sum(axis=1, keepdims=True) if fixed else a / a.sum(axis=1)

        @tm.pipeline
        def transition(a: Float[Array, "n n"]) -> Float[Array, "n n"]:
            return row_normalise(a)

        return transition, (B03.data(),)

    def jax(fixed, check):
        @check
        def row_normalise(a: Float[Array, "n n"]) -> Float[Array, "n n"]:
            return a / a.sum(axis=1, keepdims=True) if fixed else a / a.sum(axis=1)

        a = B03.data()
        return lambda: jax.jit(row_normalise)(a)

    def pint(fixed):
        def row_normalise(a):
            return a / a.sum(axis=1, keepdims=True) if fixed else a / a.sum(axis=1)

        a = B03.data()
        return lambda: row_normalise(a)


@case(
    "B04",
    "broadcasting",
    "sample weights loaded as a column (n, 1) times per-sample losses (n,)",
    cite=("islam2019", "wu2021"),
    expect="build",
)
class B04:
    def data():
        r = rng(44)
        return f32(r.uniform(0, 1, (40, 1))), f32(r.uniform(0, 3, 40))

    def typedml(fixed):
        @tm.stage
        def load_weights(w: Float[Array, "n 1"]) -> Float[Array, "n"] if fixed else Float[Array, "n 1"]:
            return w.reshape(-1) if fixed else w

        @tm.stage
        def weighted_loss(w: Float[Array, "n"], loss: Float[Array, "n"]) -> Float[Array, ""]:
            return (w * loss).sum() / w.sum()

        @tm.pipeline
        def objective(w: Float[Array, "n 1"], loss: Float[Array, "n"]) -> Float[Array, ""]:
            return weighted_loss(load_weights(w), loss)

        return objective, B04.data()

    def jax(fixed, check):
        @check
        def weighted_loss(w: Float[Array, "n"], loss: Float[Array, "n"]) -> Float[Array, ""]:
            return (w * loss).sum() / w.sum()

        w, loss = B04.data()
        return lambda: jax.jit(lambda w, ls: weighted_loss(w.reshape(-1) if fixed else w, ls))(w, loss)

    def pint(fixed):
        def weighted_loss(w, loss):
            return (w * loss).sum() / w.sum()

        w, loss = B04.data()
        return lambda: weighted_loss(w.reshape(-1) if fixed else w, loss)


@case(
    "B05",
    "broadcasting",
    "(n, 1) predictions against (n,) targets inside one loss stage",
    cite=("islam2019", "wu2021"),
    expect="warned",
)
class B05:
    def data():
        r = rng(45)
        return f32(r.normal(0, 1, (32, 1))), f32(r.normal(0, 1, 32))

    def typedml(fixed):
        @tm.stage
        def mse(pred: Q[Float[Array, "n 1"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, ""], "m**2"]:
            return ((pred[:, 0] - y) ** 2).mean() if fixed else ((pred - y) ** 2).mean()

        @tm.pipeline
        def loss(pred: Q[Float[Array, "n 1"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, ""], "m**2"]:
            return mse(pred, y)

        p, y = B05.data()
        return loss, (q(p, "m"), q(y, "m"))

    def jax(fixed, check):
        @check
        def mse(pred: Float[Array, "n 1"], y: Float[Array, "n"]) -> Float[Array, ""]:
            return ((pred[:, 0] - y) ** 2).mean() if fixed else ((pred - y) ** 2).mean()

        p, y = B05.data()
        return lambda: jax.jit(mse)(p, y)

    def pint(fixed):
        @ureg().wraps("m**2", ("m", "m"))
        def mse(pred, y):
            return ((pred[:, 0] - y) ** 2).mean() if fixed else ((pred - y) ** 2).mean()

        p, y = B05.data()
        return lambda: mse(q(p, "m"), q(y, "m"))


@case(
    "B06",
    "broadcasting",
    "dense bias saved as (h, 1) added to (batch, h) activations",
    cite=("zhang2018", "islam2019"),
    expect="build",
)
class B06:
    def data():
        r = rng(46)
        return f32(r.normal(0, 1, (16, 5))), f32(r.normal(0, 1, (5, 8))), f32(r.normal(0, 1, (8, 1)))

    def typedml(fixed):
        @tm.stage
        def flat_bias(b: Float[Array, "h 1"]) -> Float[Array, "h"]:
            return b[:, 0]

        @tm.stage
        def dense(x: Float[Array, "b f"], w: Float[Array, "f h"], bias: Float[Array, "h"]) -> Float[Array, "b h"]:
            return x @ w + bias

        @tm.pipeline
        def layer(x: Float[Array, "b f"], w: Float[Array, "f h"], bias: Float[Array, "h 1"]) -> Float[Array, "b h"]:
            return dense(x, w, flat_bias(bias) if fixed else bias)

        return layer, B06.data()

    def jax(fixed, check):
        @check
        def dense(x: Float[Array, "b f"], w: Float[Array, "f h"], bias: Float[Array, "h"]) -> Float[Array, "b h"]:
            return x @ w + bias

        x, w, b = B06.data()
        return lambda: jax.jit(lambda x, w, b: dense(x, w, b[:, 0] if fixed else b))(x, w, b)

    def pint(fixed):
        def dense(x, w, bias):
            return x @ w + bias

        x, w, b = B06.data()
        return lambda: dense(x, w, b[:, 0] if fixed else b)


@case(
    "B07",
    "broadcasting",
    "row means kept as (n, 1) subtract from a per-row score (n,) into (n, n)",
    cite=("islam2019", "wu2021"),
    expect="build",
)
class B07:
    def data():
        r = rng(47)
        return f32(r.normal(0, 1, (20, 4))), f32(r.normal(0, 1, 20))

    def typedml(fixed):
        @tm.stage
        def row_mean(x: Float[Array, "n f"]) -> Float[Array, "n"] if fixed else Float[Array, "n 1"]:
            return x.mean(axis=1) if fixed else x.mean(axis=1, keepdims=True)

        @tm.stage
        def excess(score: Float[Array, "n"], base: Float[Array, "n"]) -> Float[Array, ""]:
            return (score - base).max()

        @tm.pipeline
        def ranking(x: Float[Array, "n f"], score: Float[Array, "n"]) -> Float[Array, ""]:
            return excess(score, row_mean(x))

        return ranking, B07.data()

    def jax(fixed, check):
        @check
        def excess(score: Float[Array, "n"], base: Float[Array, "n"]) -> Float[Array, ""]:
            return (score - base).max()

        x, s = B07.data()
        return lambda: jax.jit(lambda x, s: excess(s, x.mean(axis=1, keepdims=not fixed)))(x, s)

    def pint(fixed):
        def excess(score, base):
            return (score - base).max()

        x, s = B07.data()
        return lambda: excess(s, x.mean(axis=1, keepdims=not fixed))
