"""``python -m typedml``: the command line (see ``typedml._cli``)."""

from __future__ import annotations

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
