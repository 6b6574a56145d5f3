"""Body checks cached by a function's fingerprint across fresh imports: a file checked again
unchanged costs no body evaluation, and any change a body depends on is seen (the cache
refuses what the body check refuses)."""

from __future__ import annotations

import numpy as np
import pytest

import typedml as tm
from typedml import _body
from typedml._fingerprint import fingerprint

SOURCE = """\
import jax.numpy as jnp
from jaxtyping import Array, Float
import typedml as tm

WIDTH = {width}


def helper(x):
    return x[:, :{cut}]


@tm.stage
def widen(x: Float[Array, "b 3"]) -> Float[Array, "b 4"]:
    return jnp.concatenate([x, helper(x)[:, :WIDTH]], axis=1)
"""


@pytest.fixture
def evaluations(monkeypatch):
    calls: list[str] = []
    real = _body._Checker.run  # pyright: ignore[reportPrivateUsage]

    def counting(self):
        calls.append(self.spec.name)
        return real(self)

    monkeypatch.setattr(_body._Checker, "run", counting)  # pyright: ignore[reportPrivateUsage]
    return calls


def codes(width: int, cut: int, path) -> list[str]:
    return [d.code for d in tm.check_source(SOURCE.format(width=width, cut=cut), path).diagnostics]


def test_an_unchanged_body_is_not_evaluated_again(tmp_path, evaluations):
    assert codes(1, 1, tmp_path / "m.py") == []
    first = len(evaluations)
    assert first >= 1
    assert codes(1, 1, tmp_path / "m.py") == []  # imported afresh: new function objects
    assert len(evaluations) == first


@pytest.mark.parametrize(("width", "cut"), [(2, 2), (1, 0)])
def test_a_change_the_body_depends_on_is_checked_again(tmp_path, width, cut):
    assert codes(1, 1, tmp_path / "m.py") == []
    # the same lines and the same code for `widen`: only a global it reads, or a helper it calls, differ
    assert "TM301" in codes(width, cut, tmp_path / "m.py")
    assert codes(1, 1, tmp_path / "m.py") == []


def test_the_same_code_in_another_file_is_another_entry(tmp_path):
    assert codes(1, 1, tmp_path / "a.py") == []
    report = tm.check_source(SOURCE.format(width=2, cut=2), tmp_path / "b.py")
    [d] = [d for d in report.diagnostics if d.code == "TM301"]
    assert d.location is not None and d.location.path == str(tmp_path / "b.py")


def test_values_that_cannot_be_compared_across_imports_give_no_fingerprint():
    table = [1, 2]
    array = np.ones(3)

    class Mine:
        pass

    def reads_list(x):
        return x * table[0]

    def reads_array(x):
        return x * array

    def makes_mine(x):
        return Mine()

    assert fingerprint(reads_list) is None  # a closure over a list: it may change in place
    assert fingerprint(reads_array) is None
    assert fingerprint(makes_mine) is None
    assert fingerprint(test_values_that_cannot_be_compared_across_imports_give_no_fingerprint) is not None
    _ = _body  # the module under test
