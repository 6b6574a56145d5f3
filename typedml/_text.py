"""User text made safe to show: one line in a terminal or a problem matcher, escaped in HTML.

Messages, pictures and reports quote what users wrote (names, configuration, unit strings) and
what their code raised. Every output form passes that text through here, so a newline, a
carriage return, an ANSI escape sequence or a ``<script>`` in it is shown, never obeyed.
"""

from __future__ import annotations

import html

__all__ = ["html_text", "visible"]

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: str) -> str:
    """``text`` on one line with every control or invisible character written as an escape.

    Messages quote what users wrote and what their code raised: a newline, a carriage return
    or an ANSI escape sequence in there could otherwise start a forged ``file:line: error``
    line in a terminal or a problem matcher. ``"\\x1b[2K"`` shows as its five characters.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _ESCAPES.get(c) or _escape(c) for c in text)


def html_text(text: str) -> str:
    """``text`` for HTML or SVG: its lines kept, each made :func:`visible`, then HTML-escaped."""
    return html.escape("\n".join(visible(line) for line in text.split("\n")))


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
