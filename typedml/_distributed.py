"""Several processes under ``jax.distributed``: agreeing before running, and merging states.

Before a sharded pipeline runs across processes, and before and after a stream folds its share
of the files, every process publishes a *fingerprint* of what it is about to do (units,
dtypes, shard shapes, a digest of replicated values, the file list, the state's signature) in
the key-value store of JAX's coordination service, waits at a barrier of that service, and
reads every process's (three requests, whatever the number of processes). They must all be
equal: a process whose shard has other units or another size would otherwise compile another
program (a silent wrong answer) or wait in a collective forever. A mismatch, or a process that
reports its own error, is a typed error on every process; a process that does not arrive
within ``timeout`` seconds is one on the others, and on itself when it comes (a barrier that
timed out fails for late arrivals too, so no process runs on alone).

The agreement points are numbered in the order each process reaches them, so processes that
make different typedml calls (one calls the pipeline, the other streams) disagree instead of
pairing up wrongly. With one process nothing is exchanged and nothing is paid.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, cast

import jax
import numpy as np

from ._errors import Diagnostic, DistributedError, InputError, TypedMLError, user_location
from ._files import FileChunks, digest
from ._runtime import split_value

__all__ = ["Agreement", "StreamAcross", "gather_and_merge", "global_inputs", "processes", "value_fact"]

_RuntimeError = cast("type[Exception]", jax.errors.JaxRuntimeError)  # pyright: ignore[reportUnknownMemberType]
_PREFIX = "typedml/agree"
_FOREVER_MS = 7 * 24 * 3600 * 1000  # "no limit" (a process that dies is JAX's to detect)


def processes() -> tuple[int, int]:
    """``(this process's index, number of processes)`` of the JAX runtime."""
    return jax.process_index(), jax.process_count()  # pyright: ignore[reportUnknownMemberType]


def _client() -> Any:
    from jax._src import distributed  # the coordination service's key-value store

    client = getattr(distributed.global_state, "client", None)
    if client is None:
        raise DistributedError(
            Diagnostic(
                "TM515",
                f"{processes()[1]} JAX processes, but no jax.distributed client to agree through",
                user_location(),
                hint="start every process with jax.distributed.initialize(...) before any JAX computation",
            )
        )
    return client


def value_fact(value: Any, *, with_digest: bool) -> str:
    """A value's signature as text: unit, dtype and shape, and a digest of its bytes if asked
    (replicated inputs must be equal, not only alike). A global array is described as such."""
    magnitude, units = split_value(value)
    dtype = getattr(magnitude, "dtype", None)
    shape = getattr(magnitude, "shape", None)
    if dtype is None or shape is None:
        magnitude = np.asarray(magnitude)
        dtype, shape = magnitude.dtype, magnitude.shape
    unit = "no unit" if units is None else f"in {units}"
    text = f"{dtype}[{', '.join(map(str, shape))}] {unit}"
    if isinstance(magnitude, jax.Array) and not magnitude.is_fully_addressable:
        return f"{text} (a global array)"
    if with_digest:
        text += f", values #{digest(np.ascontiguousarray(np.asarray(magnitude)).tobytes())}"
    return text


class Agreement:
    """The agreement points of one process: ``check`` publishes this process's facts (or its
    failure) and compares them with every other process's.

    ``what`` names the call in messages (``"sensor.sharded()"``); ``timeout`` is how long to
    wait for the others (None: as long as it takes).
    """

    _sequence = itertools.count()

    def __init__(self, what: str, *, timeout: float | None) -> None:
        self.what = what
        self.timeout = timeout

    def check(
        self,
        point: str,
        facts: Mapping[str, str],
        *,
        failure: BaseException | None = None,
        unlimited: bool = False,
    ) -> None:
        """Agree on ``facts`` at ``point`` (``"inputs"``, ``"end"``...), waiting for the others
        ``self.timeout`` seconds (or without a limit). With ``failure``, tell the others (they
        raise TM515 naming this process) and re-raise it here, without waiting for late ones."""
        index, count = processes()
        if count == 1:
            if failure is not None:
                raise failure
            return
        client = _client()
        number = next(Agreement._sequence)
        mine = {
            "point": f"{self.what} {point}",
            "facts": dict(facts),
            "failed": None if failure is None else _first_line(failure),
        }
        client.key_value_set(f"{_PREFIX}/{number}/{index}", json.dumps(mine, sort_keys=True))
        # One barrier and one read, whatever the number of processes. The barrier's deadline is
        # the first arrival's; once it has passed, the barrier fails at once for late arrivals
        # too, so no process can go on alone. A failing process does not wait for late ones:
        # they find its report in the store when the barrier fails for them.
        if failure is not None:
            wait_ms = 1
        elif unlimited or self.timeout is None:
            wait_ms = _FOREVER_MS
        else:
            wait_ms = max(1, int(self.timeout * 1000))
        missed: Exception | None = None
        try:
            client.wait_at_barrier(f"{_PREFIX}/{number}", wait_ms)
        except _RuntimeError as err:
            missed = err
        reports = self._reports(client, number)
        if failure is not None:
            raise failure
        self._report_failures(reports)
        if missed is not None:
            self._did_not_come(reports, missed)
        # Every process that passed the barrier of point n had read all reports of point n-1,
        # so nobody will read this process's report of two points ago again.
        if number >= 2:
            with contextlib.suppress(_RuntimeError):
                client.key_value_delete(f"{_PREFIX}/{number - 2}/{index}")
        self._compare(reports)

    def _reports(self, client: Any, number: int) -> dict[int, dict[str, Any]]:
        prefix = f"{_PREFIX}/{number}/"
        found: dict[int, dict[str, Any]] = {}
        for key, value in client.key_value_dir_get(prefix):
            found[int(str(key).rsplit("/", 1)[1])] = json.loads(value)
        return found

    def _did_not_come(self, reports: Mapping[int, Any], err: Exception) -> NoReturn:
        index, count = processes()
        text = str(err)
        if "DEADLINE_EXCEEDED" not in text:
            raise DistributedError(
                Diagnostic(
                    "TM515",
                    f"lost JAX's coordination service while waiting for the other processes at {self.what}",
                    user_location(),
                    notes=(f"this is process {index} of {count}", text.splitlines()[0]),
                    hint="a process of the job has probably ended: see its own output",
                )
            ) from None
        missing = [p for p in range(count) if p not in reports]
        if not missing:  # everyone reported, but the barrier had failed: this one came late
            raise DistributedError(
                Diagnostic(
                    "TM515",
                    f"process {index} (this one) reached {self.what} after the others had stopped waiting for it",
                    user_location(),
                    notes=(f"this is process {index} of {count}",),
                    hint="the others raised TM515 when their timeout= ran out; if this process is only slow "
                    "(loading its data), raise timeout=",
                )
            ) from None
        within = f" within {self.timeout:g} s" if self.timeout is not None else ""
        raise DistributedError(
            Diagnostic(
                "TM515",
                f"process {', '.join(map(str, missing)) or '?'} did not reach {self.what}{within}",
                user_location(),
                notes=(
                    f"this is process {index} of {count}",
                    f"processes not heard from: {', '.join(map(str, missing)) or 'none (they came too late)'}",
                ),
                hint="every process must make the same typedml calls in the same order; "
                "if one is only slow (loading its data), raise timeout=",
            )
        ) from None

    def _report_failures(self, reports: Mapping[int, Mapping[str, Any]]) -> None:
        index, count = processes()
        failed = {p: r["failed"] for p, r in sorted(reports.items()) if r["failed"]}
        if failed:
            first = next(iter(failed))
            raise DistributedError(
                Diagnostic(
                    "TM515",
                    f"process {first} failed at {self.what}: {failed[first]}",
                    user_location(),
                    notes=(
                        f"this is process {index} of {count}",
                        *(f"process {p}: {text}" for p, text in failed.items()),
                    ),
                    hint="the error on that process says what to fix; every process stopped here instead of waiting",
                )
            )

    def _compare(self, reports: Mapping[int, Mapping[str, Any]]) -> None:
        index, count = processes()
        notes: list[str] = []
        points = _grouped({p: str(r["point"]) for p, r in reports.items()})
        if len(points) > 1:
            notes.append("not at the same call: " + "; ".join(points))
        names = sorted({name for r in reports.values() for name in r["facts"]})
        differing: list[str] = []
        for name in names:
            values = _grouped({p: str(r["facts"].get(name, "nothing")) for p, r in reports.items()})
            if len(values) > 1:
                differing.append(name)
                notes.append(f"{name}: " + "; ".join(values))
        if notes:
            what = ", ".join(differing) if differing else "the call"
            raise InputError(
                Diagnostic(
                    "TM250",
                    f"the {count} processes disagree on {what} at {self.what}",
                    user_location(),
                    notes=(f"this is process {index} of {count}", *notes),
                    hint="every process gives its share of one global input: the same units, dtypes and shard "
                    "sizes, equal values for what is not split, and the same typedml calls in the same order",
                )
            )


def _grouped(values: Mapping[int, str]) -> list[str]:
    by_value: dict[str, list[int]] = {}
    for process, value in sorted(values.items()):
        by_value.setdefault(value, []).append(process)
    return [
        f"{value} on process{'es' if len(ps) > 1 else ''} {', '.join(map(str, ps))}" for value, ps in by_value.items()
    ]


def _first_line(error: BaseException) -> str:
    if isinstance(error, TypedMLError):
        d = error.diagnostic
        return f"{d.severity}[{d.code}] {d.message}"
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def state_facts(state: Sequence[Any]) -> dict[str, str]:
    return {f"state[{i}]": value_fact(v, with_digest=False) for i, v in enumerate(state)}


def gather_and_merge(state: Sequence[Any], merge: Callable[..., Any]) -> Any:
    """Every process's state, gathered in process order and folded with ``merge`` into one
    state, the same on every process. Only called after the processes agreed on the state's
    signature, so the collective below cannot wait for a process that is not coming."""
    from jax.experimental import multihost_utils

    parts = [split_value(v) for v in state]
    host = [np.asarray(m) for m, _ in parts]
    gathered = multihost_utils.process_allgather(host)

    def rewrap(k: int) -> list[Any]:
        out: list[Any] = []
        for field, (_, units), original in zip(gathered, parts, state, strict=True):
            value = np.asarray(field[k])
            out.append(value if units is None else type(original)(value, original.units))
        return out

    merged: Any = rewrap(0)
    for k in range(1, processes()[1]):
        merged = merge(*merged, *rewrap(k))
    return merged


# --- tm.stream across processes ------------------------------------------------------------


def _stream_error(message: str, notes: tuple[str, ...] = (), hint: str | None = None) -> InputError:
    return InputError(Diagnostic("TM251", message, user_location(), notes=notes, hint=hint, stage="stream"))


class StreamAcross:
    """What ``tm.stream`` does around its fold when it has a ``merge`` stage or files to split.

    :meth:`start` checks the merge stage on the initial state (so a merge that does not fit is
    found on one process, before a long job), takes this process's share of the files and
    agrees with the others on the job; :meth:`finish` agrees on the folded states' signature
    and merges them; :meth:`fail` tells the others that this process could not fold its share.
    """

    def __init__(self, agreement: Agreement, merge: Callable[..., Any]) -> None:
        self.agreement = agreement
        self.merge = merge

    @staticmethod
    def start(
        update_name: str,
        chunks: Any,
        state: tuple[Any, ...],
        merge: Any,
        weights: str | None,
        timeout: float | None,
    ) -> tuple[Any, tuple[Any, ...], StreamAcross | None]:
        """``(this process's chunks, the initial state, the cross-process part or None)``."""
        index, count = processes()
        if merge is None:
            if count > 1 and isinstance(chunks, FileChunks):
                raise _stream_error(
                    f"stream() would split {len(chunks)} files between {count} processes, but has no merge= "
                    "stage to join their states",
                    hint="pass the state family's merge stage, e.g. merge=tm.stdlib.moments_merge",
                )
            return chunks, state, None
        state = _checked_merge(merge, state)
        if count == 1:
            return chunks, state, None
        files = chunks.fingerprint() if isinstance(chunks, FileChunks) else "each process's own chunks"
        agreement = Agreement(f"stream({update_name})", timeout=timeout)
        facts = {
            "merge": str(merge.spec.name),
            "weights": str(weights),
            "files": files,
            **state_facts(state),
        }
        agreement.check("start", facts)
        share = chunks.share(index, count) if isinstance(chunks, FileChunks) else chunks
        return share, state, StreamAcross(agreement, merge)

    def fail(self, error: BaseException) -> None:
        """Tell the other processes that this one failed; re-raises ``error``."""
        self.agreement.check("end", {}, failure=error)

    def finish(self, state: tuple[Any, ...]) -> Any:
        """The states of all processes merged, equal on every process. The processes wait for
        the slowest fold without a limit: how long a share takes is the data's business."""
        self.agreement.check("end", state_facts(state), unlimited=True)
        return gather_and_merge(state, self.merge)


def _checked_merge(merge: Any, state: tuple[Any, ...]) -> tuple[Any, ...]:
    spec = getattr(merge, "spec", None)
    name = getattr(spec, "name", type(merge).__name__)
    if spec is None:
        raise _stream_error(f"merge= needs a typedml stage or pipeline, got {type(merge).__name__}")
    if len(spec.input_names) != 2 * len(state):
        raise _stream_error(
            f"merge={name} takes {len(spec.input_names)} inputs; two states of {len(state)} fields need "
            f"{2 * len(state)}",
            hint="a merge stage takes the fields of one state, then the fields of the other",
        )
    try:
        merged = tuple(merge(*state, *state))
    except TypedMLError as err:
        raise _stream_error(
            f"merge={name} does not accept two initial states of this stream",
            notes=(_first_line(err),),
            hint="use the merge stage of the same family as the update (moments_update -> moments_merge)",
        ) from None
    for i, (before, after) in enumerate(zip(state, merged, strict=False)):
        unit_before, unit_after = (split_value(v)[1] for v in (before, after))
        if str(unit_before) != str(unit_after):
            raise _stream_error(
                f"merge={name} returns field {i} in {unit_after or 'no unit'}, but the state holds it in "
                f"{unit_before or 'no unit'}",
                hint="states merged across processes must keep their units",
            )
    # merge(empty, empty) is the empty state again, now with the merge's own dtypes: a process
    # that gets no file then holds a state of the same signature as the others
    return merged


# --- sharded pipelines across processes ---------------------------------------------------


def global_inputs(
    agreement: Agreement,
    values: Sequence[Any],
    names: Sequence[str],
    specs: Sequence[Any],
    mesh: Any,
    failure: BaseException | None,
) -> list[Any]:
    """Agree on every process's inputs, then make global arrays of them: each process gives
    its rows of a sharded axis, and the same value for an input that is not split."""
    from jax.sharding import NamedSharding

    facts: dict[str, str] = {}
    for name, value, spec in zip(names, values, specs, strict=True):
        split = any(axis is not None for axis in spec)
        try:
            facts[name] = ("rows " if split else "") + value_fact(value, with_digest=not split)
        except (TypeError, ValueError):
            facts[name] = type(value).__name__
    agreement.check("inputs", facts, failure=failure)
    out: list[Any] = []
    for value, spec in zip(values, specs, strict=True):
        magnitude, units = split_value(value)
        if not hasattr(magnitude, "shape") or (isinstance(magnitude, jax.Array) and not magnitude.is_fully_addressable):
            out.append(value)
            continue
        array = jax.make_array_from_process_local_data(NamedSharding(mesh, spec), magnitude)  # pyright: ignore[reportUnknownMemberType]
        out.append(array if units is None else type(value)(array, value.units))
    return out
