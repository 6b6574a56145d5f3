"""The language server: pygls over stdio, checks in a worker process (see ``typedml._isolate``).

Documents are checked when opened, when saved, and after a pause in typing (debounced); each
check runs :func:`typedml.check_source` on the editor's text in a warm worker process with a
time limit, so user code that loops forever or crashes costs a diagnostic, not the server. The
last answer of each document serves hover, inlay hints and quick fixes without running
anything.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path

from .. import __version__
from .._isolate import Worker, WorkerDied, WorkerError, WorkerTimeout

__all__ = ["Options", "TypedMLServer", "build"]

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


@dataclass
class Options:
    """How the server checks: time limit per check, pause after typing, worker recycling."""

    timeout: float = 10.0
    debounce: float = 0.3
    recycle_after: int = 500
    max_rss_mb: float = 1024.0


@dataclass
class _State:
    """The last answer for one document, and the text it was computed on."""

    version: int | None = None
    lines: list[str] = field(default_factory=list[str])
    diagnostics: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    values: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    hovers: list[str] = field(default_factory=list[str])  # hover texts, by the index values give


class TypedMLServer(LanguageServer):
    """pygls's server with typedml's worker and the last answer per document."""

    def __init__(self, options: Options) -> None:
        super().__init__("typedml", __version__)  # pyright: ignore[reportUnknownMemberType]
        self.options = options
        self.worker: Worker | None = None
        self.states: dict[str, _State] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.lock = threading.Lock()  # one check at a time in the worker

    def start_worker(self, cwd: str | None) -> None:
        self.worker = Worker(
            "typedml.lsp._analyse:analyse",
            timeout=self.options.timeout,
            recycle_after=self.options.recycle_after,
            max_rss_mb=self.options.max_rss_mb,
            cwd=cwd,
        )
        self.worker.start()

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.close()

    def run_check(self, path: str, text: str) -> dict[str, Any]:
        """Check in the worker (blocking; called in a thread)."""
        with self.lock:
            if self.worker is None:
                self.start_worker(None)
            assert self.worker is not None
            try:
                answer = self.worker.call({"path": path, "text": text})
            except WorkerTimeout:
                return _failure(
                    path,
                    "TM411",
                    f"checking {Path(path).name} took longer than {self.options.timeout:g} s: stopped",
                    "look for a loop that never ends or work at import time; "
                    "guard scripts with `if __name__ == '__main__':`",
                )
            except WorkerDied as err:
                return _failure(
                    path, "TM412", f"checking {Path(path).name} stopped the worker process: {err}", _CRASH_HINT
                )
            except WorkerError as err:  # pragma: no cover - any other failure of the worker
                return _failure(path, "TM412", f"the check could not run: {err}", _CRASH_HINT)
        if "error" in answer:
            return _failure(path, "TM412", f"the check failed inside typedml: {answer['error']}", _CRASH_HINT)
        return answer


_CRASH_HINT = (
    "the module exits the interpreter (os._exit, a crash in native code) when it is imported; "
    "guard scripts with `if __name__ == '__main__':`"
)


def _failure(path: str, code: str, message: str, hint: str) -> dict[str, Any]:
    diagnostic: dict[str, Any] = {
        "code": code,
        "severity": "error",
        "message": message,
        "path": path,
        "line": 1,
        "col": 1,
        "end_line": None,
        "end_col": None,
        "notes": [],
        "hint": hint,
        "related": [],
        "fixes": [],
        "url": f"https://typedml.readthedocs.io/en/latest/errors/#{code.lower()}",
    }
    return {"path": path, "diagnostics": [diagnostic], "values": [], "hovers": []}


def _path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def _uri(path: str) -> str:
    return from_fs_path(path) or path


def _position(doc_lines: list[str], codec: Any, line: int, char: int) -> types.Position:
    """A 0-based (line, code point) position in the client's units (UTF-16 unless negotiated)."""
    return codec.position_to_client_units(doc_lines, types.Position(line=max(line, 0), character=max(char, 0)))


def _range(lines: list[str], codec: Any, item: dict[str, Any]) -> types.Range:
    line = max((item.get("line") or 1) - 1, 0)
    col = max((item.get("col") or 1) - 1, 0)
    end_line, end_col = item.get("end_line"), item.get("end_col")
    if end_line is None or end_col is None:
        end_line, end_col = line + 1, len(lines[line]) + 1 if line < len(lines) else col + 1  # to the end of the line
    return types.Range(start=_position(lines, codec, line, col), end=_position(lines, codec, end_line - 1, end_col - 1))


def to_lsp(item: dict[str, Any], path: str, lines: list[str], codec: Any) -> types.Diagnostic:
    """One typedml diagnostic (its ``to_dict()`` form) as an LSP diagnostic of the document at ``path``."""
    here = item.get("path") is None or item["path"] == path
    message = item["message"]
    details = list(item.get("notes") or [])
    if item.get("hint"):
        details.append(f"hint: {item['hint']}")
    related: list[types.DiagnosticRelatedInformation] = []
    if not here:  # found in another file (a stage imported from it): shown at the top, linked there
        message = f"{item['message']} (in {item['path']}:{item['line']})"
        related.append(
            types.DiagnosticRelatedInformation(
                location=types.Location(uri=_uri(item["path"]), range=_plain_range(item)), message="found here"
            )
        )
    entries: list[dict[str, Any]] = item.get("related") or []
    for r in entries:
        if r.get("path") is None:
            details.append(f"note: {r['message']}")
            continue
        in_doc = r["path"] == path
        related.append(
            types.DiagnosticRelatedInformation(
                location=types.Location(
                    uri=_uri(r["path"]), range=_range(lines, codec, r) if in_doc else _plain_range(r)
                ),
                message=r["message"],
            )
        )
    where = item if here else {"line": 1, "col": 1, "end_line": 1, "end_col": 1}
    return types.Diagnostic(
        range=_range(lines, codec, where),
        message="\n".join([message, *details]),
        severity=_SEVERITY.get(item["severity"], types.DiagnosticSeverity.Error),
        code=item["code"],
        code_description=types.CodeDescription(href=item["url"]) if item.get("url") else None,
        source="typedml",
        related_information=related or None,
        data={"fixes": item.get("fixes") or []} if here else None,
    )


def _plain_range(item: dict[str, Any]) -> types.Range:
    """A range in another file (not open here): code points taken as the client's units."""
    line = max((item.get("line") or 1) - 1, 0)
    col = max((item.get("col") or 1) - 1, 0)
    end_line = (item.get("end_line") or item.get("line") or 1) - 1
    end_col = (item.get("end_col") or item.get("col") or 1) - 1
    return types.Range(
        start=types.Position(line=line, character=col), end=types.Position(line=end_line, character=end_col)
    )


def _refresh_supported(ls: TypedMLServer) -> bool:
    workspace = ls.client_capabilities.workspace
    inlay = None if workspace is None else workspace.inlay_hint
    return bool(inlay is not None and inlay.refresh_support)


def build(options: Options) -> TypedMLServer:
    """The server with its features registered."""
    server = TypedMLServer(options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: TypedMLServer, params: types.InitializedParams) -> None:
        root = ls.workspace.root_path
        ls.start_worker(root)  # warms up while the editor opens its first file

    async def check(ls: TypedMLServer, uri: str, delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        doc = ls.workspace.get_text_document(uri)
        text, version = doc.source, doc.version
        lines = text.splitlines()
        path = _path(uri)
        answer = await asyncio.to_thread(ls.run_check, path, text)
        current = ls.workspace.get_text_document(uri)
        if current.version != version and version is not None:
            return  # edited meanwhile: a newer check is on its way
        state = ls.states.setdefault(uri, _State())
        state.version, state.lines = version, lines
        state.diagnostics = answer["diagnostics"]
        state.values = answer["values"]
        state.hovers = answer.get("hovers", [])
        codec = doc.position_codec
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=version,
                diagnostics=[to_lsp(d, path, lines, codec) for d in state.diagnostics],
            )
        )
        if _refresh_supported(ls):
            ls.workspace_inlay_hint_refresh(None)

    def schedule(ls: TypedMLServer, uri: str, delay: float) -> None:
        previous = ls.pending.pop(uri, None)
        if previous is not None and not previous.done():
            previous.cancel()
        ls.pending[uri] = asyncio.ensure_future(check(ls, uri, delay))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: TypedMLServer, params: types.DidOpenTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: TypedMLServer, params: types.DidChangeTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri, ls.options.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: TypedMLServer, params: types.DidSaveTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TypedMLServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.states.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: TypedMLServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        state = ls.states.get(uri)
        if state is None:
            return None
        doc = ls.workspace.get_text_document(uri)
        codec = doc.position_codec
        at = codec.position_from_client_units(state.lines, params.position)
        for value in state.values:
            line, start, end_line, end = value["range"]
            if (line, start) <= (at.line, at.character) < (end_line, end) or (at.line, at.character) == (line, end):
                return types.Hover(
                    contents=types.MarkupContent(
                        kind=types.MarkupKind.Markdown, value=state.hovers[int(value["hover"])]
                    ),
                    range=types.Range(
                        start=_position(state.lines, codec, line, start),
                        end=_position(state.lines, codec, end_line, end),
                    ),
                )
        return None

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    def inlay_hint(ls: TypedMLServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        uri = params.text_document.uri
        state = ls.states.get(uri)
        if state is None:
            return []
        codec = ls.workspace.get_text_document(uri).position_codec
        first, last = params.range.start.line, params.range.end.line
        hints: list[types.InlayHint] = []
        for value in state.values:
            line, _, end_line, end = value["range"]
            if value["role"] != "assign" or not value["hint"] or not first <= line <= last:
                continue
            hints.append(
                types.InlayHint(
                    position=_position(state.lines, codec, end_line, end),
                    label=f": {value['hint']}",
                    kind=types.InlayHintKind.Type,
                    tooltip=types.MarkupContent(
                        kind=types.MarkupKind.Markdown, value=state.hovers[int(value["hover"])]
                    ),
                )
            )
        return hints

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(ls: TypedMLServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        state = ls.states.get(uri)
        lines = state.lines if state is not None else list(ls.workspace.get_text_document(uri).lines)
        codec = ls.workspace.get_text_document(uri).position_codec
        actions: list[types.CodeAction] = []
        for diagnostic in params.context.diagnostics:
            data: Any = diagnostic.data
            fixes: list[dict[str, Any]] = list(data.get("fixes") or []) if isinstance(data, dict) else []  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
            for i, fix in enumerate(fixes):
                edit = types.TextEdit(range=_range(lines, codec, fix), new_text=fix["replacement"])
                actions.append(
                    types.CodeAction(
                        title=fix["title"],
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=i == 0,
                        edit=types.WorkspaceEdit(changes={uri: [edit]}),
                    )
                )
        return actions

    return server
