"""Tables at the boundary: columns fed to ports by an explicit mapping, with their units.

A table's columns have names, not axes, and rarely a unit: nothing in a pandas or polars
DataFrame says which column is which port, so a frame never goes to a port by itself (TM247).
``tm.columns(df, raw=["ch0", "ch1"], unit="mV")`` says it: each keyword is a port, given one
column (a ``(rows,)`` array) or a list of columns (stacked into ``(rows, k)``). A column's
unit is read from the data when it carries one (a pint-pandas dtype, ``df.attrs["units"]``, an
Arrow field's ``"unit"`` metadata) or given (``units={"ch0": "mV"}`` per column, ``unit=``
for all); both at once must agree (TM241). Stacked columns in different units of one
dimension are converted to the first one's unit; of different dimensions they are TM249.
A column that is missing, not numbers, or holds missing values (the library's own notion:
pandas' ``isna``, polars' and Arrow's nulls) is TM245, naming it.

:class:`Columns` is the mapping of ports to quantities, and turns results back into a frame
of the same library (:meth:`Columns.frame`). :mod:`typedml._parquet` reads Parquet files'
record batches with the same column reading.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias, cast

import numpy as np

from ._adapters import remember_source, require
from ._dataunits import parse_unit, unit_text_of
from ._errors import Diagnostic, InputError, Location, user_location
from ._spec import Port, Spec

__all__ = [
    "ArrowTable",
    "ColumnSpec",
    "Columns",
    "Place",
    "arrow",
    "arrow_not_numbers",
    "arrow_table",
    "columns",
    "dtype_of",
    "field_unit",
    "inputs",
    "mapping_of",
    "names_for",
    "no_complex",
    "outputs_of",
    "read_ports",
    "refuse",
    "split_columns",
    "units_given",
]

_NUMERIC_KINDS = "biufc"
ColumnSpec = dict[str, "str | tuple[str, ...]"]  # a port -> its column, or the columns stacked into it
Names: TypeAlias = "str | Sequence[str] | Mapping[str, str | Sequence[str]] | None"  # the columns results make


class Place(NamedTuple):
    """Where columns are read, for messages: ``what`` names the call and its data, ``row`` is
    the first row's number in the whole source (a chunk of a file starts further on)."""

    what: str
    location: Location | None
    stage: str
    row: int = 0


def _diag(code: str, place: Place, message: str, notes: tuple[str, ...] = (), hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, f"{place.what}: {message}", place.location, notes=notes, hint=hint, stage=place.stage)


# -- one library's table, column by column -----------------------------------------------


class _Table:
    """A table of one library: its column names, a column as numbers, its missing values."""

    kind = ""
    what = ""  # the table, for messages

    def __init__(self, data: Any) -> None:
        self.data = data

    def names(self) -> list[str]:
        raise NotImplementedError

    def rows(self) -> int:
        raise NotImplementedError

    def column(self, name: str) -> tuple[Any, str | None, str | None]:
        """``(numpy array or None, the unit the data states or None, why it is not numbers)``."""
        raise NotImplementedError

    def first_missing(self, name: str) -> tuple[int, int] | None:
        """``(how many, the first one's row)`` of the column's missing values, or None."""
        raise NotImplementedError


class _Pandas(_Table):
    kind = "pandas"
    what = "a pandas DataFrame"

    def names(self) -> list[str]:
        return [str(c) for c in self.data.columns]

    def rows(self) -> int:
        return len(self.data)

    def _series(self, name: str) -> Any:
        labels = [c for c in self.data.columns if str(c) == name]
        exact = [c for c in labels if isinstance(c, str)]
        if len(labels) > 1 and len(exact) == 1:
            labels = exact  # the str label 'a' is named 'a', not a label that prints as 'a'
        if len(labels) != 1:
            return None
        found = self.data[labels[0]]
        if getattr(found, "ndim", 1) != 1:
            return None
        return found

    def column(self, name: str) -> tuple[Any, str | None, str | None]:
        s = self._series(name)
        if s is None:
            return None, None, "appears more than once among the frame's columns"
        dtype = s.dtype
        stated: str | None = None
        if s.hasnans if dtype.kind in "fc" else s.isna().any():  # pandas counts NaN as missing
            return None, None, None  # said by first_missing
        if type(dtype).__name__ == "PintType" and hasattr(dtype, "units"):  # pint-pandas
            stated = str(dtype.units)
            values: Any = np.asarray(s.array.quantity.magnitude)
        else:
            attrs = self.data.attrs.get("units")
            if isinstance(attrs, Mapping) and name in attrs:
                stated = str(attrs[name])  # pyright: ignore[reportUnknownArgumentType]
            numpy_dtype = getattr(dtype, "numpy_dtype", None)
            values = s.to_numpy() if numpy_dtype is None else s.to_numpy(dtype=numpy_dtype, na_value=np.nan)
        kind: str = getattr(getattr(values, "dtype", None), "kind", "O")
        if not isinstance(values, np.ndarray) or kind not in _NUMERIC_KINDS:
            return None, stated, f"holds {dtype} values, not numbers"
        return cast("np.ndarray[Any, Any]", values), stated, None

    def first_missing(self, name: str) -> tuple[int, int] | None:
        mask = np.asarray(self._series(name).isna())
        if not mask.any():
            return None
        return int(mask.sum()), int(mask.argmax())


class _Polars(_Table):
    kind = "polars"
    what = "a polars DataFrame"

    def names(self) -> list[str]:
        return list(self.data.columns)

    def rows(self) -> int:
        return int(self.data.height)

    def column(self, name: str) -> tuple[Any, str | None, str | None]:
        s = self.data.get_column(name)
        dtype = s.dtype
        if not (dtype.is_numeric() or str(dtype) == "Boolean"):
            return None, None, f"holds {dtype} values, not numbers"
        if s.null_count():
            return None, None, None  # its missing values are said by first_missing
        values = s.to_numpy()
        if getattr(getattr(values, "dtype", None), "kind", "O") not in _NUMERIC_KINDS:
            return None, None, f"holds {dtype} values, which polars gives as {values.dtype}, not as numbers"
        return values, None, None

    def first_missing(self, name: str) -> tuple[int, int] | None:
        s = self.data.get_column(name)
        count = int(s.null_count())
        return (count, int(s.is_null().arg_max())) if count else None


class ArrowTable(_Table):
    """A pyarrow Table or RecordBatch; units in each field's metadata (``b"unit"``)."""

    kind = "arrow"
    what = "an Arrow table"

    def __init__(self, data: Any, units: Mapping[str, str | None] | None = None) -> None:
        super().__init__(data)
        self.units = units  # the file's units when the batch's own schema has lost them

    def names(self) -> list[str]:
        return list(self.data.schema.names)

    def rows(self) -> int:
        return int(self.data.num_rows)

    def stated(self, name: str) -> str | None:
        if self.units is not None:
            return self.units.get(name)
        return field_unit(self.data.schema.field(name))

    def column(self, name: str) -> tuple[Any, str | None, str | None]:
        pa = arrow()

        if len(self.data.schema.get_all_field_indices(name)) != 1:
            return None, None, "appears more than once among the table's columns"
        stated = self.stated(name)
        column = self.data.column(name)
        t = column.type
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        if column.null_count:
            return None, stated, None
        why = arrow_not_numbers(t)
        if why is not None:
            return None, stated, why
        if pa.types.is_fixed_size_list(t):
            inner = column.flatten()
            if inner.null_count:
                return None, stated, None
            values = inner.to_numpy(zero_copy_only=False).reshape(len(column), t.list_size)
        else:
            values = column.to_numpy(zero_copy_only=False)
        return values, stated, None

    def first_missing(self, name: str) -> tuple[int, int] | None:
        pa = arrow()

        column = self.data.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        mask = np.asarray(column.is_null().to_numpy(zero_copy_only=False))
        if pa.types.is_fixed_size_list(column.type) and not mask.any():
            size = column.type.list_size
            inner = np.asarray(column.flatten().is_null().to_numpy(zero_copy_only=False))
            mask = inner.reshape(len(column), size).any(axis=1)
        if not mask.any():
            return None
        return int(mask.sum()), int(mask.argmax())


def arrow() -> Any:
    """pyarrow, or the extra to install."""
    return require("pyarrow", "parquet", "typedml's Arrow support")


def field_unit(field: Any) -> str | None:
    """The ``"unit"`` an Arrow field's metadata states, or None."""
    metadata = field.metadata
    if not metadata:
        return None
    raw = metadata.get(b"unit")
    return None if raw is None else raw.decode("utf-8", "replace")


def arrow_not_numbers(t: Any) -> str | None:
    """Why an Arrow type is not a column of numbers (None when it is)."""
    pa = arrow()

    inner = t.value_type if pa.types.is_fixed_size_list(t) else t
    numeric = pa.types.is_integer(inner) or pa.types.is_floating(inner) or pa.types.is_boolean(inner)
    return None if numeric else f"holds {t} values, not numbers"


def _table(data: Any) -> _Table | None:
    root = (type(data).__module__ or "").partition(".")[0]
    if root == "pandas" and hasattr(data, "columns") and hasattr(data, "attrs"):
        return _Pandas(data)
    if root == "polars" and hasattr(data, "get_column"):
        return _Polars(data)
    if root == "pyarrow" and hasattr(data, "schema") and hasattr(data, "column"):
        return ArrowTable(data)
    return None


# -- ports from columns ------------------------------------------------------------------


def _concrete(text: str, place: Place, what: str) -> Any:
    units = parse_unit(text)
    if isinstance(units, str):
        raise InputError(
            _diag(
                "TM241",
                place,
                f"{what} {text!r} is not a unit: {units}",
                hint="write a pint or CF/UDUNITS unit, such as 'mV', 'degC' or 'm s-1'",
            )
        )
    return units


def _column(table: _Table, name: str, given: str | None, place: Place) -> tuple[np.ndarray[Any, Any], Any]:
    """One column's numbers and its unit (a UnitsContainer, or None for none), or TM245/TM241."""
    if name not in table.names():
        names = table.names()
        shown = ", ".join(map(repr, names[:12])) + (", ..." if len(names) > 12 else "")
        raise InputError(
            _diag(
                "TM245",
                place,
                f"there is no column {name!r}",
                (f"its columns: {shown or 'none'}",),
                "name a column it has (names are compared exactly, case included)",
            )
        )
    values, stated, why = table.column(name)
    if values is None and why is None:
        missing = table.first_missing(name)
        count, row = missing if missing is not None else (0, 0)
        raise InputError(
            _diag(
                "TM245",
                place,
                f"column {name!r} holds {count} missing value(s), the first at row {place.row + row}",
                hint="fill or drop them first (df.dropna(subset=[...]), df.fill_null(...)): "
                "a missing value is not a number typedml can compute with",
            )
        )
    if values is None:
        raise InputError(
            _diag(
                "TM245",
                place,
                f"column {name!r} {why}",
                hint="convert it to numbers first (e.g. seconds for times, codes for categories)",
            )
        )
    units = None
    if stated is not None:
        units = _concrete(stated, place, f"column {name!r} states the unit")
    if given is not None:
        said = _concrete(given, place, f"the unit given for column {name!r},")
        if units is not None and said != units:
            raise InputError(
                _diag(
                    "TM241",
                    place,
                    f"column {name!r} states two units: {stated!r} in its data and {given!r} given",
                    hint="drop the given one: a unit the data states is read from it",
                )
            )
        units = said
    return values, units


def _stacked(parts: list[tuple[str, np.ndarray[Any, Any], Any]], port: str, place: Place) -> tuple[Any, Any]:
    """Columns stacked into ``(rows, k)``, each converted to the first one's unit."""
    from ._units import UType, conversion, get_registry

    first = parts[0][2]
    arrays: list[np.ndarray[Any, Any]] = []
    registry = get_registry()
    for name, values, units in parts:
        if values.ndim != 1:
            raise InputError(
                _diag(
                    "TM245",
                    place,
                    f"column {name!r} holds a list per row: it cannot be stacked with others into {port!r}",
                    hint=f"give it alone: {port}={name!r}",
                )
            )
        if (units is None) != (first is None) or (units is not None and units != first):
            src = UType(registry.Unit(units) if units is not None else registry.dimensionless)
            dst = UType(registry.Unit(first) if first is not None else registry.dimensionless)
            factor = None
            try:
                factor = conversion(src, dst)
            except Exception:  # noqa: BLE001 - an offset unit in a product: not convertible here
                factor = None
            if factor is None:
                raise InputError(
                    _diag(
                        "TM249",
                        place,
                        f"columns stacked into {port!r} are not of one dimension: {parts[0][0]!r} in "
                        f"{_text(first)}, {name!r} in {_text(units)}",
                        hint="give each its own port, or fix the unit of the column that is wrong",
                    )
                )
            scale, offset = factor
            values = values * scale + offset if offset else values * scale
        arrays.append(values)
    dtype = np.result_type(*arrays)
    return np.stack(arrays, axis=1).astype(dtype, copy=False), first


def _text(units: Any) -> str:
    return "no unit" if units is None else unit_text_of(units)


def read_ports(
    table: _Table,
    mapping: ColumnSpec,
    given: Callable[[str], str | None],
    place: Place,
    dtype: np.dtype[Any] | None = None,
) -> dict[str, Any]:
    """Each port's value read from ``table``: a quantity in its column's unit, or an array
    (converted to ``dtype`` when given)."""
    out: dict[str, Any] = {}
    for port, spec in mapping.items():
        if isinstance(spec, str):
            values, units = _column(table, spec, given(spec), place)
        else:
            parts = [(name, *_column(table, name, given(name), place)) for name in spec]
            values, units = _stacked(parts, port, place)
        named = f"column {spec!r}" if isinstance(spec, str) else f"columns {', '.join(map(repr, spec))}"
        if dtype is not None and values.dtype != dtype:
            values = _converted(values, dtype, named, place)
        remember_source(values, f"{named} of {table.what}, by {place.what}")
        out[port] = values if units is None else quantity(values, units)
    return out


def _converted(values: np.ndarray[Any, Any], dtype: np.dtype[Any], named: str, place: Place) -> np.ndarray[Any, Any]:
    """``values`` as ``dtype``, or TM245 for a value it cannot hold (an int that wraps, a
    fraction cut to an int, a float that overflows to inf, an imaginary part dropped):
    rounding to a shorter float is a conversion asked for, a changed value is not."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's ComplexWarning: the lost part is found below
        out = values.astype(dtype)
        if dtype.kind in "biu":
            lost = out.astype(values.dtype) != values
        else:
            lost = np.isfinite(values) & ~np.isfinite(out)
            if values.dtype.kind == "c" and dtype.kind != "c":
                lost = lost | (values.imag != 0)
    if lost.any():
        at = tuple(int(i) for i in np.argwhere(lost)[0])
        raise InputError(
            _diag(
                "TM245",
                place,
                f"{named} holds {values[at].item()!r} at row {place.row + at[0]}, which dtype={dtype.name} cannot hold",
                hint="give a dtype that holds every value (dtype= converts, it does not clip or round to an int)",
            )
        )
    return out


def dtype_of(dtype: Any, place: Place) -> np.dtype[Any] | None:
    """``dtype=`` checked: a numeric numpy dtype, or None."""
    if dtype is None:
        return None
    try:
        found = np.dtype(dtype)
    except TypeError:
        found = None
    if found is None or found.kind not in _NUMERIC_KINDS:
        raise InputError(_diag("TM246", place, f"dtype={dtype!r} is not a numeric numpy dtype", hint="e.g. np.float32"))
    return found


def quantity(magnitude: Any, units: Any) -> Any:
    """A pint quantity of the registry in use, made without parsing its unit again."""
    from ._units import get_registry

    q = object.__new__(get_registry().Quantity)
    q._magnitude = magnitude
    q._units = units
    return q


def mapping_of(ports: Mapping[str, Any], place: Place) -> ColumnSpec:
    """The keyword arguments naming columns, checked: a name, or a non-empty list of names."""
    if not ports:
        raise InputError(
            _diag("TM246", place, "no port is given its columns", hint="e.g. tm.columns(df, raw=['ch0', 'ch1'])")
        )
    out: ColumnSpec = {}
    for port, spec in ports.items():
        if not isinstance(port, str) or not port.isidentifier():  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InputError(
                _diag(
                    "TM246",
                    place,
                    f"{port!r} is not a port's name",
                    hint="name each port as its stage names its argument, e.g. {'raw': ['ch0', 'ch1']}",
                )
            )
        if isinstance(spec, str):
            out[port] = spec
        elif (
            isinstance(spec, list | tuple) and spec and all(isinstance(c, str) for c in spec)  # pyright: ignore[reportUnknownVariableType]
        ):
            out[port] = tuple(spec)  # pyright: ignore[reportUnknownArgumentType]
        else:
            raise InputError(
                _diag(
                    "TM246",
                    place,
                    f"{port}={spec!r}: a port takes a column's name, or a non-empty list of names to stack",
                    hint=f"e.g. {port}='ch0' or {port}=['ch0', 'ch1']",
                )
            )
    return out


def units_given(
    mapping: ColumnSpec, unit: str | None, units: Mapping[str, str] | None, place: Place
) -> Callable[[str], str | None]:
    """The unit given for each column (``units`` per column, else ``unit``), checked."""
    used = {c for spec in mapping.values() for c in ((spec,) if isinstance(spec, str) else spec)}
    if unit is not None and not isinstance(unit, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InputError(_diag("TM246", place, f"unit= takes a unit's text, got {type(unit).__name__}"))
    if units is not None and not isinstance(units, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InputError(
            _diag(
                "TM246",
                place,
                f"units= takes a mapping of column names to units, got {type(units).__name__}",
                hint="e.g. units={'ch0': 'mV'}, or unit='mV' for every column",
            )
        )
    schema = dict(units or {})
    for column, text in schema.items():
        if column not in used:
            raise InputError(
                _diag(
                    "TM246",
                    place,
                    f"units= names column {column!r}, which no port is given",
                    (f"the columns given to ports: {', '.join(map(repr, sorted(used)))}",),
                    "give the column to a port, or drop it from units=",
                )
            )
        if not isinstance(text, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InputError(_diag("TM246", place, f"units[{column!r}] takes a unit's text, got {text!r}"))
    return lambda column: schema.get(column, unit)


# -- tm.columns and back -------------------------------------------------------------------


class Columns(dict[str, Any]):
    """Ports mapped to the columns of a table, as values: ``pipe(**cols)``, ``tm.stream`` chunks.

    Made by :func:`columns`. Each port's value is a pint quantity in its column's unit (or a
    plain array for a column with none): ``(rows,)`` for one column, ``(rows, k)`` for ``k``
    stacked. :meth:`frame` turns results back into a table of the same library.
    """

    def __init__(self, values: Mapping[str, Any], table: Any, kind: str, rows: int) -> None:
        super().__init__(values)
        self.table = table
        # a pandas frame's row labels as they were read (an Index is never changed in place,
        # so a frame changed since keeps the rows the results belong to)
        self.index: Any = getattr(table, "index", None) if kind == "pandas" else None
        self.kind = kind
        self.rows = rows

    def __repr__(self) -> str:
        ports = ", ".join(f"{k}: {getattr(v, 'shape', ())} {_value_unit(v)}" for k, v in self.items())
        return f"Columns({self.kind}, {self.rows} rows; {ports})"

    def frame(self, result: Any, names: Names = None) -> Any:
        """``result`` (one output, a NamedTuple of outputs, or a mapping) as a table of the
        library the columns came from, one row per input row (a pandas frame keeps its index).

        An output of shape ``(rows,)`` is one column named after its field (``"result"`` for a
        single output), ``(rows, k)`` is ``k`` columns (``name_0``...), or the names given
        (``names={"temp": ["t0", "t1"]}``; for a single output a str, or a list of ``k``). Units go where the
        library keeps them: ``df.attrs["units"]`` for pandas, each field's ``"unit"``
        metadata for Arrow; polars frames hold none (see :meth:`units`).
        """
        built = self._columns(result, names)
        if self.kind == "pandas":
            pd = require("pandas", "pandas", "a pandas frame")

            frame = pd.DataFrame({k: v for k, (v, _) in built.items()}, index=self.index)
            frame.attrs["units"] = {k: u for k, (_, u) in built.items() if u is not None}
            return frame
        if self.kind == "polars":
            pl = require("polars", "polars", "a polars frame")

            return pl.DataFrame({k: v for k, (v, _) in built.items()})
        return arrow_table(built)

    def units(self, result: Any, names: Names = None) -> dict[str, str]:
        """The unit of each column :meth:`frame` makes of ``result`` (columns with one)."""
        return {k: u for k, (_, u) in self._columns(result, names).items() if u is not None}

    def _columns(self, result: Any, names: Names) -> dict[str, tuple[np.ndarray[Any, Any], str | None]]:
        place = Place("Columns.frame()", user_location(), "columns")
        names = names_for(result, names)
        items = outputs_of(result, names, place)
        out: dict[str, tuple[np.ndarray[Any, Any], str | None]] = {}
        for field, (values, unit) in items.items():
            if values.ndim == 0 or values.shape[0] != self.rows:
                raise InputError(
                    _diag(
                        "TM248",
                        place,
                        f"output {field!r} of shape {values.shape} is not one value per row of the "
                        f"{self.rows}-row table",
                        hint="a frame holds per-row results: keep a summary (a mean, a fit) as it is",
                    )
                )
            if self.kind != "pandas":
                no_complex(field, values, place, "an Arrow table" if self.kind == "arrow" else "a polars frame")
            for name, column in split_columns(field, values, names, place):
                if name in out:
                    raise InputError(_diag("TM248", place, f"two outputs make a column named {name!r}"))
                out[name] = (column, unit)
        return out


def no_complex(field: str, values: np.ndarray[Any, Any], place: Place, where: str) -> None:
    """TM248 for complex values, which Arrow has no type for (and polars keeps as objects)."""
    if values.dtype.kind == "c":
        raise InputError(
            _diag(
                "TM248",
                place,
                f"output {field!r} holds {values.dtype} values, which {where} has no column type for",
                hint="write the real and imaginary parts as two outputs (x.real, x.imag)",
            )
        )


def arrow_table(built: Mapping[str, tuple[np.ndarray[Any, Any], str | None]]) -> Any:
    """Columns and their units as an Arrow table, each unit in its field's ``"unit"`` metadata."""
    pa = arrow()
    fields = [
        pa.field(k, pa.from_numpy_dtype(v.dtype), metadata=None if u is None else {b"unit": u.encode()})
        for k, (v, u) in built.items()
    ]
    return pa.Table.from_arrays([pa.array(v) for v, _ in built.values()], schema=pa.schema(fields))


def _value_unit(value: Any) -> str:
    units = getattr(value, "_units", None)
    return "" if units is None else f"[{unit_text_of(units)}]"


def _is_named_tuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_asdict")  # pyright: ignore[reportUnknownArgumentType]


def names_for(result: Any, names: Names) -> Names:
    """``names=`` as a mapping when a list names the columns of a single ``(rows, k)`` output."""
    single = not isinstance(result, Mapping) and not _is_named_tuple(result)
    if single and not isinstance(names, str | Mapping | None):
        return {"result": names}
    return names


def outputs_of(result: Any, names: Names, place: Place) -> dict[str, tuple[np.ndarray[Any, Any], str | None]]:
    """Each output of ``result`` by name: its magnitude as numpy, its unit's text (or None)."""
    if _is_named_tuple(result):
        items: dict[str, Any] = dict(result._asdict())
    elif isinstance(result, Mapping):
        items = {}
        for k, v in result.items():  # pyright: ignore[reportUnknownVariableType]
            if not isinstance(k, str) or str(k) in items:
                raise InputError(
                    _diag(
                        "TM248",
                        place,
                        f"the result's key {k!r} is not a column name"
                        if not isinstance(k, str)
                        else f"two outputs make a column named {k!r}",
                        hint="name each output with a str",
                    )
                )
            items[k] = v
    else:
        items = {names if isinstance(names, str) else "result": result}
    if not items:
        raise InputError(
            _diag("TM248", place, "the result has no outputs: there is no column to make", hint="pass the outputs")
        )
    if not isinstance(names, str | Mapping | None):
        raise InputError(
            _diag(
                "TM248",
                place,
                f"names= is a list, but the result has {len(items)} outputs: {', '.join(map(repr, items))}",
                hint="name each output's columns: names={'output': ['col_a', 'col_b']}",
            )
        )
    if isinstance(names, Mapping):
        unknown = [k for k in names if k not in items]
        if unknown:
            raise InputError(
                _diag(
                    "TM248",
                    place,
                    f"names= names {', '.join(map(repr, unknown))}, which the result has not",
                    (f"its outputs: {', '.join(map(repr, items))}",),
                )
            )
    out: dict[str, tuple[np.ndarray[Any, Any], str | None]] = {}
    for field, value in items.items():
        units = getattr(value, "_units", None)
        magnitude = getattr(value, "_magnitude", value) if units is not None else value
        try:
            values = np.asarray(magnitude)
        except (TypeError, ValueError) as err:
            raise InputError(_diag("TM248", place, f"output {field!r} is not an array: {err}")) from None
        if values.dtype.kind not in _NUMERIC_KINDS:
            raise InputError(_diag("TM248", place, f"output {field!r} holds {values.dtype} values, not numbers"))
        out[field] = (values, None if units is None else unit_text_of(units))
    return out


def split_columns(
    field: str, values: np.ndarray[Any, Any], names: Names, place: Place
) -> list[tuple[str, np.ndarray[Any, Any]]]:
    """An output's columns: itself when ``(rows,)``, one per index of its second axis when 2-D."""
    raw: Any = names.get(field) if isinstance(names, Mapping) else None
    prefix = raw if isinstance(raw, str) else field  # one output's column, or its columns' prefix
    given: list[str] | None = None
    if raw is not None and not isinstance(raw, str):
        listed: list[Any] = list(cast("Sequence[Any]", raw)) if isinstance(raw, list | tuple) else []
        if not listed or not all(isinstance(n, str) for n in listed):
            raise InputError(
                _diag(
                    "TM248",
                    place,
                    f"names= gives {raw!r} for output {field!r}: a column's name is a str",
                    hint=f"e.g. names={{{field!r}: ['col_a', 'col_b']}}, or names='col' for a single output",
                )
            )
        given = [str(n) for n in listed]
    if values.ndim == 1:
        return [(prefix, values)]
    if values.ndim != 2:
        raise InputError(
            _diag(
                "TM248",
                place,
                f"output {field!r} of shape {values.shape} has more than two axes: a table has rows and columns",
                hint="reshape it to (rows, columns) first",
            )
        )
    k = values.shape[1]
    labels = [f"{prefix}_{j}" for j in range(k)] if given is None else given
    if len(labels) != k:
        raise InputError(_diag("TM248", place, f"names[{field!r}] gives {len(labels)} names for its {k} columns"))
    return [(label, np.ascontiguousarray(values[:, j])) for j, label in enumerate(labels)]


def columns(
    data: Any,
    /,
    *,
    unit: str | None = None,
    units: Mapping[str, str] | None = None,
    dtype: Any = None,
    **ports: str | Sequence[str],
) -> Columns:
    """The columns of a pandas or polars DataFrame (or an Arrow table) given to ports by name.

    ``tm.columns(df, raw=["ch0", "ch1"], unit="mV")`` gives port ``raw`` the two columns
    stacked as ``(rows, 2)`` in mV; ``tm.columns(df, x="a", y="b", units={"a": "m", "b": "s"})``
    gives each port one column, with a unit per column. A unit the data states (a pint-pandas
    dtype, ``df.attrs["units"]``, an Arrow field's ``"unit"`` metadata) is read; one given as
    well must agree. ``dtype=np.float32`` converts the columns (pandas' float64 would be
    computed in float32 anyway, with a TM243 warning). Call the pipeline with ``pipe(**cols)``;
    see :class:`Columns`.
    """
    place = Place("tm.columns()", user_location(), "columns")
    table = _table(data)
    if table is None:
        raise InputError(
            _diag(
                "TM246",
                place,
                f"takes a pandas or polars DataFrame or an Arrow table, got {type(data).__name__}",
                hint="pass arrays or quantities to the pipeline directly",
            )
        )
    mapping = mapping_of(ports, place)
    if isinstance(table, _Pandas):
        stated = table.data.attrs.get("units")
        if stated is not None and not isinstance(stated, Mapping):
            raise InputError(
                _diag(
                    "TM241",
                    place,
                    f"the frame's attrs['units'] is {stated!r}, not a mapping of column names to units",
                    hint="df.attrs['units'] = {'ch0': 'mV'}, or give unit= to tm.columns",
                )
            )
    given = units_given(mapping, unit, units, place)
    wanted = dtype_of(dtype, place)
    return Columns(read_ports(table, mapping, given, place, wanted), data, table.kind, table.rows())


# -- a frame given to a port as it is --------------------------------------------------------


def refuse(spec: Spec, port: Port, value: Any) -> Diagnostic:
    """TM247 for a table (or one of its columns) given to a port as it is."""
    kind = type(value).__name__
    library = (type(value).__module__ or "").partition(".")[0].replace("_", "-")
    one = getattr(value, "ndim", 2) == 1 or kind in ("Series", "Array", "ChunkedArray", "PintArray")
    shown = "'column'" if one else "['col_a', 'col_b']"
    return Diagnostic(
        "TM247",
        f"input {port.name!r} of {spec.name}() is a {library} {kind}: which columns, in which unit, is not said",
        user_location() or spec.location,
        notes=("a table's columns have names, not axes, and rarely a unit: typedml does not guess them",),
        hint=f"map columns to ports: {spec.name}(**tm.columns(df, {port.name}={shown}, unit='...'))",
        stage=spec.name,
        port=port.name,
    )


def inputs(spec: Spec, items: list[tuple[Port, Any]]) -> tuple[list[Any], Callable[[Any], Any] | None]:
    """The adapter of pandas, polars and Arrow values: each is refused, saying how to pass it."""
    raise InputError([refuse(spec, port, value) for port, value in items])
