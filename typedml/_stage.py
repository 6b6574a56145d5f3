"""``@tm.stage``: an annotated function whose ports carry units, shapes and dtypes.

The signature is parsed once, when the decorator runs (malformed annotations raise
:class:`~typedml.StageDefinitionError` there). Inside a pipeline being traced, calling a
stage records a node; called directly with data, a stage runs as a one-stage pipeline, with
the same checks and conversions.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, NoReturn, ParamSpec, TypeVar, overload

from ._errors import Diagnostic, StageDefinitionError, TypedMLError
from ._graph import current_tracer
from ._locations import annotation_location
from ._lru import LRU, MAX_VARIANTS
from ._pickling import by_reference, rebuilt_stage, stage_runner
from ._spec import Spec, not_a_function, parse_spec, static_sizes

if TYPE_CHECKING:
    from ._check import CheckReport
    from ._cost import Budget
    from ._pipeline import Pipeline

__all__ = ["Stage", "stage"]

P = ParamSpec("P")
R = TypeVar("R")


class Stage(Generic[P, R]):
    """A typed unit of computation. The body receives plain arrays in the declared units."""

    def __init__(self, fn: Callable[P, R], *, host: bool = False) -> None:
        self.fn = fn
        self.spec: Spec = parse_spec(fn, "stage")
        self.host = host  # the body runs on the host (NumPy, SciPy...) through jax.pure_callback
        if host:
            _check_host(self.spec, fn)
        functools.update_wrapper(self, fn)
        self._runners: LRU[tuple[tuple[str, str], ...], Pipeline[..., Any]] = LRU(MAX_VARIANTS)
        self._static_names = frozenset(self.spec.static_names)
        self.budget: Budget | None = None  # set by @tm.stage(budget=...)

    def __repr__(self) -> str:
        return f"<typedml.Stage {self.spec.name}>"

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """Pickled by reference (see ``typedml._pickling``)."""
        return by_reference(self, self.fn) or (rebuilt_stage, (Stage, self.fn, self.budget, self.host))

    def _repr_html_(self) -> str:
        """What a notebook shows: the signature, and the stage alone as a graph."""
        from ._display_graph import stage_html

        return stage_html(self)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        tracer = current_tracer()
        if tracer is not None:
            return tracer.call(self, "stage", args, kwargs)
        spec = self.spec
        if spec.axis_params or any(p.optional for p in spec.inputs):
            return self._call_direct(args, dict(kwargs))
        result: Any
        if kwargs and not self._static_names.isdisjoint(kwargs):
            static = {k: v for k, v in kwargs.items() if k in self._static_names}
            try:
                runner = self.as_pipeline(**static)
            except TypedMLError as err:
                raise err.with_traceback(None) from None  # the user's call is the place to see
            result = runner(*args, **{k: v for k, v in kwargs.items() if k not in static})
        else:
            runner = self._runners.get(())
            if runner is None:
                runner = self.as_pipeline()
            result = runner(*args, **kwargs)
        return result  # a quantity at run time; typed R, what the next stage of a pipeline body takes

    def _call_direct(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A direct call of a stage with optional inputs or an axis parameter: absent optional
        inputs run a stage-alone pipeline without them; an axis named by position is moved into
        place on the data (and back in the outputs that keep it)."""
        from ._axes import move_axis, named_positions

        spec = self.spec
        bound = dict(zip(spec.param_order, args, strict=False)) | kwargs
        static = {k: v for k, v in bound.items() if k in spec.static_names}
        absent = tuple(p.name for p in spec.inputs if p.optional and bound.get(p.name) is None)
        inputs = {k: v for k, v in bound.items() if k not in static and k not in absent}
        moves, back = named_positions(spec, static, inputs)
        for name, (source, target) in moves.items():
            inputs[name] = move_axis(inputs[name], source, target)
        for param in spec.axis_params:
            static.pop(param, None)
        result: Any = self._runner(static, absent)(**inputs)
        if not back:
            return result
        if spec.output_tuple is None:
            source, target = back["return"]
            return move_axis(result, source, target)
        return type(result)(
            *[move_axis(v, *back[p.name]) if p.name in back else v for p, v in zip(spec.outputs, result, strict=True)]
        )

    def check(self, **static: Any) -> CheckReport:
        """Check this stage's body without data (``jax.eval_shape`` with symbolic sizes).

        Returns a report and never raises for the problems it finds; ``static`` sets static
        configuration that has no default.
        """
        from ._body import check_stage, unchecked_containers
        from ._check import CheckReport
        from ._config import check_static, static_error
        from ._cost import check_budget

        refused = check_static(((p.name, p.annotation) for p in self.spec.static), static)
        if refused:
            return CheckReport(static_error(f"{self.spec.name}()", refused).diagnostics)
        found = check_stage(self, static)
        if not any(d.severity == "error" for d in found):
            found = [*check_budget(self, static), *found]
        found += unchecked_containers(self.spec, self.spec.name, None)
        return CheckReport([*found, *self.spec.infos])

    def as_pipeline(self, **static: Any) -> Pipeline[..., Any]:
        """This stage alone as a pipeline (static configuration fixed to ``static``)."""
        names = [p.name for p in self.spec.static]
        unknown = [k for k in static if k not in names]
        if unknown:
            from ._errors import InputError, user_location

            inputs = [k for k in unknown if k in self.spec.input_names]
            raise InputError(
                Diagnostic(
                    "TM202",
                    f"{self.spec.name}.as_pipeline() got an unexpected static parameter {unknown[0]!r}"
                    if len(unknown) == 1
                    else f"{self.spec.name}.as_pipeline() got unexpected static parameters "
                    + ", ".join(repr(k) for k in unknown),
                    user_location(),
                    notes=(f"static parameters: {', '.join(names) or '(none)'}",),
                    hint=f"{inputs[0]!r} is an input: pass it when the pipeline is called" if inputs else None,
                    stage=self.spec.name,
                    port=unknown[0],
                )
            )
        return self._runner(static, ())

    def _runner(self, static: dict[str, Any], _absent: tuple[str, ...]) -> Pipeline[..., Any]:
        """The stage alone as a pipeline, the optional inputs named in ``_absent`` left out."""
        from ._config import check_static, static_error
        from ._pipeline import Pipeline

        refused = check_static(((p.name, p.annotation) for p in self.spec.static), static)
        if refused:
            raise static_error(f"{self.spec.name}()", refused)
        key = tuple(sorted((k, repr(v)) for k, v in static.items())) + ((("", repr(_absent)),) if _absent else ())
        runner = self._runners.get(key)
        if runner is None:
            spec = self.spec
            run_spec = dataclasses.replace(
                spec,
                inputs=tuple(p for p in spec.inputs if p.name not in _absent),
                static=(),
                param_order=tuple(n for n in spec.data_params if n not in _absent),
                defaults={},
                keyword_only=spec.keyword_only,
                sizes=tuple(sorted(static_sizes(spec, spec.defaults | static).items())),
                infos=(),
            )
            this = self

            def body(**inputs: Any) -> Any:
                return this(**inputs, **static)  # pyright: ignore[reportCallIssue]

            runner = Pipeline(body, spec=run_spec)
            runner._origin = (stage_runner, self, dict(static))  # pyright: ignore[reportPrivateUsage]
            self._runners[key] = runner
        return runner


@overload
def stage(fn: Callable[P, R]) -> Stage[P, R]: ...
@overload
def stage(fn: None = None) -> NoReturn: ...
@overload
def stage(*, budget: Budget | None = None, host: bool = False) -> Callable[[Callable[P, R]], Stage[P, R]]: ...
def stage(
    fn: Callable[P, R] | None = None, *, budget: Budget | None = None, host: bool = False
) -> Stage[P, R] | Callable[[Callable[P, R]], Stage[P, R]]:
    """Declare a stage: every parameter and the return value must be annotated.

    ``@tm.stage(budget=tm.Budget(per="n", bytes_per_item=64))`` also declares a cost ceiling,
    which ``check()`` verifies with XLA's analysis of the compiled stage (TM307).

    ``@tm.stage(host=True)`` declares a host stage: its body is NumPy, SciPy, pandas or
    scikit-learn code, run inside the compiled pipeline through ``jax.pure_callback``. It gets
    NumPy arrays in the declared units; the check before data trusts its signature (TM311, an
    info), and each call's results are checked against the declared shapes and dtypes (TM310).
    """
    if fn is None:
        if budget is None and not host:
            not_a_function(fn, "stage")

        def declare(fn: Callable[P, R]) -> Stage[P, R]:
            made = Stage(fn, host=host)
            made.budget = budget
            return made

        return declare
    return Stage(fn)


def _check_host(spec: Spec, fn: Callable[..., Any]) -> None:
    """TM027: a host stage's signature must say every output's shape and dtype from its inputs."""
    from ._host import host_problems

    problems = host_problems(spec)
    if problems:
        raise StageDefinitionError(
            [
                Diagnostic(
                    "TM027",
                    f"host stage {spec.name!r}: {'input' if port in spec.input_names else 'output'} {port!r} {why}",
                    annotation_location(fn, port.partition(".")[0] if port in spec.input_names else "return")
                    or spec.location,
                    notes=("a host body is not evaluated before data: its outputs come from the signature alone",),
                    hint="declare every output as an array whose axes the inputs (or a static int) set, with a dtype family",
                    stage=spec.name,
                    port=port,
                )
                for port, why in problems
            ]
        )
