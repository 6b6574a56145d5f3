"""Host stages: bodies written with NumPy, SciPy, pandas or scikit-learn, inside the compiled pipeline.

``@tm.stage(host=True)`` declares one. The body runs on the host through
``jax.pure_callback``: it receives NumPy arrays in the declared units (records built from
them) and its static configuration, and returns NumPy values. The signature is the truth: the
build-time check trusts it and says so (TM311, an info), the output shapes are computed from
the inputs' shapes when the pipeline is traced, and every call's results are checked against
them on the host before they go back to JAX (a shape, dtype or structure that differs is a
:class:`~typedml.BodyError` naming the stage, TM310), then cast to the declared dtype. A body
that raises is a ``BodyError`` naming the stage and its line (TM314). The body gets copies of
its inputs: JAX lends read-only buffers, which compiled libraries refuse.

JAX reports an exception raised inside a callback as its own runtime error; the failure is
kept here under a token that its message carries, and :func:`guard` raises it again as the
typed error it is.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import re
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import numpy as np

from ._errors import BodyError, Diagnostic, Location, Related
from ._shapes import Anon, Dim, Item, Lin, Variadic
from ._spec import Port, Spec, static_sizes

__all__ = ["guard", "host_node", "host_problems", "output_shapes"]

_failures: dict[str, BaseException] = {}
_lock = threading.Lock()
_tokens = itertools.count()
_TOKEN = re.compile(r"typedml-host-failure-(\d+)")


class HostFailure(Exception):
    """Raised inside the callback; its message carries the token of the typed error."""


class _QuietFailures(logging.Filter):
    """JAX logs every failing callback with its traceback; a host stage's failure is reported
    as its typed error instead (other callbacks' failures are logged as JAX logs them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], HostFailure))


logging.getLogger("jax._src.callback").addFilter(_QuietFailures())


def host_problems(spec: Spec) -> list[tuple[str, str]]:
    """What a host stage's signature lacks to run on the host: ``(port, why)`` pairs."""
    found: list[tuple[str, str]] = []
    for port in spec.inputs:
        if port.type is None:
            found.append((port.name, "is a pytree value: a host body takes arrays and records of arrays"))
    known = set(static_sizes(spec, dict(spec.defaults)))
    known |= {p.name for p in spec.static if p.annotation is int}
    solvable: set[str] = set()
    seqs: set[str] = set()
    for port in spec.inputs:
        for item in port.type.dims if port.type is not None else ():
            if isinstance(item, Variadic) and item.name is not None:
                seqs.add(item.name)
            elif isinstance(item, Dim) and item.term is not None:
                solved = _solvable(item.term)
                if solved is not None:
                    solvable.add(solved[0])
    for port in spec.outputs:
        t = port.type
        if t is None:
            found.append((port.name, "is a pytree value: a host stage declares array outputs"))
            continue
        if t.dtypes is None:
            found.append((port.name, f"declares no dtype family ({t.dim_str!r} of any dtype)"))
        for item in t.dims:
            if isinstance(item, Anon) or (isinstance(item, Variadic) and item.name is None):
                found.append((port.name, f"has an axis of no declared size ({item.text!r})"))
            elif isinstance(item, Variadic) and item.name not in seqs:
                found.append((port.name, f"has *{item.name}, which no input declares"))
            elif isinstance(item, Dim) and (item.term is None or set(item.term.vars()) - solvable - known):
                missing = sorted(set(item.term.vars()) - solvable - known) if item.term is not None else [item.text]
                found.append((port.name, f"has axis {item.text!r}: {', '.join(missing)} is set by no input"))
    return found


def _solvable(term: Lin) -> tuple[str, int, int] | None:
    """``(var, coef, const)`` of a term ``coef*var + const``, else None."""
    if len(term.terms) != 1 or not isinstance(term.terms[0][0], str) or term.terms[0][1] <= 0:
        return None
    var, coef = term.terms[0]
    assert isinstance(var, str)
    return var, coef, term.const


def output_shapes(spec: Spec, shapes: Sequence[tuple[Any, ...]], static: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The declared output shapes for inputs of ``shapes`` (sizes may be JAX symbolic)."""
    bound: dict[str, Any] = dict(static_sizes(spec, dict(spec.defaults) | dict(static)))
    seqs: dict[str, tuple[Any, ...]] = {}
    for port, shape in zip(spec.inputs, shapes, strict=True):
        if port.type is not None:
            _bind(port.type.dims, tuple(shape), bound, seqs)
    out: list[tuple[Any, ...]] = []
    for port in spec.outputs:
        assert port.type is not None
        dims: list[Any] = []
        for item in port.type.dims:
            if isinstance(item, Variadic):
                dims.extend(seqs[item.name or ""])
            else:
                assert isinstance(item, Dim) and item.term is not None
                size = item.term.const
                for var, coef in item.term.terms:
                    assert isinstance(var, str)
                    size = size + coef * bound[var]
                dims.append(size)
        out.append(tuple(dims))
    return out


def _bind(
    items: Sequence[Item], shape: tuple[Any, ...], bound: dict[str, Any], seqs: dict[str, tuple[Any, ...]]
) -> None:
    var_at = [i for i, item in enumerate(items) if isinstance(item, Variadic)]
    if var_at:
        k = var_at[0]
        tail = len(items) - k - 1
        pairs = list(zip(items[:k], shape[:k], strict=False)) + list(
            zip(items[k + 1 :], shape[len(shape) - tail :], strict=False)
        )
        variadic = items[k]
        assert isinstance(variadic, Variadic)
        if variadic.name is not None:
            seqs.setdefault(variadic.name, shape[k : len(shape) - tail])
    else:
        pairs = list(zip(items, shape, strict=False))
    for item, size in pairs:
        if isinstance(item, Dim) and item.term is not None:
            solved = _solvable(item.term)
            if solved is not None and solved[0] not in bound:
                var, coef, const = solved
                bound[var] = (size - const) // coef


def result_dtype(port: Port) -> Any:
    """The dtype JAX computes in for a port's dtype family (float32 unless x64 is on)."""
    import jax

    assert port.type is not None and port.type.dtypes is not None
    allowed = port.type.dtypes
    for name in ("float64", "float32", "int64", "int32", "uint64", "uint32", "bool", "complex128", "complex64"):
        if name in allowed:
            canonical = jax.dtypes.canonicalize_dtype(np.dtype(name))
            if str(canonical) in allowed:
                return canonical
    return np.dtype(allowed[0])


def host_node(spec: Spec, fn: Callable[..., Any], node: str, location: Location | None) -> Callable[..., Any]:
    """A host stage node's callable: keyword inputs by port, static configuration by name."""
    import jax

    names = spec.input_names
    several = spec.output_record is not None
    dtypes = [result_dtype(p) for p in spec.outputs]

    def call(**kwargs: Any) -> Any:
        static = {k: v for k, v in kwargs.items() if k not in names}
        arrays = [kwargs[n] for n in names]
        shapes = output_shapes(spec, [a.shape for a in arrays], static)
        results = [jax.ShapeDtypeStruct(s, d) for s, d in zip(shapes, dtypes, strict=True)]

        def on_host(*values: Any) -> Any:
            # copies the body owns: JAX lends read-only buffers, which compiled libraries
            # (SciPy's Cython filters, scikit-learn) refuse, and the body may write in place
            leaves = {n: np.array(v) for n, v in zip(names, values, strict=True)}
            try:
                result = fn(**spec.group_inputs(leaves), **static)
            except (KeyboardInterrupt, SystemExit) as err:  # Ctrl-C or exit(): raised again as it is
                _hold(err)
            except BaseException as err:  # noqa: BLE001 - the user's body failed: said as the stage's error
                _raised(spec, node, location, err, fn)
            expected = [(tuple(int(d) for d in r.shape), r.dtype) for r in results]
            checked = checked_outputs(spec, node, location, result, expected)
            return checked if several else checked[0]

        out = jax.pure_callback(on_host, results if several else results[0], *arrays, vmap_method="sequential")
        return tuple(out) if several else out

    return call


def checked_outputs(
    spec: Spec, node: str, location: Location | None, result: Any, expected: Sequence[tuple[tuple[int, ...], Any]]
) -> list[np.ndarray[Any, Any]]:
    """A host body's result as the declared outputs, or a typed failure naming the stage."""
    values = spec.unpack_outputs(result)
    if values is None:
        record = spec.output_record.describe() if spec.output_record is not None else "its outputs"
        _fail(
            spec,
            node,
            location,
            "return",
            f"returned a {type(result).__name__}, not {record}",
        )
    out: list[np.ndarray[Any, Any]] = []
    for port, value, (shape, dtype) in zip(spec.outputs, values, expected, strict=True):
        assert port.type is not None
        label = "its return value" if port.name == "return" else f"output {port.name!r}"
        try:
            array = np.asarray(getattr(value, "magnitude", value))
        except Exception:  # noqa: BLE001 - anything numpy cannot hold is not an array
            _fail(spec, node, location, port.name, f"returned a {type(value).__name__} for {label}, not an array")
        if array.dtype.kind in "OUSV":
            _fail(spec, node, location, port.name, f"returned {array.dtype} values for {label}, not numbers")
        if array.shape != shape:
            _fail(
                spec,
                node,
                location,
                port.name,
                f"returned shape {array.shape} for {label}, declared {port.type.dim_str!r} = {shape}",
            )
        allowed = port.type.dtypes or ()
        if str(array.dtype) not in allowed:
            _fail(
                spec,
                node,
                location,
                port.name,
                f"returned dtype {array.dtype} for {label}, declared {port.type.dtype_family}",
            )
        out.append(array.astype(dtype, copy=False))
    return out


def _fail(spec: Spec, node: str, location: Location | None, port: str, what: str) -> NoReturn:
    _store(
        Diagnostic(
            "TM310",
            f"host stage {spec.name!r} {what}",
            location,
            notes=(
                f"at node {node!r}",
                "a host body is not checked before data: each call's results are checked instead",
            ),
            hint="make the body return what the signature declares (shape, dtype), or fix the signature",
            stage=node,
            port=port,
        )
    )


def _raised(spec: Spec, node: str, location: Location | None, err: BaseException, fn: Callable[..., Any]) -> NoReturn:
    """TM314: the host body raised; the error names the stage and the line of its body that raised
    (the deepest frame in the body's file, else the deepest of all)."""
    frames = traceback.extract_tb(err.__traceback__)
    code = getattr(inspect.unwrap(fn), "__code__", None)
    own = [f for f in frames if code is not None and f.filename == code.co_filename]
    where = own[-1] if own else frames[-1] if frames else None
    first = str(err).splitlines()[0] if str(err) else ""
    _store(
        Diagnostic(
            "TM314",
            f"host stage {spec.name!r} raised {type(err).__name__}: {first}"[:300],
            location,
            notes=(
                f"at node {node!r}",
                "the body received NumPy arrays of the declared shapes, in the declared units",
            ),
            hint="run the body alone on NumPy arrays of these shapes to debug it (it is plain Python)",
            stage=node,
            related=(
                (
                    Related(
                        f"raised here: {where.line}",
                        Location(where.filename, where.lineno or 1, (where.colno or 0) + 1),
                    ),
                )
                if where is not None and where.line
                else ()
            ),
        )
    )


def _store(diagnostic: Diagnostic) -> NoReturn:
    """Keep the typed error under a token and raise it through JAX (see :func:`take`)."""
    _hold(BodyError(diagnostic))


def _hold(error: BaseException) -> NoReturn:
    """Keep ``error`` under a token and raise it through JAX, to be raised again by :func:`guard`
    (a KeyboardInterrupt in a body is still one to its caller, not JAX's runtime error)."""
    token = f"typedml-host-failure-{next(_tokens)}"
    with _lock:
        _failures[token] = error
    message = error.diagnostic.message if isinstance(error, BodyError) else type(error).__name__
    raise HostFailure(f"{token}: {message}")


def take(err: BaseException) -> BaseException | None:
    """The typed failure a JAX error carries the token of (removed from the store), or None."""
    match = _TOKEN.search(str(err))
    if match is None:
        return None
    with _lock:
        return _failures.pop(match.group(0), None)


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a compiled pipeline with host stages) raising a host failure as its typed error.

    The computation is waited for: a callback's failure is only known once it has run.
    """
    import jax

    def run(*args: Any) -> Any:
        try:
            out: Any = fn(*args)
            return jax.block_until_ready(out)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        except Exception as err:  # JAX's runtime error, or the failure itself in an eager run
            found = take(err)
            if found is None:
                raise
            raise found from None

    return run
