"""Units as data files write them, read into the registry in use; and written back.

Data carries its unit as text: ``attrs["units"]`` in netCDF/xarray (the CF convention, whose
UDUNITS spellings pint does not all read: ``"m s-1"``, ``"kg m-2"``, ``"degrees_Celsius"``),
a ``"unit"`` key in an Arrow field's metadata, a pint-pandas dtype. :func:`parse_unit` reads
pint's syntax first, then the CF spellings, and caches the result per registry and text (a
call with a DataArray reads its unit without asking pint again). :func:`unit_attr` writes the
unit of an output as text both pint and UDUNITS read.
"""

from __future__ import annotations

import re
from typing import Any

from ._spec import Port
from ._units import UnitParseError, get_registry, odd_sign, parse_unit_expr

__all__ = ["parse_unit", "unit_attr", "unit_text_of"]

_cache: dict[tuple[int, str], Any] = {}
# CF / UDUNITS names pint does not know, and what pint calls them
_NAMES = {
    "degrees_celsius": "degC",
    "degree_c": "degC",
    "deg_c": "degC",
    "degreec": "degC",
    "celsius": "degC",
    "degrees_fahrenheit": "degF",
    "degree_f": "degF",
    "fahrenheit": "degF",
    "degrees_kelvin": "K",
    "degree_k": "K",
    "degrees_north": "degree",
    "degree_north": "degree",
    "degrees_n": "degree",
    "degrees_east": "degree",
    "degree_east": "degree",
    "degrees_e": "degree",
    "degrees_south": "degree",
    "degrees_west": "degree",
    "psu": "dimensionless",
    "level": "dimensionless",
    "-": "dimensionless",
}
_TOKEN = re.compile(r"^([A-Za-z_°%µ][A-Za-z_°%µ0-9]*?)(?:\^|\*\*)?(-?\d+)?$")


def parse_unit(text: Any) -> Any:
    """The pint UnitsContainer of ``text`` in the registry in use, or why it is not a unit (a str)."""
    if not isinstance(text, str):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        else:
            return f"a {type(text).__name__}, not text"
    registry = get_registry()
    key = (id(registry), text)
    found = _cache.get(key)
    if found is None:
        found = _parse(text, registry)
        if len(_cache) > 4096:
            _cache.clear()
        _cache[key] = found
    return found


def _parse(text: str, registry: Any) -> Any:
    stripped = text.strip()
    odd = odd_sign(stripped, variables=False)  # data states units, never unit variables
    if odd is not None:
        return f"{odd!r} is no part of a unit's text"
    try:
        return _container(stripped, registry)
    except UnitParseError as err:
        first = err.detail
    cf = _from_cf(stripped)
    if cf is not None and cf != stripped:
        try:
            return _container(cf, registry)
        except UnitParseError:
            pass
    return first


def _container(text: str, registry: Any) -> Any:
    expr = parse_unit_expr(text or "dimensionless", registry)
    if expr.variables:
        raise UnitParseError(text, "unit", "a unit variable is not a unit")
    return expr.resolve_concrete(registry)._units


def _from_cf(text: str) -> str | None:
    """A UDUNITS product (``"kg m-2 s-1"``, ``"m.s-1"``, ``"m2"``) in pint's syntax."""
    named = _NAMES.get(text.lower())
    if named is not None:
        return named
    if "/" in text or "(" in text:
        return None
    parts: list[str] = []
    for token in re.split(r"[\s.]+", text):
        if not token:
            continue
        m = _TOKEN.match(token)
        if m is None:
            return None
        name, power = m.group(1), m.group(2)
        name = _NAMES.get(name.lower(), name)
        parts.append(f"{name}**{power}" if power not in (None, "1") else name)
    return "*".join(parts) if parts else None


def unit_text_of(units: Any) -> str:
    """A pint UnitsContainer (or unit) as text that pint and UDUNITS both read."""
    from ._units import unit_text

    registry = get_registry()
    unit = registry.Unit(units)
    short = unit_text(unit)
    if short.isascii() and " " not in short:
        return short
    compact = format(unit, "~C")
    return compact if compact.isascii() and compact else format(unit, "C") or "1"


def unit_attr(port: Port, units: Any) -> str:
    """What ``attrs["units"]`` (or Arrow's ``"unit"``) says for an output: the port's own text
    when it declares a concrete unit equal to the value's, else the unit written out."""
    t = port.type
    if t is not None and t.unit is not None and not t.unit.variables:
        declared = str(t.unit)
        if parse_unit(declared) == units:
            return declared
    return unit_text_of(units)
