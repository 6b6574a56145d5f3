"""Quantity kinds: what a quantity *is*, beyond its unit (ISO 80000's "kind of quantity").

A height and a width are both lengths in metres, a torque and an energy are both N·m, a
frequency, an angular frequency and an activity are all 1/s (in pint's default registry).
The unit cannot tell them apart; a :class:`Kind` on a port can:
``Q[Float[Array, "n"], "N*m", tm.Kind("torque")]``.

Kinds form a forest (:class:`Kinds`): ``height`` is a kind of ``length``. A value of kind A
may flow into a port of kind B when one is a kind of the other (a height is a length; a
length port's value may be a height); two kinds with no such relation (width and height,
torque and energy) do not meet. A port without a kind accepts any kind and says nothing about
its own. Unit variables carry kinds: ``mean(x: 'u) -> 'u`` returns a height for heights.

``tm.kinds`` is the tree in use: ISO 80000 basics, extended with :meth:`Kinds.define`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
from collections.abc import Generator, Iterable

__all__ = ["Kind", "Kinds", "get_kinds", "kinds", "use_kinds"]


@dataclasses.dataclass(frozen=True)
class Kind:
    """The kind of quantity a port holds: put it in ``Q[..., "unit", tm.Kind("torque")]``.

    The name must be defined in the kind tree in use (``tm.kinds``) when the stage is
    defined; a kind declared with a dimension requires a port unit of that dimension.
    """

    name: str

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"


@dataclasses.dataclass(frozen=True)
class _Entry:
    name: str
    parent: str | None
    unit: str | None  # a unit of the kind's dimension (None: inherited, or any)
    doc: str


class Kinds:
    """A user-extensible forest of quantity kinds.

    ``define("wheel_radius", parent="radius")`` adds a kind below another;
    ``define("luminance_ratio", unit="")`` adds a root kind of a dimension (a unit whose
    dimension every port of that kind must have). :meth:`copy` gives an independent tree to
    change in tests, and :func:`use_kinds` puts one in use for a ``with`` block.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._checked = True  # a unit given to define() is read by the registry in use

    def define(self, name: str, *, parent: str | None = None, unit: str | None = None, doc: str = "") -> None:
        """Add kind ``name`` below ``parent`` (a root when ``None``).

        ``unit``: any unit of the kind's dimension, checked against port units at definition
        (``"N*m"`` for torque); below a parent it is inherited. Redefining a kind the same
        way is allowed; redefining it differently is a ``ValueError``.
        """
        if not isinstance(name, str) or not name.isidentifier():  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ValueError(f"a kind name is an identifier such as 'wheel_radius', got {name!r}")
        if parent is not None and not isinstance(parent, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ValueError(f"the parent of kind {name!r} is a kind's name such as 'length', got {parent!r}")
        if parent is not None and parent not in self._entries:
            raise ValueError(f"parent kind {parent!r} of {name!r} is not defined{self.suggest(parent)}")
        if unit is not None and self._checked:
            self._check_unit(name, parent, unit)
        entry = _Entry(name, parent, unit, doc)
        old = self._entries.get(name)
        if old is not None and (old.parent, old.unit) != (parent, unit):
            raise ValueError(f"kind {name!r} is already defined (below {old.parent!r}, unit {old.unit!r})")
        self._entries[name] = entry

    def _check_unit(self, name: str, parent: str | None, unit: object) -> None:
        """``unit`` is one the registry in use reads, of the dimension of ``parent``'s unit: a
        unit that cannot be read would leave every port of the kind unchecked."""
        from ._units import get_registry

        if not isinstance(unit, str):
            raise ValueError(f"the unit of kind {name!r} is a unit expression such as 'N*m', got {unit!r}")
        registry = get_registry()
        try:
            dimension = registry.parse_units(unit.strip() or "dimensionless").dimensionality
        except Exception as err:  # noqa: BLE001 - pint's own errors, said as the kind's
            raise ValueError(f"the unit {unit!r} of kind {name!r} cannot be read: {err}") from None
        above = self.unit(parent) if parent is not None else None
        if above is None:
            return
        try:
            inherited = registry.parse_units(above).dimensionality
        except Exception:  # noqa: BLE001 - a parent's unit of another registry: nothing to compare
            return
        if inherited != dimension:
            raise ValueError(
                f"the unit {unit!r} of kind {name!r} is {dimension}, but its parent {parent!r} is measured "
                f"in {above!r} ({inherited})"
            )

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterable[str]:
        return iter(sorted(self._entries))

    def names(self) -> list[str]:
        """Every defined kind, sorted."""
        return sorted(self._entries)

    def parent(self, name: str) -> str | None:
        return self._entries[name].parent

    def ancestors(self, name: str) -> tuple[str, ...]:
        """``name`` and the kinds above it, nearest first: ``("height", "length")``."""
        out: list[str] = []
        current: str | None = name
        while current is not None:
            out.append(current)
            current = self._entries[current].parent
        return tuple(out)

    def is_a(self, kind: str, other: str) -> bool:
        """Whether ``kind`` is ``other`` or a kind below it (a height is a length)."""
        return other in self.ancestors(kind)

    def related(self, a: str, b: str) -> bool:
        """Whether a value of one kind may be the other: one is a kind of the other."""
        return self.is_a(a, b) or self.is_a(b, a)

    def join(self, a: str, b: str) -> str | None:
        """The nearest kind both are kinds of (height, width: length), or None."""
        above = set(self.ancestors(b))
        return next((k for k in self.ancestors(a) if k in above), None)

    def unit(self, name: str) -> str | None:
        """A unit of the kind's dimension (its own or the nearest ancestor's), if declared."""
        return next((self._entries[k].unit for k in self.ancestors(name) if self._entries[k].unit is not None), None)

    def root(self, name: str) -> str:
        return self.ancestors(name)[-1]

    def suggest(self, name: str) -> str:
        close = difflib.get_close_matches(name, self._entries, n=1)
        return f" (did you mean {close[0]!r}?)" if close else ""

    def copy(self) -> Kinds:
        """An independent tree with the same kinds (change it without touching this one)."""
        other = Kinds()
        other._entries = dict(self._entries)
        return other

    def __repr__(self) -> str:
        return f"<typedml.Kinds: {len(self._entries)} kinds>"


def _iso_basics() -> Kinds:
    """ISO 80000 kinds whose units coincide: the distinctions a unit check cannot make."""
    k = Kinds()
    k._checked = False  # pyright: ignore[reportPrivateUsage]  # its units are pint's own: reading them here would build a registry at import
    # ISO 80000-3: space and time
    k.define("length", unit="m", doc="ISO 80000-3 length")
    for name in ("height", "width", "depth", "thickness", "radius", "diameter", "distance", "wavelength"):
        k.define(name, parent="length")
    k.define("altitude", parent="height")
    k.define("area", unit="m**2")
    k.define("volume", unit="m**3")
    k.define("time", unit="s", doc="ISO 80000-3 time")
    for name in ("duration", "period"):
        k.define(name, parent="time")
    k.define("plane_angle", unit="rad")
    k.define("solid_angle", unit="sr")
    k.define("frequency", unit="Hz", doc="cycles per time (Hz)")
    k.define("rotational_frequency", unit="1/s", doc="revolutions per time (rpm, 1/s)")
    k.define("angular_frequency", unit="rad/s", doc="2π times a frequency (rad/s)")
    k.define("angular_velocity", unit="rad/s", doc="rate of change of an angle (rad/s)")
    k.define("speed", unit="m/s")
    k.define("velocity", parent="speed")
    # ISO 80000-4: mechanics
    k.define("mass", unit="kg")
    k.define("force", unit="N")
    k.define("weight", parent="force")
    k.define("energy", unit="J", doc="ISO 80000-4/5 energy")
    for name in ("work", "heat", "kinetic_energy", "potential_energy"):
        k.define(name, parent="energy")
    k.define("torque", unit="N*m", doc="moment of force: N·m like energy, but not an energy")
    k.define("power", unit="W")
    k.define("pressure", unit="Pa")
    k.define("stress", unit="Pa")
    # ISO 80000-5: thermodynamics
    k.define("temperature", unit="K")
    # ISO 80000-6: electromagnetism
    k.define("active_power", unit="W")
    k.define("apparent_power", unit="W", doc="V·A: the same dimension as W, another kind")
    k.define("reactive_power", unit="W")
    # ISO 80000-10: atomic and nuclear physics
    k.define("activity", unit="Bq", doc="decays per time (Bq): 1/s like Hz, another kind")
    k.define("absorbed_dose", unit="Gy")
    k.define("dose_equivalent", unit="Sv", doc="J/kg like Gy, another kind")
    k._checked = True  # pyright: ignore[reportPrivateUsage]
    return k


kinds: Kinds = _iso_basics()
"""The kind tree in use (ISO 80000 basics); extend it with ``tm.kinds.define(...)``."""

_current: list[Kinds] = [kinds]


def get_kinds() -> Kinds:
    """The kind tree in use (``tm.kinds`` unless :func:`use_kinds` put another one in use)."""
    return _current[-1]


@contextlib.contextmanager
def use_kinds(tree: Kinds) -> Generator[Kinds]:
    """Use ``tree`` for kind checks inside a ``with`` block (stages defined there too)."""
    if not isinstance(tree, Kinds):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"use_kinds expects a tm.Kinds tree, got {type(tree).__name__}")
    _current.append(tree)
    try:
        yield tree
    finally:
        _current.pop()


def kind_problem(kind: Kind, unit_text: str | None, concrete: bool, registry: object) -> tuple[str, str] | None:
    """Why ``kind`` cannot apply to a port in ``unit_text`` (``(why, hint)``), or None.

    ``concrete``: the unit has no unit variables (a variable's dimension is not known here).
    """
    tree = get_kinds()
    if not isinstance(kind.name, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        return (
            f"a kind is named by a string, got {type(kind.name).__name__} {kind.name!r}",
            "name a kind of tm.kinds: tm.Kind('height')",
        )
    if kind.name not in tree:
        return (
            f"kind {kind.name!r} is not defined{tree.suggest(kind.name)}",
            f"define it first: tm.kinds.define({kind.name!r}, parent='length')",
        )
    kind_unit = tree.unit(kind.name)
    if kind_unit is None or not concrete or unit_text is None:
        return None
    try:
        want = registry.parse_units(kind_unit).dimensionality  # type: ignore[attr-defined]
        have = registry.parse_units(unit_text.strip() or "dimensionless").dimensionality  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a registry without the kind's unit: nothing to compare
        return None
    if want == have:
        return None
    return (
        f"a {kind.name} is measured in units like {kind_unit} ({want}), but the port's unit {unit_text!r} is {have}",
        f"use a unit of {kind.name} (e.g. {kind_unit!r}) or another kind",
    )
