"""pytest plugin: ``pytest -p typedml.pytest_plugin --typedml-check`` checks every pipeline.

Load it with ``-p typedml.pytest_plugin`` on the command line, ``addopts`` in the pytest
configuration, or ``pytest_plugins = ["typedml.pytest_plugin"]`` in a root ``conftest.py``;
then ``--typedml-check`` turns it on. Without the option it adds nothing to a run.

Each pipeline bound at module level of a collected test module, whether defined there or
imported, becomes one item, ``test_x.py::typedml-check[name]``, that fails with the pipeline's
error diagnostics. A pipeline reached from several modules is checked once. Modules marked
``__typedml_exclude__ = True`` or ``# typedml: skip-file`` are left out.

(typedml does not register the plugin through a ``pytest11`` entry point: pytest rewrites the
assertions of every module in a distribution that has one, and typedml's own modules are not
test code.)
"""

from __future__ import annotations

from typing import Any

import pytest

from ._check import CheckReport
from ._discover import is_excluded
from ._pipeline import Pipeline

__all__ = ["PipelineCheckFailed", "PipelineItem", "pytest_addoption", "pytest_pycollect_makeitem"]

_SEEN = pytest.StashKey[set[int]]()


class PipelineCheckFailed(Exception):
    """A pipeline's build-time check found errors."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__(report)
        self.report = report

    def __str__(self) -> str:
        count = len(self.report.errors)
        return f"{count} error{'s' * (count != 1)}\n{self.report}"


class PipelineItem(pytest.Item):
    """One pipeline's check, run as a test."""

    def __init__(self, *, pipeline: Pipeline[..., Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)  # pyright: ignore[reportUnknownMemberType]
        self.pipeline = pipeline

    def runtest(self) -> None:
        report = self.pipeline.check()
        if report.errors:
            raise PipelineCheckFailed(report)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        if isinstance(excinfo.value, PipelineCheckFailed):
            return f"typedml check of pipeline {self.pipeline.spec.name!r}: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[str, int, str]:
        location = self.pipeline.spec.location
        return location.path, location.line - 1, f"typedml check {self.pipeline.spec.name}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("typedml")
    group.addoption(
        "--typedml-check",
        action="store_true",
        default=False,
        help="check every typedml pipeline found in the test modules; each is a test item that fails on errors",
    )


@pytest.hookimpl
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> pytest.Item | None:
    if not isinstance(obj, Pipeline) or not isinstance(collector, pytest.Module):
        return None
    if not collector.config.getoption("typedml_check"):
        return None
    seen = collector.config.stash.setdefault(_SEEN, set())
    pipeline: Pipeline[..., Any] = obj  # pyright: ignore[reportUnknownVariableType]
    module = collector.module
    if id(pipeline) in seen or module is None or is_excluded(module):
        return None
    seen.add(id(pipeline))
    item: PipelineItem = PipelineItem.from_parent(  # pyright: ignore[reportUnknownMemberType]
        collector, name=f"typedml-check[{name}]", pipeline=pipeline
    )
    return item
