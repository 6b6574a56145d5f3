"""Body check: each stage body evaluated abstractly, with no data, against its signature.

A stage's shape variables become JAX symbolic dimensions (``jax.export.symbolic_shape``),
its inputs ``jax.ShapeDtypeStruct`` values, and JAX traces the body (``jax.jit(...).trace``:
the shapes ``jax.eval_shape`` gives, and the jaxpr the body lints of ``_lint`` read). What comes
out is compared with the declared return, axis by axis as expressions of the same symbols, so
a body that passes holds *for every size*. Where JAX cannot decide a symbolic question (the
body branches on a size), the body is evaluated again at distinct prime sizes and the report
says it was checked only there (TM350). Results are cached by (function, static configuration,
input types): checking a pipeline again, or a stage called many times, is free.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import linecache
import re
import weakref
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, cast

import jax
import jax.numpy as jnp

from ._abstract import AbstractInputs, Impossible, Size, Skip, Unknown, lin_value, names_of
from ._errors import Diagnostic, Location
from ._fingerprint import fingerprint
from ._graph import _current as _current_tracer  # pyright: ignore[reportPrivateUsage]
from ._lint import JaxprView, body_codes, lint_traced, owner
from ._locations import return_location
from ._runtime import is_key_dtype
from ._shapes import Anon, Dim, Item, Lin, Variadic
from ._spec import Port, Spec

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["check_bodies", "check_pipeline_whole", "check_stage", "raised_at"]


class Body(Protocol):
    """A stage: its parsed signature and its function."""

    @property
    def spec(self) -> Spec: ...
    @property
    def fn(self) -> Callable[..., Any]: ...


@dataclasses.dataclass(frozen=True)
class _Result:
    diagnostics: tuple[Diagnostic, ...]
    pytrees: dict[str, Any]  # abstract values of pytree outputs with fixed shapes, by port


class _Results:
    """Body-check results, by the stage function's fingerprint or, failing that, the function.

    A key made from a fingerprint (``_BY_CONTENT, fingerprint, ...``) survives the module: an
    editor's next check of the same file finds the bodies it did not change already checked.
    Those are kept in a bounded table, least recently used dropped first. A key made from the
    function itself is held per function *weakly*: when its module is dropped, its results go
    with it, so a long-lived process keeps only the results of code that still exists.
    """

    def __init__(self) -> None:
        self._by_fn: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], _Result]] = weakref.WeakKeyDictionary()
        self._strong: dict[tuple[Any, ...], _Result] = {}  # functions that take no weak reference
        self._by_content: collections.OrderedDict[tuple[Any, ...], _Result] = collections.OrderedDict()

    def get(self, key: tuple[Any, ...]) -> _Result | None:
        if key[0] is _BY_CONTENT:
            result = self._by_content.get(key)
            if result is not None:
                self._by_content.move_to_end(key)
            return result
        try:
            table = self._by_fn.get(key[0])
        except TypeError:  # not weakly referenceable
            return self._strong.get(key)
        return None if table is None else table.get(key[1:])

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        return self.get(key) is not None

    def __setitem__(self, key: tuple[Any, ...], result: _Result) -> None:
        if key[0] is _BY_CONTENT:
            self._by_content[key] = result
            while len(self._by_content) > _CONTENT_LIMIT:
                self._by_content.popitem(last=False)
            return
        try:
            table = self._by_fn.setdefault(key[0], {})
        except TypeError:
            self._strong[key] = result
            return
        table[key[1:]] = result  # the function only as the weak key: the entry dies with it

    def __len__(self) -> int:
        return sum(len(t) for t in self._by_fn.values()) + len(self._strong) + len(self._by_content)

    def clear(self) -> None:
        self._by_fn.clear()
        self._strong.clear()
        self._by_content.clear()


_BY_CONTENT = object()  # marks a key made from a function's fingerprint, not the function
_CONTENT_LIMIT = 4096
_cache = _Results()
_BATCH = 128  # bodies evaluated together in one abstract trace


def check_stage(
    stage: Body, static: Mapping[str, Any] | None = None, pytrees: Mapping[str, Any] | None = None
) -> list[Diagnostic]:
    """The body check of one stage: errors first, then warnings."""
    if getattr(stage, "host", False):
        return [host_info(stage.spec, stage.spec.name)]
    if not pytrees and any(p.type is None for p in stage.spec.inputs):
        return [structure_info(stage.spec, stage.spec.name, stage.spec.location)]
    diagnostics = list(_check(stage.fn, stage.spec, dict(static or {}), dict(pytrees or {})).diagnostics)
    if any(p.optional for p in stage.spec.inputs):  # and called without its optional inputs
        alone = dataclasses.replace(stage.spec, inputs=tuple(p for p in stage.spec.inputs if not p.optional))
        more = _check(stage.fn, alone, dict(static or {}), dict(pytrees or {})).diagnostics
        diagnostics += [d for d in more if d not in diagnostics]
    diagnostics.sort(key=lambda d: d.severity != "error")
    return diagnostics


def check_bodies(
    graph: nx.MultiDiGraph[str], budget: Callable[[Any, dict[str, Any]], list[Diagnostic]] | None = None
) -> list[Diagnostic]:
    """Body-check every stage node of a traced pipeline graph, once per (stage, static).

    ``budget(stage, static)``, if given, adds the cost check of each stage whose body passed
    (``typedml._cost.check_budget``: it compiles the stage, so it runs after the body check).
    """
    found: list[Diagnostic] = []
    seen: set[tuple[Any, ...]] = set()
    abstract: dict[tuple[str, str], Any] = {}
    import networkx as nx  # imported on first use (see _graph)

    order = list(nx.topological_sort(graph))
    _prefetch(
        [
            (graph.nodes[n]["callee"].fn, graph.nodes[n]["spec"], graph.nodes[n]["static"])
            for n in order
            if graph.nodes[n]["kind"] == "stage"
            and not graph.nodes[n].get("invalid")
            and not getattr(graph.nodes[n]["callee"], "host", False)
        ]
    )
    hosts: set[int] = set()
    waiting: set[str] = set()  # nodes whose pytree inputs come from the pipeline's inputs
    containers: set[int] = set()  # stages whose container ports were said (TM352), once each
    for node in order:
        data = graph.nodes[node]
        if data["kind"] != "stage" or data.get("invalid"):
            continue
        if id(data["callee"]) not in containers:
            containers.add(id(data["callee"]))
            found.extend(unchecked_containers(data["spec"], node, data.get("location")))
        sources = [u for u, _, e in graph.in_edges(node, data=True) if e["dst_type"] is None and e["src_type"] is None]
        if any(u.startswith("input:") or u in waiting for u in sources):
            waiting.add(node)
            data["deferred"] = True
            found.append(structure_info(data["spec"], node, data.get("location")))
            continue
        if getattr(data["callee"], "host", False):
            if id(data["callee"]) not in hosts:  # said once per host stage
                hosts.add(id(data["callee"]))
                found.append(host_info(data["spec"], node))
            continue
        spec: Spec = data["spec"]
        static: dict[str, Any] = data["static"]
        given = {edata["dst_port"] for _, _, edata in graph.in_edges(node, data=True)}
        if any(p.optional and p.name not in given for p in spec.inputs):  # checked as called: without them
            spec = dataclasses.replace(spec, inputs=tuple(p for p in spec.inputs if p.name in given or not p.optional))
        pytrees: dict[str, Any] = {}
        for u, _, edata in graph.in_edges(node, data=True):
            if edata["dst_type"] is None and (u, edata["src_port"]) in abstract:
                pytrees[edata["dst_port"]] = abstract[(u, edata["src_port"])]
        result = _check(data["callee"].fn, spec, static, pytrees)
        for port, value in result.pytrees.items():
            abstract[(node, port)] = value
        key = (id(data["callee"]), _static_key(static), _pytrees_key(pytrees))
        if key not in seen:
            seen.add(key)
            found.extend(result.diagnostics)
            if budget is not None and not any(d.severity == "error" for d in result.diagnostics):
                found.extend(budget(data["callee"], static))
    return found


def _key(fn: Callable[..., Any], spec: Spec, static: dict[str, Any], pytrees: dict[str, Any]) -> tuple[Any, ...]:
    rest = (_static_key(static), _types_key(spec), _pytrees_key(pytrees), _x64())
    plain = spec.output_tuple is None and spec.output_record is None and not spec.records  # no user class
    if not pytrees and plain and all(p.type is not None for p in spec.outputs):
        # by content: the same body imported again (an editor's next check) is not evaluated
        # again; its fingerprint covers the code, its file and every global it reads
        content = fingerprint(fn)
        if content is not None:
            return (_BY_CONTENT, content, *rest)
    # by identity (equal code in two modules may read different globals)
    closure = tuple(id(c.cell_contents) for c in getattr(fn, "__closure__", None) or ())
    return (fn, closure, *rest)


@dataclasses.dataclass
class _Pending:
    key: tuple[Any, ...]
    checker: _Checker
    env: dict[str, Size]
    call: Callable[..., Any]
    inputs: dict[str, Any]


def _prefetch(bodies: list[tuple[Callable[..., Any], Spec, dict[str, Any]]]) -> None:
    """Evaluate the bodies not checked yet in one abstract trace (and fill the cache).

    One ``jax.eval_shape`` per body costs most of a millisecond of fixed overhead; tracing
    all of a pipeline's bodies in one costs a fraction of that per body. Only bodies whose
    inputs are all arrays take part; a batch that fails is halved until the failing bodies
    are alone, and those are left to the one-by-one check, which reports them.
    """
    pending: list[_Pending] = []
    keys: set[tuple[Any, ...]] = set()
    for fn, spec, static in bodies:
        key = _key(fn, spec, static, {})
        if key in _cache or key in keys:
            continue
        checker = _Checker(fn, spec, static, {})
        try:
            kwargs = checker._static_kwargs()  # pyright: ignore[reportPrivateUsage]
            checker._collect_symbols()  # pyright: ignore[reportPrivateUsage]
            env = checker._symbolic_env()  # pyright: ignore[reportPrivateUsage]
            inputs = checker._inputs(env)  # pyright: ignore[reportPrivateUsage]
        except Exception:  # noqa: BLE001 - skipped here, reported by the one-by-one check
            continue
        keys.add(key)
        pending.append(_Pending(key, checker, env, checker.body_call(kwargs), inputs))
    for start in range(0, len(pending), _BATCH):  # JAX's tracing grows faster than linearly in one huge trace
        if len(pending) - start > 1:
            _evaluate_together(pending[start : start + _BATCH])


def _evaluate_together(batch: list[_Pending]) -> None:
    names = [list(item.inputs) for item in batch]
    flat = [item.inputs[n] for item, ns in zip(batch, names, strict=True) for n in ns]

    def together(*values: Any) -> list[Any]:
        out: list[Any] = []
        start = 0
        for item, ns in zip(batch, names, strict=True):
            out.append(item.call(**dict(zip(ns, values[start : start + len(ns)], strict=True))))
            start += len(ns)
        return out

    token = _current_tracer.set(None)
    try:
        traced = jax.jit(together).trace(*flat)  # pyright: ignore[reportUnknownMemberType]
    except Exception:  # noqa: BLE001 - some body fails: find it by halving
        if len(batch) > 1:
            half = len(batch) // 2
            _evaluate_together(batch[:half])
            _evaluate_together(batch[half:])
        return
    finally:
        _current_tracer.reset(token)
    results: list[Any] = traced.out_info
    views = _split(traced.jaxpr.jaxpr, batch, names, results)
    for item, ns, result, view in zip(batch, names, results, views, strict=True):
        item.checker._compare(result, item.env)  # pyright: ignore[reportPrivateUsage]
        item.checker._lint(view, ns, item.inputs, result)  # pyright: ignore[reportPrivateUsage]
        _cache[item.key] = item.checker._result()  # pyright: ignore[reportPrivateUsage]


def _split(jaxpr: Any, batch: list[_Pending], names: list[list[str]], results: list[Any]) -> list[JaxprView]:
    """The trace of several bodies cut into one view per body (for the lints)."""
    owners = {code: i for i, item in enumerate(batch) for code in body_codes(item.checker.fn)}
    eqns: list[list[Any]] = [[] for _ in batch]
    for eqn in jaxpr.eqns:
        i = owner(eqn, owners)
        if i is not None:
            eqns[i].append(eqn)
    views: list[JaxprView] = []
    start_in = start_out = 0
    for i, (ns, result) in enumerate(zip(names, results, strict=True)):
        n_out = len(jax.tree_util.tree_leaves(result))
        views.append(
            JaxprView(
                list(jaxpr.invars[start_in : start_in + len(ns)]),
                list(jaxpr.constvars),
                eqns[i],
                list(jaxpr.outvars[start_out : start_out + n_out]),
            )
        )
        start_in += len(ns)
        start_out += n_out
    return views


def host_info(spec: Spec, node: str) -> Diagnostic:
    """TM311: a host stage's body is trusted at build time (its outputs are checked on each call)."""
    return Diagnostic(
        "TM311",
        f"body of host stage {spec.name!r} is not checked before data: its signature is trusted",
        spec.location,
        severity="info",
        notes=(
            "a host body runs NumPy/SciPy code through jax.pure_callback; it cannot be evaluated abstractly",
            "each call's results are checked against the declared shapes and dtypes (TM310)",
        ),
        stage=node,
    )


def structure_info(spec: Spec, node: str, location: Location | None) -> Diagnostic:
    """TM312: a body taking a pytree whose type declares no shapes is checked with the first call's."""
    trees = [p.name for p in spec.inputs if p.type is None]
    return Diagnostic(
        "TM312",
        f"body of stage {spec.name!r} is checked when the pipeline is first called: "
        f"the shapes inside {', '.join(repr(t) for t in trees)} are known only then",
        location or spec.location,
        severity="info",
        notes=(
            "a pytree value (an equinox module such as eqx.nn.MLP, a dict of weights) declares no shapes in its type",
            "a body that does not fit the structure given is a BodyError naming the stage (TM313), before any data runs",
        ),
        hint="declare the weights as a record (a NamedTuple or equinox.Module of annotated arrays) to have the body "
        "checked for every size before data",
        stage=node,
        port=trees[0],
    )


def unchecked_containers(spec: Spec, node: str | None, location: Location | None) -> list[Diagnostic]:
    """TM352: ports typed as a plain container of arrays (``tuple[Float[Array, "n"], ...]``,
    ``list[...]``, ``dict[str, ...]``): typedml takes such a value as an opaque pytree, so the
    arrays inside are not checked. Said, with the form that is checked (a record)."""
    found: list[Diagnostic] = []
    kind = "stage" if node is not None else "pipeline"
    for port in (*spec.inputs, *spec.outputs):
        if port.type is not None or not _holds_arrays(port.annotation):
            continue
        label = "the return value" if port.name == "return" else f"parameter {port.name!r}"
        found.append(
            Diagnostic(
                "TM352",
                f"unverified: {label} of {kind} {spec.name!r} is a {_container_name(port.annotation)} of arrays, "
                "which typedml passes as an opaque pytree: the arrays inside are not checked",
                location or spec.location,
                severity="warning",
                notes=(f"declared: {_annotation_text(port.annotation)}",),
                hint="declare a NamedTuple whose fields are the annotated arrays (each field is a port, checked "
                "like any other), or jaxtyping's PyTree[...] to say that the value is opaque on purpose",
                stage=node or spec.name,
                port=port.name,
            )
        )
    return found


def _holds_arrays(annotation: Any) -> bool:
    """Whether a container annotation (not a jaxtyping ``PyTree``) has array types among its items."""
    from typing import get_args, get_origin

    from ._annotations import jaxtyping_parts, split_annotation

    if get_origin(annotation) is None or "PyTree" in repr(annotation):
        return False
    for arg in get_args(annotation):
        base = split_annotation(arg)[0]
        if jaxtyping_parts(base) is not None or _holds_arrays(base):
            return True
    return False


def _container_name(annotation: Any) -> str:
    from typing import get_origin

    origin = get_origin(annotation)
    return getattr(origin, "__name__", None) or str(origin)


def _annotation_text(annotation: Any) -> str:
    return re.sub(
        r"jaxtyping\.|jaxlib\._jax\.|jax\.Array", lambda m: "Array" if "Array" in m[0] else "", repr(annotation)
    )


def check_pipeline_whole(
    fn: Callable[..., Any], spec: Spec, source: Callable[..., Any]
) -> tuple[list[Diagnostic], bool]:
    """Evaluate a whole pipeline's pure function symbolically from its input signature.

    ``fn`` takes the inputs by name and returns the outputs as the signature declares them;
    ``source`` is the pipeline's own function (where diagnostics point).
    Stage by stage, the wiring check proves affine axis expressions; this evaluation also
    settles the axes it can only mark unverified (``n*n``, TM151), for every size. Returns the
    wrong outputs, and whether every output was proven right for every size.
    """
    checker = _Checker(fn, spec, {}, {})
    checker.kind = "pipeline"
    checker.source = source
    diagnostics = checker.run().diagnostics
    if checker.sizes:  # evaluated at sample sizes only: they may not suit the whole pipeline
        return [], False
    # a wrong output, proven for every size; a stage that fails has its own diagnostics
    wrong = [d for d in diagnostics if d.code in ("TM301", "TM302", "TM303", "TM304")]
    return wrong, not diagnostics


def _check(fn: Callable[..., Any], spec: Spec, static: dict[str, Any], pytrees: dict[str, Any]) -> _Result:
    key = _key(fn, spec, static, pytrees)
    result = _cache.get(key)
    if result is None:
        result = _Checker(fn, spec, static, pytrees).run()
        _cache[key] = result
    return result


def _x64() -> bool:
    return bool(getattr(jax.config, "jax_enable_x64", False))


def _static_key(static: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in static.items()))


def _types_key(spec: Spec) -> tuple[Any, ...]:
    def port(p: Port) -> tuple[Any, ...]:
        return (p.name,) if p.type is None else (p.name, p.type.dim_str, p.type.dtypes)

    return (tuple(port(p) for p in spec.inputs), tuple(port(p) for p in spec.outputs), spec.output_tuple)


def _pytrees_key(pytrees: Mapping[str, Any]) -> tuple[Any, ...]:
    out: list[Any] = []
    for name, value in sorted(pytrees.items()):
        leaves, treedef = jax.tree_util.tree_flatten(value)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        out.append((name, repr(cast(object, treedef)), tuple((tuple(leaf.shape), str(leaf.dtype)) for leaf in leaves)))
    return tuple(out)


class _Checker(AbstractInputs):
    def __init__(self, fn: Callable[..., Any], spec: Spec, static: dict[str, Any], pytrees: dict[str, Any]) -> None:
        super().__init__(spec, static, pytrees)
        self.fn = fn
        self.kind = "stage"  # or "pipeline", for the end-to-end evaluation of a whole pipeline
        self.source = fn  # the function whose return statement locates a wrong output
        self.diagnostics: list[Diagnostic] = []
        self.out_pytrees: dict[str, Any] = {}
        self.wrong = ""  # what the body returned instead of its declared record
        self.traced: tuple[Any, list[str], dict[str, Any]] | None = None  # (jaxpr, input names, inputs)

    # -- driver ---------------------------------------------------------------------------
    def run(self) -> _Result:
        try:
            kwargs = self._static_kwargs()
            self._collect_symbols()
            symbolic = self._symbolic_env()
            try:
                env, result = symbolic, self._evaluate(kwargs, symbolic)
            except Skip:
                raise
            except Exception as symbolic_err:  # noqa: BLE001 - any failure may be symbolic-only
                env = self._prime_env()
                try:
                    result = self._evaluate(kwargs, env)
                except Skip:
                    raise
                except Exception as concrete_err:  # noqa: BLE001 - the body fails for real
                    if _prefer_symbolic(symbolic_err):
                        self.sizes = {}
                        self._raised(symbolic_err, symbolic)
                    else:
                        self._raised(concrete_err, env)
                    return self._result()
                self._unverified_symbolic(symbolic_err)
            self._compare(result, env)
            if self.traced is not None:
                self._lint(*self.traced, result)
        except Skip as skip:
            self._warn(f"unverified: body of {self.kind} {self.spec.name!r} not checked: {skip}", ())
        return self._result()

    def _result(self) -> _Result:
        return _Result(tuple(self.diagnostics), self.out_pytrees)

    def _evaluate(self, kwargs: dict[str, Any], env: dict[str, Size]) -> Any:
        inputs = self._inputs(env)
        names = list(inputs)
        call = self.body_call(kwargs)

        def positional(*values: Any) -> Any:
            return call(**dict(zip(names, values, strict=True)))

        token = _current_tracer.set(None)  # a stage calling stages runs them, not traces them
        try:
            # jit's trace: the shapes eval_shape gives, and the jaxpr the lints read
            traced = jax.jit(positional).trace(*[inputs[n] for n in names])  # pyright: ignore[reportUnknownMemberType]
        finally:
            _current_tracer.reset(token)
        self.traced = (traced.jaxpr.jaxpr, names, inputs)
        return traced.out_info

    def _lint(self, jaxpr: Any, names: list[str], inputs: Mapping[str, Any], result: Any) -> None:
        """Body lints (TM160-TM162), for a stage body that passed for every size."""
        if self.kind != "stage" or self.sizes or any(d.severity == "error" for d in self.diagnostics):
            return
        self.diagnostics.extend(lint_traced(self.fn, self.spec, jaxpr, names, inputs, result, self.symbols))

    def body_call(self, static: dict[str, Any]) -> Callable[..., Any]:
        """The body over its input ports (records built from their fields), returning its
        outputs' values (a record taken apart; None, with :attr:`wrong` set, for another value).

        Only arrays cross ``jax.eval_shape``: a record need not be a registered pytree.
        """
        fn, spec = self.fn, self.spec
        record = spec.output_record

        def call(**leaves: Any) -> Any:
            result = fn(**static, **spec.group_inputs(leaves))
            if record is None:
                return result
            values = spec.unpack_outputs(result)
            if values is None:
                self.wrong = self._describe(result)
                return None
            return tuple(values)

        return call

    # -- comparing outputs -------------------------------------------------------------------
    def _compare(self, result: Any, env: dict[str, Size]) -> None:
        spec = self.spec
        if spec.output_record is not None:
            declared = spec.output_record.describe()
            if result is None:
                self._error("TM304", "return", f"declared {declared}, computed {self.wrong}")
                return
            pairs = list(zip(spec.outputs, result, strict=True))
        else:
            pairs = [(spec.outputs[0], result)]
        bound: dict[str, Size] = {}
        for port, value in pairs:
            if port.type is None:
                leaves = jax.tree_util.tree_leaves(value)
                if all(hasattr(leaf, "shape") and all(isinstance(d, int) for d in leaf.shape) for leaf in leaves):
                    self.out_pytrees[port.name] = value
                continue
            if not isinstance(value, jax.ShapeDtypeStruct):
                self._error(
                    "TM304", port.name, f"declared one array {self._declared(port)}, computed {self._describe(value)}"
                )
                continue
            self._compare_shape(port, value, env, bound)
            self._compare_dtype(port, value)

    def _compare_shape(
        self, port: Port, value: jax.ShapeDtypeStruct, env: dict[str, Size], bound: dict[str, Size]
    ) -> None:
        assert port.type is not None
        computed: list[Size] = list(value.shape)
        expected: list[Item | str] = []  # items, with a variadic of the inputs expanded to its symbol
        for item in port.type.dims:
            if isinstance(item, Variadic) and item.name in self.symbols.seqs:
                expected.append(self.symbols.seqs[item.name])
            else:
                expected.append(item)
        free = [i for i, e in enumerate(expected) if isinstance(e, Variadic)]
        fixed = len(expected) - len(free)
        if (not free and len(computed) != fixed) or len(computed) < fixed:
            at_least = "at least " if free else ""
            self._error(
                "TM302",
                port.name,
                f"declared {self._declared(port)}, computed {self._render(computed)}",
                (f"declared {at_least}{_axes(fixed)}, computed {_axes(len(computed))}",),
            )
            return
        k = free[0] if free else len(expected)
        tail = len(computed) - (len(expected) - k - 1)
        pairs = list(zip(expected[:k], computed[:k], strict=True))
        pairs += list(zip(expected[k + 1 :], computed[tail:], strict=True))
        if free:
            var = expected[k]
            assert isinstance(var, Variadic)
            middle = computed[k:tail]
            key = f"*{var.name}"
            if var.name is not None and key in bound and not _same_seq(bound[key], middle):
                self._error(
                    "TM301",
                    port.name,
                    f"*{var.name} is {self._render(bound[key])} in one output, {self._render(middle)} here",
                )
            elif var.name is not None:
                bound[key] = middle
        wrong: list[str] = []
        unknown: list[str] = []
        positions = [*range(k), *range(tail, len(computed))]
        for axis, (e, c) in zip(positions, pairs, strict=True):
            if isinstance(e, str):
                if not _equal(env[e], c):
                    wrong.append(f"axis {axis}: declared {self.symbols.alone[e]}, computed {self._render_dim(c)}")
                continue
            if isinstance(e, Anon | Variadic):
                continue
            try:
                want = self._dim_value(e, env, self._solve(e, c, env, bound))
            except Impossible as reason:
                wrong.append(f"axis {axis}: declared {e.text}, computed {self._render_dim(c)}: {reason}")
                continue
            except Unknown:
                unknown.append(e.text)
                continue
            if not (_equal(want, c) or (e.broadcast and _equal(c, 1))):
                wrong.append(f"axis {axis}: declared {e.text}, computed {self._render_dim(c)}")
        if wrong:
            self._error(
                "TM301",
                port.name,
                f"declared {self._declared(port)}, computed {self._render(computed)}",
                tuple(wrong),
            )
        if unknown:
            self._warn(
                f"unverified: axis {', '.join(repr(u) for u in unknown)} of {_label(port.name)} of stage {self.spec.name!r} not checked",
                ("the expression uses sizes no input determines, in a form typedml cannot solve",),
                port.name,
            )

    def _solve(self, item: Dim, computed: Size, env: Mapping[str, Size], bound: dict[str, Size]) -> dict[str, Size]:
        """Bind the output's own shape variables (those no input has) from what was computed."""
        if item.term is None:
            return bound
        unbound = [
            (v, c)
            for v, c in item.term.terms
            if isinstance(v, str) and v not in self.symbols.dims and v not in bound and v not in self.fixed
        ]
        if len(unbound) == 1 and unbound[0][1] in (1, -1):
            var, coef = unbound[0]
            rest = Lin(tuple(t for t in item.term.terms if t[0] != var), item.term.const)
            if var in rest.vars():
                return bound
            lookup = {name: env[symbol] for name, symbol in self.symbols.dims.items()} | dict(self.fixed) | bound
            bound[var] = (computed - lin_value(rest, lookup)) * coef
        return bound

    def _compare_dtype(self, port: Port, value: jax.ShapeDtypeStruct) -> None:
        assert port.type is not None
        allowed = _canonical(port.type.dtypes)
        computed = "prng_key" if is_key_dtype(value.dtype) else str(value.dtype)
        if allowed is not None and computed not in allowed:
            self._error(
                "TM303",
                port.name,
                f"declared {port.type.dtype_family}, computed {computed}",
                (f"{port.type.dtype_family} accepts {_dtypes_text(allowed)}",),
                hint="convert in the body (e.g. .astype(jnp.float32)) or declare the dtype family it returns",
            )

    # -- diagnostics -----------------------------------------------------------------------
    def _error(self, code: str, port: str, facts: str, notes: tuple[str, ...] = (), hint: str | None = None) -> None:
        title = {
            "TM301": "returns the wrong shape for",
            "TM302": "returns the wrong number of axes for",
            "TM303": "returns the wrong dtype for",
            "TM304": "returns the wrong structure for",
        }[code]
        where = "its outputs" if code == "TM304" and port == "return" and self.spec.output_tuple else _label(port)
        self.diagnostics.append(
            Diagnostic(
                code,
                f"body of {self.kind} {self.spec.name!r} {title} {where}: {facts}",
                return_location(self.source, self.spec.location),
                notes=(*notes, *self._how()),
                hint=hint or _HINTS[code],
                stage=self.spec.name,
                port=port,
            )
        )

    def _warn(
        self, message: str, notes: tuple[str, ...], port: str | None = None, location: Location | None = None
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                "TM350",
                message,
                location or self.spec.location,
                severity="warning",
                notes=(
                    *notes,
                    *(self.notes if self.symbols.alone else ()),
                    *(
                        ("each call still checks what it returns at the call's own sizes (TM306)",)
                        if self.sizes
                        else ()
                    ),
                ),
                hint="keep sizes symbolic in a body: no Python branches or float arithmetic on .shape"
                if self.sizes
                else None,
                stage=self.spec.name,
                port=port,
            )
        )

    def _how(self, failed: bool = False) -> tuple[str, ...]:
        if self.sizes:
            at = ", ".join(f"{self.symbols.inline[s]}={v}" for s, v in self.sizes.items())
            return (f"{'evaluated' if failed else 'checked only'} at sizes {at}", *self.notes)
        names = [n for n in self.symbols.alone.values() if n not in ("_", "...")]
        if not names:
            return tuple(self.notes)
        if failed:
            return (f"evaluated with symbolic sizes {', '.join(names)} (no data)", *self.notes)
        return (f"checked for every size of {', '.join(names)} (symbolic, no data)", *self.notes)

    def _unverified_symbolic(self, err: Exception) -> None:
        at = ", ".join(f"{self.symbols.inline[s]}={v}" for s, v in self.sizes.items())
        notes = [f"JAX said: {_first_line(self.symbols.rename(str(err)))}"]
        where = self._raised_at(err)
        if where is not None:
            notes.append(f"raised at {where[0]}" + (f": {where[1]}" if where[1] else ""))
        self._warn(
            f"unverified: body of {self.kind} {self.spec.name!r} cannot be evaluated for symbolic sizes; checked only at sizes {at}",
            tuple(notes),
            location=None if where is None else where[0],
        )

    def _raised(self, err: Exception, env: dict[str, Size]) -> None:
        kind, reason = _reason(err)
        text = _first_line(self.symbols.rename(reason)) or "(an exception without a message)"
        if self.sizes:
            text = self._unprime(text)
        notes: list[str] = []
        raw = str(err)
        for port in self.spec.inputs:
            if port.type is None:
                continue
            shape = self._input_shape(port, env)
            if shape is not None and shape != "()" and shape in raw:
                notes.append(f"{self.symbols.rename(shape)} is input {port.name!r}, declared {port.type.dim_str!r}")
        where = self._raised_at(err)
        if where is not None:
            notes.append(f"raised at {where[0]}" + (f": {where[1]}" if where[1] else ""))
        self.diagnostics.append(
            Diagnostic(
                "TM305",
                f"body of {self.kind} {self.spec.name!r} raised {kind} during abstract evaluation: {text}",
                self.spec.location if where is None else where[0],
                notes=(*notes, *self._how(failed=True)),
                hint=_HINTS["TM305"],
                stage=self.spec.name,
            )
        )

    def _input_shape(self, port: Port, env: dict[str, Size]) -> str | None:
        anons: Iterator[str] = iter(())
        try:
            assert port.type is not None
            shape: list[Size] = []
            for item in port.type.dims:
                if isinstance(item, Variadic) and item.name is not None:
                    shape.append(env[self.symbols.seqs[item.name]])
                elif isinstance(item, Dim):
                    shape.append(self._dim_value(item, env))
                else:
                    shape.append(env[next(anons)])
        except (Unknown, StopIteration, KeyError):
            return None
        return str(tuple(shape))

    def _raised_at(self, err: BaseException) -> tuple[Location, str] | None:
        """Where the body's own code raised (its innermost line in the traceback), and that line."""
        return raised_at(self.fn, err)

    def _unprime(self, text: str) -> str:
        """Show a concrete size in a shape tuple by the axis name it was chosen for."""
        names = {v: self.symbols.inline[s] for s, v in self.sizes.items()}

        def shape(m: re.Match[str]) -> str:
            return re.sub(r"\d+", lambda d: names.get(int(d[0]), d[0]), m[0])

        return re.sub(r"\((?:\d+, ?)*\d*,?\)", shape, text)

    def _declared(self, port: Port) -> str:
        assert port.type is not None
        text = "(" + ", ".join(item.text for item in port.type.dims) + ")"
        if self.sizes and all(isinstance(i, Dim) and not names_of(i) for i in port.type.dims):
            return text
        if self.sizes:
            env = dict(self.sizes)
            try:
                values = [self._dim_value(i, env) if isinstance(i, Dim) else i.text for i in port.type.dims]
            except Unknown:
                return text
            return f"{text} = ({', '.join(str(v) for v in values)})"
        return text

    def _render_dim(self, d: Size) -> str:
        if isinstance(d, int):
            return str(d)
        text = str(d)
        if text in self.symbols.alone:
            return self.symbols.alone[text]
        return self.symbols.rename(text).replace(" ", "")

    def _render(self, shape: list[Size] | tuple[Size, ...] | Any) -> str:
        return "(" + ", ".join(self._render_dim(d) for d in shape) + ")"

    def _describe(self, value: Any) -> str:
        if isinstance(value, jax.ShapeDtypeStruct) or (hasattr(value, "shape") and hasattr(value, "dtype")):
            return f"one array {self._render(value.shape)}"
        values = _as_tuple(value)
        if values is not None:
            kind = type(value).__name__ if hasattr(value, "_fields") else "tuple"
            return f"a {kind} of {len(values)} value{'s' if len(values) != 1 else ''}"
        return f"a {type(value).__name__}"


_HINTS = {
    "TM301": "fix the body, or declare the shape it really returns",
    "TM302": "an axis dropped or added in the body (a reduction without axis=, a missing keepdims, an outer product)",
    "TM304": "return one value per declared output: a NamedTuple for several, a single array for one",
    "TM305": "the body fails for the declared shapes: check which axes it combines",
}


def _label(port: str) -> str:
    return "its return value" if port == "return" else f"output {port!r}"


def _axes(n: int) -> str:
    return f"{n} axis" if n == 1 else f"{n} axes"


def _equal(a: Size, b: Size) -> bool:
    try:
        diff = a - b
    except Exception:  # noqa: BLE001 - symbols of different scopes: not provably equal
        return False
    return isinstance(diff, int) and diff == 0


def _same_seq(a: Any, b: list[Size]) -> bool:
    return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))


def _canonical(dtypes: tuple[str, ...] | None) -> set[str] | None:
    if dtypes is None:
        return None
    return set(_canonical_cached(dtypes, _x64()))


@functools.cache
def _canonical_cached(dtypes: tuple[str, ...], x64: bool) -> frozenset[str]:  # x64: canonical forms depend on it
    out: set[str] = set()
    for d in dtypes:
        try:
            out.add(str(jax.dtypes.canonicalize_dtype(jnp.dtype(d))))
        except TypeError:
            out.add(d)
    return frozenset(out)


def _dtypes_text(dtypes: set[str]) -> str:
    common = [
        d for d in ("float16", "bfloat16", "float32", "float64", "int32", "int64", "uint32", "bool") if d in dtypes
    ]
    return ", ".join(common) + (", ..." if len(common) < len(dtypes) else "")


def _as_tuple(value: object) -> tuple[Any, ...] | None:
    return value if isinstance(value, tuple) else None  # pyright: ignore[reportUnknownVariableType]


def raised_at(fn: Callable[..., Any], err: BaseException) -> tuple[Location, str] | None:
    """Where ``fn``'s own code raised ``err`` (its innermost line in the traceback), and that line."""
    code = getattr(fn, "__code__", None)
    found: TracebackType | None = None
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            found = tb
        tb = tb.tb_next
    if found is None or code is None:
        return None
    line, col = found.tb_lineno, 1
    positions = list(code.co_positions())
    if 0 <= found.tb_lasti // 2 < len(positions):
        start, _, start_col, _ = positions[found.tb_lasti // 2]
        if start == line and start_col is not None:
            col = start_col + 1
    text = linecache.getline(code.co_filename, line).strip()
    return Location(code.co_filename, line, col), text


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 200 else line[:197] + "..."


def _prefer_symbolic(err: Exception) -> bool:
    """The symbolic error names axes; show it unless it only says "undecidable"."""
    return not (isinstance(err, jax.errors.InconclusiveDimensionOperation) and "inconclusive" in str(err))


def _reason(err: Exception) -> tuple[str, str]:
    """The exception's type name and text; for the TM305 of a body check nested in this one (a
    stage that calls itself), the reason that check gave, not its whole message again."""
    kind, text = type(err).__name__, str(err)
    diagnostics: list[Diagnostic] = getattr(err, "diagnostics", [])
    while diagnostics and diagnostics[0].code == "TM305":
        found = re.match(r".*? raised (\w+) during abstract evaluation: (.*)", diagnostics[0].message, re.S)
        if found is None:
            break
        kind, text = found.group(1), found.group(2)
        diagnostics = []
    return kind, text
