"""Running a pipeline with its named axes spread over a device mesh (``jax.sharding``).

``pipeline.sharded(mesh, {"b": "data"})`` places the pipeline's shape axis ``b`` on the mesh
axis ``"data"``. The axis name is followed through the checked graph: every edge whose
resolved shape has ``b`` at some position gets a ``NamedSharding`` with ``"data"`` there
(inputs and outputs through ``jax.jit``'s ``in_shardings``/``out_shardings``, intermediates
through ``jax.lax.with_sharding_constraint``), and XLA inserts the collectives a reduction over
a sharded axis needs. Nothing here is hand-made communication: it is JAX's SPMD partitioner,
so the same code runs on one host's devices or, after ``jax.distributed.initialize()``, on
many hosts. There each process passes its own rows of a sharded axis (and the same value for
an input that is not split); the processes first agree on what they were given (see
``_distributed``), and the shares become global arrays (``jax.make_array_from_process_local_data``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ._adapters import adapt
from ._arguments import Arguments, converters
from ._distributed import Agreement, global_inputs, processes
from ._errors import Diagnostic, InputError, TypedMLError, raised_clean, user_location
from ._graph import value_label
from ._overflow import Flagged, Guard, input_places, settle
from ._plan import CheckedPlan
from ._precision import guard_values
from ._runtime import check_inputs, split_value
from ._shapes import Dim, Item, Variadic
from ._spec import Port, Spec

__all__ = ["ShardedPipeline"]


def _axis_name(item: Item) -> str | None:
    if isinstance(item, Dim) and item.term is not None and item.term.const == 0 and len(item.term.terms) == 1:
        name, coef = item.term.terms[0]
        return name if coef == 1 and isinstance(name, str) else None
    return None


class ShardedPipeline:
    """A pipeline whose named axes are placed on a device mesh; call it like the pipeline.

    ``edge_specs`` maps each value of the graph (by edge name, as in ``pipeline.debug``) to the
    ``PartitionSpec`` it is constrained to; ``input_specs``/``output_specs`` are the
    pipeline's own ports'.
    """

    def __init__(
        self,
        plan: CheckedPlan,
        arguments: Arguments,
        mesh: Mesh,
        axes: Mapping[str, str],
        *,
        timeout: float | None = 300.0,
    ) -> None:
        self.plan = plan
        self.arguments = arguments
        self.mesh = mesh
        self.axes = dict(axes)
        # several processes: each call first agrees with the others on its inputs
        self._agreement = Agreement(f"{plan.spec.name}.sharded()", timeout=timeout) if processes()[1] > 1 else None
        self._compiled: dict[tuple[Any, ...], tuple[Callable[..., Any], Callable[[Any], Any], Guard]] = {}
        spec = plan.spec
        owner = f"{spec.name}.sharded()"
        known = spec.shape_vars
        for axis, mesh_axis in self.axes.items():
            if axis not in known:
                raise self._error(
                    f"{owner}: {axis!r} is not an axis of the pipeline's inputs",
                    notes=(f"axes of the inputs: {', '.join(sorted(known)) or 'none'}",),
                    hint="shard by the axis names of the pipeline's own signature",
                )
            if mesh_axis not in mesh.axis_names:
                raise self._error(
                    f"{owner}: mesh has no axis {mesh_axis!r}",
                    notes=(f"mesh axes: {', '.join(map(str, mesh.axis_names))}",),
                    hint="name one of the mesh's axes, e.g. Mesh(jax.devices(), ('data',))",
                )
        self.edge_specs: dict[str, PartitionSpec] = self._edge_specs()

    @property
    def spec(self) -> Spec:
        """The pipeline's parsed signature (so ``tm.stream`` can fold chunks through a sharded update)."""
        return self.plan.spec

    def _error(self, message: str, notes: tuple[str, ...] = (), hint: str | None = None) -> InputError:
        return InputError(
            Diagnostic("TM216", message, user_location(), notes=notes, hint=hint, stage=self.plan.spec.name)
        )

    def _edge_specs(self) -> dict[str, PartitionSpec]:
        found: dict[str, PartitionSpec] = {}
        for u, _, data in self.plan.graph.edges(data=True):
            text = data.get("shape")
            if not isinstance(text, str) or not text.startswith("("):
                continue
            names = [t.strip() for t in text.strip("()").split(",") if t.strip()]
            found[value_label(u, data["src_port"])] = PartitionSpec(*[self.axes.get(n) for n in names])
        return found

    def _port_spec(self, port: Port, ndim: int) -> PartitionSpec:
        if port.type is None:
            return PartitionSpec()
        entries: list[str | None] = []
        for item in port.type.dims:
            if isinstance(item, Variadic):
                entries += [None] * (ndim - (len(port.type.dims) - 1))
            else:
                name = _axis_name(item)
                entries.append(self.axes.get(name) if name is not None else None)
        return PartitionSpec(*entries)

    @property
    def input_specs(self) -> dict[str, PartitionSpec]:
        return {p.name: self._port_spec(p, len(p.type.dims) if p.type else 0) for p in self.plan.spec.inputs}

    @property
    def output_specs(self) -> dict[str, PartitionSpec]:
        return {p.name: self._port_spec(p, len(p.type.dims) if p.type else 0) for p in self.plan.spec.outputs}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._call(args, kwargs)
        except TypedMLError as err:
            raise raised_clean(err) from None

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        spec = self.plan.spec
        values, restore = adapt(spec, self.arguments.values(args, kwargs))
        checked = self.plan.ready()
        if self._agreement is not None:
            values = self._global(values)
        pairs = [split_value(v) for v in values]
        owner = f"{spec.name}()"
        boundary = check_inputs(spec, pairs, owner, checked.resolved.size_constraints)
        guard_values(spec, values, checked.memo("precision", set), owner)
        mags = self.arguments.magnitudes(values)
        self._check_divisible(mags)
        key = (tuple(u for _, u in pairs), tuple(getattr(m, "ndim", -1) for m in mags))
        entry = self._compiled.get(key)
        if entry is None:
            plan = checked.for_units(boundary.rigid_units)
            mesh, specs = self.mesh, self.edge_specs

            def constrain(node: str, port: str, value: Any) -> Any:
                wanted = specs.get(value_label(node, port))
                if wanted is None or not hasattr(value, "ndim") or len(wanted) != value.ndim:
                    return value
                return jax.lax.with_sharding_constraint(value, NamedSharding(mesh, wanted))  # pyright: ignore[reportUnknownMemberType]

            guard = Guard()  # conversions that could overflow, checked inside the compiled function
            impl = plan.function(constrain=constrain, convert=guard.edges(plan.graph))
            convert = converters(boundary)
            places = input_places(spec, [u for _, u in pairs], boundary.conversions, boundary.rigid_units, owner)
            single = spec.output_tuple is None

            def fn(*inputs: Any) -> Any:
                guard.reset()
                out = impl(*guard.inputs(places, convert, list(inputs)))
                result = guard.result(out[0] if single else out)
                if isinstance(result, Flagged):
                    return result.out, (result.bad, result.first)
                return result, None

            in_shardings = tuple(
                NamedSharding(mesh, self._port_spec(port, getattr(m, "ndim", 0)))
                for port, m in zip(spec.inputs, mags, strict=True)
            )
            outs = [NamedSharding(mesh, s) for s in self.output_specs.values()]
            replicated = NamedSharding(mesh, PartitionSpec())  # the checks: one value for all
            jitted = jax.jit(  # pyright: ignore[reportUnknownMemberType]
                fn, in_shardings=in_shardings, out_shardings=(outs[0] if single else tuple(outs), replicated)
            )
            entry = (cast("Callable[..., Any]", jitted), plan.wrapper(), guard)
            self._compiled[key] = entry
        jitted, wrap, guard = entry
        out, checks = jitted(*mags)
        if checks is not None:
            settle(Flagged(out, *checks), guard.places, owner)
        out = wrap(out)
        return out if restore is None else restore(out)

    def _global(self, values: list[Any]) -> list[Any]:
        """Each process's share made into global arrays, once every process agreed on them."""
        assert self._agreement is not None
        spec = self.plan.spec
        failure: TypedMLError | None = None
        try:
            check_inputs(spec, [split_value(v) for v in values], f"{spec.name}()", warn=False)
        except TypedMLError as err:
            failure = err
        specs = [
            self._port_spec(port, int(np.ndim(split_value(v)[0]))) for port, v in zip(spec.inputs, values, strict=True)
        ]
        return global_inputs(self._agreement, values, spec.input_names, specs, self.mesh, failure)

    def _check_divisible(self, mags: list[Any]) -> None:
        for port, mag in zip(self.plan.spec.inputs, mags, strict=True):
            shape = getattr(mag, "shape", None)
            if port.type is None or shape is None:
                continue
            part = self._port_spec(port, len(shape))
            for size, mesh_axis in zip(shape, part, strict=False):
                if mesh_axis is None:
                    continue
                devices = self.mesh.shape[mesh_axis]
                if size % devices:
                    axis = next(a for a, m in self.axes.items() if m == mesh_axis)
                    raise self._error(
                        f"axis {axis!r} of input {port.name!r} has size {size}, which the {devices} devices "
                        f"of mesh axis {mesh_axis!r} do not divide",
                        hint=f"pad the data to a multiple of {devices} (and mask the padding), or use fewer devices",
                    )
