"""Unit checks of the build-time checker: unit variables solved per call, a conversion per edge.

A mixin of the checker in ``typedml._check`` (as :mod:`typedml._check_sizes` is for sizes):
the unit variables of each call are solved from the units reaching it (the simplest
equations first), every edge whose units differ but convert gets a ``(scale, offset)``
conversion (affine units and integer dtypes included), an edge whose dimensions differ is an
error, and each output's unit follows from the bindings.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ._angles import angle_assumption, angle_hint
from ._annotations import ArrayType
from ._check_parts import CheckerPart, EdgeKey
from ._errors import Diagnostic, Location, Related
from ._graph import value_label
from ._source import silenced
from ._spec import Port, Spec
from ._units import OffsetUnitError, UnitExpr, UType, conversion, is_affine, solve_unit_vars, unit_text

if TYPE_CHECKING:
    pass

__all__ = ["INT_DTYPES", "UnitChecks"]

_origin = value_label
INT_DTYPES = frozenset(f"{p}int{b}" for p in ("", "u") for b in (2, 4, 8, 16, 32, 64)) | {"bool", "bool_"}


class UnitChecks(CheckerPart):
    """The unit half of the checker; the checker provides the state and ``_report``/``_where``."""

    registry: Any
    rigid_units: dict[str, UType]
    units: dict[tuple[str, str], UType | None]
    dtypes: dict[tuple[str, str], tuple[str, ...] | None]
    conversions: dict[EdgeKey, tuple[float, float]]
    int_edges: set[EdgeKey]
    node_bindings: dict[str, dict[str, UType]]
    unknown: set[tuple[str, str]]
    affine_misuse: set[str]
    unsolved_nodes: set[str]
    edge_by_label: dict[str, tuple[EdgeKey, dict[str, Any]]]
    infer: frozenset[str]
    equations: list[tuple[UType, str]]
    assumed: list[Diagnostic]  # TM142 warnings: conversions that take the radian as 1

    def _argument(self, ekey: EdgeKey, edata: dict[str, Any]) -> Location | None:
        raise NotImplementedError  # the checker's

    def _rigid_unit(self, expr: UnitExpr | None) -> UType | None:
        if expr is None:
            return None
        symbols = {
            var: self.rigid_units.get(var) or UType(self.registry.dimensionless, ((var, Fraction(1)),))
            for var in expr.var_names
        }
        return expr.substitute(self.registry, symbols)

    def _src_unit(self, ekey: EdgeKey, edata: dict[str, Any]) -> UType | None:
        return self.units.get((ekey[0], edata["src_port"]))

    def _solve_units(
        self, node: str, usable: list[tuple[EdgeKey, dict[str, Any]]], rigid: bool
    ) -> dict[str, tuple[UType, str]]:
        if rigid:
            return {}
        eqs: list[tuple[UType, UnitExpr, str]] = []
        edges_by_origin: dict[str, tuple[EdgeKey, dict[str, Any]]] = {}
        for ekey, edata in usable:
            dst: ArrayType | None = edata["dst_type"]
            if dst is None or dst.unit is None or not dst.unit.variables or edata["src_type"] is None:
                continue
            src_unit = self._src_unit(ekey, edata)
            found = src_unit if src_unit is not None else UType(self.registry.dimensionless)
            where = self._where(ekey, edata)
            edges_by_origin[where] = (ekey, edata)
            self.edge_by_label[where] = (ekey, edata)
            eqs.append((found, dst.unit, where))
        bindings, unsolved = solve_unit_vars(eqs, self.registry)
        for _, expr, where in unsolved:
            ekey, edata = edges_by_origin[where]
            names = ", ".join(f"'{v}" for v, _ in expr.variables if v not in bindings)
            self._report(
                ekey,
                edata,
                "TM109",
                f"cannot infer unit variables {names} of {ekey[1]} from edge {where}",
                notes=(f"{edata['dst_port']} expects {expr}",),
                hint="each unit variable must be determined by some input on its own; give one input a plain 'u",
            )
        if unsolved:
            self.unsolved_nodes.add(node)
        self.node_bindings[node] = {v: b[0] for v, b in bindings.items()}
        # affine units only pass through plain 'u
        data = self.graph.nodes[node]
        spec: Spec | None = data.get("spec")
        if spec is not None:
            for var, (value, origin) in bindings.items():
                if not is_affine(value.unit):
                    continue
                for port in (*spec.inputs, *spec.outputs):
                    t = port.type
                    if t is not None and t.unit is not None and t.unit.affine_unsafe(var):
                        diag = Diagnostic(
                            "TM108",
                            f"affine unit {value} bound to '{var} is used in {t.unit} by {node}.{port.name}",
                            data.get("location"),
                            notes=(
                                f"'{var} := {value} from {origin}",
                                "offset units (degC, degF) have no meaning in products, powers or ratios",
                            ),
                            hint=_affine_hint(value, value, f"{value}"),
                            stage=node,
                            port=port.name,
                        )
                        self.diagnostics.append(diag)
                        self.affine_misuse.add(node)
                        break
        return bindings

    def _edge_unit(
        self, ekey: EdgeKey, edata: dict[str, Any], bindings: dict[str, tuple[UType, str]], rigid: bool
    ) -> None:
        dst: ArrayType | None = edata["dst_type"]
        src: ArrayType | None = edata["src_type"]
        if dst is None or src is None:
            return
        if (ekey[0], edata["src_port"]) in self.unknown:
            return
        src_unit = self._src_unit(ekey, edata)
        where = self._where(ekey, edata)
        src_label = _origin(ekey[0], edata["src_port"])
        if dst.unit is None:
            expected = UType(self.registry.dimensionless)
            if src_unit is not None and not src_unit.dimensionless:
                self._report(
                    ekey,
                    edata,
                    "TM106",
                    f"unit {src_unit} flows into unit-less port on edge {where}",
                    notes=(
                        f"{src_label} carries {src_unit} ({src_unit.dimension_text()})",
                        f"{edata['dst_port']} is declared without Q[...]: dimensionless data only",
                    ),
                    hint=f'declare the port with a unit (Q[..., "{src_unit}"] or a unit variable), or strip it explicitly in a stage',
                )
                return
        else:
            if rigid:
                expected = self._rigid_unit(dst.unit)
                assert expected is not None
            else:
                missing = [v for v in dst.unit.var_names if v not in bindings]
                if missing:
                    return  # reported as TM109
                expected = dst.unit.substitute(self.registry, {v: b[0] for v, b in bindings.items()})
        found = src_unit if src_unit is not None else UType(self.registry.dimensionless)
        edata["unit"] = str(found)
        edata["dst_unit"] = str(expected)
        try:
            conv = conversion(found, expected)
        except OffsetUnitError as err:
            self._report(
                ekey,
                edata,
                "TM108",
                f"affine unit conversion on edge {where} is not defined: {err}",
                notes=_absolute_or_difference(found, expected),
                hint=_affine_hint(found, expected),
            )
            return
        if conv is None and self.infer:
            ratio = found / expected
            if ratio.rigid and {v for v, _ in ratio.rigid} <= self.infer:
                self.equations.append((ratio, where))
        if conv is None:
            notes = [
                f"{src_label} carries {found} ({found.dimension_text()})"
                + ("" if src_unit is not None else " (no unit)"),
                f"{edata['dst_port']} expects {dst.unit if dst.unit is not None else 'dimensionless'}"
                + (f" = {expected}" if dst.unit is not None and str(dst.unit) != str(expected) else "")
                + f" ({expected.dimension_text()})",
            ]
            related: list[Related] = []
            if dst.unit is not None:
                for var in dst.unit.var_names:
                    if var in bindings:
                        notes.append(f"'{var} bound to {bindings[var][0]} by {bindings[var][1]}")
                        binder = self.edge_by_label.get(bindings[var][1])
                        place = None if binder is None else self._argument(*binder)
                        if place is not None and binder is not None and binder[0] != ekey:
                            related.append(Related(f"'{var} is bound to {bindings[var][0]} here", place))
            self._report(
                ekey,
                edata,
                "TM102",
                f"unit mismatch on edge {where}",
                tuple(notes),
                hint="dimensions differ, so no conversion exists; did you wire the wrong value?",
                related=tuple(related),
            )
            return
        self._angle_assumption(ekey, edata, found, expected, where)
        scale, offset = conv
        if (scale, offset) != (1.0, 0.0):
            found_dtypes = self.dtypes.get((ekey[0], edata["src_port"]))
            if found_dtypes is not None and set(found_dtypes) <= INT_DTYPES:
                if scale != int(scale) or offset != int(offset):
                    self._report(
                        ekey,
                        edata,
                        "TM107",
                        f"lossy unit conversion on integer edge {where}",
                        notes=(
                            f"{found} -> {expected} multiplies by {scale:g}"
                            + (f" and adds {offset:g}" if offset else ""),
                            f"{src_label} is {src.dtype_family}",
                        ),
                        hint="convert to float in a stage first, or use a unit whose factor is an integer",
                    )
                    return
                self.int_edges.add(ekey)
            self.conversions[ekey] = (scale, offset)
            edata["conversion"] = (scale, offset)

    def _angle_assumption(
        self, ekey: EdgeKey, edata: dict[str, Any], found: UType, expected: UType, where: str
    ) -> None:
        """TM142: a conversion between a unit with an angle and one without, the radian taken as 1."""
        assumed = angle_assumption(found.unit, expected.unit)
        if assumed is None:
            return
        location: Location | None = edata.get("location")
        if location is not None and silenced(location, "TM142"):
            return
        self._report(
            ekey,
            edata,
            "TM142",
            f"conversion on edge {where} takes the radian as the number 1: {assumed.src} -> {assumed.dst} "
            f"multiplies by {assumed.factor_text()}",
            notes=assumed.notes(),
            hint=angle_hint(),
            severity="warning",
        )
        self.assumed.append(self.diagnostics[-1])

    def _output_unit(
        self, node: str, data: dict[str, Any], port: Port, bindings: dict[str, tuple[UType, str]]
    ) -> UType | None:
        t = port.type
        if t is None or t.unit is None:
            return None
        missing = [v for v in t.unit.var_names if v not in bindings]
        if missing and node in self.unsolved_nodes:
            return None  # the input that failed to bind it is reported already
        if missing:
            self.diagnostics.append(
                Diagnostic(
                    "TM109",
                    f"cannot infer unit variable '{missing[0]} of output {node}.{port.name}",
                    data.get("location"),
                    stage=node,
                    port=port.name,
                )
            )
            return None
        return t.unit.substitute(self.registry, {v: b[0] for v, b in bindings.items()})


def _affine_hint(found: UType, expected: UType, bound: str | None = None) -> str:
    """TM108's hint: name the difference unit when the mix-up is absolute vs difference."""
    delta = _delta_name(found) or _delta_name(expected)
    if delta is None:
        return "convert to an absolute unit (K, degR) before combining with other units"
    if bound is not None:
        return (
            f"convert to an absolute unit (K, degR) before this stage; if the values are differences of "
            f"temperatures (a spread, a rise), they are in {delta}: declare delta('u) where the stage takes them"
        )
    return (
        f"a difference of temperatures (a spread, a rise) is in {delta}, not {delta[6:]}: declare "
        f"{delta} (delta('u) in a generic stage); convert an absolute temperature to K before products"
    )


def _absolute_or_difference(found: UType, expected: UType) -> tuple[str, ...]:
    texts = [unit_text(found.unit), unit_text(expected.unit)]
    if any("Δ" in t for t in texts) and any(_delta_name(u) for u in (found, expected)):
        delta = next(t for t in texts if "Δ" in t)
        return (
            f"{delta} is a difference of temperatures, the other an absolute temperature: converting between "
            "them is not defined (adding the offset to a difference is the mistake)",
        )
    return ()


def _delta_name(unit: UType) -> str | None:
    """``delta_degC`` for a unit with an absolute °C in it (not Δ°C), likewise °F; else None."""
    text = unit_text(unit.unit).replace("Δ°C", "").replace("Δ°F", "")
    if "°C" in text:
        return "delta_degC"
    if "°F" in text:
        return "delta_degF"
    return None
