"""The plain call: one compiled ``jax.jit`` function per input units, cached.

A call binds its arguments, strips units and looks up the executable made for those units;
the first call with new units checks every input against the signature (units, shapes,
dtypes) on the real data, binds the pipeline's unit variables, and compiles. ``jax.jit``
retraces on a new shape or dtype, and each trace checks the shapes and dtypes again, so a
cached executable never runs data its first call would have refused. Two things ``jax.jit``
does not see are looked at on every call: 64-bit numpy data, which JAX narrows to 32 bits
without retracing (``typedml._precision``: refused when values would change, said once
otherwise), and values of other libraries such as xarray DataArrays (``typedml._adapters``:
converted at the boundary by the slow path, then the same checks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from ._adapters import PLAIN, adapt, is_foreign
from ._arguments import Arguments, converters
from ._errors import TypedMLError, raised_clean
from ._graph import _current as _current_tracer  # pyright: ignore[reportPrivateUsage]
from ._plan import CheckedPlan
from ._precision import NDARRAY, WIDE_SCALARS, guard_values
from ._runtime import QUANTITY_TYPE, Boundary, Executable, check_inputs, split_value

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
        self.executables: dict[tuple[Any, ...], Executable] = {}
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
            if self._one:  # one input: compare its units by identity, build nothing
                value = args[0]
                if isinstance(value, QUANTITY_TYPE):
                    units, fn, wrap = self._last1
                    m = value._magnitude
                    t: Any = type(m)  # pyright: ignore[reportUnknownVariableType]
                    if value._units is units and ((m.itemsize <= 4) if t is NDARRAY else (t not in WIDE_SCALARS)):
                        return wrap(fn(m))
            units_list: list[Any] = []
            mags: list[Any] = []
            wide = False
            for v in args:  # one pass: the cache key (units), what the executable takes, 64-bit data
                if isinstance(v, QUANTITY_TYPE):
                    units_list.append(v._units)
                    m = v._magnitude
                else:
                    units_list.append(None)
                    m = v
                    if type(m) not in PLAIN and is_foreign(m):  # an xarray DataArray...: converted
                        return self._slow(args, {})
                t = type(m)  # pyright: ignore[reportUnknownVariableType]
                if t is NDARRAY:
                    wide = wide or m.itemsize > 4
                elif t not in _SHAPED:  # (a jax array is: its class gives it a shape, and JAX its dtype)
                    wide = wide or t in WIDE_SCALARS
                    if not hasattr(m, "shape"):
                        m = np.asarray(m)
                    elif hasattr(t, "shape") and t not in WIDE_SCALARS:
                        _SHAPED.add(t)
                mags.append(m)
            last_units, exe = self._last
            if units_list != last_units or exe is None:
                exe = self.executables.get(tuple(units_list))
                if exe is None:
                    return self._first(list(args))
                self._last = (units_list, exe)
            if self._one and units_list[0] is not None:
                self._last1 = (units_list[0], exe.fn, exe.wrap)
            if wide:
                self._guard(args)
            if not self._plain:  # pytree ports take their value as it is
                mags = self.arguments.magnitudes(args)
            return exe.wrap(exe.fn(*mags))
        except TypedMLError as err:
            raise raised_clean(err) from None  # the user's call is the place to see

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
        return self._first(self.arguments.bind(args, kwargs))  # every binding problem, reported

    def _first(self, values: list[Any]) -> Any:
        """A call with bound values whose units have no executable yet (or a call that bound
        badly, or that holds other libraries' data)."""
        values, restore = adapt(self.arguments.spec, values)  # other libraries' data, converted
        key = tuple(split_value(v)[1] for v in values)
        exe = self.executables.get(key)
        if exe is None:
            exe = self._prepare(values)
            self.executables[key] = exe
        self._guard(values)
        out = exe.wrap(exe.fn(*self.arguments.magnitudes(values)))
        return out if restore is None else restore(out)

    def _guard(self, values: tuple[Any, ...] | list[Any]) -> None:
        """64-bit numpy data: refused if JAX's 32 bits would change its values, else said once."""
        plan = self.ready()
        guard_values(plan.spec, values, plan.memo("precision", set), f"{plan.spec.name}()")

    def _prepare(self, values: list[Any]) -> Executable:
        checked = self.ready()  # a mis-wired pipeline fails as such, whatever the data
        spec = checked.spec
        owner = f"{spec.name}()"
        pairs = [split_value(v) for v in values]
        constraints = checked.resolved.size_constraints
        boundary = check_inputs(spec, pairs, owner, constraints)  # everything, on the real data
        plan = checked.for_units(boundary.rigid_units)
        if plan.has_contracts:
            return _prepare_contracted(plan, values, boundary)
        impl = plan.impl
        units = [u for _, u in pairs]
        single = spec.output_tuple is None

        def fn(*args: Any) -> Any:
            # Runs once per trace, i.e. per new shape/dtype signature: validate those here.
            traced = check_inputs(spec, list(zip(args, units, strict=True)), owner, constraints, warn=False)
            out = impl(*[c(a) if c is not None else a for c, a in zip(converters(traced), args, strict=True)])
            return out[0] if single else out

        jitted = cast("Callable[..., Any]", jax.jit(fn))  # pyright: ignore[reportUnknownMemberType]
        return Executable(plan.guard(jitted), plan.wrapper())


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
    impl = plan.function(observe)
    owner = f"{spec.name}()"
    units = [split_value(v)[1] for v in values]
    single = spec.output_tuple is None
    constraints = plan.resolved.size_constraints

    def fn(*args: Any) -> Any:
        traced = check_inputs(spec, list(zip(args, units, strict=True)), owner, constraints, warn=False)
        converted = [c(a) if c is not None else a for c, a in zip(converters(traced), args, strict=True)]
        order.clear()
        counts[:] = [violations(converted[i], bounds) for i, _, bounds in inputs]
        out = impl(*converted)
        found: Any = jnp.stack(counts) if counts else jnp.zeros(0, dtype=jnp.int32)  # pyright: ignore[reportUnknownMemberType]
        return (out[0] if single else out), found

    jitted = cast("Callable[..., tuple[Any, Any]]", jax.jit(fn))  # pyright: ignore[reportUnknownMemberType]
    run = guarded(plan.guard(jitted), spec, graph, inputs, order, boundary.conversions)
    return Executable(run, plan.wrapper())


def _identity(x: Any) -> Any:
    return x


_NOTHING = object()
# Types whose class defines ``shape`` (jax's arrays) and that are no 64-bit numpy data: a value
# of one is passed as it is, without asking each instance for its shape (a jax array builds it).
_SHAPED: set[type] = set()
