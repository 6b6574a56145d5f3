"""Trust under bad input: each failure found by probing typedml as a careless caller or an
attacker would, with the typed error (or the right answer) it now gets.

The fuzzer of the input boundary is ``tests/test_robustness_fuzz.py``; threads in
``tests/test_robustness_threads.py``; the command line's isolation in ``tests/test_cli.py``.
"""

# No `from __future__ import annotations`: stages below are defined in functions, with units
# and shapes from local variables, which string annotations could not see.
import json
import os
import pickle
import re
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q
from typedml._cli import main

REG = tm.get_registry()


def _raises_code(error: type[tm.TypedMLError], code: str, fn: Any) -> tm.TypedMLError:
    with pytest.raises(error) as info:
        fn()
    assert info.value.code == code, str(info.value)
    return info.value


# -- unit strings (a unit expression is text a user or a config file controls) ---------------


def _stage_with_unit(unit: str) -> Any:
    @tm.stage
    def s(x: Q[Float[Array, "n"], unit]) -> Q[Float[Array, "n"], unit]:
        return x

    return s


@pytest.mark.parametrize(
    ("unit", "says"),
    [
        ("'u**(1/0)", "an exponent divides by zero"),
        ("'u'v", "need an operator between them"),
        ("m'u", "need an operator between them"),
        ("m\x00", "control or invisible character '\\x00'"),
        ("m\n", "control or invisible character '\\n'"),
        ("m\x1b[2K", "control or invisible character '\\x1b'"),
        ("*".join(["m"] * 5000), "at most 256 are accepted"),
        ("*".join(["'u"] * 5000), "at most 256 are accepted"),
        ("m" * 100_000, "a unit expression of 100000 characters"),
        ("'u**1e400", "an exponent must be a number between"),
        ("m**1e400", "an exponent must be a number between"),
        ("*".join(["'u"] * 80), "an exponent must be a number between"),
        # signs pint's reader skips: "m,s" was milliseconds, "m;" and "m # x" metres
        ("m,s", "',' is no part of a unit expression"),
        ("m;", "';' is no part of a unit expression"),
        ("m # per channel", "'#' is no part of a unit expression"),
        ("m@s", "'@' is no part of a unit expression"),
        ("m|s", "'|' is no part of a unit expression"),
    ],
)
def test_hostile_unit_strings_are_TM002_at_definition(unit: str, says: str) -> None:
    err = _raises_code(tm.StageDefinitionError, "TM002", lambda: _stage_with_unit(unit))
    assert says in str(err)
    assert "__tmvar" not in str(err)  # no internal name leaks into the message
    assert "\x00" not in str(err) and "\x1b" not in str(err) and str(err).count("\n") < 8


def test_quantity_unit_strings_are_refused_the_same_way() -> None:
    for unit in ("m\x00", "m" * 100_000, "'u'v", "m,s", "m;"):
        with pytest.raises(tm.InputError) as info:
            tm.Quantity(np.ones(2), unit)
        assert info.value.code == "TM211"


# -- shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("expr", ["n//0", "n%0", "n//(2-2)", "n%(3*0)"])
def test_shape_expression_dividing_by_zero_is_TM003(expr: str) -> None:
    def define() -> Any:
        @tm.stage
        def s(x: Float[Array, "n"]) -> Float[Array, expr]:
            return x

        return s

    err = _raises_code(tm.StageDefinitionError, "TM003", define)
    assert f"{expr!r} divides by zero" in str(err)


def test_shape_expression_dividing_by_a_size_still_defines() -> None:
    @tm.stage
    def s(x: Float[Array, "n"]) -> Float[Array, "n//2"]:
        return x[::2][: x.shape[0] // 2]

    assert not s.check().errors


# -- signatures ------------------------------------------------------------------------------


def test_named_tuple_with_unresolvable_field_annotation_is_TM010() -> None:
    class Out(NamedTuple):
        a: "Undefined"  # type: ignore[name-defined]

    def define() -> Any:
        @tm.stage
        def s(x: Float[Array, "n"]) -> Out:
            return Out(x)

        return s

    err = _raises_code(tm.StageDefinitionError, "TM010", define)
    assert "field annotations of record Out" in str(err) and "NameError" in str(err)


def test_positional_only_port_is_TM020() -> None:
    def define() -> Any:
        @tm.stage
        def s(x: Float[Array, "n"], /) -> Float[Array, "n"]:
            return x

        return s

    err = _raises_code(tm.StageDefinitionError, "TM020", define)
    assert "parameter 'x' of stage 's' is positional-only" in str(err)
    assert "remove the `/`" in str(err)


@tm.stage
def add_keyword(x: Float[Array, "n"], *, y: Float[Array, "n"]) -> Float[Array, "n"]:
    return x + y


@tm.pipeline
def keyword_positionally(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return add_keyword(x, x)  # type: ignore[misc]  # pyright: ignore[reportCallIssue]


@tm.pipeline
def keyword_by_name(x: Float[Array, "n"]) -> Float[Array, "n"]:
    return add_keyword(x, y=x)


def test_keyword_only_port_passed_positionally_is_refused() -> None:
    d = next(d for d in keyword_positionally.check().errors if d.code == "TM112")
    assert "takes 1 positional argument but 2 were given" in d.message
    assert "keyword-only: y" in d.notes
    assert not keyword_by_name.check().errors
    ones = np.ones(3, np.float32)
    err = _raises_code(tm.InputError, "TM202", lambda: add_keyword(ones, ones))  # pyright: ignore[reportCallIssue]
    assert "takes 1 positional input but 2 were given" in str(err)
    np.testing.assert_array_equal(np.asarray(add_keyword(ones, y=ones)), 2 * ones)


# -- quantities ------------------------------------------------------------------------------


@tm.stage
def identity_m(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return x


def test_quantity_is_immutable_so_eager_and_compiled_runs_agree() -> None:
    q = tm.Quantity(np.ones(3, np.float32), "km")
    with pytest.raises(AttributeError, match="immutable"):
        q.units = "m"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    with pytest.raises(AttributeError, match="immutable"):
        q._units = None  # pyright: ignore[reportPrivateUsage, reportAttributeAccessIssue]
    assert q.units == "km"
    once = np.asarray(identity_m(q).magnitude)
    again = np.asarray(identity_m(q).magnitude)  # the cached fast path
    np.testing.assert_array_equal(once, 1000 * np.ones(3))
    np.testing.assert_array_equal(again, once)


def test_quantity_pickles_into_the_registry_in_use() -> None:
    import pint

    q = tm.Quantity(np.arange(3.0), "km")
    data = pickle.dumps(q)
    other = pint.UnitRegistry()
    with tm.use_registry(other):
        back = pickle.loads(data)
        assert back.units == "km"
        assert back.to_pint()._REGISTRY is other
        np.testing.assert_array_equal(back.to("m").magnitude, 1000 * np.arange(3.0))


# -- streaming -------------------------------------------------------------------------------


class Total(NamedTuple):
    total: Q[Float[Array, ""], "m"]


@tm.stage
def add_up(total: Q[Float[Array, ""], "m"], x: Q[Float[Array, "n"], "m"]) -> Total:
    return Total(total + x.sum())


def _zero() -> Total:
    return Total(REG.Quantity(np.float32(0), "m"))


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"rows": 1.5}, "rows must be a positive int, got 1.5"),
        ({"rows": True}, "rows must be a positive int, got True"),
        ({"rows": 0}, "rows must be a positive int, got 0"),
        ({"rows": 10, "unit": "bogus"}, "unknown or malformed unit 'bogus'"),
        ({"rows": 10, "unit": "'u"}, "must be a concrete unit"),
    ],
)
def test_npy_chunks_arguments_are_checked_when_called(tmp_path: Path, kwargs: dict[str, Any], says: str) -> None:
    path = tmp_path / "d.npy"
    np.save(path, np.arange(10, dtype=np.float32))
    err = _raises_code(tm.InputError, "TM217", lambda: tm.npy_chunks(path, **kwargs))
    assert says in str(err)


def test_truncated_npy_names_file_chunk_and_rows_and_keeps_the_state(tmp_path: Path) -> None:
    whole = tmp_path / "whole.npy"
    np.save(whole, np.ones(1000, dtype=np.float32))
    cut = tmp_path / "cut.npy"
    cut.write_bytes(whole.read_bytes()[:-100])
    with pytest.raises(tm.InputError) as info:
        tm.stream(add_up, tm.npy_chunks(cut, rows=300, unit="m"), init=_zero())
    err = info.value
    assert err.code == "TM225"
    assert f"{cut} ends inside chunk 3: rows 900–999 expected, 75 complete rows found" in str(err)
    assert err.chunks_done == 3  # type: ignore[attr-defined]
    assert float(err.state.total.magnitude) == 900.0  # type: ignore[attr-defined]
    assert any("stream() stopped at chunk 3" in note for note in err.__notes__)


def test_not_an_npy_file_is_TM225(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    path.write_text("not numpy")
    err = _raises_code(tm.InputError, "TM225", lambda: tm.npy_chunks(path, rows=2))
    assert "is not a readable .npy file" in str(err)
    err = _raises_code(tm.InputError, "TM225", lambda: tm.npy_chunks(tmp_path / "missing.npy", rows=2))
    assert "cannot be opened" in str(err)


@pytest.mark.parametrize("how", ["rewritten", "replaced"])
def test_file_changed_mid_stream_is_TM226(tmp_path: Path, how: str) -> None:
    path = tmp_path / "d.npy"
    np.save(path, np.ones(100, dtype=np.float32))
    chunks = tm.npy_chunks(path, rows=40, unit="m")
    first = next(chunks)
    assert first.shape == (40,)
    if how == "rewritten":
        np.save(path, np.full(200, 2, dtype=np.float32))
    else:
        other = tmp_path / "other.npy"
        np.save(other, np.full(100, 2, dtype=np.float32))
        os.replace(other, path)
    with pytest.raises(tm.InputError) as info:
        tm.stream(add_up, chunks, init=_zero())
    assert info.value.code == "TM226"
    assert f"{path} was {how}" in str(info.value)


def test_a_failing_update_keeps_the_folded_state() -> None:
    good = [REG.Quantity(np.ones(4, dtype=np.float32), "m")] * 2
    bad = REG.Quantity(np.ones(4, dtype=np.float32), "s")  # the wrong dimension
    with pytest.raises(tm.InputError) as info:
        tm.stream(add_up, [*good, bad, *good], init=_zero())
    assert info.value.code == "TM203"
    assert float(info.value.state.total.magnitude) == 8.0  # type: ignore[attr-defined]
    assert any("stopped at chunk 2 (rows 8–11)" in note for note in info.value.__notes__)


def test_an_iterator_error_keeps_the_folded_state() -> None:
    def chunks() -> Any:
        yield REG.Quantity(np.ones(4, dtype=np.float32), "m")
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="the disk went away") as info:
        tm.stream(add_up, chunks(), init=_zero())
    assert float(info.value.state.total.magnitude) == 4.0  # type: ignore[attr-defined]
    assert info.value.chunks_done == 1  # type: ignore[attr-defined]


# -- messages --------------------------------------------------------------------------------


@tm.stage
def wide(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
    return x


def test_TM208_says_what_the_elements_are() -> None:
    err = _raises_code(tm.InputError, "TM208", lambda: wide(REG.Quantity(np.array(["a", "b"]), "m")))
    assert "is a ndarray of strings (dtype <U1), not of numbers" in str(err)
    err = _raises_code(tm.InputError, "TM208", lambda: wide({"a": 1}))
    assert "is a dict, not an array or quantity" in str(err)


def test_float64_port_without_x64_says_why() -> None:
    from jaxtyping import Float64

    @tm.stage
    def f64(x: Q[Float64[Array, "n"], "m"]) -> Q[Float64[Array, "n"], "m"]:
        return x

    err = _raises_code(tm.InputError, "TM207", lambda: f64(REG.Quantity(np.ones(3), "m")))
    assert "expected Float64, found float64 (computed as float32)" in str(err)
    assert "64-bit types are off (jax_enable_x64 is False)" in str(err)
    assert "jax.config.update('jax_enable_x64', True)" in str(err)


# -- pictures: every user string escaped -----------------------------------------------------

HOSTILE = 'evil"\n  click n0 href "javascript:alert(1)"\n%% \x1b[2K\rx.py:1:1: error[TM105] forged <script>`|#;'


def _hostile_pipeline() -> Any:
    def body(x: Q[Float[Array, "n"], "m"], cfg: str = "") -> Q[Float[Array, "n"], "m"]:
        return x

    body.__name__ = HOSTILE
    stage = tm.stage(body)

    def whole(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:
        return stage(x, cfg=HOSTILE)

    whole.__name__ = HOSTILE
    return tm.pipeline(whole)


def test_text_output_keeps_each_diagnostic_on_its_own_lines() -> None:
    d = tm.Diagnostic("TM118", f"the pipeline body raised ValueError: {HOSTILE}", tm.Location("a\nb.py", 3, 4))
    text = str(d)
    assert text.count("\n") == 0
    assert "\x1b" not in text and "\r" not in text
    assert "\\x1b[2K\\rx.py:1:1" in text  # shown, as escapes


def test_mermaid_user_text_cannot_add_statements() -> None:
    text = _hostile_pipeline().to_mermaid()
    statement = re.compile(r"^  (n\d+(\(\[|\{\{|\[\[?)\"|n\d+ -->\|\"|classDef |class n\d+ |linkStyle \d+ |%% )")
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert all(statement.match(line) for line in lines[1:]), [line for line in lines[1:] if not statement.match(line)]
    assert "\x1b" not in text and "\r" not in text
    labels = [line for line in lines if not line.startswith("  %%")]
    assert not any("<script>" in line or "`" in line for line in labels)


def test_dot_user_text_stays_inside_quoted_strings() -> None:
    import warnings

    import pydot

    text = _hostile_pipeline().to_dot()
    assert "\x1b" not in text and "\r" not in text
    with warnings.catch_warnings():  # pydot's parser calls pyparsing's deprecated camelCase names
        warnings.simplefilter("ignore", DeprecationWarning)
        (graph,) = pydot.graph_from_dot_data(text)
    labels = [n.get("label") for n in graph.get_nodes() if n.get("label")]
    assert any("click n0 href" in str(label) for label in labels)  # the text is there, as a label


def test_html_user_text_is_escaped() -> None:
    text = _hostile_pipeline().to_html()
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\x1b" not in text and "\r" not in text


def test_json_and_sarif_user_text_is_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hostile_mod.py").write_text(
        textwrap.dedent(
            """
            from jaxtyping import Array, Float
            import typedml as tm

            @tm.pipeline
            def p(x: Float[Array, "n"]) -> Float[Array, "n"]:
                raise ValueError("a\\n\\x1b[2K\\rx.py:1:1: error[TM105] forged")
            """
        )
    )
    for form in ("json", "sarif"):
        status = main(["check", "hostile_mod.py", "--format", form])
        out = capsys.readouterr().out
        assert status == 1
        assert "\x1b" not in out and "\r" not in out
        found = json.dumps(json.loads(out))
        assert "forged" in found


# -- layout ----------------------------------------------------------------------------------


def test_layout_points_grow_with_edges_not_with_their_span() -> None:
    from typedml._layout import MAX_ROUTED_SPAN, layout

    n = 400
    nodes = [("g", ["g"])] + [(f"s{i}", [f"s{i}"]) for i in range(n)]
    edges = [(f"s{i}", f"s{i + 1}", ["x"]) for i in range(n - 1)] + [("g", f"s{i}", ["g"]) for i in range(n)]
    placed = layout(nodes, edges)
    segments = sum(route.path.count("C ") for route in placed.edges)
    assert segments <= MAX_ROUTED_SPAN * len(edges)
    assert len(placed.nodes) == n + 1


# -- annotation metadata built with the wrong argument -----------------------------------------


@pytest.mark.parametrize("dim", [None, 3, "", "n m", "2n"])
def test_an_axis_that_names_no_axis_is_TM017_where_it_is_written(dim: Any) -> None:
    err = _raises_code(tm.StageDefinitionError, "TM017", lambda: tm.Axis(dim))
    assert err.diagnostic.location is not None and err.diagnostic.location.path == __file__
    assert repr(dim) in err.diagnostic.message


def test_a_true_division_in_a_size_is_TM003_with_the_forms_that_are_checked() -> None:
    def define() -> Any:
        @tm.stage
        def half(x: Float[Array, "n"]) -> Float[Array, "n/2"]:
            return x[::2]

        return half

    err = _raises_code(tm.StageDefinitionError, "TM003", define)
    assert "'n/2' divides with '/'" in err.diagnostic.message
    assert '"n//2"' in (err.diagnostic.hint or "") and '"2*k"' in (err.diagnostic.hint or "")

    @tm.stage
    def halve(x: Float[Array, "2*k"]) -> Float[Array, "k"]:  # the form the hint gives: checked
        return x[::2]

    assert halve.check().ok
    _raises_code(tm.InputError, "TM221", lambda: halve.as_pipeline()(np.ones(5, np.float32)))


def test_an_argument_the_angle_registry_does_not_take_names_the_function() -> None:
    with pytest.raises(TypeError, match=r"tm.angle_registry\(\) takes pint.UnitRegistry's keyword arguments"):
        tm.angle_registry(no_such_option=1)
