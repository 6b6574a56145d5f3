"""xarray at the boundary: DataArrays in, by dimension name and unit; DataArrays out.

A ``DataArray`` given to a port is matched **by dimension name**: each axis the port names
(``"time channel"``) must be a dim of the array, and is taken in the port's order (the data
is transposed, never copied for it). Dims the port does not name fill its unnamed axes (fixed
sizes, ``_``, expressions, a variadic ``*batch``) in the order the array has them; a dim
missing, or left over, is TM240. The unit comes from a pint-xarray quantified array, else from
``attrs["units"]`` (CF/UDUNITS spellings such as ``"m s-1"`` and ``"degrees_Celsius"``
understood); the core converts it to the port's unit like any quantity. Coordinates of one
dim given by two inputs must agree (TM242): they would be paired by position, never aligned.

When a call's inputs were DataArrays its outputs are DataArrays too: the declared axis names
as dims, the coordinates of the dims that survive, ``attrs["units"]`` set to the output's
unit. :func:`xarray_chunks` streams a (dask- or zarr-backed) array along one dim.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ._adapters import require
from ._dataunits import parse_unit, unit_attr
from ._errors import Diagnostic, InputError, user_location
from ._runtime import split_value
from ._shapes import Anon, Dim, Variadic
from ._spec import Port, Spec

__all__ = ["inputs", "xarray_chunks"]


def _xr() -> Any:
    return require("xarray", "xarray", "typedml's xarray support")


@dataclasses.dataclass(frozen=True)
class _Layout:
    """How one array's dims map onto one port's axes."""

    order: tuple[int, ...]  # the array's axis for each of the port's, in the port's order
    filled: tuple[tuple[str, tuple[Hashable, ...]], ...]  # an unnamed axis or variadic -> the dims it took


_layouts: dict[tuple[int, tuple[Hashable, ...]], _Layout | str] = {}


def _axis_name(item: Any) -> str | None:
    if isinstance(item, Dim) and item.term is not None and item.term.const == 0 and len(item.term.terms) == 1:
        name, coef = item.term.terms[0]
        return name if coef == 1 and isinstance(name, str) else None
    return None


def _layout(port: Port, dims: tuple[Hashable, ...]) -> _Layout | str:
    """The port's order for an array of ``dims``, or what is wrong (cached per port and dims)."""
    key = (id(port), dims)
    found = _layouts.get(key)
    if found is None:
        found = _layouts[key] = _match(port, dims)
        if len(_layouts) > 4096:  # bounded: one entry per port and dims seen
            _layouts.pop(next(iter(_layouts)))
    return found


def _match(port: Port, dims: tuple[Hashable, ...]) -> _Layout | str:
    assert port.type is not None
    twice = [d for i, d in enumerate(dims) if d in dims[:i]]
    if twice:  # xarray lets such an array be made, and little of it works: which axis is meant is not said
        return f"has dim {', '.join(map(repr, dict.fromkeys(twice)))} more than once"
    items = port.type.dims
    names = [_axis_name(item) for item in items]
    missing = [n for n in names if n is not None and n not in dims]
    if missing:
        return f"has no dim {', '.join(map(repr, missing))}"
    named = {n for n in names if n is not None}
    rest = [d for d in dims if d not in named]  # the array's other dims, in its order
    slots = [i for i, n in enumerate(names) if n is None and not isinstance(items[i], Variadic)]
    variadic = [i for i, item in enumerate(items) if isinstance(item, Variadic)]
    if len(rest) < len(slots):
        return f"has {len(rest)} dim(s) besides the named ones ({_list(rest)}) for {len(slots)} unnamed axes"
    if not variadic and len(rest) > len(slots):
        extra = rest[len(slots) :] if slots else rest
        return f"has dim {_list(extra)} that the port does not name"
    take = len(rest) - len(slots)  # the dims the variadic part takes
    order: list[int] = []
    filled: list[tuple[str, tuple[Hashable, ...]]] = []
    queue = list(rest)
    for item, name in zip(items, names, strict=True):
        if name is not None:
            order.append(dims.index(name))
        elif isinstance(item, Variadic):
            got, queue = tuple(queue[:take]), queue[take:]
            order.extend(dims.index(d) for d in got)
            filled.append((item.text, got))
        else:
            d = queue.pop(0)
            order.append(dims.index(d))
            filled.append((_text(item), (d,)))
    return _Layout(tuple(order), tuple(filled))


def _text(item: Any) -> str:
    return item.text if isinstance(item, Dim | Anon) else str(item)


def _list(dims: Sequence[Hashable]) -> str:
    return ", ".join(repr(d) for d in dims) or "none"


def inputs(spec: Spec, items: list[tuple[Port, Any]]) -> tuple[list[Any], Callable[[Any], Any] | None]:
    """The DataArrays as quantities in their ports' axis order, and how to make outputs DataArrays."""
    xr = _xr()
    problems: list[Diagnostic] = []
    out: list[Any] = []
    carried = _Carried(spec)
    for port, value in items:
        converted = _one(xr, spec, port, value, problems, carried)
        out.append(converted)
    problems += carried.conflicts
    if problems:
        raise InputError(problems)
    return out, carried.restore


def to_quantity(spec: Spec, port: Port, value: Any) -> Any:
    """One DataArray as a quantity for ``port`` (a stream's chunk: nothing comes back)."""
    problems: list[Diagnostic] = []
    converted = _one(_xr(), spec, port, value, problems, None)
    if problems:
        raise InputError(problems)
    return converted


def _one(xr: Any, spec: Spec, port: Port, value: Any, problems: list[Diagnostic], carried: _Carried | None) -> Any:
    if isinstance(value, xr.Dataset):
        problems.append(
            _diag(
                "TM247",
                f"input {port.name!r} of {spec.name}() is an xarray Dataset, not one of its variables",
                spec,
                port,
                (f"its variables: {_list(list(value.data_vars))}",),
                f"pass the variable: ds[{port.name!r}], or every input at once with {spec.name}(**ds[[...]])",
            )
        )
        return None
    if not isinstance(value, xr.DataArray):
        problems.append(
            _diag(
                "TM247",
                f"input {port.name!r} of {spec.name}() is an xarray {type(value).__name__}, not a DataArray",
                spec,
                port,
            )
        )
        return None
    if port.type is None:
        problems.append(
            _diag("TM247", f"input {port.name!r} of {spec.name}() takes a pytree value, not a DataArray", spec, port)
        )
        return None
    dims: tuple[Hashable, ...] = value.dims
    layout = _layout(port, dims)
    if isinstance(layout, str):
        problems.append(
            _diag(
                "TM240",
                f"DataArray {_label(value)}given to {port.name!r} of {spec.name}() {layout}",
                spec,
                port,
                (f"expected: dims {port.type.dim_str!r} (by name)", f"found: dims {dims} of sizes {value.shape}"),
                "name the dims after the port's axes (da.rename({'old': 'new'})), or select or add the missing ones",
            )
        )
        return None
    data = value.data
    units_attr = value.attrs.get("units")
    if hasattr(data, "_magnitude") and hasattr(data, "_units"):  # pint-xarray: a quantified array
        magnitude, units = np.asarray(data._magnitude), data._units
        if units_attr is not None:
            declared = parse_unit(units_attr)
            if isinstance(declared, str) or declared != units:
                problems.append(
                    _diag(
                        "TM241",
                        f"DataArray {_label(value)}given to {port.name!r} states two units: "
                        f"attrs['units'] = {units_attr!r} and its pint data in {data.units}",
                        spec,
                        port,
                        hint="drop one: da.pint.dequantify() or del da.attrs['units']",
                    )
                )
                return None
    else:
        magnitude = np.asarray(data)
        units = None
        if units_attr is not None:
            units = parse_unit(units_attr)
            if isinstance(units, str):
                problems.append(
                    _diag(
                        "TM241",
                        f"DataArray {_label(value)}given to {port.name!r} has attrs['units'] = {units_attr!r}, "
                        f"which is not a unit: {units}",
                        spec,
                        port,
                        hint="write a pint or CF/UDUNITS unit, such as 'mV', 'degC' or 'm s-1'",
                    )
                )
                return None
        elif port.type.unit is not None and not port.type.unit.variables:
            from ._units import get_registry

            if not port.type.unit.resolve_concrete(get_registry()).dimensionless:
                problems.append(
                    _diag(
                        "TM241",
                        f"DataArray {_label(value)}given to {port.name!r} of {spec.name}() has no unit; "
                        f"the port expects {port.type.unit}",
                        spec,
                        port,
                        (f"expected: {port.type.describe()}", f"found: attrs {_short(value.attrs)}"),
                        f"state it: da.attrs['units'] = {str(port.type.unit)!r} (or quantify it with pint-xarray)",
                    )
                )
                return None
    if layout.order != tuple(range(len(layout.order))):
        # one contiguous copy here: JAX takes a strided view far more slowly than it copies it
        magnitude = np.ascontiguousarray(magnitude.transpose(layout.order))
    if carried is not None:
        carried.add(port, value, layout)
    return magnitude if units is None else _quantity(magnitude, units)


def _quantity(magnitude: Any, units: Any) -> Any:
    from ._units import get_registry

    q = object.__new__(get_registry().Quantity)
    q._magnitude = magnitude
    q._units = units
    return q


def _label(value: Any) -> str:
    return f"{value.name!r} " if value.name is not None else ""


def _short(attrs: Mapping[Any, Any]) -> str:
    text = repr(dict(attrs))
    return text if len(text) < 80 else text[:77] + "..."


def _diag(
    code: str, message: str, spec: Spec, port: Port, notes: tuple[str, ...] = (), hint: str | None = None
) -> Diagnostic:
    return Diagnostic(
        code, message, user_location() or spec.location, notes=notes, hint=hint, stage=spec.name, port=port.name
    )


class _Carried:
    """What a call's DataArrays say about the outputs: dims that filled unnamed axes, coordinates."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.filled: dict[str, tuple[Hashable, ...]] = {}
        self.coords: dict[Hashable, Any] = {}  # name -> xarray Variable
        self.indexes: dict[Hashable, Any] = {}
        self.dropped: set[Hashable] = set()
        self.sizes: dict[Hashable, int] = {}
        self.conflicts: list[Diagnostic] = []
        self.owner: dict[Hashable, str] = {}

    def add(self, port: Port, value: Any, layout: _Layout) -> None:
        for text, dims in layout.filled:
            self.filled.setdefault(text, dims)
        self.sizes.update(zip(value.dims, value.shape, strict=True))
        xindexes = value.xindexes
        for name, coord in value.coords.items():
            variable = coord.variable
            known = self.coords.get(name)
            if known is None:
                if name not in self.dropped:
                    self.coords[name] = variable
                    self.owner[name] = port.name
                    if name in xindexes:
                        self.indexes[name] = xindexes[name]
                continue
            if known is variable or known.equals(variable):
                continue
            if name in value.dims:  # a dimension coordinate: the data would be paired by position
                self.conflicts.append(
                    _diag(
                        "TM242",
                        f"inputs {self.owner[name]!r} and {port.name!r} of {self.spec.name}() have different "
                        f"coordinates along dim {name!r}",
                        self.spec,
                        port,
                        (
                            f"{self.owner[name]}: {_values(known)}",
                            f"{port.name}: {_values(variable)}",
                        ),
                        "typedml pairs values by position, it does not align labels: select the same labels "
                        f"(b.sel({name}=a[{name!r}])) or xr.align(a, b, join='exact') first",
                    )
                )
            else:  # another coordinate that differs: kept by neither, as xarray does
                self.dropped.add(name)
                del self.coords[name]
                self.indexes.pop(name, None)

    def restore(self, out: Any) -> Any:
        spec = self.spec
        if spec.output_tuple is None:
            return self._array(spec.outputs[0], out, spec.name)
        return spec.pack_outputs([self._array(p, v, p.name) for p, v in zip(spec.outputs, out, strict=True)])

    def _array(self, port: Port, value: Any, name: str) -> Any:
        xr = _xr()
        magnitude, units = split_value(value)
        if port.type is None:
            return value
        data = np.asarray(magnitude)
        dims = self._dims(port, data.ndim)
        sizes = dict(zip(dims, data.shape, strict=True))
        coords = {
            k: v
            for k, v in self.coords.items()
            if all(d in sizes and sizes[d] == n for d, n in zip(v.dims, v.shape, strict=True))
        }
        indexes = {k: i for k, i in self.indexes.items() if k in coords}
        attrs = {} if units is None else {"units": unit_attr(port, units)}
        variable = xr.Variable(dims, data, attrs)
        try:  # the constructor's own fast path: coordinates and indexes taken as they are (~40x faster)
            return xr.DataArray(variable, coords=coords, indexes=indexes, fastpath=True, name=name)
        except TypeError:  # an xarray without it
            return xr.DataArray(
                data, dims=dims, coords={k: (v.dims, v.data) for k, v in coords.items()}, attrs=attrs, name=name
            )

    def _dims(self, port: Port, ndim: int) -> tuple[Hashable, ...]:
        assert port.type is not None
        items = port.type.dims
        out: list[Hashable] = []
        fixed = sum(1 for item in items if not isinstance(item, Variadic))
        for i, item in enumerate(items):
            name = _axis_name(item)
            if name is not None:
                out.append(name)
            elif isinstance(item, Variadic):
                count = ndim - fixed
                got = self.filled.get(item.text, ())
                if item.name is None or len(got) != count:  # '...' is per port: no dims to reuse
                    got = tuple(f"{port.name}_dim_{len(out) + j}" for j in range(count))
                out.extend(got)
            else:
                got = self.filled.get(_text(item), ())
                out.append(got[0] if len(got) == 1 and got[0] not in out else f"{port.name}_dim_{i}")
        return tuple(out)


def _values(variable: Any) -> str:
    data = np.asarray(variable.values)
    text = np.array2string(data, threshold=6, edgeitems=3, separator=", ")
    return text if len(text) < 100 else text[:97] + "..."


def xarray_chunks(
    data: Any, dim: str, rows: int | None = None, *, variables: Sequence[str] | None = None
) -> Iterator[Any]:
    """A DataArray (or a Dataset's variables) ``rows`` at a time along ``dim``, loaded one chunk
    at a time: from a dask- or zarr-backed array, only that chunk is read.

    Each chunk is a DataArray with ``dim`` first (a stream counts and pads rows on the first
    axis), or, for a Dataset, a mapping of variable names to them (``variables``, or every
    data variable that has ``dim``). ``rows`` defaults to the array's chunk size along ``dim``.
    """
    xr = _xr()
    if isinstance(data, xr.Dataset):
        names = _variables(data, dim, variables)
        arrays = {k: data[k] for k in names}
    elif isinstance(data, xr.DataArray):
        if variables is not None:
            raise _chunk_error(
                "xarray_chunks(): variables= names a Dataset's variables, and a DataArray is one array",
                "drop variables=, or give the Dataset",
            )
        arrays = {None: data}
    else:
        raise _chunk_error(f"xarray_chunks() takes a DataArray or a Dataset, got {type(data).__name__}")
    for key, array in arrays.items():
        if len(set(array.dims)) != len(array.dims):
            raise _chunk_error(
                f"xarray_chunks(): {'variable ' + repr(key) if key is not None else 'the DataArray'} has a dim "
                f"named twice: {_list(array.dims)}",
                "give each dim its own name: which axis is meant is not said",
            )
        if dim not in array.dims:
            raise _chunk_error(
                f"xarray_chunks(): {'variable ' + repr(key) if key is not None else 'the DataArray'} has no dim {dim!r}",
                f"its dims: {_list(array.dims)}",
            )
    first = next(iter(arrays.values()))
    total = int(first.sizes[dim])
    if rows is None:
        chunks = first.chunksizes.get(dim) if first.chunks is not None else None
        if not chunks:
            raise _chunk_error(
                f"xarray_chunks(): the data is not chunked along {dim!r}: give rows=",
                "e.g. xarray_chunks(da, 'time', rows=4096), or open it with chunks={...}",
            )
        rows = int(chunks[0])
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows <= 0:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise _chunk_error(f"xarray_chunks(): rows must be a positive int, got {rows!r}")
    return _chunks(arrays, dim, int(rows), total)


def _variables(data: Any, dim: str, variables: Sequence[str] | None) -> list[Hashable]:
    """The Dataset's variables to stream: those named (each checked), else every one with ``dim``."""
    if variables is None:
        names: list[Hashable] = [k for k, v in data.data_vars.items() if dim in v.dims]
        if not names:
            raise _chunk_error(
                f"xarray_chunks(): no data variable of the Dataset has dim {dim!r}",
                f"its variables: {_list(list(data.data_vars))}",
            )
        return names
    if isinstance(variables, str) or not isinstance(variables, Sequence) or not variables:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise _chunk_error(
            f"xarray_chunks(): variables= takes a non-empty list of variable names, got {variables!r}",
            "e.g. variables=['temp', 'salt']",
        )
    unknown = [v for v in variables if not isinstance(v, Hashable) or v not in data.data_vars]  # pyright: ignore[reportUnnecessaryIsInstance]
    if unknown:
        raise _chunk_error(
            f"xarray_chunks(): variables= names {_list(unknown)}, which the Dataset has not",
            f"its variables: {_list(list(data.data_vars))}",
        )
    return list(variables)


def _chunks(arrays: Mapping[Any, Any], dim: str, rows: int, total: int) -> Iterator[Any]:
    for start in range(0, total, rows):
        part = {k: a.isel({dim: slice(start, start + rows)}).transpose(dim, ...).load() for k, a in arrays.items()}
        yield part[None] if None in part else part


def _chunk_error(message: str, hint: str | None = None) -> InputError:
    return InputError(Diagnostic("TM247", message, user_location(), hint=hint, stage="xarray_chunks"))
