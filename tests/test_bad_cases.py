"""Bad cases, table-driven: every mistake a user can make gets a typed, located, explained error.

Each row builds its stages and pipelines inside its own factory (so rows are isolated) and
names the line its diagnostic must point at with a marker comment ``# <tag>`` on that line.
Three phases: definition (the decorator raises ``StageDefinitionError``), wiring (``check()``
reports, a call raises ``WiringError``) and input (a call with bad data raises ``InputError``).
"""

import collections
import copy
import dataclasses
import os
import pickle
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q

_SOURCE = Path(__file__).read_text(encoding="utf-8").splitlines()
_FIRST_LINE = re.compile(r"^[^:]+:\d+:\d+: (error|warning|info)\[TM\d{3}\] ")


def line_of(tag: str) -> int:
    """The 1-based line of this file that ends with the marker comment ``# <tag>``."""
    hits = [i + 1 for i, text in enumerate(_SOURCE) if text.rstrip().endswith(f"# <{tag}>")]
    assert len(hits) == 1, f"marker <{tag}> found {len(hits)} times"
    return hits[0]


def qty(values: Any, unit: str, dtype: Any = np.float32) -> Any:
    return tm.get_registry().Quantity(np.asarray(values, dtype=dtype), unit)


def fresh_stages() -> Any:
    """New, independent stages for one case (a namespace of them)."""

    @tm.stage
    def in_m(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return x

    @tm.stage
    def in_km(x: Q[Float[Array, "n"], "km"]) -> Q[Float[Array, "n"], "km"]:
        return x

    @tm.stage
    def in_s(x: Q[Float[Array, "n"], "s"]) -> Q[Float[Array, "n"], "s"]:
        return x

    @tm.stage
    def in_k(x: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "K"]:
        return x

    @tm.stage
    def pair(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return x + y

    @tm.stage
    def pair_u(x: Q[Float[Array, "n"], "'u"], y: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u"]:
        return x + y

    @tm.stage
    def three(x: Q[Float[Array, "3"], "m"]) -> Q[Float[Array, "3"], "m"]:
        return x

    @tm.stage
    def unitless(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return x

    @tm.stage
    def to_int(x: Q[Float[Array, "n"], "m"]) -> Q[Int[Array, "n"], "m"]:
        return x.astype(jnp.int32)

    @tm.stage
    def int_km(x: Q[Int[Array, "n"], "km"]) -> Q[Int[Array, "n"], "km"]:
        return x

    @tm.stage
    def int_k(x: Q[Int[Array, "n"], "K"]) -> Q[Int[Array, "n"], "K"]:
        return x

    @tm.stage
    def square(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, "n"], "'u**2"]:
        return x * x

    @tm.stage
    def fit(x: Q[Float[Array, "n"], "'x"], y: Q[Float[Array, "n"], "'y"]) -> Q[Float[Array, ""], "'y/'x"]:
        return jnp.sum(x * y) / jnp.sum(x * x)

    @tm.stage
    def product(x: Q[Float[Array, "n"], "'a*'b"]) -> Q[Float[Array, "n"], "'a"]:
        return x

    @tm.stage
    def scale(x: Q[Float[Array, "n"], "m"], k: int = 2) -> Q[Float[Array, "n"], "m"]:
        return x * k

    @tm.stage
    def from_tree(params: dict[str, Any]) -> Q[Float[Array, "n"], "m"]:
        return params["x"]

    return types.SimpleNamespace(**locals())


@dataclasses.dataclass(frozen=True)
class Wired:
    """What a wiring case builds: the pipeline and data that would be valid for its signature."""

    pipeline: tm.Pipeline[..., Any]
    args: tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class Bad:
    id: str
    make: Callable[[], Any]  # definition: raises; wiring: returns Wired; input: returns a thunk
    error: type[tm.TypedMLError]
    code: str
    marker: str  # the line the diagnostic must point at
    facts: tuple[str, ...]  # each must appear in the diagnostic's message, notes or hint
    port: str | None = None
    stage: str | None = None
    marks: tuple[Any, ...] = ()

    @property
    def phase(self) -> str:
        return {tm.StageDefinitionError: "definition", tm.WiringError: "wiring", tm.InputError: "input"}[self.error]


# --- definition errors (TM001-TM013) -----------------------------------------------------


def d_unknown_unit() -> None:
    @tm.stage
    def warm(
        t: Q[Float[Array, "n"], "Kelvinn"],  # <tm001-param>
    ) -> Q[Float[Array, "n"], "K"]:
        return t


def d_unknown_unit_in_return() -> None:
    @tm.stage
    def speed(
        d: Q[Float[Array, "n"], "m"],
    ) -> Q[Float[Array, "n"], "meterz/s"]:  # <tm001-return>
        return d


def d_unknown_unit_next_to_variable() -> None:
    @tm.stage
    def per(
        x: Q[Float[Array, "n"], "'u/blorb"],  # <tm001-var>
    ) -> Q[Float[Array, "n"], "'u"]:
        return x


def d_malformed_unit() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n"], "m/"],  # <tm002-slash>
    ) -> Q[Float[Array, "n"], "m"]:
        return x


def d_malformed_unit_with_variable() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n"], "'u+m"],  # <tm002-plus>
    ) -> Q[Float[Array, "n"], "'u"]:
        return x


def d_malformed_exponent() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n"], "'u**x"],  # <tm002-exp>
    ) -> Q[Float[Array, "n"], "'u"]:
        return x


def d_delta_of_concrete_unit() -> None:
    @tm.stage
    def spread(
        x: Q[Float[Array, "n"], "'u"],
    ) -> Q[Float[Array, ""], "delta('u*m)"]:  # <tm002-delta>
        return x.std()


def d_bad_shape() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n+"], "m"],  # <tm003-plus>
    ) -> Q[Float[Array, "n"], "m"]:
        return x


def d_bad_shape_second_axis() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n"], "m"],
        y: Float[Array, "b 3n"],  # <tm003-3n>
    ) -> Q[Float[Array, "n"], "m"]:
        return x


def d_missing_param_annotation() -> None:
    @tm.stage
    def f(
        x,  # <tm004-stage>
        y: Q[Float[Array, "n"], "m"],
    ) -> Q[Float[Array, "n"], "m"]:
        return y


def d_missing_param_annotation_pipeline() -> None:
    @tm.pipeline
    def p(
        x: Q[Float[Array, "n"], "m"],
        y,  # <tm004-pipeline>
    ) -> Q[Float[Array, "n"], "m"]:
        return x


def d_missing_return_annotation() -> None:
    @tm.stage
    def norm(x: Q[Float[Array, "n"], "m"]):  # <tm005>
        return x


def d_unit_var_only_in_output() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n"], "m"],
    ) -> Q[Float[Array, "n"], "'u"]:  # <tm006-u>
        return x


def d_ratio_var_only_in_output() -> None:
    @tm.stage
    def slope(
        x: Q[Float[Array, "n"], "'x"],
    ) -> Q[Float[Array, ""], "'y/'x"]:  # <tm006-ratio>
        return x.sum()


def d_q_on_int() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n"], "m"],
        count: Q[int, "m"],  # <tm007-int>
    ) -> Q[Float[Array, "n"], "m"]:
        return x


def d_q_on_float_return() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n"], "m"],
    ) -> Q[float, "m"]:  # <tm007-float>
        return 1.0


def d_q_one_argument() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n"]],  # <tm008-one>
    ) -> Q[Float[Array, "n"], "m"]:
        return x


def d_q_non_string_unit() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n"], 3],  # <tm008-int>
    ) -> Q[Float[Array, "n"], "m"]:
        return x


def d_q_three_arguments() -> None:
    @tm.stage
    def f(
        x: Q[Float[Array, "n"], "m", "s"],  # <tm008-three>
    ) -> Q[Float[Array, "n"], "m"]:
        return x


def d_star_args() -> None:
    @tm.stage
    def total(
        *xs: Q[Float[Array, "n"], "m"],  # <tm009-args>
    ) -> Q[Float[Array, "n"], "m"]:
        return xs[0]


def d_star_star_kwargs() -> None:
    @tm.stage
    def total(
        x: Q[Float[Array, "n"], "m"],
        **opts: Q[Float[Array, "n"], "m"],  # <tm009-kwargs>
    ) -> Q[Float[Array, "n"], "m"]:
        return x


def d_bare_jax_array() -> None:
    @tm.stage
    def f(
        x: jax.Array,  # <tm010-array>
    ) -> Q[Float[Array, "n"], "m"]:
        return x


def d_unresolvable_annotation() -> None:
    @tm.stage  # <tm010-fwd>
    def f(x: "Undefined") -> Q[Float[Array, "n"], "m"]:
        return x


Pair = collections.namedtuple("Pair", ["low", "high"])  # fields without annotations


def d_namedtuple_field_without_annotation() -> None:
    @tm.stage
    def bounds(
        x: Q[Float[Array, "n"], "m"],
    ) -> Pair:  # <tm011>
        return Pair(x.min(), x.max())


def d_not_a_function() -> None:
    tm.stage(42)  # <tm012-int>


def d_class() -> None:
    @tm.stage  # <tm012-class>
    class Model:
        pass


def d_pipeline_of_a_stage() -> None:
    s = fresh_stages()
    tm.pipeline(s.in_m)  # <tm012-stage>


def d_stage_with_parentheses() -> None:
    @tm.stage()  # <tm012-parens>
    def f(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return x


def d_pipeline_with_parentheses() -> None:
    @tm.pipeline()  # <tm012-pparens>
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return x


def d_pipeline_static_without_default() -> None:
    s = fresh_stages()

    @tm.pipeline  # <tm013>
    def stretch(x: Q[Float[Array, "n"], "m"], k: int) -> Q[Float[Array, "n"], "m"]:
        return s.scale(x, k)


SDE = tm.StageDefinitionError

DEFINITION_CASES = [
    Bad("TM001-unknown-unit", d_unknown_unit, SDE, "TM001", "tm001-param", ("'Kelvinn'", "parameter 't'", "'warm'", "not defined in the unit registry"), port="t", stage="warm"),
    Bad("TM001-unknown-unit-in-return", d_unknown_unit_in_return, SDE, "TM001", "tm001-return", ("'meterz'", "return value", "'speed'"), port="return", stage="speed"),
    Bad("TM001-unknown-unit-next-to-variable", d_unknown_unit_next_to_variable, SDE, "TM001", "tm001-var", ("'blorb'", "'u/blorb", "parameter 'x'"), port="x"),
    Bad("TM002-trailing-slash", d_malformed_unit, SDE, "TM002", "tm002-slash", ("malformed unit expression", "'m/'", "parameter 'x'"), port="x"),
    Bad("TM002-plus-in-unit", d_malformed_unit_with_variable, SDE, "TM002", "tm002-plus", ("malformed unit expression", "'u+m", "'u + m"), port="x"),
    Bad("TM002-delta-of-an-expression", d_delta_of_concrete_unit, SDE, "TM002", "tm002-delta", ("delta('u*m)", "delta(...) takes one unit variable"), port="return"),
    Bad("TM002-non-numeric-exponent", d_malformed_exponent, SDE, "TM002", "tm002-exp", ("'u**x", "exponent must be a number"), port="x"),
    Bad("TM003-n-plus", d_bad_shape, SDE, "TM003", "tm003-plus", ("bad shape 'n+'", "'n+' is not a valid axis", "parameter 'x'"), port="x"),
    Bad("TM003-second-port-3n", d_bad_shape_second_axis, SDE, "TM003", "tm003-3n", ("bad shape 'b 3n'", "'3n'", "parameter 'y'"), port="y"),
    Bad("TM004-stage-param-without-annotation", d_missing_param_annotation, SDE, "TM004", "tm004-stage", ("parameter 'x' of stage 'f' has no annotation",), port="x", stage="f"),
    Bad("TM004-pipeline-param-without-annotation", d_missing_param_annotation_pipeline, SDE, "TM004", "tm004-pipeline", ("parameter 'y' of pipeline 'p' has no annotation",), port="y", stage="p"),
    Bad("TM005-no-return-annotation", d_missing_return_annotation, SDE, "TM005", "tm005", ("stage 'norm' has no return annotation",), port="return", stage="norm"),
    Bad("TM006-unit-var-only-in-output", d_unit_var_only_in_output, SDE, "TM006", "tm006-u", ("unit variable 'u", "return value", "appears in no input", "no unit variables"), port="return"),
    Bad("TM006-ratio-var-only-in-output", d_ratio_var_only_in_output, SDE, "TM006", "tm006-ratio", ("unit variable 'y", "appears in no input", "inputs bind: 'x'"), port="return", stage="slope"),
    Bad("TM007-Q-on-int", d_q_on_int, SDE, "TM007", "tm007-int", ("parameter 'count'", "wraps int", "not a jaxtyping array type"), port="count"),
    Bad("TM007-Q-on-float-return", d_q_on_float_return, SDE, "TM007", "tm007-float", ("return value", "wraps float"), port="return"),
    Bad("TM008-Q-without-unit", d_q_one_argument, SDE, "TM008", "tm008-one", ("malformed Q[...]", "parameter 'x'", "got Q[Float["), port="x"),
    Bad("TM008-Q-non-string-unit", d_q_non_string_unit, SDE, "TM008", "tm008-int", ("malformed Q[...]", ", 3]"), port="x"),
    Bad("TM008-Q-three-arguments", d_q_three_arguments, SDE, "TM008", "tm008-three", ("malformed Q[...]", "'m', 's'"), port="x"),
    Bad("TM009-star-args", d_star_args, SDE, "TM009", "tm009-args", ("stage 'total' has *xs", "every port must be named"), port="xs", stage="total"),
    Bad("TM009-star-star-kwargs", d_star_star_kwargs, SDE, "TM009", "tm009-kwargs", ("stage 'total' has **opts", "every port must be named"), port="opts", stage="total"),
    Bad("TM010-bare-jax-array", d_bare_jax_array, SDE, "TM010", "tm010-array", ("parameter 'x'", "no shape or dtype"), port="x"),
    Bad("TM010-unresolvable-forward-ref", d_unresolvable_annotation, SDE, "TM010", "tm010-fwd", ("cannot resolve the annotations of stage 'f'", "NameError", "Undefined"), stage="f"),
    Bad("TM011-namedtuple-field-without-annotation", d_namedtuple_field_without_annotation, SDE, "TM011", "tm011", ("output field 'low' of Pair has no annotation",), stage="bounds"),
    Bad("TM012-stage-of-an-int", d_not_a_function, SDE, "TM012", "tm012-int", ("@tm.stage expects a Python function, got int",)),
    Bad("TM012-stage-on-a-class", d_class, SDE, "TM012", "tm012-class", ("@tm.stage expects a Python function", "type Model")),
    Bad("TM012-pipeline-of-a-stage", d_pipeline_of_a_stage, SDE, "TM012", "tm012-stage", ("@tm.pipeline expects a Python function", "Stage in_m")),
    Bad("TM012-stage-with-parentheses", d_stage_with_parentheses, SDE, "TM012", "tm012-parens", ("@tm.stage expects a Python function", "parentheses")),
    Bad("TM012-pipeline-with-parentheses", d_pipeline_with_parentheses, SDE, "TM012", "tm012-pparens", ("@tm.pipeline expects a Python function", "parentheses")),
    Bad("TM013-pipeline-static-without-default", d_pipeline_static_without_default, SDE, "TM013", "tm013", ("static parameter 'k' of pipeline 'stretch' has no default",), port="k", stage="stretch"),
]  # fmt: skip


# --- wiring errors (TM101-TM118) ---------------------------------------------------------


def w_int_into_float() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_m(s.to_int(x))  # <tm101>

    return Wired(p, (qty([1.0, 2.0], "m"),))


def w_unit_dimension() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(t: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_m(t)  # <tm102-dim>

    return Wired(p, (qty([1.0, 2.0], "K"),))


def w_prefix_ok_dimension_not() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "mm"]) -> Q[Float[Array, "n"], "s"]:
        d = s.in_km(x)  # mm -> km is a conversion, fine
        return s.in_s(d)  # <tm102-prefix>

    return Wired(p, (qty([1.0, 2.0], "mm"),))


def w_unit_mismatch_at_output() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_k(x)  # <tm102-output>

    return Wired(p, (qty([1.0, 2.0], "K"),))


def w_unit_variable_mismatch() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(a: Q[Float[Array, "n"], "m"], b: Q[Float[Array, "n"], "s"]) -> Q[Float[Array, "n"], "m"]:
        return s.pair_u(a, b)  # <tm102-var>

    return Wired(p, (qty([1.0], "m"), qty([1.0], "s")))


def w_fixed_size() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "4"], "m"]) -> Q[Float[Array, "3"], "m"]:
        return s.three(x)  # <tm103-fixed>

    return Wired(p, (qty(np.ones(4), "m"),))


def w_shape_var_two_fixed_sizes() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "3"], "m"], y: Q[Float[Array, "4"], "m"]) -> Q[Float[Array, "3"], "m"]:
        return s.pair(x, y)  # <tm103-var>

    return Wired(p, (qty(np.ones(3), "m"), qty(np.ones(4), "m")))


def w_rank() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n 2"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_m(x)  # <tm104>

    return Wired(p, (qty(np.ones((3, 2)), "m"),))


def w_shape_var_conflict() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "a"], "m"], y: Q[Float[Array, "b"], "m"]) -> Q[Float[Array, "a"], "m"]:
        return s.pair(x, y)  # <tm105>

    return Wired(p, (qty(np.ones(3), "m"), qty(np.ones(3), "m")))


def w_unit_into_unitless() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "km"]) -> Float[Array, "n"]:
        return s.unitless(x)  # <tm106>

    return Wired(p, (qty([1.0], "km"),))


def w_lossy_int_edge() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Int[Array, "n"], "m"]) -> Q[Int[Array, "n"], "km"]:
        return s.int_km(x)  # <tm107-m-km>

    return Wired(p, (qty([1000, 2000], "m", np.int32),))


def w_lossy_int_affine_edge() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Int[Array, "n"], "degC"]) -> Q[Int[Array, "n"], "K"]:
        return s.int_k(x)  # <tm107-affine>

    return Wired(p, (qty([1, 2], "degC", np.int32),))


def w_affine_squared() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(t: Q[Float[Array, "n"], "degC"]) -> Q[Float[Array, "n"], "K**2"]:
        return s.square(t)  # <tm108-square>

    return Wired(p, (qty([1.0], "degC"),))


def w_affine_ratio() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "s"], t: Q[Float[Array, "n"], "degF"]) -> Q[Float[Array, ""], "K/s"]:
        return s.fit(x, t)  # <tm108-ratio>

    return Wired(p, (qty([1.0], "s"), qty([1.0], "degF")))


def w_cannot_infer() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.product(x)  # <tm109>

    return Wired(p, (qty([1.0], "m"),))


def w_unknown_keyword() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_m(xx=x)  # <tm110-unknown>

    return Wired(p, (qty([1.0], "m"),))


def w_repeated_argument() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.pair(x, y, x=y)  # <tm110-repeated>

    return Wired(p, (qty([1.0], "m"), qty([1.0], "m")))


def w_missing_argument() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.pair(x)  # <tm111>

    return Wired(p, (qty([1.0], "m"),))


def w_extra_argument() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_m(x, x)  # <tm112>

    return Wired(p, (qty([1.0], "m"),))


def w_float_constant() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.pair(x, 1.0)  # <tm113-float>

    return Wired(p, (qty([1.0], "m"),))


def w_array_literal() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.pair(x, jnp.ones(3))  # <tm113-array>

    return Wired(p, (qty([1.0], "m"),))


def w_quantity_constant() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.pair(x, tm.get_registry().Quantity(np.ones(3), "m"))  # <tm113-quantity>

    return Wired(p, (qty([1.0], "m"),))


def w_forgot_return() -> Wired:
    s = fresh_stages()

    @tm.pipeline  # <tm113-noreturn>
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        s.in_m(x)

    return Wired(p, (qty([1.0], "m"),))


def w_value_from_another_pipeline() -> Wired:
    s = fresh_stages()
    leaked: dict[str, Any] = {}

    @tm.pipeline
    def first(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        leaked["x"] = x
        return s.in_m(x)

    @tm.pipeline
    def second(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_m(leaked["x"])  # <tm113-leaked>

    assert first.check().ok
    return Wired(second, (qty([1.0], "m"),))


def w_arithmetic_on_result() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_m(x) * 2  # <tm114-mul>

    return Wired(p, (qty([1.0], "m"),))


def w_arithmetic_on_inputs() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_m(x + y)  # <tm114-add>

    return Wired(p, (qty([1.0], "m"), qty([1.0], "m")))


def w_if_on_traced() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        if x:  # <tm114-if>
            return s.in_m(x)
        return x

    return Wired(p, (qty([1.0], "m"),))


def w_unpack_traced() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        first, *_ = s.in_m(x)  # <tm114-unpack>
        return first

    return Wired(p, (qty([1.0], "m"),))


def w_jax_on_traced() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_m(jnp.sin(x))  # <tm114-jax>

    return Wired(p, (qty([1.0], "m"),))


def w_tuple_for_single_output() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.in_m(x), x  # <tm115-tuple>

    return Wired(p, (qty([1.0], "m"),))


class LowHigh(NamedTuple):
    low: Q[Float[Array, "n"], "m"]
    high: Q[Float[Array, "n"], "m"]


def w_single_for_namedtuple() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> LowHigh:
        return s.in_m(x)  # <tm115-single>

    return Wired(p, (qty([1.0], "m"),))


def w_traced_into_static() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.scale(x, k=y)  # <tm116>

    return Wired(p, (qty([1.0], "m"), qty([1.0], "m")))


def w_array_into_pytree() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.from_tree(x)  # <tm117>

    return Wired(p, (qty([1.0], "m"),))


def w_body_raises() -> Wired:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        table = {"a": s.in_m}
        return table["b"](x)  # <tm118>

    return Wired(p, (qty([1.0], "m"),))


WE = tm.WiringError

WIRING_CASES = [
    Bad("TM101-int-into-float", w_int_into_float, WE, "TM101", "tm101", ("dtype mismatch on edge to_int -> in_m.x", "to_int produces Int", "x expects Float"), port="x", stage="in_m"),
    Bad("TM102-unit-dimension", w_unit_dimension, WE, "TM102", "tm102-dim", ("unit mismatch on edge t -> in_m.x", "t carries K ([temperature])", "x expects m ([length])", "no conversion exists"), port="x", stage="in_m"),
    Bad("TM102-prefix-ok-dimension-not", w_prefix_ok_dimension_not, WE, "TM102", "tm102-prefix", ("in_km -> in_s.x", "in_km carries km ([length])", "x expects s ([time])"), port="x", stage="in_s"),
    Bad("TM102-at-output", w_unit_mismatch_at_output, WE, "TM102", "tm102-output", ("in_k -> output 'return'", "in_k carries K", "return expects m"), port="return"),
    Bad("TM102-unit-variable", w_unit_variable_mismatch, WE, "TM102", "tm102-var", ("b -> pair_u.y", "b carries s ([time])", "y expects 'u = m ([length])", "'u bound to m by a -> pair_u.x"), port="y", stage="pair_u"),
    Bad("TM103-fixed-size", w_fixed_size, WE, "TM103", "tm103-fixed", ("size mismatch on edge x -> three.x", "expected 3, found 4", "x declares '4'"), port="x", stage="three"),
    Bad("TM103-shape-variable-two-sizes", w_shape_var_two_fixed_sizes, WE, "TM103", "tm103-var", ("y -> pair.y", "`pair.n` is 3 from x -> pair.x but 4 from y"), port="y", stage="pair"),
    Bad("TM104-rank", w_rank, WE, "TM104", "tm104", ("rank mismatch on edge x -> in_m.x", "expected 1 axis", "found 2 axes (n, 2)"), port="x", stage="in_m"),
    Bad("TM105-independent-shape-variables", w_shape_var_conflict, WE, "TM105", "tm105", ("y -> pair.y", "`pair.n` is a from x -> pair.x but b from y", "a and b are independent sizes"), port="y", stage="pair"),
    Bad("TM106-unit-into-unitless-port", w_unit_into_unitless, WE, "TM106", "tm106", ("unit km flows into unit-less port on edge x -> unitless.x", "x carries km ([length])", "without Q[...]"), port="x", stage="unitless"),
    Bad("TM107-int-m-into-km", w_lossy_int_edge, WE, "TM107", "tm107-m-km", ("lossy unit conversion on integer edge x -> int_km.x", "m -> km multiplies by 0.001", "x is Int"), port="x", stage="int_km"),
    Bad("TM107-int-degC-into-K", w_lossy_int_affine_edge, WE, "TM107", "tm107-affine", ("integer edge x -> int_k.x", "adds 273.15"), port="x", stage="int_k"),
    Bad("TM108-affine-u-squared", w_affine_squared, WE, "TM108", "tm108-square", ("affine unit °C bound to 'u is used in 'u**2 by square.return", "'u := °C from t -> square.x", "no meaning in products, powers or ratios"), port="return", stage="square"),
    Bad("TM108-affine-in-ratio", w_affine_ratio, WE, "TM108", "tm108-ratio", ("°F bound to 'y", "'y/'x", "fit.return"), port="return", stage="fit"),
    Bad("TM109-cannot-infer", w_cannot_infer, WE, "TM109", "tm109", ("cannot infer unit variables 'a, 'b of product", "x expects 'a*'b"), port="x", stage="product"),
    Bad("TM110-unknown-keyword", w_unknown_keyword, WE, "TM110", "tm110-unknown", ("in_m() got an unexpected argument 'xx'", "parameters: x", "did you mean 'x'?"), port="xx", stage="in_m"),
    Bad("TM110-repeated-argument", w_repeated_argument, WE, "TM110", "tm110-repeated", ("pair() got several values for argument 'x'",), port="x", stage="pair"),
    Bad("TM111-missing-argument", w_missing_argument, WE, "TM111", "tm111", ("pair() is missing argument 'y'", "y: Float['n'] in m"), port="y", stage="pair"),
    Bad("TM112-extra-argument", w_extra_argument, WE, "TM112", "tm112", ("in_m() takes 1 argument but 2 were given", "parameters: x"), stage="in_m"),
    Bad("TM113-float-constant", w_float_constant, WE, "TM113", "tm113-float", ("pair.y received a value of type float", "expected: Float['n'] in m", "found: float 1.0"), port="y", stage="pair"),
    Bad("TM113-array-literal", w_array_literal, WE, "TM113", "tm113-array", ("pair.y received a value of type ArrayImpl", "not a value flowing through the pipeline"), port="y", stage="pair"),
    Bad("TM113-quantity-constant", w_quantity_constant, WE, "TM113", "tm113-quantity", ("pair.y received a value of type Quantity", "pipeline inputs (with their unit)"), port="y", stage="pair"),
    Bad("TM113-forgot-return", w_forgot_return, WE, "TM113", "tm113-noreturn", ("output 'return' of pipeline 'p' received a value of type NoneType", "found: NoneType None"), port="return"),
    Bad("TM113-value-from-another-pipeline", w_value_from_another_pipeline, WE, "TM113", "tm113-leaked", ("in_m.x received a value traced in another pipeline",), port="x", stage="in_m"),
    Bad("TM114-arithmetic-on-result", w_arithmetic_on_result, WE, "TM114", "tm114-mul", ("operator __mul__ on traced value in_m inside a pipeline", "move the computation into a @tm.stage")),
    Bad("TM114-arithmetic-on-inputs", w_arithmetic_on_inputs, WE, "TM114", "tm114-add", ("operator __add__ on traced value x",)),
    Bad("TM114-if-on-traced", w_if_on_traced, WE, "TM114", "tm114-if", ("branching (bool) on traced value x",)),
    Bad("TM114-unpack-traced", w_unpack_traced, WE, "TM114", "tm114-unpack", ("iteration on traced value in_m",)),
    Bad("TM114-jax-on-traced", w_jax_on_traced, WE, "TM114", "tm114-jax", ("a JAX operation on traced values", "JAX said: TypeError")),
    Bad("TM115-tuple-for-single-output", w_tuple_for_single_output, WE, "TM115", "tm115-tuple", ("pipeline 'p' returns a tuple of 2 values but declares one output",)),
    Bad("TM115-single-for-namedtuple", w_single_for_namedtuple, WE, "TM115", "tm115-single", ("returns one value (in_m)", "declares 2 outputs (low, high)", "return LowHigh(...)")),
    Bad("TM116-traced-into-static-int", w_traced_into_static, WE, "TM116", "tm116", ("static parameter scale.k received traced value y", "k is configuration (int)"), port="k", stage="scale"),
    Bad("TM117-array-into-pytree-port", w_array_into_pytree, WE, "TM117", "tm117", ("kind mismatch on edge x -> from_tree.params", "found: Float['n'] in m", "expected: pytree value"), port="params", stage="from_tree"),
    Bad("TM118-body-raises", w_body_raises, WE, "TM118", "tm118", ("the pipeline body raised KeyError: 'b'",)),
]  # fmt: skip


# --- input errors (TM201-TM210) ----------------------------------------------------------


def _pair_pipeline() -> tm.Pipeline[..., Any]:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"], y: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return s.pair(x, y)

    return p


def i_missing_keyword() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(x=qty([1.0], "m"))  # <tm201-kw>


def i_missing_positional() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(qty([1.0], "m"))  # <tm201-pos>


def i_unexpected_keyword() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(qty([1.0], "m"), qty([1.0], "m"), z=qty([1.0], "m"))  # <tm202-kw>


def i_too_many_positional() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(qty([1.0], "m"), qty([1.0], "m"), qty([1.0], "m"))  # <tm202-pos>


def i_unknown_static() -> Callable[[], Any]:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"], k: int = 2) -> Q[Float[Array, "n"], "m"]:
        return s.scale(x, k)

    return lambda: p.configure(kk=3)  # <tm202-static>


def i_wrong_dimension() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(qty([1.0], "m"), qty([1.0], "s"))  # <tm203>


def i_unit_variable_mismatch() -> Callable[[], Any]:
    s = fresh_stages()
    return lambda: s.pair_u(qty([1.0], "m"), qty([1.0], "kg"))  # <tm203-var>


def i_plain_array_into_unit_port() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(qty([1.0], "m"), np.ones(1, np.float32))  # <tm204>


def i_rank() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(qty([1.0, 2.0], "m"), qty([[1.0, 2.0]], "m"))  # <tm205>


def i_scalar_into_vector() -> Callable[[], Any]:
    s = fresh_stages()
    return lambda: s.unitless(np.float32(3.0))  # <tm205-scalar>


def i_shape_variable_conflict() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(qty(np.ones(4), "m"), qty(np.ones(7), "m"))  # <tm206>


def i_shape_variable_conflict_stage() -> Callable[[], Any]:
    s = fresh_stages()
    return lambda: s.pair(qty(np.ones(2), "m"), qty(np.ones(5), "m"))  # <tm206-stage>


def i_fixed_size() -> Callable[[], Any]:
    s = fresh_stages()
    return lambda: s.three(qty(np.ones(4), "m"))  # <tm206-fixed>


def i_int_into_float() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(qty([1.0], "m"), qty([1], "m", np.int32))  # <tm207-int>


def i_float_into_int() -> Callable[[], Any]:
    s = fresh_stages()
    return lambda: s.int_km(qty([1.0], "km"))  # <tm207-float>


def i_string() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(qty([1.0], "m"), "1 m")  # <tm208-str>


def i_none() -> Callable[[], Any]:
    p = _pair_pipeline()
    return lambda: p(None, qty([1.0], "m"))  # <tm208-none>


def i_lossy_int() -> Callable[[], Any]:
    s = fresh_stages()
    return lambda: s.int_km(qty([1500], "m", np.int32))  # <tm209>


def i_lossy_int_affine() -> Callable[[], Any]:
    s = fresh_stages()
    return lambda: s.int_k(qty([20], "degC", np.int32))  # <tm209-affine>


def i_unit_into_unitless() -> Callable[[], Any]:
    s = fresh_stages()
    return lambda: s.unitless(qty([1.0], "m"))  # <tm210>


IE = tm.InputError

INPUT_CASES = [
    Bad("TM201-missing-keyword", i_missing_keyword, IE, "TM201", "tm201-kw", ("p() is missing input 'y'", "expected: Float['n'] in m"), port="y", stage="p"),
    Bad("TM201-missing-positional", i_missing_positional, IE, "TM201", "tm201-pos", ("p() is missing input 'y'",), port="y", stage="p"),
    Bad("TM202-unexpected-keyword", i_unexpected_keyword, IE, "TM202", "tm202-kw", ("p() got an unexpected input 'z'", "inputs: x, y"), port="z", stage="p"),
    Bad("TM202-too-many-positional", i_too_many_positional, IE, "TM202", "tm202-pos", ("p() takes 2 inputs but 3 were given",), stage="p"),
    Bad("TM202-unknown-static", i_unknown_static, IE, "TM202", "tm202-static", ("p() has no static parameter 'kk'", "static parameters: k"), port="kk", stage="p"),
    Bad("TM203-wrong-dimension", i_wrong_dimension, IE, "TM203", "tm203", ("unit mismatch on input 'y' of p(): expected m, found s", "expected: m ([length])", "found: s ([time])"), port="y", stage="p"),
    Bad("TM203-unit-variable", i_unit_variable_mismatch, IE, "TM203", "tm203-var", ("input 'y' of pair_u()", "expected: m ([length])", "found: kg ([mass])"), port="y", stage="pair_u"),
    Bad("TM204-plain-array-into-unit-port", i_plain_array_into_unit_port, IE, "TM204", "tm204", ("input 'y' of p() has no unit; expected m", "found: plain ndarray (no unit)", "Quantity(x, 'm')"), port="y", stage="p"),
    Bad("TM205-rank", i_rank, IE, "TM205", "tm205", ("rank mismatch on input 'y' of p()", "expected 1 axis", "found 2 axes", "found: shape (1, 2)", "bindings so far: n=2"), port="y", stage="p"),
    Bad("TM205-scalar-into-vector", i_scalar_into_vector, IE, "TM205", "tm205-scalar", ("rank mismatch on input 'x' of unitless()", "found 0 axes", "expected: 'n'"), port="x", stage="unitless"),
    Bad("TM206-shape-variable-conflict", i_shape_variable_conflict, IE, "TM206", "tm206", ("`n` is 4 from 'x' but 7 from 'y'", "found: shape (7,)", "bindings so far: n=4"), port="y", stage="p"),
    Bad("TM206-shape-variable-conflict-stage", i_shape_variable_conflict_stage, IE, "TM206", "tm206-stage", ("`n` is 2 from 'x' but 5 from 'y'",), port="y", stage="pair"),
    Bad("TM206-fixed-size", i_fixed_size, IE, "TM206", "tm206-fixed", ("size mismatch on input 'x' of three(): expected 3, found 4", "expected: '3'"), port="x", stage="three"),
    Bad("TM207-int-into-float", i_int_into_float, IE, "TM207", "tm207-int", ("dtype mismatch on input 'y' of p(): expected Float, found int32", ".astype("), port="y", stage="p"),
    Bad("TM207-float-into-int", i_float_into_int, IE, "TM207", "tm207-float", ("expected Int, found float32",), port="x", stage="int_km"),
    Bad("TM208-string", i_string, IE, "TM208", "tm208-str", ("input 'y' of p() is a str, not an array or quantity", "expected: Float['n'] in m"), port="y", stage="p"),
    Bad("TM208-none", i_none, IE, "TM208", "tm208-none", ("input 'x' of p() is a NoneType",), port="x", stage="p"),
    Bad("TM209-lossy-int-m-to-km", i_lossy_int, IE, "TM209", "tm209", ("integer input 'x' of int_km() would be converted lossily", "multiplies by 0.001", "dtype: int32"), port="x", stage="int_km"),
    Bad("TM209-lossy-int-affine", i_lossy_int_affine, IE, "TM209", "tm209-affine", ("integer input 'x' of int_k()", "adds 273.15"), port="x", stage="int_k"),
    Bad("TM210-unit-into-unitless-port", i_unit_into_unitless, IE, "TM210", "tm210", ("input 'x' of unitless() carries m but the port has no unit", "found: m ([length])", "(no unit)"), port="x", stage="unitless"),
]  # fmt: skip

ALL_CASES = DEFINITION_CASES + WIRING_CASES + INPUT_CASES
_BUILTIN = {tm.StageDefinitionError: TypeError, tm.WiringError: TypeError, tm.InputError: ValueError}


def _params(cases: list[Bad]) -> list[Any]:
    return [pytest.param(c, id=c.id, marks=c.marks) for c in cases]


def _trigger(case: Bad) -> tm.TypedMLError:
    """Run the case and return the error it raised (failing if it raised none or another)."""
    with pytest.raises(case.error) as info:
        made = case.make()
        if isinstance(made, Wired):
            made.pipeline(*made.args)
        elif callable(made):
            made()
    return info.value


def _diagnostic(err: tm.TypedMLError, code: str) -> tm.Diagnostic:
    found = [d for d in err.diagnostics if d.code == code]
    assert found, f"no {code} among {err.codes}"
    return found[0]


def _assert_located(diag: tm.Diagnostic, marker: str) -> None:
    loc = diag.location
    assert loc is not None, f"{diag.code} has no location"
    assert os.path.realpath(loc.path) == os.path.realpath(__file__)
    assert loc.line == line_of(marker), f"{diag.code} points at line {loc.line}, expected {line_of(marker)}"
    assert loc.col >= 1


def _assert_text(err: tm.TypedMLError) -> None:
    lines = str(err).splitlines()
    errors = [d for d in err.diagnostics if d.severity == "error"]
    if len(errors) > 1:  # documented: a count line, then each diagnostic
        assert lines[0] == f"{len(errors)} errors"
        lines = lines[1:]
    assert _FIRST_LINE.match(lines[0]), lines[0]
    for diag in err.diagnostics:
        head = str(diag).splitlines()[0]
        assert head in lines
        assert _FIRST_LINE.match(head), head


@pytest.mark.parametrize("case", _params(ALL_CASES))
def test_bad_case(case: Bad) -> None:
    err = _trigger(case)
    assert isinstance(err, tm.TypedMLError)
    assert isinstance(err, _BUILTIN[case.error])
    assert case.code in err.codes
    assert err.diagnostics and all(isinstance(d, tm.Diagnostic) for d in err.diagnostics)
    assert err.code == err.diagnostics[0].code
    diag = _diagnostic(err, case.code)
    assert diag.severity == "error"
    text = "\n".join([diag.message, *diag.notes, diag.hint or ""])
    for fact in case.facts:
        assert fact in text, f"{fact!r} not in:\n{text}"
    _assert_located(diag, case.marker)
    if case.port is not None:
        assert diag.port == case.port
    if case.stage is not None:
        assert diag.stage == case.stage
    # the printed form carries the same facts, compiler-style
    rendered = str(err)
    assert f"error[{case.code}] {diag.message}" in rendered
    assert diag.location is not None
    assert f":{diag.location.line}:{diag.location.col}: error[{case.code}]" in rendered
    for fact in case.facts:
        assert fact in rendered
    _assert_text(err)


def test_case_table_covers_every_code() -> None:
    codes = {c.code for c in ALL_CASES}
    wanted = {f"TM{n:03d}" for n in (*range(1, 14), *range(101, 118), *range(201, 211))}
    assert wanted <= codes, sorted(wanted - codes)
    assert len(ALL_CASES) >= 45
    assert len({c.id for c in ALL_CASES}) == len(ALL_CASES)


@pytest.mark.parametrize("case", _params([c for c in WIRING_CASES if not c.marks]))
def test_wiring_check_reports_without_raising(case: Bad) -> None:
    wired = case.make()
    report = wired.pipeline.check()
    assert not report.ok
    assert case.code in [d.code for d in report.errors]
    diag = next(d for d in report.errors if d.code == case.code)
    _assert_located(diag, case.marker)
    assert str(report).splitlines()[0] == str(report.errors[0]).splitlines()[0]
    with pytest.raises(tm.WiringError) as info:
        report.raise_for_errors()
    assert info.value.diagnostics == report.diagnostics


# --- several mistakes at once ------------------------------------------------------------


def test_check_reports_every_problem_at_once() -> None:
    s = fresh_stages()

    @tm.pipeline
    def messy(
        t: Q[Float[Array, "n"], "K"],
        d: Q[Float[Array, "m"], "km"],
        grid: Q[Float[Array, "n 3"], "km"],
    ) -> Q[Float[Array, "n"], "m"]:
        a = s.in_m(t)  # <many-102>
        b = s.pair(d, s.in_m(t))  # <many-105>
        c = s.unitless(grid)  # <many-104-106>
        e = s.scale(d, k=t)  # <many-116>
        f = s.pair(d, 2.0)  # <many-113>
        _ = (a, b, c, e, f)
        return s.square(grid)  # <many-104-output>

    report = messy.check()  # must not raise
    assert not report.ok
    got = [(d.code, d.location.line if d.location else None) for d in report.errors]
    expected = {
        ("TM102", line_of("many-102")),
        ("TM105", line_of("many-105")),
        ("TM104", line_of("many-104-106")),
        ("TM106", line_of("many-104-106")),
        ("TM116", line_of("many-116")),
        ("TM113", line_of("many-113")),
        ("TM104", line_of("many-104-output")),
    }
    assert expected <= set(got), got
    assert all(d.severity == "error" for d in report.errors)
    assert all(d.severity == "warning" for d in report.warnings)
    # errors come first, then warnings
    severities = [d.severity for d in report.diagnostics]
    assert severities == sorted(severities, key=lambda s: s != "error")
    # the report prints every diagnostic, compiler-style
    text = str(report)
    for diag in report.diagnostics:
        assert str(diag) in text
    assert messy.check() is report or messy.check().diagnostics == report.diagnostics
    # calling raises once, with everything
    with pytest.raises(tm.WiringError) as info:
        messy(qty([1.0], "K"), qty([1.0], "km"), qty(np.ones((1, 3)), "km"))
    err = info.value
    assert [d.code for d in err.diagnostics if d.severity == "error"] == [d.code for d in report.errors]
    assert str(err).splitlines()[0] == f"{len(report.errors)} errors"
    _assert_text(err)


def test_definition_errors_of_one_stage_reported_together() -> None:
    with pytest.raises(tm.StageDefinitionError) as info:

        @tm.stage
        def many(
            a: Q[Float[Array, "n"], "Kelvinn"],  # <together-001>
            b: Q[Float[Array, "n+"], "m"],  # <together-003>
            c,  # <together-004>
            d: Q[int, "m"],  # <together-007>
        ) -> Q[Float[Array, "n"], "m"]:
            return a

    err = info.value
    assert err.codes == ["TM001", "TM003", "TM004", "TM007"]
    for diag, tag in zip(
        err.diagnostics, ["together-001", "together-003", "together-004", "together-007"], strict=True
    ):
        _assert_located(diag, tag)
    assert [d.port for d in err.diagnostics] == ["a", "b", "c", "d"]
    _assert_text(err)


def test_input_errors_reported_together() -> None:
    p = _pair_pipeline()
    with pytest.raises(tm.InputError) as info:
        p(qty([1.0], "s"), qty(np.ones((2, 2)), "kg", np.int32))  # <together-input>
    err = info.value
    assert {"TM203", "TM205", "TM207"} <= set(err.codes)
    for diag in err.diagnostics:
        _assert_located(diag, "together-input")
    _assert_text(err)


def test_self_calling_pipeline_is_reported_not_raised() -> None:
    s = fresh_stages()

    @tm.pipeline
    def loop(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return loop(s.in_m(x))

    report = loop.check()
    assert not report.ok
    assert "TM119" in [d.code for d in report.errors]
    with pytest.raises(tm.WiringError):
        loop(qty([1.0], "m"))


def test_absolute_temperature_into_delta_port_is_an_input_error() -> None:
    @tm.stage
    def spread(d: Q[Float[Array, "n"], "delta_degC"]) -> Q[Float[Array, "n"], "delta_degC"]:
        return d

    with pytest.raises(tm.InputError) as info:
        spread(qty([1.0], "degF"))  # <delta-input>
    diag = info.value.diagnostic
    assert diag.code.startswith("TM2") and diag.port == "d"
    _assert_located(diag, "delta-input")


def test_absolute_temperature_into_delta_port_is_a_wiring_error() -> None:
    @tm.stage
    def spread(d: Q[Float[Array, "n"], "delta_degC"]) -> Q[Float[Array, "n"], "delta_degC"]:
        return d

    @tm.pipeline
    def p(t: Q[Float[Array, "n"], "degF"]) -> Q[Float[Array, "n"], "delta_degC"]:
        return spread(t)  # <delta-edge>

    report = p.check()
    assert [d.code for d in report.errors] == ["TM108"]
    assert "affine unit conversion on edge t -> spread.d is not defined" in report.errors[0].message
    _assert_located(report.errors[0], "delta-edge")


# --- errors are data -----------------------------------------------------------------------


PICKLED = ("TM001-unknown-unit", "TM102-unit-dimension", "TM206-shape-variable-conflict", "TM110-unknown-keyword")


@pytest.mark.parametrize("case", _params([c for c in ALL_CASES if c.id in PICKLED]))
def test_errors_pickle_round_trip(case: Bad) -> None:
    err = _trigger(case)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(err, protocol=protocol))
        assert type(back) is type(err)
        assert back.diagnostics == err.diagnostics
        assert back.codes == err.codes
        assert str(back) == str(err)
        assert isinstance(back, _BUILTIN[case.error])
    assert copy.deepcopy(err).diagnostics == err.diagnostics


def test_diagnostic_to_dict_matches_attributes() -> None:
    err = _trigger(next(c for c in ALL_CASES if c.id == "TM206-shape-variable-conflict"))
    d = err.diagnostic.to_dict()
    assert d["code"] == "TM206" and d["severity"] == "error" and d["port"] == "y"
    assert d["line"] == line_of("tm206") and os.path.realpath(str(d["path"])) == os.path.realpath(__file__)
    assert d["notes"] == list(err.diagnostic.notes)


# --- a call never mutates the user's data --------------------------------------------------


def _snapshot(value: Any) -> tuple[Any, str, Any]:
    mag = getattr(value, "magnitude", value)
    return np.array(mag, copy=True), str(getattr(value, "units", "")), getattr(mag, "dtype", None)


def test_inputs_not_mutated_by_a_call() -> None:
    s = fresh_stages()

    @tm.pipeline
    def p(x: Q[Float[Array, "n"], "m"], t: Q[Float[Array, "n"], "K"]) -> Q[Float[Array, "n"], "degC"]:
        _ = s.pair(x, x)
        return s.in_k(t)

    p_int = fresh_stages().int_km
    x_np = np.array([1.0, 2.0, 3.0], np.float32)
    inputs = [
        tm.get_registry().Quantity(x_np, "km"),  # converted km -> m at the boundary
        tm.get_registry().Quantity(np.array([0.0, 10.0, 20.0], np.float32), "degF"),  # affine
    ]
    before = [_snapshot(v) for v in inputs]
    out = p(*inputs)
    out2 = p(*inputs)  # the cached (hot) path too
    np.testing.assert_array_equal(np.asarray(out.magnitude), np.asarray(out2.magnitude))
    for value, (mag, unit, dtype) in zip(inputs, before, strict=True):
        np.testing.assert_array_equal(value.magnitude, mag)
        assert str(value.units) == unit and value.magnitude.dtype == dtype
    assert inputs[0].magnitude is x_np
    # a stage called directly with integers, then a call that fails
    ints = tm.get_registry().Quantity(np.array([1, 2], np.int32), "km")
    saved = _snapshot(ints)
    p_int(ints)
    with pytest.raises(tm.InputError):
        p_int(tm.get_registry().Quantity(ints.magnitude, "m"))
    np.testing.assert_array_equal(ints.magnitude, saved[0])
    assert str(ints.units) == saved[1]


def test_jax_and_plain_inputs_not_mutated() -> None:
    s = fresh_stages()
    j = jnp.array([1.0, 2.0])
    q = tm.get_registry().Quantity(j, "km")
    plain = np.array([0.5, 0.25], np.float32)
    out = s.in_m(q)
    np.testing.assert_allclose(np.asarray(out.magnitude), [1000.0, 2000.0])
    assert q.magnitude is j and str(q.units) == "kilometer"
    s.unitless(plain)
    np.testing.assert_array_equal(plain, [0.5, 0.25])


def test_unit_from_another_registry_is_tm213() -> None:
    import pint

    @tm.stage
    def total(x: Q[Float[Array, "n"], "'u"]) -> Q[Float[Array, ""], "'u"]:
        return x.sum()

    mine = pint.UnitRegistry()
    mine.define("click = [clicks]")
    with pytest.raises(tm.InputError) as info:
        total(mine.Quantity(np.array([1.0, 2.0], dtype=np.float32), "click"))  # <tm213>
    diag = info.value.diagnostic
    assert diag.code == "TM213" and diag.port == "x"
    assert "'click' is not defined" in diag.message
    _assert_located(diag, "tm213")


def test_unit_variables_unsolvable_at_input_is_tm212() -> None:
    @tm.pipeline
    def p(a: Q[Float[Array, "n"], "'x*'y"]) -> Q[Float[Array, ""], "'x*'y"]:
        return tm.stdlib.mean(a)

    with pytest.raises(tm.InputError) as info:
        p(qty([1.0, 2.0], "m**2"))  # <tm212>
    diag = info.value.diagnostic
    assert diag.code == "TM212" and diag.port == "a"
    assert "cannot infer the unit variables of input 'a' ('x*'y)" in diag.message
    _assert_located(diag, "tm212")
