"""Parquet files streamed into ``tm.stream`` with their units, and results written back.

``tm.parquet_chunks(paths, columns={"x": "temp"}, rows=65536)`` reads each file's row groups
a batch at a time (never the whole file), re-cut into chunks of exactly ``rows`` rows (the
last chunk of a file may be shorter), and gives each chunk as the mapping of ports to
quantities that :func:`typedml.columns` makes of a table. A column's unit is the ``"unit"``
key of its Arrow field's metadata, read per file: two files in mV and V stream into one
state, each chunk converted by the call. Columns are read as :mod:`typedml._tables` reads an
Arrow table, so the same errors name the same faults, with the file, the chunk and the row.

The source is a :class:`typedml.FileChunks`: under ``jax.distributed`` each process reads its
share of the files. Every file's schema is checked when ``parquet_chunks`` is called, so a
missing column or an unreadable unit is said before anything is computed.

:func:`write_parquet` writes results (one value per row) with each column's unit in its
field's metadata, where ``parquet_chunks`` and ``tm.columns`` read it back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

import numpy as np

from ._errors import Diagnostic, InputError, user_location
from ._files import FileChunks
from ._tables import (
    ArrowTable,
    ColumnSpec,
    Names,
    Place,
    arrow,
    arrow_not_numbers,
    arrow_table,
    dtype_of,
    field_unit,
    mapping_of,
    names_for,
    no_complex,
    outputs_of,
    read_ports,
    split_columns,
    units_given,
)

__all__ = ["parquet_chunks", "write_parquet"]

PathLike = str | os.PathLike[str]


def _parquet() -> Any:
    arrow()
    from ._adapters import require

    return require("pyarrow.parquet", "parquet", "typedml's Parquet support")


def _unreadable(path: PathLike, why: str, row: int | None = None) -> InputError:
    where = "" if row is None else f" after row {row}"
    return InputError(
        Diagnostic(
            "TM510",
            f"parquet_chunks(): {os.fspath(path)}{where} cannot be read: {why}",
            user_location(),
            hint="give the path of a Parquet file (written by pyarrow, pandas, polars, Spark...)",
            stage="stream",
        )
    )


def _arguments(message: str, hint: str | None = None) -> InputError:
    return InputError(Diagnostic("TM246", f"parquet_chunks(): {message}", user_location(), hint=hint, stage="stream"))


class _Reader:
    """Reads one file's chunks: the checked arguments, shared by every file of the source."""

    def __init__(
        self,
        mapping: ColumnSpec,
        single: bool,
        rows: int,
        given: Callable[[str], str | None],
        dtype: np.dtype[Any] | None,
    ) -> None:
        self.mapping = mapping
        self.single = single
        self.rows = rows
        self.given = given
        self.dtype = dtype
        self.needed = list(dict.fromkeys(c for spec in mapping.values() for c in _names(spec)))

    def __repr__(self) -> str:
        return f"parquet({self.rows} rows: {', '.join(self.needed)})"

    def schema(self, path: PathLike) -> Any:
        """The file's Arrow schema, its columns checked against the mapping (TM245)."""
        pq = _parquet()
        try:
            schema = pq.read_schema(path)
        except (OSError, ValueError) as err:
            raise _unreadable(path, str(err) or type(err).__name__) from None
        place = Place(f"parquet_chunks(): {os.fspath(path)}", user_location(), "stream")
        for name in self.needed:
            if schema.names.count(name) > 1:
                raise InputError(
                    Diagnostic(
                        "TM245",
                        f"{place.what}: column {name!r} appears more than once among the file's columns",
                        place.location,
                        hint="rename the columns when the file is written: which one is meant is not said",
                        stage="stream",
                    )
                )
            if name not in schema.names:
                shown = ", ".join(map(repr, schema.names[:12])) + (", ..." if len(schema.names) > 12 else "")
                raise InputError(
                    Diagnostic(
                        "TM245",
                        f"{place.what}: there is no column {name!r}",
                        place.location,
                        notes=(f"its columns: {shown or 'none'}",),
                        hint="name a column every file has (names are compared exactly, case included)",
                        stage="stream",
                    )
                )
            why = arrow_not_numbers(schema.field(name).type)
            if why is not None:
                raise InputError(
                    Diagnostic(
                        "TM245",
                        f"{place.what}: column {name!r} {why}",
                        place.location,
                        hint="convert it to numbers when the file is written",
                        stage="stream",
                    )
                )
        # the units the file states and those given, read once (TM241 and TM249 said here)
        empty = ArrowTable(schema.empty_table(), {n: field_unit(schema.field(n)) for n in self.needed})
        read_ports(empty, self.mapping, self.given, place, self.dtype)
        return schema

    def __call__(self, path: PathLike) -> Iterator[Any]:
        pq = _parquet()
        pa = arrow()
        try:
            handle = pq.ParquetFile(path)
        except (OSError, ValueError) as err:
            raise _unreadable(path, str(err) or type(err).__name__) from None
        with handle:
            schema = handle.schema_arrow
            if any(n not in schema.names for n in self.needed):  # the file changed since it was checked
                self.schema(path)
            units = {n: field_unit(schema.field(n)) for n in self.needed}
            shown = os.fspath(path)
            done = 0
            chunk = 0
            held: list[Any] = []
            have = 0

            def chunk_of(piece: Any) -> Any:
                n = piece.num_rows
                place = Place(
                    f"parquet_chunks(): {shown}, chunk {chunk} (rows {done}-{done + n - 1})",
                    user_location(),
                    "stream",
                    done,
                )
                values = read_ports(ArrowTable(piece, units), self.mapping, self.given, place, self.dtype)
                return next(iter(values.values())) if self.single else values

            for batch in _batches(handle, path, self.rows, self.needed):
                if not batch.num_rows:
                    continue
                held.append(batch)
                have += batch.num_rows
                while have >= self.rows:
                    piece, held = _take(pa, held, self.rows)
                    have -= piece.num_rows
                    yield chunk_of(piece)
                    done += piece.num_rows
                    chunk += 1
            if have:
                piece, held = _take(pa, held, have)
                yield chunk_of(piece)


def _batches(handle: Any, path: PathLike, rows: int, needed: list[str]) -> Iterator[Any]:
    """The file's record batches; a read that fails is TM510 naming the file and the row."""
    pa = arrow()
    # a batch of at most 2**31 - 1 rows (Arrow's C int): chunks larger than that are re-cut whole
    batches = iter(handle.iter_batches(batch_size=min(rows, 2**31 - 1), columns=needed))
    read = 0
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, pa.ArrowException) as err:
            raise _unreadable(path, str(err), read) from None
        read += batch.num_rows
        yield batch


def _take(pa: Any, held: list[Any], n: int) -> tuple[Any, list[Any]]:
    """The first ``n`` rows of the batches held, and the batches of the rest."""
    table = held[0] if len(held) == 1 else pa.Table.from_batches(held)
    if n >= table.num_rows:
        return table, []
    rest = table.slice(n)
    return table.slice(0, n), (rest.to_batches() if isinstance(rest, pa.Table) else [rest])


def _names(spec: str | tuple[str, ...]) -> tuple[str, ...]:
    return (spec,) if isinstance(spec, str) else spec


def _paths(paths: Any) -> list[PathLike]:
    """The paths given, each a str or ``os.PathLike`` (bytes decoded as the file system does)."""
    if isinstance(paths, str | bytes | os.PathLike):
        paths = [paths]
    elif not isinstance(paths, Iterable) or isinstance(paths, Mapping):
        raise _arguments(
            f"takes a path or a list of paths, got {type(cast('object', paths)).__name__}",
            hint="e.g. parquet_chunks(['day1.parquet', 'day2.parquet'], ...) or sorted(Path('data').glob('*.parquet'))",
        )
    out: list[PathLike] = []
    for i, path in enumerate(cast("Iterable[Any]", paths)):
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str | os.PathLike):
            raise _arguments(f"path [{i}] is {path!r}, not a path", hint="give each file's path as a str or a Path")
        out.append(cast("PathLike", path))
    return out


def parquet_chunks(
    paths: PathLike | Sequence[PathLike],
    columns: str | Mapping[str, str | Sequence[str]],
    *,
    rows: int = 65536,
    unit: str | None = None,
    units: Mapping[str, str] | None = None,
    dtype: Any = None,
) -> FileChunks:
    """The rows of Parquet files, ``rows`` at a time, as chunks for :func:`typedml.stream`.

    ``columns`` maps the update's data ports to columns as :func:`typedml.columns` does
    (``{"raw": ["ch0", "ch1"], "gain": "g"}``), or is one column's name when the update has
    one data port (each chunk is then that column's quantity). Units come from each file's
    field metadata (``"unit"``), else ``units=`` per column or ``unit=`` for all; a unit
    given and one stated by a file must agree (TM241). ``dtype=np.float32`` converts the
    columns as they are read. Every file's schema is checked now (TM245, TM510); the
    arguments too (TM246). Needs ``pip install 'typedml[parquet]'``.
    """
    _parquet()
    place = Place("parquet_chunks()", user_location(), "stream")
    paths = _paths(paths)
    if not paths:
        raise _arguments(
            "no file is given",
            hint="a pattern that matched nothing? (sorted(Path('data').glob('*.parquet')) is empty)",
        )
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows <= 0:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise _arguments(f"rows must be a positive int, got {rows!r}", hint="e.g. rows=65536")
    single = isinstance(columns, str)
    if single:
        mapping = mapping_of({"_": columns}, place)
    elif isinstance(columns, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        mapping = mapping_of(columns, place)
    else:
        raise _arguments(
            f"columns= takes a column's name or a mapping of ports to columns, got {type(columns).__name__}",
            hint="e.g. columns={'raw': ['ch0', 'ch1'], 'gain': 'g'}",
        )
    given = units_given(mapping, unit, units, place)
    reader = _Reader(mapping, single, int(rows), given, dtype_of(dtype, place))
    for path in paths:
        reader.schema(path)
    return FileChunks(paths, reader)


def write_parquet(path: PathLike, result: Any, names: Names = None, *, row_group_rows: int | None = None) -> None:
    """Write ``result`` (one output, a NamedTuple of outputs, or a mapping of names to values)
    to a Parquet file, one row per value, each column's unit in its field's ``"unit"``
    metadata (read back by :func:`parquet_chunks` and :func:`typedml.columns`).

    Columns are named as :meth:`typedml.Columns.frame` names them: an output of shape
    ``(rows,)`` is one column, ``(rows, k)`` is ``k`` (``name_0``..., or ``names=``). Every
    output needs the same number of rows (TM248). Needs ``pip install 'typedml[parquet]'``.
    """
    pq = _parquet()
    place = Place("write_parquet()", user_location(), "write")
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str | os.PathLike):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InputError(
            Diagnostic(
                "TM510",
                f"write_parquet(): {path!r} is not a path",
                place.location,
                hint="give the file's path as a str or a Path",
                stage="write",
            )
        )
    if row_group_rows is not None and (
        isinstance(row_group_rows, bool) or not isinstance(row_group_rows, int | np.integer) or row_group_rows <= 0  # pyright: ignore[reportUnnecessaryIsInstance]
    ):
        raise InputError(
            Diagnostic(
                "TM246",
                f"write_parquet(): row_group_rows must be a positive int or None, got {row_group_rows!r}",
                place.location,
                hint="e.g. row_group_rows=65536 (None: pyarrow's default)",
                stage="write",
            )
        )
    names = names_for(result, names)
    built: dict[str, tuple[np.ndarray[Any, Any], str | None]] = {}
    count: int | None = None
    for field, (values, unit) in outputs_of(result, names, place).items():
        if values.ndim == 0 or (count is not None and values.shape[0] != count):
            raise InputError(
                Diagnostic(
                    "TM248",
                    f"write_parquet(): output {field!r} of shape {values.shape} is not one value per row"
                    + ("" if count is None else f" of the {count} rows of the outputs before it"),
                    place.location,
                    hint="write per-row results; keep a summary (a mean, a fit) in an array of one row",
                    stage="write",
                )
            )
        count = values.shape[0]
        no_complex(field, values, place, "a Parquet file")
        for name, column in split_columns(field, values, names, place):
            if name in built:
                raise InputError(
                    Diagnostic("TM248", f"write_parquet(): two outputs make a column named {name!r}", place.location)
                )
            built[name] = (column, unit)
    table = arrow_table(built)
    try:
        pq.write_table(table, path, row_group_size=None if row_group_rows is None else int(row_group_rows))
    except OSError as err:
        raise InputError(
            Diagnostic(
                "TM510", f"write_parquet(): {os.fspath(path)} cannot be written: {err}", place.location, stage="write"
            )
        ) from None
