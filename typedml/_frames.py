"""Absolute vs difference: a body's arithmetic on offset units compared with what it declares.

degC and degF are *absolute* temperatures with an arbitrary zero; a difference of two of them
is in delta_degC. A stage's ports say which they hold (``'u`` or ``delta('u)``, ``degC`` or
``delta_degC``), and typedml converts accordingly: a temperature to K adds 273.15, a
difference does not. A body can contradict its declaration, and neither the unit check nor
the shape check sees it. This check runs the body on made-up values (no user data) wherever
a stage call gets an offset unit, twice: once in that unit, once with the same temperatures
expressed in the absolute unit (K). Then:

- A stage generic in ``'u`` (bound to degC here) cannot know the unit's zero, so each output
  must follow the conversion its declaration implies: ``'u`` moves with the offset,
  ``delta('u)`` and unit-free outputs do not. A body whose result does not move although
  declared ``'u`` computes a difference (**TM370**); one whose result changes in any other
  way depends on the zero of the scale (**TM371**: ``1 - cold / hot`` in degC is not a Carnot
  efficiency).
- A stage with concrete offset units (``t0: degC, t1: degC -> degC``) may mean its unit's zero
  (``t < 0`` is freezing), so only a provable difference is flagged (TM370): an output declared
  absolute that does not move when every absolute input moves by the same amount, doubles
  when they double, and does depend on them (``t1 - t0``, a spread).

A body that fails or returns NaN on the made-up values, or takes a pytree, is not compared
(an info, TM372).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from ._abstract import AbstractInputs, Skip
from ._errors import Diagnostic
from ._graph import _current as _current_tracer  # pyright: ignore[reportPrivateUsage]
from ._locations import return_location
from ._spec import Port, Spec
from ._units import OffsetUnitError, UType, conversion, get_registry, is_affine, unit_text

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["check_frames"]

_cache: dict[tuple[Any, ...], tuple[Diagnostic, ...]] = {}


def check_frames(graph: nx.MultiDiGraph[str], node_bindings: Mapping[str, Mapping[str, UType]]) -> list[Diagnostic]:
    """TM370-TM372 for every stage call of ``graph`` that gets an offset unit."""
    from ._body import _static_key  # pyright: ignore[reportPrivateUsage]

    found: list[Diagnostic] = []
    seen: set[tuple[Any, ...]] = set()
    registry = get_registry()
    for node, data in graph.nodes(data=True):
        if data["kind"] != "stage" or data.get("invalid"):
            continue
        spec: Spec = data["spec"]
        bindings = dict(node_bindings.get(node, {}))
        affine = {v: b for v, b in bindings.items() if not b.rigid and _affine(b.unit)}
        concrete = [p for p in _array_ports(spec) if _concrete_affine(p, registry)]
        if not affine and not concrete:
            continue
        fn = data["callee"].fn
        key = (
            fn,
            _static_key(data["static"]),
            tuple(sorted((v, str(b)) for v, b in bindings.items())),
            id(registry),
        )
        if key in seen:
            continue
        seen.add(key)
        if key not in _cache:
            try:
                _cache[key] = tuple(_Frames(fn, spec, data["static"], bindings, affine).run())
            except Exception:  # noqa: BLE001 - a check that cannot run claims nothing
                _cache[key] = ()
        found.extend(_cache[key])
    return found


def _affine(unit: Any) -> bool:
    try:
        return is_affine(unit)
    except Exception:  # noqa: BLE001
        return False


def _array_ports(spec: Spec) -> list[Port]:
    return [p for p in (*spec.inputs, *spec.outputs) if p.type is not None]


def _concrete_affine(port: Port, registry: Any) -> bool:
    t = port.type
    if t is None or t.unit is None or t.unit.variables or not t.unit.concrete:
        return False
    try:
        return _affine(t.unit.resolve_concrete(registry))
    except Exception:  # noqa: BLE001
        return False


@dataclasses.dataclass
class _Probe:
    inputs: dict[str, Any]
    outputs: dict[str, np.ndarray]


class _Frames:
    def __init__(
        self,
        fn: Callable[..., Any],
        spec: Spec,
        static: Mapping[str, Any],
        bindings: dict[str, UType],
        affine: dict[str, UType],
    ) -> None:
        self.fn = fn
        self.spec = spec
        self.static = dict(static)
        self.bindings = bindings
        self.affine = affine
        self.registry = get_registry()
        self.rng = np.random.default_rng(20240601)
        self.found: list[Diagnostic] = []

    def run(self) -> list[Diagnostic]:
        if any(p.type is None for p in self.spec.inputs):
            return self._unchecked("it takes a pytree value")
        checker = AbstractInputs(self.spec, self.static, {})
        try:
            self.kwargs = checker._static_kwargs()  # pyright: ignore[reportPrivateUsage]
            checker._collect_symbols()  # pyright: ignore[reportPrivateUsage]
            self.shapes = checker._inputs(checker._prime_env())  # pyright: ignore[reportPrivateUsage]
        except Skip as skip:
            return self._unchecked(str(skip))
        if self.affine:
            return self._generic()
        return self._concrete()

    # -- a stage generic in 'u, with 'u an offset unit here --------------------------------
    def _generic(self) -> list[Diagnostic]:
        absolute = {v: self._absolute(b) for v, b in self.affine.items()}
        other = self.bindings | absolute
        conversions: dict[str, tuple[float, float]] = {}
        for port in _array_ports(self.spec):
            t = port.type
            assert t is not None
            if t.unit is None or not set(t.unit.var_names) & set(self.affine):
                conversions[port.name] = (1.0, 0.0)
                continue
            try:
                here = t.unit.substitute(self.registry, self.bindings)
                there = t.unit.substitute(self.registry, other)
                conv = conversion(here, there)
            except (OffsetUnitError, KeyError):
                return []  # an offset unit in a product: TM108 says so already
            if conv is None:
                return []
            conversions[port.name] = conv
        values = self._draw()
        moved = {
            name: (np.asarray(x, np.float64) * conversions[name][0] + conversions[name][1]).astype(np.asarray(x).dtype)
            for name, x in values.items()
        }
        first, second = self._run(values), self._run(moved)
        if first is None or second is None:
            return self._unchecked("its body failed or returned NaN on the values made up to compare")
        varied = self._run(self._draw())
        var_text = ", ".join(f"'{v} = {unit_text(b.unit)}" for v, b in self.affine.items())
        to_text = ", ".join(f"{unit_text(b.unit)} to {unit_text(absolute[v].unit)}" for v, b in self.affine.items())
        for port in self.spec.outputs:
            if port.name not in first or port.type is None:
                continue
            a, b = first[port.name], second[port.name]
            scale, offset = conversions[port.name]
            expected = a * scale + offset
            tolerance = 1e-3 * max(1.0, float(np.max(np.abs(b))), abs(offset))
            if float(np.max(np.abs(expected - b))) <= tolerance:
                continue
            declared = port.type.unit
            absolute_out = declared is not None and declared.is_plain and not declared.deltas and offset != 0.0
            constant = varied is not None and float(np.max(np.abs(varied[port.name] - a))) <= tolerance
            same = float(np.max(np.abs(a * scale - b))) <= tolerance
            label = "its return value" if port.name == "return" else f"output {port.name!r}"
            moved = self._as_absolute(declared)
            if moved is not None and not constant and float(np.max(np.abs(a * moved[0] + moved[1] - b))) <= tolerance:
                self._error(
                    "TM370",
                    port,
                    f"body of stage {self.spec.name!r} computes an absolute temperature but declares {label} "
                    f"a difference ({port.type.unit}, {var_text})",
                    (
                        f"with its inputs converted from {to_text}, {label} moved by the offset ({moved[1]:g}) as a "
                        "temperature does; a difference would not move",
                    ),
                    "declare it 'u (an absolute temperature), or compute the difference the declaration promises",
                )
                continue
            if absolute_out and same and not constant:
                delta = _delta_text(port.type.unit.text if port.type.unit else "")
                self._error(
                    "TM370",
                    port,
                    f"body of stage {self.spec.name!r} computes a difference of temperatures but declares "
                    f"{label} an absolute temperature ({port.type.unit}, {var_text})",
                    (
                        f"with its inputs converted from {to_text}, {label} did not move by the offset "
                        f"({offset:g}): it is a difference, and converting it as a temperature adds {offset:g}",
                    ),
                    f"declare it {delta}: a difference converts without the offset (degC becomes delta_degC)",
                )
                continue
            self._error(
                "TM371",
                port,
                f"body of stage {self.spec.name!r} gives a result that depends on the zero of the temperature "
                f"scale ({var_text})",
                (
                    f"with its inputs converted from {to_text}, {label} was {_sample(expected)} "
                    f"(expected, converted) but {_sample(b)} (computed)",
                    "ratios, products and powers of absolute temperatures need an absolute unit (K, degR)",
                ),
                "declare the ports it divides or multiplies in K (typedml converts degC on the way in), "
                "or compute only with differences of 'u",
            )
        return self.found

    def _as_absolute(self, declared: Any) -> tuple[float, float] | None:
        """The conversion an output declared ``delta('u)`` would get were it declared ``'u``."""
        if declared is None or not declared.is_plain or not declared.deltas:
            return None
        var = declared.var_names[0]
        if var not in self.affine:
            return None
        return conversion(self.affine[var], self._absolute(self.affine[var]))

    def _absolute(self, unit: UType) -> UType:
        base = self.registry.Quantity(0.0, unit.unit).to_base_units().units
        return UType(base, unit.rigid)

    # -- a stage with concrete offset units ---------------------------------------------------
    def _concrete(self) -> list[Diagnostic]:
        targets = {p.name for p in self.spec.inputs if _concrete_affine(p, self.registry)}
        outputs = [p for p in self.spec.outputs if _concrete_affine(p, self.registry)]
        if not targets or not outputs:
            return []
        values = self._draw(absolute=targets)
        shifted = {n: (x + 10.0 if n in targets else x) for n, x in values.items()}
        doubled = {n: (x * 2.0 if n in targets else x) for n, x in values.items()}
        first, second, third = self._run(values), self._run(shifted), self._run(doubled)
        varied = self._run(self._draw(absolute=targets))
        if first is None or second is None or third is None or varied is None:
            return self._unchecked("its body failed or returned NaN on the values made up to compare")
        for port in outputs:
            a, b, c, d = first[port.name], second[port.name], third[port.name], varied[port.name]
            tolerance = 1e-3 * max(1.0, float(np.max(np.abs(a))))
            invariant = float(np.max(np.abs(a - b))) <= tolerance
            homogeneous = float(np.max(np.abs(2.0 * a - c))) <= 2 * tolerance
            depends = float(np.max(np.abs(a - d))) > tolerance
            if invariant and homogeneous and depends:
                label = "its return value" if port.name == "return" else f"output {port.name!r}"
                assert port.type is not None and port.type.unit is not None
                unit = port.type.unit.concrete
                self._error(
                    "TM370",
                    port,
                    f"body of stage {self.spec.name!r} computes a difference of temperatures but declares "
                    f"{label} an absolute temperature ({unit})",
                    (
                        f"moving every absolute input ({', '.join(sorted(targets))}) by the same amount leaves "
                        f"{label} unchanged: it is a difference of them",
                        "a difference in degC converts to K without the offset; declared degC, it gains 273.15",
                    ),
                    f"declare it {_delta_text(unit)}",
                )
        return self.found

    # -- running the body -------------------------------------------------------------------
    def _draw(self, absolute: set[str] | None = None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for port in self.spec.inputs:
            shape_dtype = self.shapes[port.name]
            shape, dtype = tuple(int(s) for s in shape_dtype.shape), np.dtype(shape_dtype.dtype)
            t = port.type
            assert t is not None
            if dtype == np.bool_:
                values[port.name] = self.rng.random(shape) < 0.5
                continue
            if np.issubdtype(dtype, np.integer):
                values[port.name] = self.rng.integers(1, 4, shape).astype(dtype)
                continue
            unit = t.unit
            if (absolute is not None and port.name in absolute) or (
                unit is not None and unit.is_plain and not unit.deltas and unit.var_names[0] in self.affine
            ):
                low, high = 5.0, 35.0
            elif unit is not None and (unit.variables or unit.concrete):
                low, high = 0.5, 3.0
            else:
                low, high = 0.1, 0.9
            values[port.name] = self.rng.uniform(low, high, shape).astype(dtype)
        return values

    def _run(self, values: Mapping[str, Any]) -> dict[str, np.ndarray] | None:
        body = self.spec.port_function(functools.partial(self.fn, **self.kwargs))  # records from their fields
        token = _current_tracer.set(None)
        try:
            result = body(**{k: jnp.asarray(v) for k, v in values.items()})  # pyright: ignore[reportUnknownMemberType]
        except Exception:  # noqa: BLE001 - reported as unchecked
            return None
        finally:
            _current_tracer.reset(token)
        outputs = self.spec.outputs
        several = self.spec.output_record is not None or self.spec.output_tuple is not None
        found: list[Any] = list(cast("tuple[Any, ...]", result)) if several else [result]
        if len(found) != len(outputs):
            return None
        out: dict[str, np.ndarray] = {}
        for port, value in zip(outputs, found, strict=True):
            if port.type is None or not isinstance(value, jax.Array | np.ndarray):
                continue
            raw: np.ndarray = np.asarray(cast(Any, value))
            if not np.issubdtype(raw.dtype, np.number):
                continue
            array = raw.astype(np.float64)
            if not np.all(np.isfinite(array)):
                return None
            out[port.name] = array
        return out

    # -- diagnostics ----------------------------------------------------------------------------
    def _error(self, code: str, port: Port, message: str, notes: tuple[str, ...], hint: str) -> None:
        self.found.append(
            Diagnostic(
                code,
                message,
                return_location(self.fn, self.spec.location),
                notes=(*notes, "compared on made-up values, no data: the body ran twice, in two units"),
                hint=hint,
                stage=self.spec.name,
                port=port.name,
            )
        )

    def _unchecked(self, why: str) -> list[Diagnostic]:
        return [
            Diagnostic(
                "TM372",
                f"absolute vs difference not checked for stage {self.spec.name!r}: {why}",
                self.spec.location,
                severity="info",
                notes=("it gets an offset unit (degC, degF) here; its declared units are trusted",),
                stage=self.spec.name,
            )
        ]


def _delta_text(unit: str) -> str:
    text = unit.strip()
    if text.startswith("'"):
        return f"delta({text})"
    return {"degC": "delta_degC", "degF": "delta_degF", "°C": "delta_degC", "°F": "delta_degF"}.get(
        text, f"delta_{text}"
    )


def _sample(values: np.ndarray) -> str:
    flat = np.ravel(values)
    shown = ", ".join(f"{v:.4g}" for v in flat[:3])
    return f"[{shown}{', ...' if flat.size > 3 else ''}]"
