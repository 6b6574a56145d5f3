"""The core contract end to end: stages, tracing, graph attributes, checks, compiled runs."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pint
import pytest
from jaxtyping import Array, Float, Int

import typedml as tm
from examples.sensor.pipeline import calibrate, sensor
from typedml import Q


class Fit(NamedTuple):
    coef: Q[Float[Array, ""], "'y/'x"]
    intercept: Q[Float[Array, ""], "'y"]


@tm.stage
def linfit(x: Q[Float[Array, "n"], "'x"], y: Q[Float[Array, "n"], "'y"]) -> Fit:
    xm, ym = x.mean(), y.mean()
    coef = jnp.sum((x - xm) * (y - ym)) / jnp.sum((x - xm) ** 2)
    return Fit(coef, ym - coef * xm)


@tm.stage
def predict(
    x: Q[Float[Array, "n"], "'x"], coef: Q[Float[Array, ""], "'y/'x"], intercept: Q[Float[Array, ""], "'y"]
) -> Q[Float[Array, "n"], "'y"]:
    return x * coef + intercept


@tm.stage
def scale(x: Q[Float[Array, "n"], "'u"], factor: float = 2.0) -> Q[Float[Array, "n"], "'u"]:
    return x * factor


@tm.stage
def square(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u**2"]:
    return x * x


def test_sensor_runs_with_conversions(q):
    raw = q(np.full((4, 2), 0.01), "V")  # 10 mV
    gain = q([1.0, 2.0], "K/mV")
    offset = q([273.15, 263.15], "K")
    out = sensor(raw=raw, gain=gain, offset=offset)
    assert isinstance(out, pint.Quantity)
    assert out.units == tm.get_registry().degC
    expected = (
        tm.get_registry().Quantity(np.array([10.0 * 1.0 + 273.15, 10.0 * 2.0 + 263.15]), "K").to("degC").magnitude
    )
    np.testing.assert_allclose(np.asarray(out.magnitude), expected, rtol=1e-5)


def test_graph_nodes_and_edge_attributes():
    g = sensor.graph
    assert isinstance(g, nx.MultiDiGraph)
    assert {d["kind"] for _, d in g.nodes(data=True)} == {"input", "stage", "output"}
    assert g.nodes["calibrate"]["callee"] is calibrate
    edge = g.get_edge_data("input:raw", "calibrate")["raw"]
    assert edge["src_port"] == "raw" and edge["dst_port"] == "raw"
    assert edge["conversion"] == (1000.0, 0.0)
    assert edge["unit"] == "V" and edge["dst_unit"] == "mV"
    assert edge["shape"] == "(b, c)"
    assert edge["location"].path.endswith("examples/sensor/pipeline.py")
    out_edge = g.get_edge_data("mean", "output:return")["return"]
    scale_, offset = out_edge["conversion"]
    assert scale_ == pytest.approx(1.0) and offset == pytest.approx(-273.15)
    assert all(d["status"] == "ok" for _, _, d in g.edges(data=True))


def test_check_report_ok_and_str():
    report = sensor.check()
    assert report.ok and report.errors == [] and str(report).startswith("ok")
    report.raise_for_errors()  # does not raise


def test_namedtuple_outputs_unit_variables_and_conversion(q):
    @tm.pipeline
    def fitpred(
        x: Q[Float[Array, "n"], "s"], y: Q[Float[Array, "n"], "m"], xnew: Q[Float[Array, "k"], "min"]
    ) -> Q[Float[Array, "k"], "km"]:
        f = linfit(x, y)
        return predict(xnew, f.coef, f.intercept)

    assert fitpred.check().ok
    # 'x := min at predict, so coef (m/s) is converted to m/min on its edge (x60)
    assert fitpred.graph.get_edge_data("linfit", "predict")["coef"]["conversion"] == (60.0, 0.0)
    out = fitpred(q(np.arange(5.0), "s"), q(3 * np.arange(5.0) + 1, "m"), q([1.0, 2.0], "min"))
    assert str(out.units) == "kilometer"
    np.testing.assert_allclose(np.asarray(out.magnitude), [0.181, 0.361], rtol=1e-5)


def test_stage_namedtuple_output_direct_call(q):
    out = linfit(q([0.0, 1.0, 2.0], "s"), q([1.0, 3.0, 5.0], "m"))
    assert isinstance(out, Fit)
    assert out.coef.units == tm.get_registry().Unit("m/s")
    assert float(out.coef.magnitude) == pytest.approx(2.0)
    assert float(out.intercept.magnitude) == pytest.approx(1.0)


def test_unit_variable_binds_km_output_km2(q):
    out = square(q([1.0, 2.0], "km"))
    assert out.units == tm.get_registry().Unit("km**2")
    np.testing.assert_allclose(np.asarray(out.magnitude), [1.0, 4.0])


def test_nested_and_unit_polymorphic_pipelines(q):
    @tm.pipeline
    def twice(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u"]:
        return scale(scale(x))

    @tm.pipeline
    def outer(x: Q[Float[Array, "m"], "km"]) -> Q[Float[Array, "m"], "m"]:
        return twice(x)

    assert outer.check().ok
    assert outer.graph.nodes["twice"]["kind"] == "pipeline"
    np.testing.assert_allclose(np.asarray(outer(q(np.ones(3), "km")).magnitude), 4000.0)
    seconds = twice(q(np.ones(3), "s"))
    assert str(seconds.units) == "second"
    np.testing.assert_allclose(np.asarray(seconds.magnitude), 4.0)


def test_static_configuration_in_stage_and_pipeline(q):
    @tm.pipeline
    def scaled(x: Q[Float[Array, "n"], "m"], factor: float = 3.0) -> Q[Float[Array, "n"], "m"]:
        return scale(x, factor=factor)

    np.testing.assert_allclose(np.asarray(scaled(q([1.0], "m")).magnitude), 3.0)
    np.testing.assert_allclose(np.asarray(scaled(q([1.0], "m"), factor=5.0).magnitude), 5.0)
    np.testing.assert_allclose(np.asarray(scale(q([1.0], "m"), factor=7.0).magnitude), 7.0)


def test_plain_arrays_for_unitless_ports():
    @tm.stage
    def relu(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return jnp.maximum(x, 0.0)

    out = relu(np.array([-1.0, 2.0], dtype=np.float32))
    assert isinstance(out, jax.Array)
    np.testing.assert_allclose(np.asarray(out), [0.0, 2.0])


def test_dimensionless_ratio_converted_into_unitless_port():
    @tm.stage
    def ident(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return x

    ratio = tm.get_registry().Quantity(np.array([1.0, 2.0], dtype=np.float32), "m/km")
    np.testing.assert_allclose(np.asarray(ident(ratio)), [0.001, 0.002], rtol=1e-6)


def test_integer_edge_with_integer_factor_keeps_dtype():
    @tm.stage
    def count(x: Q[Int[Array, "n"], "m"]) -> Q[Int[Array, "n"], "m"]:
        return x

    @tm.pipeline
    def p(x: Q[Int[Array, "n"], "km"]) -> Q[Int[Array, "n"], "m"]:
        return count(x)

    out = p(tm.get_registry().Quantity(np.array([1, 2], dtype=np.int32), "km"))
    assert out.magnitude.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(out.magnitude), [1000, 2000])


def test_jax_fn_is_pure_and_differentiable():
    @tm.stage
    def total(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, ""], "'u"]:
        return jnp.sum(x)

    @tm.pipeline
    def tot(x: Q[Float[Array, "n"], "km"]) -> Q[Float[Array, ""], "m"]:
        return total(x)

    grad = jax.grad(lambda a: tot.jax_fn(a)[0])(jnp.ones(3))
    # d(sum in m)/d(x in km) = 1000 m/km
    np.testing.assert_allclose(np.asarray(grad), 1000.0)
    assert tot.input_units == {"x": "km"} and tot.output_units == {"return": "m"}
    batched = jax.vmap(tot.jax_fn)(jnp.ones((4, 3)))
    assert batched[0].shape == (4,)


def test_executable_cached_per_input_signature(q):
    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m**2"]:
        return square(x)

    p(q([1.0, 2.0], "m"))
    p(q([3.0, 4.0], "m"))
    assert len(p._caller.executables) == 1
    out = p(q([1.0, 2.0], "km"))  # another unit: another validated signature
    assert len(p._caller.executables) == 2
    np.testing.assert_allclose(np.asarray(out.magnitude), [1e6, 4e6])


def test_inputs_not_mutated(q):
    raw = q(np.full((3, 2), 0.01), "V")
    gain = q([1.0, 2.0], "K/mV")
    offset = q([273.15, 263.15], "K")
    before = [np.array(v.magnitude, copy=True) for v in (raw, gain, offset)]
    sensor(raw, gain, offset)
    for value, copy in zip((raw, gain, offset), before, strict=True):
        np.testing.assert_array_equal(value.magnitude, copy)
    assert str(raw.units) == "volt"


def test_fast_quantity_equals_pint_construction(q):
    out = square(q([1.5], "s"))
    ref = tm.get_registry().Quantity(np.asarray(out.magnitude), "s**2")
    assert out.units == ref.units and out.dimensionality == ref.dimensionality
    assert (out + ref).to("s**2").magnitude[0] == pytest.approx(4.5)


def test_custom_registry_and_units():
    reg = pint.UnitRegistry()
    reg.define("click = [clicks]")
    reg.define("user = [users]")
    with tm.use_registry(reg):

        @tm.stage
        def rate(
            clicks: Q[Float[Array, "n"], "click"], users: Q[Float[Array, "n"], "user"]
        ) -> Q[Float[Array, "n"], "click/user"]:
            return clicks / users

        out = rate(
            reg.Quantity(np.array([10.0], dtype=np.float32), "click"),
            reg.Quantity(np.array([4.0], dtype=np.float32), "user"),
        )
        assert tm.get_registry() is reg
        assert out.units == reg.Unit("click/user")
        assert float(out.magnitude[0]) == pytest.approx(2.5)
    assert tm.get_registry() is not reg


def test_set_registry_rejects_non_registry():
    with pytest.raises(TypeError, match=r"pint\.UnitRegistry"):
        tm.set_registry("not a registry")  # type: ignore[arg-type]


def test_graph_reference_example_runs_as_documented():
    import re
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "reference" / "graph.md").read_text()
    code, expected = re.findall(r"```python\n(.*?)```\n\n```text\n(.*?)```", text, re.S)[0]
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(code, "graph.md", "exec"), {})
    assert buffer.getvalue() == expected


def test_readme_shows_the_real_flagship_diagnostic():
    from pathlib import Path

    from examples.sensor.broken import sensor_transposed

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    first = str(sensor_transposed.check()).split("\nexamples")[0]
    assert first in readme


def test_typedml_quantity_inputs_and_jax_transformations():
    raw = tm.Quantity(jnp.full((4, 2), 0.01), "V")
    gain = tm.Quantity(jnp.ones(2), "K/mV")
    offset = tm.Quantity(jnp.full(2, 273.15), "K")
    out = sensor(raw, gain, offset)
    np.testing.assert_allclose(np.asarray(out.magnitude), 10.0, rtol=1e-5)
    # a pytree: passes through jit, the unit kept as static metadata
    again = jax.jit(lambda q: q)(raw)
    assert isinstance(again, tm.Quantity) and again.units == "V"
    assert jax.tree_util.tree_leaves(raw)[0] is raw.magnitude
    np.testing.assert_allclose(np.asarray(raw.to("mV").magnitude), 10.0, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(tm.Quantity(jnp.zeros(1), "degC").to("K").magnitude), 273.15)
    back = tm.Quantity.from_pint(raw.to_pint())
    assert back.to_pint().units == tm.get_registry().volt
    with pytest.raises(tm.InputError) as info:
        tm.Quantity(1.0, "furlongz")
    assert info.value.code == "TM211" and "furlongz" in str(info.value)
    with pytest.raises(tm.InputError) as info:
        raw.to("s")
    assert info.value.code == "TM203"


def test_switching_registry_drops_compiled_caches(q):
    out = square(q([2.0], "m"))
    assert out.units == tm.get_registry().Unit("m**2")
    reg = pint.UnitRegistry()
    with tm.use_registry(reg):
        again = square(reg.Quantity(np.array([2.0], dtype=np.float32), "m"))
        assert again.units == reg.Unit("m**2")  # a quantity of the registry in use
        assert (again + reg.Quantity(1.0, "m**2")).magnitude[0] == pytest.approx(5.0)
    assert square(q([3.0], "m")).units == tm.get_registry().Unit("m**2")


def test_a_pipeline_compiled_under_the_name_of_another_text_still_builds(tmp_path, monkeypatch):
    # code compiled as "notes.md" while a notes.md with other text is found: its "source"
    # lines are not the function's (an open bracket here), which must not break the build
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.md").write_text("x = (\n" * 10)
    code = (
        "import typedml as tm\n"
        "from jaxtyping import Array, Float\n"
        "@tm.pipeline\n"
        "def average(x: Float[Array, 'n c']) -> Float[Array, 'c']:\n"
        "    return tm.stdlib.mean(x)\n"
    )
    namespace: dict[str, object] = {}
    exec(compile(code, "notes.md", "exec"), namespace)
    assert namespace["average"].check().ok  # pyright: ignore[reportAttributeAccessIssue]
