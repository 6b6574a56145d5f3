"""Data larger than memory: fold chunks through a mergeable state, one executable for all.

``tm.stream(update, chunks, init=state)`` calls ``update(state, **chunk)`` for every chunk
and returns the last state (or ``finalize(state)``). ``update`` is a stage or pipeline whose
first input is the state, a record (``moments_update(state: Moments, x)`` in the standard
library), or whose first inputs are the state's fields one by one, and whose output is the
next state; each call is the compiled pipeline, so chunks of one shape share one executable. With ``weights="w"``, a ragged last chunk is padded to the chunk size and its
padding given weight 0 through the update's ``w`` port, so it needs no new executable either.

Only the current chunk and the state are alive at a time: memory is bounded by the chunk size,
whatever the data's. :func:`npy_chunks` reads a ``.npy`` file that way, with plain reads (a
memory map would let the whole file's pages count as resident).

A stream that fails keeps what it folded: the exception raised out of :func:`stream` while it
folds (typedml's own, or one from the chunk iterator) carries ``err.state``, the state folded
from every chunk before the failing one, and ``err.chunks_done``, and a note on it names the
chunk and its rows. :func:`npy_chunks` names the file, the chunk and the rows of a chunk it
cannot read (TM225) and notices a file that changes while it is read (TM226).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import jax
import numpy as np

from ._adapters import adapt_named
from ._distributed import StreamAcross
from ._errors import Diagnostic, InputError, TypedMLError, raised_clean, user_location
from ._records import RecordMismatch
from ._runtime import QUANTITY_TYPE, split_value

__all__ = ["StreamStats", "npy_chunks", "stream"]


class StreamStats:
    """What the last :func:`stream` call did: chunks, rows, seconds, rows per second."""

    def __init__(self) -> None:
        self.chunks = 0
        self.rows = 0
        self.padded_rows = 0
        self.seconds = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")

    def __repr__(self) -> str:
        return (
            f"StreamStats(chunks={self.chunks}, rows={self.rows}, padded_rows={self.padded_rows}, "
            f"seconds={self.seconds:.3f}, rows_per_second={self.rows_per_second:.4g})"
        )


def _error(message: str, hint: str | None = None) -> InputError:
    return InputError(Diagnostic("TM217", message, user_location(), hint=hint, stage="stream"))


def stream(
    update: Any,
    chunks: Iterable[Any],
    *,
    init: Iterable[Any],
    finalize: Any = None,
    weights: str | None = None,
    merge: Any = None,
    timeout: float | None = 300.0,
    progress: bool = False,
    total_rows: int | None = None,
    stats: StreamStats | None = None,
) -> Any:
    """Fold ``chunks`` into ``init`` with ``update``; see the module documentation.

    A chunk is a mapping from the update's data ports to values, or a single value when the
    update has one data port. Returns ``finalize(*state)`` if given, else the state.
    ``progress=True`` shows a progress bar (chunks, rows, rows per second) on stderr;
    ``stats`` (a :class:`StreamStats`) is filled in as chunks go.

    ``merge`` is the state family's merge stage (``tm.stdlib.moments_merge``...). Under
    ``jax.distributed`` with several processes, each process folds its share of the files of
    a :func:`typedml.file_chunks` source (or its own ``chunks``), the processes agree on the
    job (waiting ``timeout`` seconds for each other at the start), and their states are
    merged in process order: every process returns the same result. With one process the
    merge stage is only checked against the initial state.
    """
    try:
        return _stream(
            update, chunks, init, finalize, weights, merge, timeout, progress, total_rows, stats or StreamStats()
        )
    except TypedMLError as err:
        raise raised_clean(err) from None


def _stream(
    update: Any,
    chunks: Iterable[Any],
    init: Iterable[Any],
    finalize: Any,
    weights: str | None,
    merge: Any,
    timeout: float | None,
    progress: bool,
    total_rows: int | None,
    stats: StreamStats,
) -> Any:
    spec = getattr(update, "spec", None)
    if spec is None:
        raise _error(f"stream() needs a typedml stage or pipeline to update with, got {type(update).__name__}")
    fields = _Fields(update)
    state = fields.of(init)
    last: Any = init
    update = fields
    names: tuple[str, ...] = spec.input_names
    data_ports = names[len(state) :]
    if not data_ports:
        raise _error(
            f"{spec.name} takes {len(names)} inputs, all used by the state of {len(state)} fields: no port for data",
            hint="the update's first inputs are the state's fields, then the chunk's ports",
        )
    if weights is not None and weights not in data_ports:
        raise _error(
            f"weights={weights!r} is not a data port of {spec.name}",
            hint=f"its data ports: {', '.join(data_ports)}",
        )
    merge = _Fields(merge) if getattr(merge, "spec", None) is not None else merge
    chunks, state, across = StreamAcross.start(spec.name, chunks, state, merge, weights, timeout)
    last = last if merge is None else fields.record(state)
    bar = _bar(total_rows) if progress else None
    chunk_rows: int | None = None
    start = time.perf_counter()
    rows = 0
    try:
        for chunk in chunks:
            data: dict[str, Any] = (
                dict(cast("Mapping[str, Any]", chunk))
                if isinstance(chunk, Mapping)
                else {_single(data_ports, weights, spec.name): chunk}
            )
            data = adapt_named(spec, data)  # other libraries' data (a DataArray): in the ports' axis order
            rows = _rows(data)
            if chunk_rows is None:
                chunk_rows = rows
            if rows > chunk_rows:
                raise _error(
                    f"chunk {stats.chunks} has {rows} rows, more than the first chunk's {chunk_rows}",
                    hint="make the first chunk the largest: every chunk is padded to its size at most",
                )
            if weights is not None:
                data = _weighted(data, weights, rows, chunk_rows)
                stats.padded_rows += chunk_rows - rows
            state = update(*state, **data)
            last = fields.record(state)
            # JAX dispatches asynchronously: without waiting, the loop would read chunk after
            # chunk ahead of the computation and keep them all alive, whatever their number.
            jax.block_until_ready([split_value(v)[0] for v in state])  # pyright: ignore[reportUnknownMemberType]
            stats.chunks += 1
            stats.rows += rows
            if bar is not None:
                bar.update(rows)
                bar.set_postfix(chunks=stats.chunks)
            rows = 0
    except BaseException as err:
        if across is not None:
            across.fail(err)  # the other processes learn of it instead of waiting
        if isinstance(err, Exception):
            _keep_state(err, last, stats, rows)
        raise
    finally:
        stats.seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()
    if across is not None:
        state = tuple(across.finish(state))
        last = fields.record(state)
    return _Fields(finalize).whole(state) if finalize is not None else last


class _Fields:
    """A stage or pipeline whose record parameters are given field by field, positionally.

    A stream's state travels as the tuple of its fields (what the cross-process merge gathers
    and compares); this calls ``update(state, **chunk)``, ``merge(a, b)`` or ``finalize(state)``
    with the records built from them, and returns the record result's fields. A stage that
    takes the state's fields one by one (``update(*state, x)``) is called as it is.
    """

    def __init__(self, target: Any) -> None:
        self.target = target
        self.spec = getattr(target, "spec", None)
        self.bare = False  # the initial state was one array, not a record or a tuple of fields

    def of(self, init: Any) -> tuple[Any, ...]:
        """The fields of an initial state: a record's, an iterable's items, or one array (or
        quantity) as the only field (iterated, its rows were taken for fields)."""
        spec = self.spec
        if _one_value(init):
            self.bare = True
            return (init,)
        if spec is None or not spec.data_params:
            return tuple(init)
        record = spec.record(spec.data_params[0])
        if record is None:
            return tuple(init)
        try:
            return tuple(record.flatten(init))
        except RecordMismatch as err:
            raise _error(
                f"init= is a {err.found}, but {spec.name} takes a {record.name} as its state",
                hint=f"start from {record.name} (e.g. the family's init stage)",
            ) from None

    def record(self, state: tuple[Any, ...]) -> Any:
        """The state as the update returns it (its record, when it returns one)."""
        spec = self.spec
        if self.bare and len(state) == 1 and (spec is None or spec.output_record is None):
            return state[0]  # one array in, one array back
        return state if spec is None or spec.output_record is None else spec.pack_outputs(list(state))

    def _call(self, fields: tuple[Any, ...], named: dict[str, Any]) -> Any:
        spec = self.spec
        if spec is None or not spec.records:
            return self.target(*fields, **named)
        values = dict(zip(spec.input_names, fields, strict=False))
        return self.target(**spec.group_inputs(values), **named)

    def __call__(self, *fields: Any, **named: Any) -> tuple[Any, ...]:
        result = self._call(fields, named)
        spec = self.spec
        unpacked = spec.unpack_outputs(result) if spec is not None else None
        return tuple(unpacked) if unpacked is not None else tuple(result)

    def whole(self, fields: tuple[Any, ...]) -> Any:
        """What the target returns for these fields, as it returns it (``finalize``)."""
        return self._call(fields, {})


def _one_value(value: Any) -> bool:
    """Whether ``value`` is one array or quantity (a state of one field), not a collection of fields."""
    return isinstance(value, QUANTITY_TYPE) or (hasattr(value, "shape") and hasattr(value, "dtype"))


def _keep_state(err: Exception, state: Any, stats: StreamStats, rows: int) -> None:
    """Put the state folded so far on ``err``, with a note saying where the stream stopped."""
    where = f"chunk {stats.chunks}" + (f" (rows {stats.rows}–{stats.rows + rows - 1})" if rows else "")
    err.state = state  # pyright: ignore[reportAttributeAccessIssue]
    err.chunks_done = stats.chunks  # pyright: ignore[reportAttributeAccessIssue]
    err.add_note(
        f"stream() stopped at {where}; err.state holds the state folded from the {stats.chunks} chunks before it"
    )


def _single(ports: tuple[str, ...], weights: str | None, name: str) -> str:
    data = [p for p in ports if p != weights]
    if len(data) != 1:
        raise _error(
            f"{name} takes data on {', '.join(map(repr, data))}: give each chunk as a mapping of them",
            hint="yield dicts from the chunk iterator, e.g. {'x': chunk_x, 'y': chunk_y}",
        )
    return data[0]


def _rows(data: Mapping[str, Any]) -> int:
    for value in data.values():
        shape = getattr(split_value(value)[0], "shape", None)
        if shape:
            return int(shape[0])
    raise _error("a chunk holds no array with a leading axis to count rows on")


def _weighted(data: dict[str, Any], weights: str, rows: int, chunk_rows: int) -> dict[str, Any]:
    like = next(v for k, v in data.items() if k != weights)
    shape = np.shape(split_value(like)[0])
    if weights not in data:
        data[weights] = np.ones(shape, dtype=np.float32)
    if rows == chunk_rows:
        return data
    return {k: _pad(v, chunk_rows - rows) for k, v in data.items()}


def _pad(value: Any, extra: int) -> Any:
    magnitude, units = split_value(value)
    array = np.asarray(magnitude)
    padded = np.concatenate([array, np.zeros((extra, *array.shape[1:]), dtype=array.dtype)])
    if units is None:
        return padded
    return type(value)(padded, value.units)


def _bar(total: int | None) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, desc="stream", leave=False)


def npy_chunks(path: str | Path, rows: int, unit: str | None = None) -> Iterator[Any]:
    """The rows of a ``.npy`` file, ``rows`` at a time, read lazily (never the whole file).

    With ``unit``, each chunk is a quantity of typedml's registry. The arguments and the
    file's header are checked when this is called (TM217, TM225); a chunk the file cannot
    fill (a truncated file) is TM225 naming the chunk and its rows, and a file rewritten or
    replaced while it is read is TM226, so two versions of it are never mixed.
    """
    from ._units import UnitParseError, get_registry, parse_unit_expr

    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows <= 0:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise _error(f"npy_chunks(): rows must be a positive int, got {rows!r}")
    if unit is not None:
        try:
            expr = parse_unit_expr(unit, get_registry()) if isinstance(unit, str) else None  # pyright: ignore[reportUnnecessaryIsInstance]
        except UnitParseError as err:
            raise _error(f"npy_chunks(): unknown or malformed unit {unit!r}: {err.detail}") from None
        if expr is None or expr.variables:
            raise _error(f"npy_chunks(): unit must be a concrete unit string such as 'm', got {unit!r}")
    path = Path(path)
    try:
        f = path.open("rb")
    except OSError as err:
        raise _unreadable(path, f"cannot be opened: {err.strerror or err}") from None
    try:
        header = _read_header(f, path)
    except BaseException:
        f.close()
        raise
    return _npy_rows(f, path, int(rows), unit, *header)


def _read_header(f: Any, path: Path) -> tuple[tuple[int, ...], np.dtype[Any], os.stat_result]:
    try:
        version = np.lib.format.read_magic(f)
        header_shape, fortran, dtype = _header(f, version)
    except (ValueError, OSError, EOFError) as err:
        raise _unreadable(path, f"is not a readable .npy file: {err}") from None
    if fortran or not header_shape:
        raise _error(f"npy_chunks(): {path} holds no rows that can be read one block at a time")
    return tuple(int(d) for d in header_shape), dtype, os.fstat(f.fileno())


def _npy_rows(
    f: Any,
    path: Path,
    rows: int,
    unit: str | None,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    opened: os.stat_result,
) -> Iterator[Any]:
    from ._units import get_registry

    with f:
        total = shape[0]
        rest = shape[1:]
        row_items = int(np.prod(rest, dtype=np.int64)) if rest else 1
        done = 0
        chunk = 0
        make: Callable[[Any], Any] = (lambda a: a) if unit is None else (lambda a: get_registry().Quantity(a, unit))
        while done < total:
            take = min(rows, total - done)
            _unchanged(f, path, opened, chunk, done)
            block = np.fromfile(f, dtype=dtype, count=take * row_items)
            if block.size != take * row_items:
                got = block.size // row_items if row_items else 0
                raise InputError(
                    Diagnostic(
                        "TM225",
                        f"npy_chunks(): {path} ends inside chunk {chunk}: rows {done}–{done + take - 1} expected, "
                        f"{got} complete rows found",
                        user_location(),
                        notes=(
                            f"its header declares shape {shape} of {dtype}: {total} rows",
                            f"{done + got} rows could be read in all",
                        ),
                        hint="the file is truncated or still being written: write it completely, then stream it",
                        stage="stream",
                    )
                )
            done += take
            chunk += 1
            yield make(block.reshape((take, *rest)))


def _unchanged(f: Any, path: Path, opened: os.stat_result, chunk: int, row: int) -> None:
    """TM226 when the open file was rewritten, or the path now names another file."""
    now = os.fstat(f.fileno())
    try:
        named = os.stat(path)
    except OSError:
        named = None
    rewritten = (now.st_size, now.st_mtime_ns) != (opened.st_size, opened.st_mtime_ns)
    replaced = named is None or (named.st_ino, named.st_dev) != (opened.st_ino, opened.st_dev)
    if rewritten or replaced:
        what = "was rewritten" if rewritten else "was replaced or removed"
        raise InputError(
            Diagnostic(
                "TM226",
                f"npy_chunks(): {path} {what} while it was read, before chunk {chunk} (row {row})",
                user_location(),
                notes=("the rows read so far and the rows still to come would belong to two versions of the file",),
                hint="stream a file once it is complete and no longer written; copy it first if it changes",
                stage="stream",
            )
        )


def _unreadable(path: Path, why: str) -> InputError:
    return InputError(
        Diagnostic(
            "TM225",
            f"npy_chunks(): {path} {why}",
            user_location(),
            hint="give the path of a .npy file written by numpy.save",
            stage="stream",
        )
    )


def _header(f: Any, version: tuple[int, int]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    return np.lib.format.read_array_header_2_0(f)
