"""Checks of values under a user's own JAX transformation (``jax.jit``, ``vmap``, ``grad``).

A plain call of a pipeline with value contracts (or with conversions whose overflow is
checked), and ``checked()``, read one flag per check on the host after the compiled run.
Inside a user's transformation there may be no value to read: the flags are tracers.

- Under an eager ``vmap`` or ``grad`` (no ``jit`` around it) the flags still hold values:
  each check runs at once through :func:`jax.experimental.checkify.check`, and a failure is
  raised as typedml's typed error.
- Under ``jax.jit`` (or anything else that stages the computation) the values exist only
  when XLA runs. The checks go through JAX's own mechanism when the function is run by
  :func:`typedml.checkify` (``checkify.checkify`` that also tells typedml to emit them): the
  error it returns holds typedml's message (``err.throw()`` raises it). Run by a bare
  ``jax.jit``, the call is refused with TM230, which says so.

``debug()`` and ``record()`` keep every value on the host: under an outer trace they are
refused with TM230 too.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from typing import Any

import jax

from ._errors import Diagnostic, InputError, TypedMLError, user_location

__all__ = ["check_traced", "checkify", "is_traced", "is_tracer", "refusal", "x64"]

_TRACER: type = getattr(jax.core, "Tracer")  # noqa: B009  # pyright: ignore[reportAttributeAccessIssue, reportUnknownArgumentType, reportUnknownMemberType]


def is_tracer(value: Any) -> bool:
    """Whether ``value`` is a JAX tracer (a value inside a user's own transformation)."""
    return isinstance(value, _TRACER)


def is_traced(values: Iterable[Any]) -> bool:
    """Whether any of ``values`` is a JAX tracer (the call is inside a user's transformation)."""
    return any(isinstance(v, _TRACER) for v in values)


def x64() -> bool:
    """Whether JAX computes with 64-bit types (``jax_enable_x64``)."""
    return bool(getattr(jax.config, "jax_enable_x64", False))


_THROUGH_CHECKIFY: contextvars.ContextVar[bool] = contextvars.ContextVar("typedml_checkify", default=False)


def checkify(fn: Callable[..., Any]) -> Callable[..., tuple[Any, Any]]:
    """``fn`` run through :func:`jax.experimental.checkify.checkify`, typedml's checks included.

    Calls of pipelines inside ``fn`` (under ``jax.jit`` or not) check their value contracts,
    the conversions that could overflow, and (``checked()``) every finite flag, through JAX's
    own mechanism: ``err, out = tm.checkify(jax.jit(f))(x)``; ``err.throw()`` raises the first
    failure with typedml's message, ``err.get()`` returns it (None when every check held).
    Without it, such a call inside a bare ``jax.jit`` is refused (TM230).
    """
    from jax.experimental import checkify as jax_checkify

    checked = jax_checkify.checkify(fn)

    def run(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        token = _THROUGH_CHECKIFY.set(True)
        try:
            return checked(*args, **kwargs)
        finally:
            _THROUGH_CHECKIFY.reset(token)

    return run


def _staged(value: Any) -> bool:
    """Whether a tracer is staged for XLA (``jit`` and the like) rather than holding a value."""
    seen = 0
    while isinstance(value, _TRACER) and seen < 64:
        if "Jaxpr" in type(value).__name__:
            return True
        inner = getattr(value, "val", None)
        if inner is None:
            inner = getattr(value, "primal", None)
        if inner is None or inner is value:
            return True  # an unknown kind of tracer: treated as staged (refused, never crashed)
        value, seen = inner, seen + 1
    return False


def check_traced(ok: Any, message: str, error: Callable[[], TypedMLError], owner: str) -> None:
    """``ok`` (a traced boolean) checked through ``checkify``; see the module documentation."""
    from jax.experimental import checkify as jax_checkify

    if _staged(ok):
        if not _THROUGH_CHECKIFY.get():
            raise refusal(owner, "the value checks")
        jax_checkify.check(ok, message)  # pyright: ignore[reportUnknownMemberType]
        return
    failed: tuple[type[BaseException], ...] = (
        getattr(jax_checkify, "JaxRuntimeError", ValueError),  # what a failed check raises eagerly
        getattr(jax.errors, "JaxRuntimeError", RuntimeError),
    )
    try:
        jax_checkify.check(ok, message)  # pyright: ignore[reportUnknownMemberType]
    except failed:  # an eager transformation ran the check at once, and it failed
        raise error() from None


def refusal(owner: str, what: str, eager: bool = False) -> InputError:
    """TM230: checks on values that cannot run inside the user's own ``jax.jit``."""
    if eager:
        message = f"{owner} runs on concrete values and cannot run on traced ones (inside jax.jit, vmap or grad)"
        notes: tuple[str, ...] = (f"{owner} keeps every value on the host; a trace has no values to keep",)
        hint = f"call {owner} outside jax.jit, jax.vmap and jax.grad"
    else:
        message = f"{what} of {owner} cannot run inside a bare jax.jit: the values exist only when XLA runs"
        notes = ("JAX carries checks out of a compiled function only through checkify",)
        hint = (
            "run the function through tm.checkify: err, out = tm.checkify(jax.jit(f))(x); err.throw() "
            "(or call the pipeline outside jax.jit, or use pipeline.jax_fn, which checks nothing)"
        )
    return InputError(Diagnostic("TM230", message, user_location(), notes=notes, hint=hint))
