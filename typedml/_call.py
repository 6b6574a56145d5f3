"""The plain call: one compiled ``jax.jit`` function per input units, cached.

A call binds its arguments, strips units and looks up the executable made for those units;
the first call with new units checks every input against the signature (units, shapes,
dtypes) on the real data, binds the pipeline's unit variables, and compiles. ``jax.jit``
retraces on a new shape or dtype, and each trace checks the shapes and dtypes again, so a
cached executable never runs data its first call would have refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import jax
import jax.numpy as jnp

from ._arguments import Arguments, converters
from ._plan import CheckedPlan
from ._runtime import QUANTITY_TYPE, Boundary, Executable, check_inputs, split_value

__all__ = ["Caller"]


class Caller:
    """Runs a plan on data, with an executable per input units (the hot path of a call)."""

    def __init__(self, arguments: Arguments, ready: Callable[[], CheckedPlan]) -> None:
        self.arguments = arguments
        self.ready = ready  # the checked plan, built on first use, or the error it holds
        self.executables: dict[tuple[Any, ...], Executable] = {}
        self._last_units: object = _NOTHING
        self._last_fn: Callable[..., Any] = _identity
        self._last_wrap: Callable[[Any], Any] = _identity

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        arguments = self.arguments
        if not kwargs and len(args) == arguments.count:
            if arguments.count == 1:
                value = args[0]
                if isinstance(value, QUANTITY_TYPE) and value._units is self._last_units:
                    return self._last_wrap(self._last_fn(value._magnitude))
            key = tuple([v._units if isinstance(v, QUANTITY_TYPE) else None for v in args])
            exe = self.executables.get(key)
            if exe is not None:
                self._remember(key, exe)
                return exe.wrap(exe.fn(*arguments.magnitudes(args)))
        values = arguments.bind(args, kwargs)
        key = tuple(split_value(v)[1] for v in values)
        exe = self.executables.get(key)
        if exe is None:
            exe = self._prepare(values)
            self.executables[key] = exe
        self._remember(key, exe)
        return exe.wrap(exe.fn(*arguments.magnitudes(values)))

    def forget(self) -> None:
        """Compiled executables hold units of the previous registry: drop them."""
        self.executables.clear()
        self._last_units = _NOTHING

    def _remember(self, key: tuple[Any, ...], exe: Executable) -> None:
        if self.arguments.count == 1 and key[0] is not None:
            self._last_units = key[0]
            self._last_fn = exe.fn
            self._last_wrap = exe.wrap

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
            traced = check_inputs(spec, list(zip(args, units, strict=True)), owner, constraints)
            out = impl(*[c(a) if c is not None else a for c, a in zip(converters(traced), args, strict=True)])
            return out[0] if single else out

        jitted = cast("Callable[..., Any]", jax.jit(fn))  # pyright: ignore[reportUnknownMemberType]
        return Executable(jitted, plan.wrapper())


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
        traced = check_inputs(spec, list(zip(args, units, strict=True)), owner, constraints)
        converted = [c(a) if c is not None else a for c, a in zip(converters(traced), args, strict=True)]
        order.clear()
        counts[:] = [violations(converted[i], bounds) for i, _, bounds in inputs]
        out = impl(*converted)
        found: Any = jnp.stack(counts) if counts else jnp.zeros(0, dtype=jnp.int32)  # pyright: ignore[reportUnknownMemberType]
        return (out[0] if single else out), found

    jitted = cast("Callable[..., tuple[Any, Any]]", jax.jit(fn))  # pyright: ignore[reportUnknownMemberType]
    run = guarded(jitted, spec, graph, inputs, order, boundary.conversions)
    return Executable(run, plan.wrapper())


def _identity(x: Any) -> Any:
    return x


_NOTHING = object()
