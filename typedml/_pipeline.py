"""``@tm.pipeline``: the face of a pipeline: build its checked plan lazily, hand it to run modes.

A :class:`Pipeline` holds a :class:`~typedml._plan.Planner`, which traces, checks and
resolves the pipeline on first use (``.graph``, ``.check()``, the first call), so a module of
pipelines imports cleanly even when one is mis-wired; ``check()`` reports, calling raises
:class:`~typedml.WiringError`. Every method names a run mode and passes it the plan: the
compiled call (``typedml._call``), ``debug``/``record`` (``_debug``), ``checked``
(``_checked``), ``sharded`` (``_shard``), ``cost`` (``_measure``), the pictures (``_show``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, NoReturn, ParamSpec, TypeVar, cast, overload

from ._arguments import Arguments
from ._call import Caller
from ._check import CheckReport
from ._config import check_static, static_error
from ._errors import Diagnostic, InputError, StageDefinitionError, TypedMLError, raised_clean, user_location
from ._lru import LRU, MAX_VARIANTS
from ._pickling import by_reference, configured, rebuilt_pipeline
from ._plan import Planner
from ._spec import Spec, not_a_function, parse_spec, with_static_sizes
from ._units import watch_registry

if TYPE_CHECKING:
    import networkx as nx
    from jax.sharding import Mesh

    from ._checked import CheckedRunner
    from ._cost import CostReport
    from ._debug import DebugRun
    from ._quantity import QuantityLike
    from ._shard import ShardedPipeline

__all__ = ["Pipeline", "pipeline"]

P = ParamSpec("P")
R = TypeVar("R")


class Pipeline(Generic[P, R]):
    """A traced, checked and compiled composition of stages. Call it with quantities."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        spec: Spec | None = None,
        static: dict[str, Any] | None = None,
    ) -> None:
        self.fn = fn
        self.spec = spec if spec is not None else parse_spec(fn, "pipeline")
        missing = [
            p.name for p in self.spec.static if p.name not in self.spec.defaults and p.name not in (static or {})
        ]
        if missing:
            raise StageDefinitionError(
                Diagnostic(
                    "TM013",
                    f"static parameter {missing[0]!r} of pipeline {self.spec.name!r} has no default",
                    self.spec.location,
                    hint="a pipeline is traced without data; give configuration a default (override it per call)",
                    stage=self.spec.name,
                    port=missing[0],
                )
            )
        self.static = {p.name: self.spec.defaults.get(p.name) for p in self.spec.static} | dict(static or {})
        self.spec = with_static_sizes(self.spec, self.static)  # axes named after a static int parameter
        functools.update_wrapper(self, fn)
        self._planner = Planner(fn, self.spec, self.static)
        self._arguments = Arguments(self.spec)
        self._caller = Caller(self._arguments, self._planner.ready, self)
        self._fast = self._caller.call
        self._checked: CheckedRunner | None = None
        self._variants: LRU[tuple[Any, ...], Pipeline[P, R]] = LRU(MAX_VARIANTS)
        # where a pipeline not bound to a module-level name came from (how it pickles)
        self._origin: tuple[Callable[..., Any], object, dict[str, Any]] | None = None
        self._static_names = self._arguments.static_names
        watch_registry(self)

    def __repr__(self) -> str:
        return f"<typedml.Pipeline {self.spec.name} ({len(self.spec.inputs)} inputs, {len(self.spec.outputs)} outputs)>"

    def _repr_html_(self) -> str:
        """What a notebook shows: the signature, the checked graph and its diagnostics."""
        from ._display_graph import pipeline_html

        return pipeline_html(self._planner.plan(), self.__doc__)

    # -- the checked plan -------------------------------------------------------------------
    @property
    def graph(self) -> nx.MultiDiGraph[str]:
        """The traced graph (see ``typedml._graph`` for node and edge attributes)."""
        return self._planner.plan().graph

    def check(self) -> CheckReport:
        """Check every edge without data; returns the report and never raises for problems."""
        return self._planner.plan().report

    @property
    def nested(self) -> Callable[P, R]:
        """This pipeline, typed for a call inside another pipeline's body.

        ``inner.nested(x)`` is ``inner(x)``: the same node in the graph. Only its static type
        differs: a pipeline called with data returns a quantity (``QuantityLike``), while in a
        body its result is the value the next stage takes, typed as the array the signature
        declares, so type checkers accept it there.
        """
        return cast("Callable[P, R]", self)

    @property
    def jax_fn(self) -> Callable[..., tuple[Any, ...]]:
        """The pipeline as a pure JAX function: ``f(*magnitudes) -> tuple(magnitudes)``.

        Inputs in parameter order and declared units (see :attr:`input_units`), a record
        parameter as a record of arrays; outputs in declared units (:attr:`output_units`), a
        record's fields one by one. ``jax.grad``, ``jax.vmap`` and sharding apply to it
        directly (a record must then be a pytree: a ``NamedTuple``, an ``equinox.Module``, or
        a dataclass registered with ``jax.tree_util.register_dataclass``). Only for pipelines
        without unit variables in their own signature.
        """
        try:
            impl = self._planner.ready().impl
        except TypedMLError as err:
            raise raised_clean(err) from None
        spec = self.spec
        if not spec.records:
            return impl
        names = spec.data_params

        def jax_fn(*args: Any) -> tuple[Any, ...]:
            return impl(*spec.flatten_inputs(dict(zip(names, args, strict=True))))

        return jax_fn

    @property
    def input_units(self) -> dict[str, str | None]:
        """Declared unit expression of each input (None: no unit)."""
        return {p.name: (str(p.type.unit) if p.type and p.type.unit else None) for p in self.spec.inputs}

    @property
    def output_units(self) -> dict[str, str | None]:
        """Declared unit expression of each output (None: no unit)."""
        return {p.name: (str(p.type.unit) if p.type and p.type.unit else None) for p in self.spec.outputs}

    def configure(self, **static: Any) -> Pipeline[P, R]:
        """This pipeline with other static configuration (traced and checked anew)."""
        unknown = [k for k in static if k not in self._static_names]
        if unknown:
            raise InputError(
                Diagnostic(
                    "TM202",
                    f"{self.spec.name}() has no static parameter {unknown[0]!r}",
                    user_location(),
                    notes=(f"static parameters: {', '.join(sorted(self._static_names)) or 'none'}",),
                    stage=self.spec.name,
                    port=unknown[0],
                )
            )
        refused = check_static(((p.name, p.annotation) for p in self.spec.static), static)
        if refused:
            raise static_error(f"{self.spec.name}()", refused)
        key = tuple(sorted((k, repr(v)) for k, v in static.items()))
        variant = self._variants.get(key)
        if variant is None:
            variant = Pipeline(self.fn, spec=self.spec, static=self.static | static)
            variant._origin = (configured, self, dict(static))
            self._variants[key] = variant
        return variant

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """Pickled by reference (see ``typedml._pickling``): compiled state never travels."""
        found = by_reference(self, self.fn)
        if found is not None:
            return found
        if self._origin is not None:
            make, owner, static = self._origin
            return (make, (owner, static))
        return (rebuilt_pipeline, (Pipeline, self.fn, dict(self.static)))

    def registry_switched(self) -> None:
        """Compiled executables hold units of the previous registry: drop them."""
        self._caller.forget()
        if self._checked is not None:
            self._checked.forget()
        self._planner.forget()

    # -- pictures ---------------------------------------------------------------------------
    def to_dot(self) -> str:
        """The checked graph as Graphviz DOT: units, shapes and dtypes on edges, failures in red."""
        from ._show import to_dot

        return to_dot(self._planner.plan())

    def to_mermaid(self) -> str:
        """The checked graph as a Mermaid flowchart (for Markdown pages)."""
        from ._show import to_mermaid

        return to_mermaid(self._planner.plan())

    def to_html(self, *, cost: CostReport | None = None) -> str:
        """The checked graph as a self-contained HTML page (inline SVG, no network).

        With ``cost`` (from :meth:`cost`), each stage shows its FLOPs and peak memory.
        """
        from ._show import to_html

        return to_html(self._planner.plan(), cost)

    # -- calling ----------------------------------------------------------------------------
    if TYPE_CHECKING:
        # Editors see the pipeline's own parameters (port names and counts are checked). The
        # result is a quantity of the kind the inputs were (pint or typedml), not the array the
        # signature declares for the body: array code that would drop its unit is flagged.
        # (Several outputs come back as a NamedTuple of quantities: its fields are Any.)
        def __call__(self, *args: P.args, **kwargs: P.kwargs) -> QuantityLike: ...

    else:
        # A call goes straight to the run mode's fast path (typedml._call): this property, in C,
        # hands back the caller's bound method, so the face adds no frame to a call.
        __call__ = property(operator.attrgetter("_fast"))

    # -- other run modes --------------------------------------------------------------------
    def debug(self, *args: Any, **kwargs: Any) -> DebugRun:
        """Run stage by stage, eagerly, checking every stage call and keeping every value.

        Returns a :class:`DebugRun`: the outputs (as calling the pipeline returns them) and
        every intermediate value by edge name, as a quantity in its unit. Each stage's
        inputs and outputs are checked against its signature (shapes, shape bindings,
        dtypes): a mismatch raises :class:`BodyError` (TM306). The first NaN/Inf raises
        :class:`NonFiniteError` naming the stage that produced it from finite inputs
        (TM501), or the input that brought it (TM502).
        """
        from ._debug import observed_run

        try:
            return observed_run(self._planner.plan(), self._arguments, args, kwargs, compiled=False)
        except TypedMLError as err:
            raise raised_clean(err) from None

    def record(self, *args: Any, **kwargs: Any) -> DebugRun:
        """One compiled run that also returns every intermediate value (for summaries of big data).

        Returns a :class:`DebugRun` like :meth:`debug`, from the fused ``jax.jit`` function with
        every stage output added to its results: as fast as a plain call (less the fusion
        lost by keeping intermediates), but without the per-stage checks and NaN search of
        :meth:`debug`. Value contracts on the inputs are checked. Compiled once per input units.
        """
        from ._debug import observed_run

        try:
            return observed_run(self._planner.plan(), self._arguments, args, kwargs, compiled=True)
        except TypedMLError as err:
            raise raised_clean(err) from None

    def checked(self, *args: Any, **kwargs: Any) -> Any:
        """Call the fused, compiled pipeline with a finite check after every stage.

        Returns what calling the pipeline returns. Inside the compiled function, each stage's
        outputs are reduced to one flag (all finite?), as is each contracted port (contract
        kept?). When a flag is false, the run is repeated eagerly to raise the error
        :meth:`debug` raises: :class:`NonFiniteError` naming the stage that produced the first
        NaN/Inf from finite inputs (TM501) or the input that brought it (TM502), or
        :class:`ContractError`. ``benchmarks/bench_debug.py`` measures what the flags cost.
        """
        from ._checked import CheckedRunner

        try:
            if self._checked is None:
                self._checked = CheckedRunner(self._arguments, self._planner.ready)
            return self._checked(args, kwargs)
        except TypedMLError as err:
            raise raised_clean(err) from None

    def sharded(self, mesh: Mesh, axes: Mapping[str, str], *, timeout: float | None = 300.0) -> ShardedPipeline:
        """This pipeline with named shape axes placed on a device mesh: ``{"b": "data"}``.

        Returns a callable like the pipeline whose inputs, intermediates and outputs carry
        ``NamedSharding``s following the axis names through the checked graph; reductions over
        a sharded axis are correct (XLA adds the collectives). A size the mesh axis's devices
        do not divide is an :class:`InputError` (TM216). Several processes: call
        ``jax.distributed.initialize()`` first, build the mesh over ``jax.devices()``, and give
        each process's rows of the sharded axes; every call first agrees with the other
        processes on its inputs, waiting ``timeout`` seconds for them (TM250, TM515).
        """
        from ._shard import ShardedPipeline

        try:
            return ShardedPipeline(self._planner.plan(), self._arguments, mesh, axes, timeout=timeout)
        except TypedMLError as err:
            raise raised_clean(err) from None

    def cost(self, **sizes: int) -> CostReport:
        """FLOPs, bytes accessed and peak memory per stage and in total, for these axis sizes.

        No data is needed: every shape variable of the inputs gets its size here
        (``pipeline.cost(n=10_000)``), each stage is compiled alone at the shapes it sees, and
        the whole fused pipeline once; the figures are XLA's own cost and memory analysis.
        ``to_html(cost=...)`` shows them on the graph's nodes.
        """
        from ._measure import pipeline_cost

        try:
            return pipeline_cost(self._planner.plan(), sizes)
        except TypedMLError as err:
            raise raised_clean(err) from None


@overload
def pipeline(fn: Callable[P, R]) -> Pipeline[P, R]: ...
@overload
def pipeline(fn: None = None) -> NoReturn: ...
def pipeline(fn: Callable[P, R] | None = None) -> Pipeline[P, R]:
    """Decorate a function that wires stages together into a checked, compiled pipeline."""
    if fn is None:
        not_a_function(fn, "pipeline")
    return Pipeline(fn)
