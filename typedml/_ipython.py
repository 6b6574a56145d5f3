"""``%load_ext typedml``: typedml's errors, raised in a notebook cell, shown as a diagnostics table.

Without it a raised error prints its usual traceback (already compiler-style text); with it,
the traceback is printed just the same, and under it the error's diagnostics as the table
``CheckReport`` shows (severity, code linked to its documentation, message, place, notes and
hint). Nothing changes at ``import typedml``: IPython runs one custom exception handler per
shell, so taking it over is this explicit step. A handler already in place keeps the
exceptions it handled, and ``%unload_ext typedml`` puts it back.

IPython is not imported here: the shell comes as an argument, and the table is published
through the shell's own display publisher, only where a front end shows HTML (a kernel).
"""

from __future__ import annotations

from typing import Any

from ._errors import TypedMLError

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

_PREVIOUS = "_typedml_previous_custom_exc"  # attribute on the shell: the handler to give back


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext typedml``: show typedml's errors that reach a cell as a table.

    The traceback is printed as usual (the cell still fails, so "run all" still stops); under
    it, in a notebook, the error's diagnostics appear as a table with each code linked to its
    documentation. Loading twice changes nothing; ``%unload_ext typedml`` restores the shell's
    previous custom exception handler, if it had one.
    """
    if hasattr(ipython, _PREVIOUS):
        return
    previous_types: tuple[type[BaseException], ...] = tuple(ipython.custom_exceptions)
    previous_handler = ipython.CustomTB

    def handler(shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: Any = None) -> Any:
        if not isinstance(value, TypedMLError):  # one of the previous handler's exceptions
            return previous_handler(etype, value, tb, tb_offset=tb_offset)
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        show_error(shell, value)
        return None

    types = (*(t for t in previous_types if t is not TypedMLError), TypedMLError)
    ipython.set_custom_exc(types, handler)
    setattr(ipython, _PREVIOUS, (previous_types, previous_handler))


def unload_ipython_extension(ipython: Any) -> None:
    """Called by ``%unload_ext typedml``: give the shell its previous exception handler back."""
    saved = getattr(ipython, _PREVIOUS, None)
    if saved is None:
        return
    delattr(ipython, _PREVIOUS)
    ipython.custom_exceptions, ipython.CustomTB = saved


def show_error(shell: Any, error: TypedMLError) -> None:
    """Publish the error's table where a front end can show it (a kernel, not a terminal)."""
    if getattr(shell, "kernel", None) is None:
        return  # a terminal shows text only, and the traceback above already has every line
    from ._display import error_html

    codes = ", ".join(dict.fromkeys(error.codes))
    shell.display_pub.publish(
        data={"text/html": error_html(error), "text/plain": f"{type(error).__name__}: {codes}"}, metadata={}
    )
