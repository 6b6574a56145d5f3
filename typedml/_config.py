"""Static configuration checked against its annotation, before any body runs.

A stage's non-array parameters (``k: int``, ``mode: Literal["mean", "median"]``, enums,
tuples) are configuration, fixed when a pipeline is built or a stage is called. A value its
annotation refuses is reported naming the parameter, where it was given: a default at
definition (TM026), a value passed in a pipeline body when the pipeline is built (TM136), a
value passed to a call or to ``configure`` (TM237); never as a failure inside the body.
beartype decides (``is_bearable``), with the numeric tower on: an ``int`` is a ``float``.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args, get_origin

from ._errors import Diagnostic, InputError, Location, user_location

__all__ = ["check_static", "refused", "static_error"]


@functools.cache
def _conf() -> Any:
    from beartype import BeartypeConf

    return BeartypeConf(is_pep484_tower=True)


def refused(annotation: Any, value: Any) -> str | None:
    """Why ``value`` is not a value of ``annotation`` (``"expected int, got str '3'"``), or None."""
    from beartype.door import is_bearable

    try:
        ok = is_bearable(value, annotation, conf=_conf())
    except Exception:  # noqa: BLE001 - a hint beartype cannot decide: nothing to say
        return None
    if ok:
        return None
    return f"expected {hint_text(annotation)}, got {type(value).__name__} {_short(value)}"


def hint_text(annotation: Any) -> str:
    """An annotation as a user wrote it: ``int``, ``Literal['a', 'b']``, ``int | None``."""
    origin = get_origin(annotation)
    if origin is Literal:
        return f"Literal[{', '.join(repr(a) for a in get_args(annotation))}]"
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return f"{annotation.__name__} ({', '.join(repr(m.value) for m in annotation)})"
        return annotation.__name__
    text = repr(annotation)
    return text.replace("typing.", "").replace("collections.abc.", "")


def check_static(params: Iterable[tuple[str, Any]], values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(parameter, why)`` for each value in ``values`` its parameter's annotation refuses."""
    found: list[tuple[str, str]] = []
    for name, annotation in params:
        if name in values:
            why = refused(annotation, values[name])
            if why is not None:
                found.append((name, why))
    return found


def static_error(owner: str, problems: list[tuple[str, str]], location: Location | None = None) -> InputError:
    """TM237: configuration given to a call or to ``configure`` that its annotation refuses."""
    return InputError(
        [
            Diagnostic(
                "TM237",
                f"static parameter {name!r} of {owner}: {why}",
                location or user_location(),
                hint=f"pass {name} as its annotation declares (configuration is checked before the body runs)",
                stage=owner.removesuffix("()"),
                port=name,
            )
            for name, why in problems
        ]
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
