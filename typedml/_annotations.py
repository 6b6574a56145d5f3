"""The type language: ``Q[<jaxtyping array type>, "<unit>"]`` and what it parses into.

``Q`` reads as :data:`typing.Annotated` to static checkers, so an editor sees the plain
jaxtyping array type (what a stage body receives). At run time ``Q[T, "mV"]`` is
``Annotated[T, Unit("mV")]``: beartype and jaxtyping still understand it, and typedml reads
the unit from the metadata.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated, Any, cast, get_args, get_origin

from ._kinds import Kind
from ._refine import Refinement
from ._shapes import Item, item_vars
from ._units import UnitExpr

__all__ = ["ArrayType", "Axis", "Q", "Unit"]


@dataclasses.dataclass(frozen=True)
class Unit:
    """The metadata ``Q`` attaches: a unit expression, kept as text until a stage parses it."""

    text: str

    def __repr__(self) -> str:
        return f"Unit({self.text!r})"


@dataclasses.dataclass(frozen=True)
class Axis:
    """Metadata of a static parameter through which a call names the axis a stage works along.

    ``axis: Annotated[str | int | None, tm.Axis("n")] = None`` says: the body is written for
    the axis its signature calls ``n`` (where ``n`` is declared in each port); a call may name
    another axis of the value, ``mean(temps, axis="b")``, by the name the calling pipeline gives
    it (or by position). typedml moves that axis to where ``n`` is declared before the body
    runs, and back in the outputs that declare ``n``; outputs without ``n`` have dropped it.
    The check follows the move, so the output's shape has the named axis removed.
    """

    dim: str

    def __post_init__(self) -> None:
        dim: object = self.dim
        if not isinstance(dim, str) or not dim.isidentifier():  # pyright: ignore[reportUnnecessaryIsInstance]
            from ._errors import Diagnostic, StageDefinitionError, user_location

            raise StageDefinitionError(
                Diagnostic(
                    "TM017",
                    f"tm.Axis({dim!r}) does not name an axis: it takes the name of an axis the stage declares",
                    user_location(),
                    hint='write tm.Axis("n") where the stage\'s ports declare an axis "n"',
                )
            )

    def __repr__(self) -> str:
        return f"Axis({self.dim!r})"


if TYPE_CHECKING:
    # `Q = Annotated` would not work: Annotated is a special form, not a type, so static
    # checkers only accept it under an import alias (jaxtyping does the same for `Float`).
    from typing import Annotated as Q
else:

    class Q:
        """``Q[ArrayType, "unit expression", *refinements]``: an array with a unit.

        ``ArrayType`` is any jaxtyping array annotation (``Float[Array, "b c"]``); the unit is a
        pint expression, optionally with unit variables (``"'u"``, ``"'y/'x"``). Value
        contracts and a quantity kind may follow the unit:
        ``Q[Float[Array, "n"], "m", tm.Positive, tm.Kind("height")]``.
        """

        __slots__ = ()

        def __new__(cls, *args: object, **kwargs: object) -> Q:
            raise TypeError("Q is used as an annotation, Q[Float[Array, 'n'], 'm'], not called")

        def __class_getitem__(cls, params: object) -> object:
            if not isinstance(params, tuple) or len(params) < 2:  # pyright: ignore[reportUnknownArgumentType]
                return Annotated[object, _BadQ(params)]
            array_type, unit, *refinements = cast("tuple[object, ...]", params)
            if not isinstance(unit, str) or not all(isinstance(r, Refinement | Kind) for r in refinements):
                return Annotated[object, _BadQ(params)]
            return Annotated[(array_type, Unit(unit), *refinements)]


@dataclasses.dataclass(frozen=True)
class _BadQ:
    """Marks a malformed ``Q[...]`` so the stage decorator can report it with its location."""

    params: object


@dataclasses.dataclass(frozen=True)
class ArrayType:
    """A parsed array annotation: dtype family, shape items, and unit (None: no unit)."""

    annotation: Any
    dtype_family: str
    dtypes: tuple[str, ...] | None  # None: any dtype
    dim_str: str
    dims: tuple[Item, ...]
    unit: UnitExpr | None
    array_type: type | None = None
    refinements: tuple[Refinement, ...] = ()
    kind: str | None = None  # the quantity kind (tm.Kind), None: unspecified

    @property
    def shape_vars(self) -> set[str]:
        return item_vars(self.dims)

    def describe(self) -> str:
        unit = " (no unit)" if self.unit is None else f" in {self.unit}"
        contracts = "".join(f", {r.name}" for r in self.refinements)
        kind = f", kind {self.kind}" if self.kind is not None else ""
        return f"{self.dtype_family}[{self.dim_str!r}]{unit}{contracts}{kind}"


def split_annotation(
    annotation: object,
) -> tuple[object, Unit | None, _BadQ | None, tuple[Refinement, ...]]:
    """``(base annotation, unit metadata, malformed-Q marker, refinements)``."""
    if get_origin(annotation) is Annotated:
        base, *meta = get_args(annotation)
        unit = next((m for m in meta if isinstance(m, Unit)), None)
        bad = next((m for m in meta if isinstance(m, _BadQ)), None)
        refinements = tuple(m for m in meta if isinstance(m, Refinement))
        return base, unit, bad, refinements
    return annotation, None, None, ()


def annotation_kinds(annotation: object) -> tuple[Kind, ...]:
    """The :class:`Kind` markers in an annotation's metadata (normally zero or one)."""
    if get_origin(annotation) is Annotated:
        return tuple(m for m in get_args(annotation)[1:] if isinstance(m, Kind))
    return ()


def jaxtyping_parts(annotation: object) -> tuple[str, tuple[str, ...] | None, str, type | None] | None:
    """(dtype family name, allowed dtypes, shape string, array type) of a jaxtyping type."""
    dim_str = getattr(annotation, "dim_str", None)
    dtype = getattr(annotation, "dtype", None)
    if not isinstance(dim_str, str) or dtype is None:
        return None
    dtypes: object = getattr(annotation, "dtypes", None)
    family = str(getattr(dtype, "__name__", "Shaped"))
    allowed = tuple(str(d) for d in cast("tuple[object, ...]", dtypes)) if isinstance(dtypes, (tuple, list)) else None
    return family, allowed, dim_str, getattr(annotation, "array_type", None)
