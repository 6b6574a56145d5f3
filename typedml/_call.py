"""The plain call: one compiled ``jax.jit`` function per input units, cached.

A call binds its arguments, strips units and looks up the executable made for those units;
the first call with new units checks every input against the signature (units, shapes,
dtypes) on the real data, binds the pipeline's unit variables, and compiles. ``jax.jit``
retraces on a new shape or dtype, and each trace checks the shapes and dtypes again, so a
cached executable never runs data its first call would have refused.

What a trace cannot see, the fast path guards: it takes a magnitude as it is only when it is
a JAX array, a plain NumPy array of a dtype JAX keeps as it is (no object or string arrays,
no masked arrays, no 64-bit data that JAX would narrow without x64), or a NumPy scalar of such
a dtype. Anything else takes the
checked path: values of other libraries such as xarray DataArrays are converted there
(``typedml._adapters``), the inputs get the same check as the first call's (remembered per
input signature), and 64-bit numpy data, which JAX narrows to 32 bits without retracing, is
refused when its values would change and said once otherwise (``typedml._precision``). An
error JAX raises on the fast path (inputs on different devices) is explained by that same
check. So a later call is refused exactly when the first call would have been, with the same
typed error.

Conversions that can overflow their dtype are checked inside the compiled function (see
``typedml._overflow``); each executable keeps at most ``MAX_SHAPES`` compiled shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from ._adapters import adapt
from ._arguments import Arguments, check_inputs_once, converters
from ._errors import TypedMLError, raised_clean
from ._graph import _current as _current_tracer  # pyright: ignore[reportPrivateUsage]
from ._lru import LRU, MAX_EXECUTABLES, MAX_SHAPES, MAX_VALIDATED
from ._overflow import Guard, input_places, settle
from ._plan import CheckedPlan
from ._precision import guard_values
from ._runtime import QUANTITY_TYPE, Boundary, Executable, check_inputs, split_value
from ._traced import x64

__all__ = ["Caller"]


class Caller:
    """Runs a plan on data, with an executable per input units: the hot path of every call.

    The fast path is :meth:`call` alone (``Pipeline.__call__`` resolves to it, with no frame
    of its own): bind the arguments (positional, keywords, or both, when they name every input
    once), read each input's units, find the executable made for those units (the last one
    used first), run it. Anything else, a first call with new units or a call that binds
    badly, goes to :meth:`_slow`, which checks everything and reports. The fast path checks
    almost nothing itself, by design: every check the slow path made is either about the units
    (the cache key, so other units miss the cache and are checked) or about shapes and dtypes
    (``jax.jit`` retraces on those, and its trace checks them). Two exceptions, seen by type
    alone: a value of another library goes to the slow path (its adapter converts it), and
    64-bit numpy data, which ``jax.jit`` narrows to 32 bits without retracing, is guarded as on
    a first call (:meth:`_guard`).
    """

    def __init__(self, arguments: Arguments, ready: Callable[[], CheckedPlan], owner: Any) -> None:
        self.arguments = arguments
        self.ready = ready  # the checked plan, built on first use, or the error it holds
        self.owner = owner  # the pipeline: what a call inside another body records; what configure() is on
        self.executables: LRU[tuple[Any, ...], Executable] = LRU(MAX_EXECUTABLES)
        # input signatures (units, types, dtypes, shapes) the checked path found good
        self._validated: LRU[tuple[Any, ...], bool] = LRU(MAX_VALIDATED)
        # what the fast path takes as it is: JAX's array type, and NumPy dtypes JAX keeps
        # (both known after the first call; until then every call takes the checked path)
        self._array_type: type[Any] | None = None
        self._fast: frozenset[np.dtype[Any]] = frozenset()
        self._scalars: frozenset[type[Any]] = frozenset()  # NumPy scalar types of those dtypes (np.float32)
        # The units of the last call and what ran them, each in one tuple, replaced in one
        # assignment: concurrent calls never pair one call's units with another's executable.
        self._last: tuple[list[Any] | None, Executable | None] = (None, None)
        self._last1: tuple[Any, Callable[..., Any], Callable[[Any], Any]] = (_NOTHING, _identity, _identity)
        self._count = arguments.count
        # how many inputs a call may give by position alone (-1: some must be named, so the
        # slow path binds such a call and refuses it)
        self._all_positional = arguments.count if arguments.by_position == arguments.count else -1
        self._names = arguments.names
        self._static = arguments.static_names
        self._plain = arguments.array_ports is None  # every input an array port
        self._flat = arguments.flat  # every argument one input (no record)
        self._one = self._count == 1 and self._plain and self._flat

    def call(self, *args: Any, **kwargs: Any) -> Any:
        given, named = args, kwargs  # as called: what an explanation binds again
        try:
            tracer = _current_tracer.get()
            if tracer is not None:  # called inside another pipeline's body: a node, not a run
                return tracer.call(self.owner, "pipeline", args, kwargs)
            if kwargs and self._static and not self._static.isdisjoint(kwargs):
                static = {k: kwargs.pop(k) for k in list(kwargs) if k in self._static}
                return self.owner.configure(**static)(*args, **kwargs)
            if not self._flat:  # a record argument stands for several inputs: bound and taken apart there
                return self._slow(args, kwargs)
            if kwargs:
                if not args and len(kwargs) == self._count:
                    try:
                        args = (kwargs[self._names[0]],) if self._one else tuple(map(kwargs.__getitem__, self._names))
                    except KeyError:  # an unknown name: the slow path says which
                        return self._slow(args, kwargs)
                else:
                    bound = self._mixed(args, kwargs)
                    if bound is None:
                        return self._slow(args, kwargs)
                    args = bound
            elif len(args) != self._all_positional:
                return self._slow(args, kwargs)
            array_type, fast, scalars = self._array_type, self._fast, self._scalars
            if self._one:  # one input: compare its units by identity, build nothing
                value = args[0]
                if isinstance(value, QUANTITY_TYPE):
                    units, fn, wrap = self._last1
                    if value._units is units:
                        m: Any = value._magnitude
                        kind = type(m)  # pyright: ignore[reportUnknownVariableType]
                        if kind is array_type or (kind is np.ndarray and m.dtype in fast) or kind in scalars:
                            return wrap(fn(m))
            units_list: list[Any] = []
            mags: list[Any] = []
            if self._plain:
                for v in args:  # one pass: the cache key (units), what the executable takes, the guard
                    if isinstance(v, QUANTITY_TYPE):
                        units_list.append(v._units)
                        m = v._magnitude
                    else:
                        units_list.append(None)
                        m = v
                    kind = type(m)  # pyright: ignore[reportUnknownVariableType]
                    if (
                        kind is not array_type
                        and (kind is not np.ndarray or m.dtype not in fast)
                        and kind not in scalars
                    ):
                        return self._checked(self.arguments.bind(given, named))
                    mags.append(m)
            else:  # pytree ports take their value as it is
                return self._checked(self.arguments.bind(given, named))
            last_units, exe = self._last
            if units_list != last_units or exe is None:
                exe = self.executables.get(tuple(units_list))
                if exe is None:
                    return self._checked(list(args))
                self._last = (units_list, exe)
            if self._one and units_list[0] is not None:
                self._last1 = (units_list[0], exe.fn, exe.wrap)
            return exe.wrap(exe.fn(*mags))
        except TypedMLError as err:
            raise raised_clean(err) from None  # the user's call is the place to see
        except (TypeError, ValueError):  # from JAX, with inputs the check would refuse: say which
            found = self._explain(given, named)
            if found is None:
                raise
            raise raised_clean(found) from None

    def _mixed(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
        """Positions then names, binding every input once; None when they do not (the slow path says why)."""
        n = len(args)
        if n + len(kwargs) != self._count:
            return None
        try:
            return (*args, *map(kwargs.__getitem__, self._names[n:]))
        except KeyError:  # a name given twice, or unknown
            return None

    def forget(self) -> None:
        """Compiled executables hold units of the previous registry: drop them."""
        self.executables.clear()
        self.forget_last()

    def forget_last(self) -> None:
        """Look the next call's executable up in :attr:`executables` (after they were replaced)."""
        self._last = (None, None)
        self._last1 = (_NOTHING, _identity, _identity)

    def _slow(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self._checked(self.arguments.bind(args, kwargs))  # every binding problem, reported

    def _checked(self, values: list[Any]) -> Any:
        """A call the fast path does not take: new units, or inputs it cannot vouch for.

        New units: everything is checked on the real data and compiled. Known units: the
        inputs are checked as the first call checked them (remembered per input signature).
        Values of other libraries are converted first; 64-bit numpy data is guarded on every
        call (:meth:`_guard`).
        """
        values, restore = adapt(self.arguments.spec, values)  # other libraries' data, converted
        pairs = [split_value(v) for v in values]
        key = tuple(u for _, u in pairs)
        exe = self.executables.get(key)
        if exe is None:
            exe = self._prepare(values, pairs)
            self.executables[key] = exe
        else:
            checked = self.ready()
            check_inputs_once(checked.spec, pairs, checked.resolved.size_constraints, self._validated)
        self._guard(values)
        out = exe.wrap(exe.fn(*self.arguments.magnitudes(values)))
        return out if restore is None else restore(out)

    def _guard(self, values: tuple[Any, ...] | list[Any]) -> None:
        """64-bit numpy data: refused if JAX's 32 bits would change its values, else said once."""
        plan = self.ready()
        guard_values(plan.spec, values, plan.memo("precision", set), f"{plan.spec.name}()")

    def _explain(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TypedMLError | None:
        """The typed error the first call's check raises for these inputs, if it raises one."""
        try:
            values = self.arguments.bind(args, kwargs)
            checked = self.ready()
            spec = checked.spec
            pairs = [split_value(v) for v in values]
            check_inputs(spec, pairs, f"{spec.name}()", checked.resolved.size_constraints, warn=False)
        except TypedMLError as err:
            return err
        return None

    def _prepare(self, values: list[Any], pairs: list[tuple[Any, Any]]) -> Executable:
        checked = self.ready()  # a mis-wired pipeline fails as such, whatever the data
        spec = checked.spec
        owner = f"{spec.name}()"
        constraints = checked.resolved.size_constraints
        boundary = check_inputs(spec, pairs, owner, constraints)  # everything, on the real data
        self._array_type, self._fast, self._scalars = _fast_kinds()
        plan = checked.for_units(boundary.rigid_units)
        if plan.has_contracts:
            return _prepare_contracted(plan, values, boundary)
        units = [u for _, u in pairs]
        single = spec.output_tuple is None
        guard = Guard()
        places = input_places(spec, units, boundary.conversions, boundary.rigid_units, owner)
        checks = plan.converts or any(p is not None for p in places)
        impl = plan.function(convert=guard.edges(plan.graph)) if plan.converts else plan.impl
        traces = [0]
        jitted: Any = None

        def fn(*args: Any) -> Any:
            # Runs once per trace, i.e. per new shape/dtype signature: validate those here.
            _bounded(jitted, traces)
            traced = check_inputs(spec, list(zip(args, units, strict=True)), owner, constraints, warn=False)
            guard.reset()
            out = impl(*guard.inputs(places, converters(traced), list(args)))
            return guard.result(out[0] if single else out)

        jitted = cast("Callable[..., Any]", jax.jit(fn))  # pyright: ignore[reportUnknownMemberType]
        guarded = plan.guard(jitted)  # (a host stage's failure raised as its typed error)
        plain_wrap = plan.wrapper()
        if not checks:
            return Executable(guarded, plain_wrap)

        def wrap(result: Any) -> Any:  # the result may carry conversion checks: settled first
            return plain_wrap(settle(result, guard.places, owner))

        return Executable(guarded, wrap)


def _prepare_contracted(plan: CheckedPlan, values: list[Any], boundary: Boundary) -> Executable:
    """A plain run that also counts, inside the compiled function, values breaking contracts."""
    from ._contracts import PortContract, counting_observer, guarded, input_contracts, stage_contracts
    from ._refine import violations

    spec = plan.spec
    graph = plan.graph
    inputs = input_contracts(spec, boundary.rigid_units)
    order: list[PortContract] = []
    counts: list[Any] = []
    observe = counting_observer(graph, stage_contracts(graph, plan.resolved, boundary.rigid_units), counts, order)
    guard = Guard()
    impl = plan.function(observe, convert=guard.edges(graph))
    owner = f"{spec.name}()"
    units = [split_value(v)[1] for v in values]
    single = spec.output_tuple is None
    constraints = plan.resolved.size_constraints

    places = input_places(spec, units, boundary.conversions, boundary.rigid_units, owner)
    traces = [0]
    jitted: Any = None

    def fn(*args: Any) -> Any:
        _bounded(jitted, traces)
        traced = check_inputs(spec, list(zip(args, units, strict=True)), owner, constraints, warn=False)
        guard.reset()
        converted = guard.inputs(places, converters(traced), list(args))
        order.clear()
        counts[:] = [violations(converted[i], bounds) for i, _, bounds in inputs]
        out = impl(*converted)
        found: Any = jnp.stack(counts) if counts else jnp.zeros(0, dtype=jnp.int32)  # pyright: ignore[reportUnknownMemberType]
        return guard.result(out[0] if single else out), found

    jitted = cast("Callable[..., tuple[Any, Any]]", jax.jit(fn))  # pyright: ignore[reportUnknownMemberType]
    run = guarded(plan.guard(jitted), spec, graph, inputs, order, boundary.conversions)
    plain_wrap = plan.wrapper()

    def wrap(result: Any) -> Any:  # contracts settled by `run`, conversion checks here
        return plain_wrap(settle(result, guard.places, owner))

    return Executable(run, wrap)


def _bounded(jitted: Any, traces: list[int]) -> None:
    """Called at each trace of a jitted function: past ``MAX_SHAPES`` shapes, empty its cache."""
    traces[0] += 1
    if traces[0] > MAX_SHAPES and jitted is not None:
        jitted.clear_cache()
        traces[0] = 1


def _fast_kinds() -> tuple[type[Any], frozenset[np.dtype[Any]], frozenset[type[Any]]]:
    """JAX's array type, the NumPy dtypes JAX computes in as they are (64-bit only with x64), and
    the NumPy scalar types of those dtypes (``np.float32(2.0)``: never an object, string or masked value)."""
    kinds = ["bool", "int8", "int16", "int32", "uint8", "uint16", "uint32", "float16", "float32", "complex64"]
    if x64():
        kinds += ["int64", "uint64", "float64", "complex128"]
    array: type[Any] = type(jnp.zeros(()))  # pyright: ignore[reportUnknownMemberType]
    dtypes = frozenset(np.dtype(k) for k in kinds)
    return array, dtypes, frozenset(d.type for d in dtypes)


def _identity(x: Any) -> Any:
    return x


_NOTHING = object()
