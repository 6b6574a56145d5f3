"""The error tree and the diagnostics it carries.

Errors are split by *when* a problem is found: when a stage is defined, when a pipeline is
built (wiring), when a body is checked, when data arrives (input), and while running. Each
leaf also inherits the matching builtin so generic handlers keep working. Errors are data:
their facts live in attributes, their text is built in ``__str__``, and they pickle.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import linecache
import os
import sys
from collections.abc import Generator, Iterable, Mapping
from types import CodeType, FrameType
from typing import Any, Literal, TypeVar

from ._text import visible

__all__ = [
    "DOCS_URL",
    "BodyError",
    "ContractError",
    "Diagnostic",
    "DistributedError",
    "Fix",
    "InputError",
    "Location",
    "NonFiniteError",
    "PrecisionWarning",
    "Related",
    "Severity",
    "StageDefinitionError",
    "TypedMLError",
    "TypedMLWarning",
    "WiringError",
    "raised_clean",
]

Severity = Literal["error", "warning", "info"]
"""``error``: the pipeline cannot run; ``warning``: something could not be verified or looks
wrong; ``info``: a fact worth knowing that needs no change (e.g. a body that is trusted, not
checked)."""

DOCS_URL = "https://typedml.readthedocs.io/en/latest/"
"""Where the documentation lives; each diagnostic code has an anchor on its errors page."""

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclasses.dataclass(frozen=True)
class Location:
    """A place in user code: ``path:line:col`` (line and column are 1-based)."""

    path: str
    line: int
    col: int = 1
    end_line: int | None = None
    end_col: int | None = None
    """Where the place ends (1-based, exclusive column), when known: the range an editor marks."""

    def __str__(self) -> str:
        return f"{visible(_display_path(self.path))}:{self.line}:{self.col}"


@dataclasses.dataclass(frozen=True)
class Related:
    """A second place that explains a diagnostic: the annotation that fixed a size or a unit,
    the producing stage's return annotation, the other use of a shared name."""

    message: str
    location: Location | None = None

    def __str__(self) -> str:
        place = f"{self.location}: " if self.location is not None else ""
        return f"{place}note: {visible(self.message)}"


@dataclasses.dataclass(frozen=True)
class Fix:
    """A suggested edit: replace the text at ``location`` (a range) with ``replacement``.

    An editor offers it as a quick fix (``title``); e.g. a misspelt port name and the port it
    most likely means.
    """

    title: str
    location: Location
    replacement: str


def _display_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # different drive on Windows
        return path
    if rel.startswith("..") and os.path.abspath(path).startswith(_PACKAGE_DIR + os.sep):
        return os.path.relpath(path, os.path.dirname(_PACKAGE_DIR))  # typedml's own: typedml/stdlib/...
    return path if rel.startswith("..") else rel


_internal: tuple[str, ...] = ()


def _internal_dirs() -> tuple[str, ...]:
    global _internal
    if not _internal:
        dirs = [_PACKAGE_DIR]
        for name in ("jax", "jaxlib"):
            module = sys.modules.get(name)
            path = getattr(module, "__file__", None)
            if path:
                dirs.append(os.path.dirname(os.path.abspath(path)) + os.sep)
        _internal = tuple(dirs)
    return _internal


# Where the user asked for what runs now, when no frame of theirs is on the stack: a property
# that typedml.testing made runs under hypothesis and pytest, so the innermost frame outside
# typedml would be a line of hypothesis; the place that made the property is named instead.
_made_at: contextvars.ContextVar[Location | None] = contextvars.ContextVar("typedml_made_at", default=None)
_RUNNERS = ("hypothesis", "_pytest", "pluggy", "pytest")


def user_location(skip_internal: bool = True) -> Location | None:
    """The innermost calling frame outside typedml itself, with its column if known."""
    frame: FrameType | None = sys._getframe(1)  # pyright: ignore[reportPrivateUsage]
    made_at = _made_at.get()
    while frame is not None:
        filename = frame.f_code.co_filename
        # typedml's own frames, and JAX's while it traces a compiled pipeline
        internal = _is_internal(filename) or (filename == "<string>" and frame.f_code.co_name == "__init__")
        # (the second: the __init__ a dataclass of typedml generates, as for tm.Axis("n"))
        if not (skip_internal and internal) and not filename.startswith("<frozen"):
            if made_at is not None and frame.f_globals.get("__name__", "").partition(".")[0] in _RUNNERS:
                return made_at
            return _frame_location(frame)
        frame = frame.f_back
    return made_at


@contextlib.contextmanager
def made_at(location: Location | None) -> Generator[None]:
    """Within the block, errors that find no frame of the user's name ``location`` instead."""
    token = _made_at.set(location)
    try:
        yield
    finally:
        _made_at.reset(token)


@functools.lru_cache(maxsize=1024)
def _is_internal(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_internal_dirs())


@functools.lru_cache(maxsize=256)
def _positions(code: CodeType) -> tuple[tuple[int | None, int | None, int | None, int | None], ...]:
    # cached: a pipeline body of N stage calls asks for N positions in one code object
    return tuple(code.co_positions())


def _frame_location(frame: FrameType) -> Location:
    filename = frame.f_code.co_filename
    try:
        line, end_line, col, end_col = _positions(frame.f_code)[frame.f_lasti // 2]
    except (IndexError, AttributeError):  # pragma: no cover - defensive
        return Location(filename, frame.f_lineno)
    if line is None:
        return Location(filename, frame.f_lineno)
    if col is None:
        return Location(filename, line)
    end = end_line if end_line is not None and end_col is not None else None
    return Location(
        filename,
        line,
        char_column(filename, line, col) + 1,
        end,
        None if end is None or end_col is None else char_column(filename, end, end_col) + 1,
    )


def has_source(filename: str) -> bool:
    """Whether ``filename``'s text can be read: registered in ``linecache`` or a file here.

    ``linecache`` alone would also search ``sys.path`` for a relative name, and find a namesake
    (code compiled as ``"README.md"`` is not the README at the root of an installed project).
    """
    return filename in linecache.cache or os.path.isfile(filename)


def char_column(filename: str, line: int, byte_col: int) -> int:
    """The 0-based character column of ``byte_col``, a UTF-8 byte offset into ``line``.

    Python's code positions and ``ast`` offsets count bytes; editors, SARIF and compiler-style
    messages count characters (``é`` is one column, not two).
    """
    if byte_col <= 0 or not has_source(filename):
        return max(byte_col, 0)
    text = linecache.getline(filename, line)
    if not text or text.isascii():
        return byte_col
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


@dataclasses.dataclass(frozen=True)
class Diagnostic:
    """One problem found by a check, printed like a compiler message.

    ``code`` is documented in ``docs/errors.md`` (:attr:`url`); ``notes`` are the facts
    (expected, found, where each came from, current shape bindings); ``hint`` suggests the fix;
    ``related`` are other places that explain it (one cause gives one diagnostic, with the
    places it touches here).
    """

    code: str
    message: str
    location: Location | None = None
    severity: Severity = "error"
    notes: tuple[str, ...] = ()
    hint: str | None = None
    stage: str | None = None
    port: str | None = None
    related: tuple[Related, ...] = ()
    fixes: tuple[Fix, ...] = ()

    @property
    def url(self) -> str:
        """The documentation of this diagnostic's code."""
        return f"{DOCS_URL}errors/#{self.code.lower()}"

    def __str__(self) -> str:
        # one head line, one line per note: user text never adds a line of its own
        place = f"{self.location}: " if self.location is not None else ""
        lines = [f"{place}{self.severity}[{self.code}] {visible(self.message)}"]
        lines.extend(f"    {visible(note)}" for note in self.notes)
        lines.extend(f"    {related}" for related in self.related)
        if self.hint:
            lines.append(f"    hint: {visible(self.hint)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form (used by the CLI's ``--format json``)."""
        loc = self.location
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": loc.path if loc else None,
            "line": loc.line if loc else None,
            "col": loc.col if loc else None,
            "end_line": loc.end_line if loc else None,
            "end_col": loc.end_col if loc else None,
            "stage": self.stage,
            "port": self.port,
            "notes": list(self.notes),
            "hint": self.hint,
            "related": [
                {
                    "message": r.message,
                    "path": r.location.path if r.location else None,
                    "line": r.location.line if r.location else None,
                    "col": r.location.col if r.location else None,
                    "end_line": r.location.end_line if r.location else None,
                    "end_col": r.location.end_col if r.location else None,
                }
                for r in self.related
            ],
            "fixes": [
                {
                    "title": f.title,
                    "path": f.location.path,
                    "line": f.location.line,
                    "col": f.location.col,
                    "end_line": f.location.end_line,
                    "end_col": f.location.end_col,
                    "replacement": f.replacement,
                }
                for f in self.fixes
            ],
            "url": self.url,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Diagnostic:
        """The diagnostic :meth:`to_dict` wrote (e.g. sent back by a worker process)."""

        def place(item: Mapping[str, Any]) -> Location | None:
            if item.get("path") is None or item.get("line") is None:
                return None
            return Location(item["path"], item["line"], item.get("col") or 1, item.get("end_line"), item.get("end_col"))

        fixes: list[Fix] = []
        for f in data.get("fixes") or ():
            where = place(f)
            if where is not None:
                fixes.append(Fix(f["title"], where, f["replacement"]))
        severity: Severity = data.get("severity", "error")
        return cls(
            data["code"],
            data["message"],
            place(data),
            severity=severity,
            notes=tuple(data.get("notes") or ()),
            hint=data.get("hint"),
            stage=data.get("stage"),
            port=data.get("port"),
            related=tuple(Related(r["message"], place(r)) for r in data.get("related") or ()),
            fixes=tuple(fixes),
        )


class TypedMLError(Exception):
    """Base class of every error typedml raises on purpose.

    Holds one or more diagnostics; ``str(err)`` prints them compiler-style.
    """

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__(self.diagnostics)

    @property
    def diagnostic(self) -> Diagnostic:
        """The first (often the only) diagnostic."""
        return self.diagnostics[0]

    @property
    def code(self) -> str:
        """The code of the first diagnostic, e.g. ``"TM102"``."""
        return self.diagnostics[0].code

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]

    def __str__(self) -> str:
        errors = [d for d in self.diagnostics if d.severity == "error"]
        head = "" if len(errors) <= 1 else f"{len(errors)} errors\n"
        return head + "\n".join(str(d) for d in self.diagnostics)

    def __reduce__(self) -> tuple[type[TypedMLError], tuple[list[Diagnostic]]]:
        return (type(self), (self.diagnostics,))

    def _repr_html_(self) -> str:
        """An error shown as a value in a notebook: its diagnostics as a table (``%load_ext
        typedml`` shows the same table when one is raised in a cell)."""
        from ._display import error_html

        return error_html(self)


_JAX_NOTE = "JAX has removed its internal frames"

_E = TypeVar("_E", bound=BaseException)


def raised_clean(err: _E) -> _E:
    """``err`` as the user's call should show it: no internal frames, and no note JAX added
    while it passed through a trace (a second call with new shapes re-traces, and an input
    refused there carries JAX's "removed its internal frames" note otherwise)."""
    notes: list[str] | None = getattr(err, "__notes__", None)
    if notes:
        kept = [n for n in notes if _JAX_NOTE not in n]
        if kept:
            err.__notes__ = kept
        else:
            del err.__notes__
    return err.with_traceback(None)


class StageDefinitionError(TypedMLError, TypeError):
    """A stage or pipeline is malformed: raised when its decorator runs."""


class WiringError(TypedMLError, TypeError):
    """A pipeline's graph is inconsistent: found at build time, before any data."""


class BodyError(TypedMLError, TypeError):
    """A stage body does not produce what its signature declares."""


class InputError(TypedMLError, ValueError):
    """Data given to a pipeline or stage does not match its signature."""


class DistributedError(TypedMLError, RuntimeError):
    """Processes running one job under ``jax.distributed`` could not go on together: one did
    not arrive in time, or failed while the others waited for it."""


class NonFiniteError(TypedMLError, FloatingPointError):
    """A stage produced NaN or Inf from finite inputs."""


class ContractError(TypedMLError, ValueError):
    """A value inside a running pipeline breaks a contract (refinement) a stage declares."""


class TypedMLWarning(UserWarning):
    """Base class of the warnings typedml gives while running: each holds its diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))

    @property
    def code(self) -> str:
        return self.diagnostic.code

    def __reduce__(self) -> tuple[type[TypedMLWarning], tuple[Diagnostic]]:
        return (type(self), (self.diagnostic,))


class PrecisionWarning(TypedMLWarning):
    """64-bit data given to a pipeline that JAX computes in 32 bits (``jax_enable_x64`` is off)."""


class ConversionWarning(TypedMLWarning):
    """A unit conversion that holds only under a convention typedml cannot check: one that
    takes the radian as the number 1 (``rpm`` -> ``Hz``, ``Hz`` -> ``rad/s``; TM142)."""


for _cls in (
    TypedMLError,
    TypedMLWarning,
    PrecisionWarning,
    ConversionWarning,
    StageDefinitionError,
    WiringError,
    BodyError,
    InputError,
    NonFiniteError,
    ContractError,
    DistributedError,
    Diagnostic,
    Fix,
    Location,
    Related,
):
    _cls.__module__ = "typedml"
