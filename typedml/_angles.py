"""Angles as a dimension: a pint registry where the radian is a base unit of ``[angle]``.

pint's default registry, like the SI, defines ``radian = []``: an angle is a pure number, so
``Hz`` converts to ``rad/s`` by 1 (the 2π of ω = 2πf is lost) and ``rpm`` (2π rad/min) to
``Hz`` by 2π/60 (1 rpm = 0.105 Hz instead of 1/60 Hz). :func:`angle_registry` builds a
registry from pint's own definitions with one change, ``radian = [angle]``, so that radian,
degree, revolution (turn, cycle) and everything defined from them (``rpm``, ``steradian``)
carry the dimension: Hz into a rad/s port is a unit error, and rpm converts to rad/s with its
2π/60. The cost: quantities that the SI defines through angles carry them too (``lumen`` is
``cd*sr``, ``[luminosity]*[angle]**2``), and a formula such as v = ω·r gives ``m*rad/s``,
which a port in ``m/s`` refuses; a stage that turns an angle into a length declares it.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import pint

__all__ = ["angle_registry", "has_angles"]


@functools.cache
def _definitions() -> tuple[str, ...]:
    folder = os.path.dirname(pint.__file__)
    with open(os.path.join(folder, "default_en.txt"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    out: list[str] = []
    replaced = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("@import "):
            with open(os.path.join(folder, stripped.split(None, 1)[1]), encoding="utf-8") as g:
                out.extend(g.read().splitlines())
            continue
        if stripped.startswith("radian = [] = rad"):
            line = "radian = [angle] = rad"
            replaced = True
        out.append(line)
    if not replaced:  # pragma: no cover - a pint release that defines the radian differently
        raise RuntimeError("pint's definitions no longer contain 'radian = [] = rad'; angles cannot be a dimension")
    return tuple(out)


def angle_registry(**kwargs: Any) -> Any:
    """A new pint registry with pint's default units and the radian a base unit of ``[angle]``.

    Use it with ``tm.set_registry(tm.angle_registry())`` (or ``tm.use_registry``) before
    defining stages. Keyword arguments go to :class:`pint.UnitRegistry`.
    """
    make: Any = pint.UnitRegistry
    registry: Any = make(None, **kwargs)  # None: start empty, then pint's definitions with the change
    registry.load_definitions(list(_definitions()))
    return registry


def has_angles(registry: Any) -> bool:
    """Whether ``registry`` treats angles as a dimension (its radian is not dimensionless)."""
    try:
        return not bool(registry.parse_units("radian").dimensionless)
    except Exception:  # noqa: BLE001 - a registry without a radian
        return False
