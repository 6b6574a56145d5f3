"""The pytest plugin: ``pytest -p typedml.pytest_plugin --typedml-check``, run on a user's test folder."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

PIPELINES = textwrap.dedent(
    """
    from jaxtyping import Array, Float
    import typedml as tm
    from typedml import Q

    @tm.stage
    def scale(x: Q[Float[Array, "n"], "m"], k: Q[Float[Array, ""], "1/s"]) -> Q[Float[Array, "n"], "m/s"]:
        return x * k

    @tm.pipeline
    def good(x: Q[Float[Array, "n"], "km"], k: Q[Float[Array, ""], "1/s"]) -> Q[Float[Array, "n"], "m/s"]:
        return scale(x, k)

    @tm.pipeline
    def bad(x: Q[Float[Array, "n"], "kg"], k: Q[Float[Array, ""], "1/s"]) -> Q[Float[Array, "n"], "m/s"]:
        return scale(x, k)
    """
)

TESTS = textwrap.dedent(
    """
    from pipelines_mod import bad, good

    also_good = good  # the same pipeline bound twice: checked once

    def test_plain():
        assert good is also_good
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(pipelines_mod=PIPELINES, test_user=TESTS)
    pytester.syspathinsert()
    return pytester


def test_option_turns_each_pipeline_into_a_test(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "typedml.pytest_plugin", "--typedml-check", "-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_user.py::typedml-check?bad? FAILED*",
            "*test_user.py::typedml-check?good? PASSED*",
            "*typedml check of pipeline 'bad': 1 error*",
            "*pipelines_mod.py:*: error[[]TM102[]] unit mismatch on edge x -> scale.x*",
        ]
    )
    assert "also_good" not in result.stdout.str()


def test_without_the_option_nothing_is_added(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "typedml.pytest_plugin")
    result.assert_outcomes(passed=1)


def test_excluded_module_is_left_out(project: pytest.Pytester) -> None:
    project.makepyfile(test_user="__typedml_exclude__ = True\n" + TESTS)
    result = project.runpytest("-p", "typedml.pytest_plugin", "--typedml-check")
    result.assert_outcomes(passed=1)
