"""The call's fast path refuses what its slow path refuses, in every call form.

A pipeline called once has an executable cached under its inputs' units; later calls with
the same units take the fast path (bind, read units, look up, run). Each bad input below is
given to a pipeline whose cache is warm for the call form at hand, and to a fresh pipeline
that can only take the slow path: both must raise the same typed error, and the warm
pipeline must still answer good calls correctly afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q


@tm.stage
def speed(
    d: Q[Float[Array, "n"], "m"], t: Q[Float[Array, "n"], "s"], k: Q[Float[Array, ""], ""]
) -> Q[Float[Array, "n"], "m/s"]:
    return d / t * k


def make() -> tm.Pipeline[..., Any]:
    @tm.pipeline
    def pace(
        d: Q[Float[Array, "n"], "m"], t: Q[Float[Array, "n"], "s"], k: Q[Float[Array, ""], ""]
    ) -> Q[Float[Array, "n"], "m/s"]:
        return speed(d, t, k)

    return pace


def pint_jax(values: Any, unit: str) -> Any:
    return tm.get_registry().Quantity(jnp.asarray(values, dtype=jnp.float32), unit)


def pint_numpy(values: Any, unit: str) -> Any:
    return tm.get_registry().Quantity(np.asarray(values, dtype=np.float32), unit)


def typed(values: Any, unit: str) -> Any:
    return tm.Quantity(jnp.asarray(values, dtype=jnp.float32), unit)


KINDS = {"pint-jax": pint_jax, "pint-numpy": pint_numpy, "tm.Quantity": typed}

Call = Callable[[Any, Any, Any, Any], Any]  # (pipeline, d, t, k) -> result
FORMS: dict[str, Call] = {
    "positional": lambda p, d, t, k: p(d, t, k),
    "keywords": lambda p, d, t, k: p(d=d, t=t, k=k),
    "keywords, other order": lambda p, d, t, k: p(k=k, t=t, d=d),
    "mixed": lambda p, d, t, k: p(d, t=t, k=k),
}


def good(kind: Callable[[Any, str], Any]) -> tuple[Any, Any, Any]:
    return kind([1.0, 2.0, 3.0], "m"), kind([2.0, 2.0, 2.0], "s"), kind(2.0, "")


# (name, change to the good inputs) -> the same error from the warm and the fresh pipeline
BAD: dict[str, Callable[[Callable[[Any, str], Any], tuple[Any, Any, Any]], tuple[Any, Any, Any]]] = {
    "other dimension": lambda kind, g: (kind([1.0, 2.0, 3.0], "s"), g[1], g[2]),
    "no unit": lambda kind, g: (jnp.asarray([1.0, 2.0, 3.0]), g[1], g[2]),
    "unit on a dimensionless port": lambda kind, g: (g[0], g[1], kind(2.0, "m")),
    "sizes disagree": lambda kind, g: (g[0], kind([2.0, 2.0], "s"), g[2]),
    "rank": lambda kind, g: (kind([[1.0, 2.0, 3.0]], "m"), g[1], g[2]),
    "dtype": lambda kind, g: (tm.get_registry().Quantity(jnp.asarray([1, 2, 3], dtype=jnp.int32), "m"), g[1], g[2]),
    "not an array": lambda kind, g: ("three metres", g[1], g[2]),
}


def errors(call: Callable[[], Any]) -> tuple[type, list[tuple[str, str]]]:
    with pytest.raises(tm.TypedMLError) as info:
        call()
    return type(info.value), [(d.code, d.message) for d in info.value.diagnostics]


@pytest.mark.parametrize("kind_name", list(KINDS))
@pytest.mark.parametrize("form_name", list(FORMS))
def test_a_warm_cache_refuses_what_a_first_call_refuses(form_name: str, kind_name: str) -> None:
    form, kind = FORMS[form_name], KINDS[kind_name]
    inputs = good(kind)
    warm = make()
    for _ in range(3):  # the first call fills the cache, the next ones take the fast path
        np.testing.assert_allclose(np.asarray(form(warm, *inputs).to("m/s").magnitude), [1.0, 2.0, 3.0])
    for name, change in BAD.items():
        bad = change(kind, inputs)
        expected = errors(lambda bad=bad: form(make(), *bad))
        assert errors(lambda bad=bad: form(warm, *bad)) == expected, name
        assert expected[1], name
    km = (kind([0.001, 0.002, 0.003], "km"), kind([2.0, 2.0, 2.0], "s"), kind(2.0, ""))
    np.testing.assert_allclose(np.asarray(form(warm, *km).to("m/s").magnitude), [1.0, 2.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(form(warm, *inputs).to("m/s").magnitude), [1.0, 2.0, 3.0])


def _shown(err: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(err))


@pytest.mark.parametrize("mode", ["call", "record", "sharded"])
def test_a_retrace_refuses_with_the_clean_error_of_a_first_call(mode: str) -> None:
    """A second call with new shapes re-traces; what it refuses prints as the first call's error."""
    import jax
    from jax.sharding import Mesh

    def runner(p: tm.Pipeline[..., Any]) -> Callable[..., Any]:
        if mode == "sharded":
            return p.sharded(Mesh(np.array(jax.devices()[:1]), ("data",)), {"n": "data"})
        return p if mode == "call" else p.record

    warm, fresh = runner(make()), runner(make())
    warm(*good(pint_jax))  # compiled for n=3
    bad = (pint_jax([1.0, 2.0, 3.0, 4.0], "m"), pint_jax([2.0, 2.0], "s"), pint_jax(2.0, ""))
    with pytest.raises(tm.InputError) as retraced:
        warm(*bad)  # new shapes: traced again, and refused while tracing
    with pytest.raises(tm.InputError) as first:
        fresh(*bad)
    shown, expected = _shown(retraced.value), _shown(first.value)
    assert "error[TM206] `n` is 4 from 'd' but 2 from 't'" in shown
    assert "JAX" not in shown and "internal frames" not in shown
    assert not getattr(retraced.value, "__notes__", None)
    # the error as printed, from its class on, is the first call's but for the caller's line
    tail, first_tail = shown[shown.index("typedml.InputError") :], expected[expected.index("typedml.InputError") :]
    assert tail.split(": ", 2)[2] == first_tail.split(": ", 2)[2]


BINDING: dict[str, Callable[[Any, tuple[Any, Any, Any]], Any]] = {
    "unknown name": lambda p, g: p(d=g[0], t=g[1], kk=g[2]),
    "a name given twice": lambda p, g: p(g[0], d=g[0], t=g[1]),
    "missing": lambda p, g: p(d=g[0], t=g[1]),
    "too many": lambda p, g: p(*g, g[2]),
    "too few positions": lambda p, g: p(g[0], g[1]),
}


@pytest.mark.parametrize("name", list(BINDING))
def test_binding_mistakes_are_refused_warm_as_cold(name: str) -> None:
    inputs = good(pint_jax)
    warm = make()
    warm(*inputs)
    warm(d=inputs[0], t=inputs[1], k=inputs[2])
    call = BINDING[name]
    expected = errors(lambda: call(make(), inputs))
    assert errors(lambda: call(warm, inputs)) == expected
    assert {code for code, _ in expected[1]} <= {"TM201", "TM202"} and expected[1]


def test_the_happy_keyword_path_never_looks_for_the_callers_place(monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = good(pint_jax)
    p = make()
    p(*inputs)  # built and compiled (tracing asks where each stage is called: that is fine)

    def walked(*_: Any, **__: Any) -> Any:
        raise AssertionError("user_location() walked the frames of a call that binds")

    for module in ("typedml._arguments", "typedml._runtime", "typedml._errors"):
        monkeypatch.setattr(f"{module}.user_location", walked, raising=False)
    p(d=inputs[0], t=inputs[1], k=inputs[2])
    p(inputs[0], t=inputs[1], k=inputs[2])
    p(k=inputs[2], d=inputs[0], t=inputs[1])


def test_the_last_units_are_never_paired_with_another_calls_executable() -> None:
    p = make()
    metres = good(pint_jax)
    kilometres = (pint_jax([0.001, 0.002, 0.003], "km"), metres[1], metres[2])
    p(*metres), p(*kilometres)
    failures: list[str] = []

    def hammer(inputs: tuple[Any, Any, Any]) -> None:
        for _ in range(200):
            out = np.asarray(p(*inputs).to("m/s").magnitude)
            if not np.allclose(out, [1.0, 2.0, 3.0], rtol=1e-5):
                failures.append(repr(out))

    threads = [threading.Thread(target=hammer, args=(i,)) for i in (metres, kilometres, metres, kilometres)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_stage_called_directly_takes_the_same_paths() -> None:
    d, t, k = good(pint_jax)
    for _ in range(2):
        np.testing.assert_allclose(np.asarray(speed(d, t, k).magnitude), [1.0, 2.0, 3.0])
        np.testing.assert_allclose(np.asarray(speed(d=d, t=t, k=k).magnitude), [1.0, 2.0, 3.0])
    with pytest.raises(tm.InputError) as info:
        speed(d=pint_jax([1.0, 2.0, 3.0], "s"), t=t, k=k)
    assert info.value.diagnostics[0].code == "TM203"


def test_integer_data_keeps_its_own_executable() -> None:
    @tm.stage
    def count(x: Q[Int[Array, "n"], "1/s"]) -> Q[Int[Array, "n"], "1/s"]:
        return x * 2

    ints = tm.get_registry().Quantity(jnp.asarray([1, 2], dtype=jnp.int32), "1/s")
    assert list(np.asarray(count(ints).magnitude)) == [2, 4]
    assert list(np.asarray(count(x=ints).magnitude)) == [2, 4]
    with pytest.raises(tm.InputError) as info:  # a lossy integer conversion, found on the fast path too
        count(x=tm.get_registry().Quantity(jnp.asarray([1, 2], dtype=jnp.int32), "1/min"))
    assert info.value.diagnostics[0].code == "TM209"
