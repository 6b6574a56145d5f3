"""Axes a call names: a stage's ``tm.Axis`` parameter moves the named axis into place.

Inside a pipeline the checker works out the move from the shapes on the edges (and records
it on the node for the run); a stage called directly on data names the axis by position, and
the data is moved here, before the stage-alone pipeline checks it.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._adapters import is_foreign
from ._errors import Diagnostic, InputError, user_location
from ._runtime import split_value
from ._shapes import Variadic, declared_position
from ._spec import Spec

__all__ = ["move_axis", "named_positions"]


def move_axis(value: Any, source: int, target: int) -> Any:
    """``value`` (an array or a quantity) with axis ``source`` moved to ``target``."""
    import numpy as np

    magnitude, units = split_value(value)
    moved = np.moveaxis(np.asarray(magnitude), source, target)
    if units is None:
        return moved
    return value.__class__(moved, value.units)


def named_positions(
    spec: Spec, static: dict[str, Any], inputs: dict[str, Any]
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """For a direct call: ``{input: (named, declared)}`` moves, ``{output: (declared, named)}`` back."""
    moves: dict[str, tuple[int, int]] = {}
    back: dict[str, tuple[int, int]] = {}
    for param, dim in spec.axis_params.items():
        named = static.get(param)
        if named is None:
            continue
        if isinstance(named, numbers.Integral) and not isinstance(named, bool | np.bool_):
            named = int(named)  # a NumPy integer is a position like an int
        origin: int | None = None
        for port in spec.inputs:
            if port.type is None or dim not in port.type.shape_vars or port.name not in inputs:
                continue
            ndim = len(getattr(split_value(inputs[port.name])[0], "shape", ()))
            if isinstance(named, bool) or not isinstance(named, int) or not -ndim <= named < ndim:
                raise InputError(
                    Diagnostic(
                        "TM122",
                        f"{spec.name}({param}={named!r}): input {port.name!r} has {ndim} axes, "
                        + (
                            "and a bool is not an axis position"
                            if isinstance(named, bool | np.bool_)
                            else "no axis by that position"
                            if isinstance(named, int)
                            else "and axes have no names outside a pipeline"
                        ),
                        user_location() or spec.location,
                        hint=f"called directly on data, a stage takes the axis by position ({param}=1); "
                        "inside a pipeline, by the name the pipeline's signature gives it",
                        stage=spec.name,
                        port=param,
                    )
                )
            if is_foreign(inputs[port.name]):
                raise InputError(_foreign_moved(spec, param, named, port.name, inputs[port.name]))
            origin = named % ndim
            moves[port.name] = (origin, declared_position(port.type.dims, dim, ndim))
        if origin is None:
            continue
        for port in spec.outputs:
            if port.type is not None and dim in port.type.shape_vars:
                rank = sum(not isinstance(i, Variadic) for i in port.type.dims)
                if not any(isinstance(i, Variadic) for i in port.type.dims):
                    back[port.name] = (declared_position(port.type.dims, dim, rank), origin)
                else:  # the output's rank is known from the data: the input's rank (same layout)
                    first = next(p for p in spec.inputs if p.name in moves)
                    ndim = len(getattr(split_value(inputs[first.name])[0], "shape", ()))
                    back[port.name] = (declared_position(port.type.dims, dim, ndim), origin)
    return moves, back


def _foreign_moved(spec: Spec, param: str, named: int, port: str, value: Any) -> Diagnostic:
    """TM247: data of another library given with an axis named by position. Moving it would
    make it a plain array, its unit dropped (a DataArray in degC came back dimensionless); kept
    as it is, its adapter would put its dims in the port's order by name, ignoring the position."""
    kind = type(value).__name__
    library = (type(value).__module__ or "").partition(".")[0]
    dims: object = getattr(value, "dims", None)
    if library == "xarray":
        hint = (
            f"call {spec.name} in a pipeline whose signature names the dims, with {param}='<dim>', or pass the "
            "values as a quantity: tm.get_registry().Quantity(da.values, da.attrs['units'])"
        )
    else:
        hint = f"map its columns to ports with their unit: {spec.name}(**tm.columns(df, {port}=..., unit='...'), {param}={named})"
    return Diagnostic(
        "TM247",
        f"input {port!r} of {spec.name}() is {library} data ({kind}), and {param}={named} names one of its axes by position",
        user_location() or spec.location,
        notes=(
            *((f"its dims: {tuple(dims)}",) if isinstance(dims, tuple) else ()),  # pyright: ignore[reportUnknownArgumentType]
            f"{library} data goes to a port by its names, and its unit with it: a position would lose both",
        ),
        hint=hint,
        stage=spec.name,
        port=port,
    )
