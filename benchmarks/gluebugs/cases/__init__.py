"""One module per family of glue bugs; importing a module registers its cases."""

from __future__ import annotations

import importlib

MODULES = (
    "units",
    "axes",
    "sizes",
    "dtypes",
    "broadcasting",
    "statistics",
    "wiring",
    "kinds",
    "angles",
    "conversions",
    "affine",
)


def load_all() -> list[type]:
    import corpus

    for name in MODULES:
        importlib.import_module(f"cases.{name}")
    return sorted(corpus.CASES, key=lambda c: (corpus.FAMILIES.index(c.meta.family), c.meta.id))
