"""typedml's own quantity type: a magnitude with a unit that is a JAX pytree.

pint Quantities cannot cross ``jax.jit``, ``jax.vmap`` or ``jax.grad`` boundaries. A
:class:`Quantity` can: its magnitude is the pytree leaf and its unit is static metadata, so
it flows through JAX transformations unchanged and converts losslessly to and from pint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import jax
import numpy as np

from ._angles import angle_assumption, angle_hint, say
from ._errors import Diagnostic, InputError, user_location
from ._units import UnitParseError, UType, conversion, get_registry, parse_unit_expr

__all__ = ["Quantity", "QuantityLike"]


@jax.tree_util.register_pytree_node_class
class Quantity:
    """``Quantity(magnitude, "unit")``: an array (or scalar) with a pint unit.

    Accepted wherever a pint Quantity is (pipeline and stage inputs). The unit is parsed
    against the registry in use when the quantity is made. A quantity is immutable: its
    magnitude and unit are fixed when it is made (a compiled pipeline keys its cache on the
    unit, so changing it in place would make eager and compiled runs disagree). It pickles
    as its magnitude and unit text, read again against the registry in use where it is
    unpickled (a quantity made in a worker process arrives in the parent's registry).
    """

    __slots__ = ("_magnitude", "_text", "_units")

    def __init__(self, magnitude: Any, units: str) -> None:
        registry = get_registry()
        try:
            expr = parse_unit_expr(units, registry)
        except UnitParseError as err:
            raise InputError(
                Diagnostic(
                    "TM211",
                    f"unknown or malformed unit {err.text!r} for a typedml Quantity: {err.detail}",
                    user_location(),
                    hint="use pint's unit syntax, with units defined in tm.get_registry()",
                )
            ) from None
        if expr.variables:
            raise InputError(
                Diagnostic(
                    "TM211",
                    f"a Quantity needs a concrete unit, not the unit variable expression {units!r}",
                    user_location(),
                )
            )
        _set(self, magnitude, units, expr.resolve_concrete(registry)._units)

    @property
    def magnitude(self) -> Any:
        """The numbers, in :attr:`units`."""
        return self._magnitude

    @property
    def units(self) -> str:
        """The unit, as the text it was made with."""
        return self._text

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"typedml.Quantity is immutable: cannot set {name!r}; make a new one (q.to(...))")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"typedml.Quantity is immutable: cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[Quantity], tuple[Any, str]]:
        return (Quantity, (self._magnitude, self._text))

    def to(self, units: str) -> Quantity:
        """The same quantity in another unit (affine units such as degC included).

        A conversion that takes the radian as the number 1 (``rpm`` to ``Hz``) is made as pint
        makes it and said as a :class:`~typedml.ConversionWarning` (TM142).
        """
        registry = get_registry()
        target = Quantity(0, units)
        source_unit, target_unit = registry.Unit(self._units), registry.Unit(target._units)
        conv = conversion(UType(source_unit), UType(target_unit))
        if conv is None:
            raise InputError(
                Diagnostic(
                    "TM203",
                    f"cannot convert {self.units} to {units}: dimensions differ",
                    user_location(),
                )
            )
        assumed = angle_assumption(source_unit, target_unit)
        if assumed is not None:
            say(
                Diagnostic(
                    "TM142",
                    f"converting {self.units} to {units} takes the radian as the number 1: it multiplies by "
                    f"{assumed.factor_text()}",
                    user_location(),
                    severity="warning",
                    notes=assumed.notes(),
                    hint=angle_hint(silence=False),
                )
            )
        scale, offset = conv
        return Quantity(self._magnitude * scale + offset if offset else self._magnitude * scale, units)

    def to_pint(self) -> Any:
        """This quantity as a pint Quantity of the registry in use."""
        registry = get_registry()
        return registry.Quantity(self._magnitude, registry.Unit(self._units))

    @classmethod
    def from_pint(cls, quantity: Any) -> Quantity:
        """A typedml Quantity with the magnitude and unit of a pint Quantity."""
        return cls(quantity.magnitude, str(quantity.units))

    def __repr__(self) -> str:
        return f"Quantity({self._magnitude!r}, {self.units!r})"

    def tree_flatten(self) -> tuple[tuple[Any], str]:
        return (self._magnitude,), self._text

    @classmethod
    def tree_unflatten(cls, units: str, children: tuple[Any, ...]) -> Quantity:
        out = object.__new__(cls)
        _set(out, children[0], units, parse_unit_expr(units, get_registry()).resolve_concrete(get_registry())._units)
        return out


def _set(quantity: Quantity, magnitude: Any, text: str, units: Any) -> None:
    setattr_ = object.__setattr__
    setattr_(quantity, "_magnitude", magnitude)
    setattr_(quantity, "_text", text)
    setattr_(quantity, "_units", units)


Quantity.__module__ = "typedml"


class QuantityLike(Protocol):
    """What calling a pipeline returns, as editors see it: a quantity, not an array.

    At run time the result is a pint Quantity when the inputs were pint Quantities, a
    :class:`Quantity` when they were typedml's. Typing it as a quantity lets pyright and mypy
    flag a unit silently dropped by array code (``jnp.sum(result)``: take ``result.magnitude``
    or convert with ``result.to(...)`` first). Any other attribute of pint's Quantity is
    allowed (typed ``Any``), and so are the fields of a pipeline with several outputs (a
    NamedTuple of quantities at run time).
    """

    @property
    def magnitude(self) -> Any: ...
    @property
    def units(self) -> Any: ...
    def to(self, units: Any, /) -> QuantityLike: ...
    def __getattr__(self, name: str) -> Any: ...
    def __getitem__(self, index: Any, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __array__(self, dtype: Any = ..., /) -> np.ndarray[Any, Any]: ...
    def __float__(self) -> float: ...
    def __neg__(self) -> QuantityLike: ...
    def __abs__(self) -> QuantityLike: ...
    def __add__(self, other: Any, /) -> QuantityLike: ...
    def __radd__(self, other: Any, /) -> QuantityLike: ...
    def __sub__(self, other: Any, /) -> QuantityLike: ...
    def __rsub__(self, other: Any, /) -> QuantityLike: ...
    def __mul__(self, other: Any, /) -> QuantityLike: ...
    def __rmul__(self, other: Any, /) -> QuantityLike: ...
    def __truediv__(self, other: Any, /) -> QuantityLike: ...
    def __rtruediv__(self, other: Any, /) -> QuantityLike: ...
    def __pow__(self, other: Any, /) -> QuantityLike: ...
    def __lt__(self, other: Any, /) -> Any: ...
    def __le__(self, other: Any, /) -> Any: ...
    def __gt__(self, other: Any, /) -> Any: ...
    def __ge__(self, other: Any, /) -> Any: ...


QuantityLike.__module__ = "typedml"
