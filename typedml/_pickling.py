"""Pipelines and stages pickle by reference: the module and qualified name that define them.

A pipeline holds traced graphs, compiled executables and locks: none of it can travel, and
none of it should. What defines a pipeline is its module-level name, so a ``Pipeline`` or a
``Stage`` pickles as ``(module, qualname)`` and unpickles by importing that module, the way a
function does. In a process pool, a worker imports the module and gets the pipeline there,
built and compiled on its first use. This holds for ``pickle`` and for ``cloudpickle``, before
and after the pipeline was built or called.

A pipeline made by ``configure(...)`` (or by a static keyword at the call) pickles as the
pipeline it came from and its configuration; a stage's one-stage pipeline as the stage and
its configuration. A pipeline or stage that no module-level name reaches (defined inside a
function) pickles as its function and configuration: cloudpickle sends such a function by
value, and ``pickle`` refuses it with its own error, as it refuses any local function.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["by_reference", "configured", "load", "rebuilt_pipeline", "rebuilt_stage", "stage_runner"]

Reduced = tuple[Callable[..., Any], tuple[Any, ...]]


def by_reference(obj: object, fn: Callable[..., Any]) -> Reduced | None:
    """``(load, (module, qualname))`` when that name, looked up, is ``obj`` itself; else None."""
    module_name = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str) or "<locals>" in qualname:
        return None
    found: object = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return (load, (module_name, qualname)) if found is obj else None


def load(module: str, qualname: str) -> Any:
    """The object named ``qualname`` in ``module`` (imported if it is not yet)."""
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def configured(base: Any, static: dict[str, Any]) -> Any:
    """``base.configure(**static)``: a pipeline with other static configuration."""
    return base.configure(**static)


def stage_runner(stage: Any, static: dict[str, Any]) -> Any:
    """``stage.as_pipeline(**static)``: a stage alone as a pipeline."""
    return stage.as_pipeline(**static)


def rebuilt_pipeline(cls: Callable[..., Any], fn: Callable[..., Any], static: dict[str, Any]) -> Any:
    """A pipeline made again from its function (one that no module-level name reaches)."""
    made = cls(fn)
    return made.configure(**static) if static != made.static else made


def rebuilt_stage(cls: Callable[..., Any], fn: Callable[..., Any], budget: Any, host: bool = False) -> Any:
    """A stage made again from its function (one that no module-level name reaches)."""
    made = cls(fn, host=host)
    made.budget = budget
    return made
