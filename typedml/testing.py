"""Ready property checks for stages and pipelines: ``import typedml.testing as tmt``.

Each ``assert_*`` function takes a stage or pipeline and one input set (drawn with
:func:`typedml.strategies.inputs`), runs it, and raises :class:`AssertionError` with the
sizes, units and the worst differing value when the property fails, so it reads as one line
inside a ``@given`` test. :func:`property_test` turns any of them into a ready-made test.

- :func:`assert_dimensionally_homogeneous`: re-scaling the base dimensions (length × λ,
  time × μ, …) scales every output exactly as its unit says; catches constants with a
  dimension hard-coded in a body (``9.81`` for m/s²).
- :func:`assert_unit_invariant`: the same quantities given in other, convertible units give
  the same physical outputs.
- :func:`assert_shape_polymorphic`: outputs have the declared shapes and dtypes at the drawn
  sizes.
- :func:`assert_batch_consistent`: a call on a whole batch equals per-item calls mapped
  with :func:`jax.vmap` over the named batch axis.
- :func:`assert_modes_agree`: the fused ``jax.jit`` run agrees with an eager, stage-by-stage
  run within a dtype-aware tolerance.
- :func:`assert_permutation_invariant` and :func:`assert_permutation_equivariant`:
  metamorphic checks over an axis.

Arguments that make a check impossible (an affine unit for dimensional homogeneity, an axis
no input has) raise :class:`hypothesis.errors.InvalidArgument`, never a silent pass.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given
from hypothesis import settings as Settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ._errors import made_at, user_location
from ._launch import ProcessRun as ProcessRun
from ._launch import run_processes as run_processes
from ._quantity import Quantity
from ._records import RecordMismatch
from ._shapes import Anon, Dim, Item, Lin, Variadic
from ._spec import Port, Spec
from ._targets import call_target, convertible_units, outputs_by_name, spec_of, target_label
from ._tolerance import Mismatch, compare, magnitude_of, units_of
from ._units import get_registry, is_affine

__all__ = [
    "DEFAULT_SCALES",
    "ProcessRun",
    "assert_batch_consistent",
    "assert_dimensionally_homogeneous",
    "assert_modes_agree",
    "assert_permutation_equivariant",
    "assert_permutation_invariant",
    "assert_shape_polymorphic",
    "assert_unit_invariant",
    "property_test",
    "run_processes",
]

# Two sets of powers of two per base dimension. Powers of two scale floats exactly, so a
# homogeneous body gives bit-for-bit scaled results; two sets with unrelated exponents make it
# unlikely that a hard-coded constant's dimension cancels out in both.
DEFAULT_SCALES: tuple[dict[str, float], ...] = (
    {
        "[length]": 2.0**3,
        "[time]": 2.0**-2,
        "[mass]": 2.0**5,
        "[temperature]": 2.0**-1,
        "[current]": 2.0**4,
        "[substance]": 2.0**-3,
        "[luminosity]": 2.0,
    },
    {
        "[length]": 2.0**-1,
        "[time]": 2.0**3,
        "[mass]": 2.0**2,
        "[temperature]": 2.0**4,
        "[current]": 2.0**-3,
        "[substance]": 2.0,
        "[luminosity]": 2.0**-2,
    },
)
_OTHER_DIMENSION_SCALES = (2.0**2, 2.0**-3)  # a dimension defined by the user ([clicks])


def _spec(target: Any) -> Spec:
    spec = spec_of(target)
    if spec is None:
        raise InvalidArgument(f"target={target!r} must be a typedml stage or pipeline")
    return spec


def _check_inputs(spec: Spec, inputs: object) -> Mapping[str, Any]:
    if not isinstance(inputs, Mapping):
        raise InvalidArgument(f"inputs={inputs!r} must be a mapping of input names to values (tms.inputs draws one)")
    names = set(spec.input_names)
    mapping = _fields_apart(spec, cast("Mapping[str, Any]", inputs))
    given_names = {str(k) for k in mapping}
    if not names <= given_names or not given_names <= names | set(spec.static_names):
        raise InvalidArgument(
            f"inputs has {', '.join(sorted(given_names)) or 'nothing'}; {spec.name}() takes {', '.join(sorted(names))}"
            + (f" (and static {', '.join(spec.static_names)})" if spec.static_names else "")
        )
    return mapping


def _fields_apart(spec: Spec, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """``inputs`` by input port: a record input's fields each under its own name (``s.center``),
    so every property treats them as it treats any input."""
    if not spec.records:
        return inputs
    flat: dict[str, Any] = {}
    for name, value in inputs.items():
        record = spec.record(name)
        if record is None:
            flat[name] = value
            continue
        try:
            fields = record.flatten(value, (name,))
        except RecordMismatch as err:
            raise InvalidArgument(f"inputs[{name!r}]: {err}") from None
        flat.update(zip(spec.leaf_names(name), fields, strict=True))
    sizes, units = getattr(inputs, "sizes", None), getattr(inputs, "units", None)
    if isinstance(sizes, Mapping) and isinstance(units, Mapping):  # drawn: keep what was drawn
        from .strategies import Inputs

        return Inputs(flat, sizes=cast("Mapping[str, Any]", sizes), units=cast("Mapping[str, str]", units))
    return flat


def _context(inputs: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    sizes = getattr(inputs, "sizes", None)
    if sizes:
        lines.append(f"sizes: {sizes!r}")
    unit_vars = getattr(inputs, "units", None)
    if isinstance(unit_vars, Mapping) and unit_vars:
        lines.append(f"unit variables: {dict(unit_vars)!r}")  # pyright: ignore[reportUnknownArgumentType]
    parts: list[str] = []
    for name, value in inputs.items():
        units = units_of(value)
        if units is None and not hasattr(value, "shape"):
            parts.append(f"{name}={value!r}")
            continue
        shape = magnitude_of(value).shape
        parts.append(f"{name}: {_unit_text(units)}" + ("" if shape is None else f", shape {shape}"))
    lines.append("inputs: " + "; ".join(parts))
    return lines


def _fail(title: str, lines: Sequence[str], hint: str | None = None) -> None:
    text = title + "".join(f"\n    {line}" for line in lines)
    if hint:
        text += f"\n    hint: {hint}"
    raise AssertionError(text)


def _unit_text(units: Any) -> str:
    """A quantity's unit as text: a pint unit, or the text a ``tm.Quantity`` keeps."""
    if units is None:
        return "no unit"
    return format(get_registry().Unit(units), "~") or "dimensionless"


# -- dimensional homogeneity --------------------------------------------------------------


def _dimensions(units: Any) -> dict[str, float]:
    if units is None:
        return {}
    registry = get_registry()
    dims = registry.get_dimensionality(units)
    return {str(d): float(e) for d, e in dims.items()}


def _factor(dims: Mapping[str, float], scales: Mapping[str, float], fallback: float) -> float:
    return math.prod(scales.get(d, fallback) ** e for d, e in dims.items())


def _refuse_affine(spec: Spec, where: str, units: Any) -> None:
    if units is not None and is_affine(get_registry().Unit(units)):
        raise InvalidArgument(
            f"dimensional homogeneity does not apply to {where} of {spec.name}(): {_unit_text(units)} is an "
            "affine unit (its zero is not the absolute zero), so rescaling temperature does not scale its values; "
            "check the stage with absolute units (K) or use assert_unit_invariant"
        )


def _explain(ratios: Sequence[float], scale_sets: Sequence[Mapping[str, float]], dims: Sequence[str]) -> str | None:
    """The dimension of a constant that would explain the observed factors, if one small one does."""
    if not dims or len(dims) > 4 or any(r <= 0 or not math.isfinite(r) for r in ratios):
        return None
    logs = [math.log2(r) for r in ratios]
    if any(abs(v - round(v)) > 1e-3 for v in logs):
        return None
    solutions: list[tuple[int, ...]] = []
    for exps in itertools.product(range(-3, 4), repeat=len(dims)):
        if not any(exps):
            continue
        if all(
            abs(sum(e * math.log2(s.get(d, 1.0)) for e, d in zip(exps, dims, strict=True)) + v) < 1e-6
            for s, v in zip(scale_sets, logs, strict=True)
        ):
            solutions.append(exps)
    if len(solutions) != 1:
        return None
    parts = [f"{d}" + ("" if e == 1 else f"**{e}") for e, d in zip(solutions[0], dims, strict=True) if e > 0]
    below = [f"{d}" + ("" if e == -1 else f"**{-e}") for e, d in zip(solutions[0], dims, strict=True) if e < 0]
    text = " * ".join(parts) or "1"
    if below:
        text += " / " + (below[0] if len(below) == 1 else "(" + " * ".join(below) + ")")
    return text


def assert_dimensionally_homogeneous(
    target: Any, inputs: Mapping[str, Any], *, scales: Mapping[str, float] | None = None, rtol: float | None = None
) -> None:
    """Re-scaling base dimensions scales every output as its unit says.

    Each input quantity's numbers are multiplied by ``prod(scale[d] ** exponent)`` over the
    base dimensions of its unit (its unit unchanged), as if measured in another unit system;
    each output must come out multiplied by its own unit's factor. ``scales`` maps base
    dimensions (``"[length]"``) to factors; by default two sets of powers of two are tried
    (:data:`DEFAULT_SCALES`). Affine units (degC) raise ``InvalidArgument``.
    """
    spec = _spec(target)
    values = _check_inputs(spec, inputs)
    if scales is not None and (
        not isinstance(scales, Mapping) or not all(isinstance(v, int | float) and v > 0 for v in scales.values())  # pyright: ignore[reportUnnecessaryIsInstance]
    ):
        raise InvalidArgument(f"scales={scales!r} must map base dimensions such as '[length]' to positive factors")
    scale_sets: Sequence[Mapping[str, float]] = DEFAULT_SCALES if scales is None else (scales,)
    for name, value in values.items():
        units = units_of(value)
        _refuse_affine(spec, f"input {name!r}", units)
        if units is not None and magnitude_of(value).dtype.kind not in "fc" and _dimensions(units):
            raise InvalidArgument(
                f"input {name!r} of {spec.name}() holds {magnitude_of(value).dtype} numbers in {_unit_text(units)}; "
                "integers cannot be rescaled exactly, so dimensional homogeneity needs float inputs"
            )
    for port in spec.outputs:  # declared concrete units: refused before anything runs
        unit = port.type.unit if port.type is not None else None
        if unit is not None and not unit.variables:
            _refuse_affine(spec, f"output {port.name!r}", unit.resolve_concrete(get_registry()))
    base = call_target(target, values)
    for name, out in base.items():
        _refuse_affine(spec, f"output {name!r}", units_of(out))
    involved = sorted(
        {d for v in (*values.values(), *base.values()) for d in _dimensions(units_of(v))}, key=lambda d: d.strip("[]")
    )
    failures: list[tuple[str, float, float, Mismatch, Mapping[str, float]]] = []
    ratio_sets: dict[str, list[float]] = {}
    for i, scale in enumerate(scale_sets):
        fallback = _OTHER_DIMENSION_SCALES[i % 2]
        scaled: dict[str, Any] = {}
        for name, value in values.items():
            units = units_of(value)
            if units is None:
                scaled[name] = value
                continue
            factor = _factor(_dimensions(units), scale, fallback)
            mag = magnitude_of(value)
            scaled[name] = get_registry().Quantity((mag * factor).astype(mag.dtype), units)
        outs = call_target(target, scaled)
        for name, out in outs.items():
            units = units_of(base[name])
            expected_factor = _factor(_dimensions(units), scale, fallback)
            want = magnitude_of(base[name])
            expected = (want.astype(np.float64) * expected_factor).astype(want.dtype)
            got = magnitude_of(out)
            mismatch = compare(got, expected, rtol)
            with np.errstate(divide="ignore", invalid="ignore"):
                usable = np.isfinite(want) & (np.abs(want) > 0) & np.isfinite(got)
                ratio = float(np.median(got[usable] / want[usable])) if np.any(usable) else math.nan
            ratio_sets.setdefault(name, []).append(ratio / expected_factor if expected_factor else math.nan)
            if mismatch is not None:
                failures.append((name, expected_factor, ratio, mismatch, scale))
    if not failures:
        return
    name, expected_factor, ratio, mismatch, scale = failures[0]
    units = units_of(base[name])
    shown_scales = ", ".join(f"{d} × {scale.get(d, _OTHER_DIMENSION_SCALES[0]):g}" for d in involved) or "none"
    lines = [
        f"base dimensions rescaled: {shown_scales}",
        f"expected output {name!r} ({_unit_text(units)}) × {expected_factor:g}; found × {ratio:g} (median ratio)",
        mismatch.describe(),
        *_context(values),
    ]
    culprit = _explain(ratio_sets[name], scale_sets, involved) if len(ratio_sets[name]) == len(scale_sets) else None
    hint = "a number with a dimension is written as a plain constant in the body; make it an input with its unit"
    if culprit is not None:
        hint = f"the body behaves as if it hard-codes a constant of dimension {culprit}; " + hint
    _fail(
        f"dimensional homogeneity fails for {target_label(target)}: output {name!r} does not scale with its unit",
        lines,
        hint,
    )


# -- unit invariance ----------------------------------------------------------------------


def assert_unit_invariant(
    target: Any, inputs: Mapping[str, Any], *, units: Mapping[str, str] | None = None, rtol: float | None = None
) -> None:
    """The same input quantities in other convertible units give the same physical outputs.

    ``units`` maps input names to the unit to express them in; by default each float input
    with a unit is expressed in the first other unit :mod:`typedml.strategies` would draw
    (``m`` → ``km``, ``mV`` → ``V``, ``degC`` → ``K``). Outputs are compared after conversion
    back to the units of the first run.
    """
    spec = _spec(target)
    values = _check_inputs(spec, inputs)
    registry = get_registry()
    chosen: dict[str, Any] = {}
    for name, unit in (units or {}).items():
        if name not in values or units_of(values[name]) is None:
            raise InvalidArgument(f"units names {name!r}, which is no input with a unit of {spec.name}()")
        chosen[name] = registry.Unit(unit)
    if units is None:
        for name, value in values.items():
            u = units_of(value)
            if u is None or magnitude_of(value).dtype.kind not in "fc":
                continue
            others = convertible_units(registry.Unit(u))[1:]
            if others:
                chosen[name] = others[0]
    if not chosen:
        raise InvalidArgument(f"no input of {spec.name}() has a float value with a unit another unit could express")
    converted = dict(values)
    for name, unit in chosen.items():
        value = values[name]
        mag = magnitude_of(value)
        converted[name] = registry.Quantity(
            np.asarray(registry.Quantity(mag.astype(np.float64), units_of(value)).to(unit).magnitude).astype(mag.dtype),
            unit,
        )
    base = call_target(target, values)
    other = call_target(target, converted)
    for name, out in base.items():
        u = units_of(out)
        found = other[name]
        if u is not None:
            found_mag = np.asarray(
                registry.Quantity(magnitude_of(found).astype(np.float64), units_of(found)).to(u).magnitude
            )
        else:
            found_mag = magnitude_of(found)
        mismatch = compare(found_mag.astype(magnitude_of(out).dtype), out, rtol)
        if mismatch is not None:
            changed = ", ".join(f"{n}: {_unit_text(units_of(values[n]))} -> {format(chosen[n], '~')}" for n in chosen)
            _fail(
                f"unit invariance fails for {target_label(target)}: output {name!r} changes when inputs change unit",
                [
                    f"inputs re-expressed: {changed}",
                    f"output {name!r} compared in {_unit_text(u)}",
                    mismatch.describe(),
                    *_context(values),
                ],
                "the body depends on the unit its inputs arrive in: a conversion is missing or applied twice",
            )


# -- shapes ---------------------------------------------------------------------------------


def _expected_shape(dims: Sequence[Item], sizes: Mapping[str, Any]) -> list[int | None] | None:
    """Declared dims evaluated at ``sizes``; None entries match any size; None if undecidable."""
    shape: list[int | None] = []
    for item in dims:
        if isinstance(item, Anon):
            shape.append(None)
        elif isinstance(item, Variadic):
            if item.name is None or item.name not in sizes or item.broadcast:
                return None
            shape += list(sizes[item.name])
        elif item.term is None or any(v not in sizes for v in item.term.vars()) or item.broadcast:
            shape.append(None)
        else:
            value = item.term.substitute(lambda v: Lin.fixed(int(sizes[v])))
            shape.append(value.const if value.is_const else None)
    return shape


def assert_shape_polymorphic(target: Any, inputs: Mapping[str, Any]) -> None:
    """Outputs have the declared shapes (at the drawn sizes) and dtype families.

    Run over drawn inputs, this checks that the body works for any size, not only the ones
    it was written for.
    """
    spec = _spec(target)
    values = _check_inputs(spec, inputs)
    sizes = getattr(values, "sizes", None)
    if not isinstance(sizes, Mapping):
        raise InvalidArgument("inputs must be drawn by typedml.strategies.inputs (it records the sizes drawn)")
    outs = call_target(target, values)
    for port in spec.outputs:
        if port.type is None:
            continue
        got = magnitude_of(outs[port.name])
        want = _expected_shape(port.type.dims, sizes)  # pyright: ignore[reportUnknownArgumentType]
        wrong_shape = want is not None and (
            len(want) != got.ndim or any(w is not None and w != g for w, g in zip(want, got.shape, strict=False))
        )
        allowed = port.type.dtypes
        wrong_dtype = (
            allowed is not None
            and got.dtype.name not in allowed
            and not (got.dtype.name == "bool" and "bool_" in allowed)
        )
        if wrong_shape or wrong_dtype:
            shown = "?" if want is None else "(" + ", ".join("_" if w is None else str(w) for w in want) + ")"
            _fail(
                f"shape polymorphism fails for {target_label(target)}: output {port.name!r} is not what it declares",
                [
                    f"declared {port.type.dtype_family}[{port.type.dim_str!r}] -> {shown} at these sizes",
                    f"found {got.dtype}{tuple(got.shape)}",
                    *_context(values),
                ],
                "the body assumes a particular size (a hard-coded length, a reshape to a constant)",
            )


# -- batch consistency, permutations ------------------------------------------------------------


def _axis_of(port: Port, axis: str) -> int | None:
    """Index of the plain axis ``axis`` in ``port`` (negative after a variadic); None if absent."""
    if port.type is None:
        return None
    dims = port.type.dims
    for i, item in enumerate(dims):
        if isinstance(item, Dim) and item.term is not None and item.term.terms == ((axis, 1),) and item.term.const == 0:
            if any(isinstance(d, Variadic) for d in dims[:i]):
                return i - len(dims)
            return i
    return None


def _axis_sizes(spec: Spec, values: Mapping[str, Any], axis: str) -> dict[str, int]:
    """Inputs that carry ``axis`` at full size: name -> axis index."""
    found: dict[str, int] = {}
    sizes: set[int] = set()
    for port in spec.inputs:
        index = _axis_of(port, axis)
        if index is None:
            continue
        shape = magnitude_of(values[port.name]).shape
        if -len(shape) <= index < len(shape):
            sizes.add(shape[index])
            found[port.name] = index
    if not found:
        raise InvalidArgument(f"axis={axis!r} is no axis of any input of {spec.name}()")
    full = max(sizes)
    return {n: i for n, i in found.items() if magnitude_of(values[n]).shape[i] == full}


def _as_jax(value: Any) -> jax.Array:
    return jnp.asarray(value)  # pyright: ignore[reportUnknownMemberType]


def _quantity_like(template: Any, magnitude: Any) -> Any:
    units = units_of(template)
    if units is None:
        return magnitude
    return Quantity(magnitude, str(units))


def assert_batch_consistent(target: Any, inputs: Mapping[str, Any], *, axis: str, rtol: float | None = None) -> None:
    """A call on the whole batch equals per-item calls mapped with :func:`jax.vmap` over ``axis``.

    ``axis`` names a shape variable (``"batch"``). Each item is called with that axis of
    size 1; every output must carry ``axis`` too. Inputs without the axis are shared.
    """
    spec = _spec(target)
    values = _check_inputs(spec, inputs)
    batched = _axis_sizes(spec, values, axis)
    out_axes: list[int] = []
    for port in spec.outputs:
        index = _axis_of(port, axis)
        if index is None:
            raise InvalidArgument(
                f"output {port.name!r} of {spec.name}() has no axis {axis!r}: a result that mixes items is not per item"
            )
        out_axes.append(index)
    names = list(batched)
    shared = {n: v for n, v in values.items() if n not in batched}

    def per_item(*items: Any) -> tuple[Any, ...]:
        call = dict(shared)
        for name, item in zip(names, items, strict=True):
            call[name] = _quantity_like(values[name], jnp.expand_dims(item, batched[name]))
        outs = call_target(target, call)
        return tuple(
            jnp.squeeze(_as_jax(getattr(o, "magnitude", o)), axis=a)
            for o, a in zip(outs.values(), out_axes, strict=True)
        )

    whole = call_target(target, values)
    vmapped = jax.vmap(per_item, in_axes=tuple(batched[n] for n in names), out_axes=tuple(out_axes))
    mapped = vmapped(*[_as_jax(magnitude_of(values[n])) for n in names])
    for (name, out), item_out in zip(whole.items(), mapped, strict=True):
        mismatch = compare(np.asarray(item_out), out, rtol)
        if mismatch is not None:
            _fail(
                f"batch consistency fails for {target_label(target)}: output {name!r} over {axis!r} differs from per-item calls",
                [mismatch.describe(), *_context(values)],
                f"items along {axis!r} influence each other (a reduction or normalisation over the batch axis?)",
            )


def _permute(
    spec: Spec, values: Mapping[str, Any], axis: str, permutation: Sequence[int] | None
) -> tuple[dict[str, Any], np.ndarray[Any, Any]]:
    batched = _axis_sizes(spec, values, axis)
    size = magnitude_of(values[next(iter(batched))]).shape[next(iter(batched.values()))]
    perm: np.ndarray[Any, Any]
    if permutation is None:
        perm = np.roll(np.arange(int(size)), 1)
    else:
        perm = np.asarray(permutation)
        if sorted(perm.tolist()) != list(range(size)):
            raise InvalidArgument(f"permutation={permutation!r} is not a permutation of range({size}) (axis {axis!r})")
    permuted = dict(values)
    for name, index in batched.items():
        permuted[name] = _quantity_like_pint(values[name], np.take(magnitude_of(values[name]), perm, axis=index))
    return permuted, perm


def _quantity_like_pint(template: Any, magnitude: Any) -> Any:
    units = units_of(template)
    return magnitude if units is None else get_registry().Quantity(magnitude, units)


def assert_permutation_invariant(
    target: Any,
    inputs: Mapping[str, Any],
    *,
    axis: str,
    permutation: Sequence[int] | None = None,
    rtol: float | None = None,
) -> None:
    """Permuting ``axis`` in every input that has it leaves every output unchanged.

    ``permutation`` defaults to a cyclic shift by one; draw one with
    ``st.permutations(range(n))`` to explore others.
    """
    spec = _spec(target)
    values = _check_inputs(spec, inputs)
    permuted, perm = _permute(spec, values, axis, permutation)
    base = call_target(target, values)
    other = call_target(target, permuted)
    for name, out in base.items():
        mismatch = compare(other[name], out, rtol)
        if mismatch is not None:
            _fail(
                f"permutation invariance fails for {target_label(target)}: output {name!r} changes when {axis!r} is permuted",
                [f"permutation: {perm.tolist()}", mismatch.describe(), *_context(values)],
            )


def assert_permutation_equivariant(
    target: Any,
    inputs: Mapping[str, Any],
    *,
    axis: str,
    permutation: Sequence[int] | None = None,
    rtol: float | None = None,
) -> None:
    """Permuting ``axis`` in the inputs permutes ``axis`` of the outputs the same way.

    Outputs without ``axis`` must be unchanged (invariant).
    """
    spec = _spec(target)
    values = _check_inputs(spec, inputs)
    permuted, perm = _permute(spec, values, axis, permutation)
    base = call_target(target, values)
    other = call_target(target, permuted)
    for port in spec.outputs:
        name = port.name
        index = _axis_of(port, axis)
        want = magnitude_of(base[name])
        if index is not None:
            want = np.take(want, perm, axis=index)
        mismatch = compare(other[name], want, rtol)
        if mismatch is not None:
            _fail(
                f"permutation equivariance fails for {target_label(target)}: output {name!r} does not follow the permutation of {axis!r}",
                [f"permutation: {perm.tolist()}", mismatch.describe(), *_context(values)],
            )


# -- modes ---------------------------------------------------------------------------------------


def _eager_outputs(target: Any, spec: Spec, values: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs of a stage-by-stage eager run: the pipeline's own ``debug`` run where it has one."""
    static = {k: v for k, v in values.items() if k in spec.static_names}
    arrays = {k: v for k, v in values.items() if k not in static}
    if hasattr(target, "as_pipeline"):
        runner = target.as_pipeline(**static)
    else:
        runner = target.configure(**static) if static and hasattr(target, "configure") else target
    debug = getattr(runner, "debug", None)
    if callable(debug):
        result = getattr(debug(**spec.group_inputs(arrays)), "outputs", None)
        if result is not None:
            return outputs_by_name(spec, result)
    with jax.disable_jit():
        return call_target(target, values)


def assert_modes_agree(target: Any, inputs: Mapping[str, Any], *, rtol: float | None = None) -> None:
    """The fused ``jax.jit`` run agrees with an eager run that executes stage by stage.

    The eager run is the pipeline's ``debug`` run where it has one (stage by stage, each
    stage's inputs and outputs checked), else the same pipeline under :func:`jax.disable_jit`:
    every stage body runs op by op on concrete arrays, as written. Floats agree within a tolerance for their dtype
    (fusion may reorder reductions); integers and booleans exactly.
    """
    spec = _spec(target)
    values = _check_inputs(spec, inputs)
    fused = call_target(target, values)
    eager = _eager_outputs(target, spec, values)
    for name, out in eager.items():
        mismatch = compare(fused[name], out, rtol)
        if mismatch is not None:
            _fail(
                f"modes disagree for {target_label(target)}: output {name!r} of the jit-compiled run differs from the eager run",
                [mismatch.describe(), *_context(values)],
                "a body that depends on evaluation order or on Python-side state, or a tolerance too tight for the dtype",
            )


# -- ready-made tests ----------------------------------------------------------------------------


def property_test(
    assertion: Callable[..., None],
    target: Any,
    *,
    strategy: st.SearchStrategy[Any] | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> Callable[[], None]:
    """A ready-made test: ``assertion(target, drawn, **options)`` for inputs drawn by ``strategy``.

    ``strategy`` defaults to :func:`typedml.strategies.inputs` of ``target``; ``settings``
    defaults to the current profile with no deadline (the first call compiles). Assign it to a
    ``test_*`` name in a test module::

        test_fall_is_homogeneous = tmt.property_test(tmt.assert_dimensionally_homogeneous, fall)
    """
    from .strategies import inputs

    spec = _spec(target)
    if not callable(assertion):
        raise InvalidArgument(f"assertion={assertion!r} must be one of the typedml.testing assert_* functions")
    try:  # options the assertion cannot take, or one it needs (axis=), said now, not once per example
        inspect.signature(assertion).bind(target, {}, **options)
    except TypeError as err:
        name = getattr(assertion, "__name__", repr(assertion))
        raise InvalidArgument(f"{name}() cannot run with options {options!r}: {err}") from None
    except ValueError:  # no signature to read (a builtin): the first example will say
        pass
    drawn = strategy if strategy is not None else inputs(target)
    where = user_location()  # the line that made this test: errors raised under hypothesis name it

    def check(ins: Any) -> None:
        with made_at(where):
            assertion(target, ins, **options)

    test = given(drawn)(check)
    test = (settings if settings is not None else Settings(deadline=None))(test)
    name = getattr(assertion, "__name__", "property").removeprefix("assert_")
    test.__name__ = test.__qualname__ = f"test_{name}_{spec.name}"
    return test
