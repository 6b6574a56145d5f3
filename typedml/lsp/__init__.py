"""``typedml lsp``: a language server that shows typedml's checks in the editor.

Install the extra (``pip install 'typedml[lsp]'``, which brings pygls) and point the editor at
``python -m typedml lsp`` (see ``docs/howto/editors.md``). It is a thin layer over the public
:func:`typedml.check_source`: diagnostics on open, save and after a pause in typing; hover on a
value of a pipeline body (unit, shape, dtype, contracts, the conversion on each of its edges);
inlay hints with the resolved unit and shape of each value assigned in a pipeline body; quick
fixes (a misspelt port). User code runs in a worker process with a time limit.

Everything in this package except :func:`main` is private.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the language server over stdio until the editor says exit; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="typedml lsp", description="A language server for typedml (speaks LSP over stdio)."
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS", help="time limit of one check (default 10)"
    )
    parser.add_argument(
        "--debounce",
        type=float,
        default=0.3,
        metavar="SECONDS",
        help="pause in typing before a check (default 0.3)",
    )
    parser.add_argument(
        "--recycle-after",
        type=int,
        default=500,
        metavar="N",
        help="start a fresh worker process after N checks (default 500)",
    )
    parser.add_argument(
        "--max-rss",
        type=float,
        default=1024.0,
        metavar="MB",
        help="start a fresh worker process when its memory passes MB (default 1024)",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as err:
        return err.code if isinstance(err.code, int) else 2
    try:
        import pygls  # noqa: F401  # pyright: ignore[reportUnusedImport]
    except ImportError:
        print(
            "typedml lsp needs pygls, which is not installed: pip install 'typedml[lsp]'",
            file=sys.stderr,
        )
        return 2
    from ._server import Options, build

    options = Options(
        timeout=args.timeout, debounce=args.debounce, recycle_after=args.recycle_after, max_rss_mb=args.max_rss
    )
    server = build(options)
    try:
        server.start_io()
    finally:
        server.stop_worker()
    return 0
