"""One module per family of glue bugs; importing a module registers its cases."""

from __future__ import annotations

import importlib


def load_all() -> list[type]:
    import corpus

    for family in corpus.FAMILIES:  # one module per family, named after it
        importlib.import_module(f"cases.{family}")
    return sorted(corpus.CASES, key=lambda c: (corpus.FAMILIES.index(c.meta.family), c.meta.id))
