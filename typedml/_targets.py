"""What the testing tools need to know about a stage or pipeline, read from its signature.

:mod:`typedml.strategies` and :mod:`typedml.testing` take either a :class:`~typedml.Stage`
or a :class:`~typedml.Pipeline`; this module gives both the same face: the parsed signature,
a call with keyword inputs whose outputs come back by port name, and the units a declared
unit converts to (used to exercise conversions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._spec import Port, Spec
from ._units import OffsetUnitError, PintUnit, UType, conversion, is_affine

__all__ = ["call_target", "convertible_units", "outputs_by_name", "spec_of", "target_label"]

# prefixes tried on each unit of a compound unit: a conversion by a power of ten each way
_PREFIXES = ("kilo", "milli", "micro")


def spec_of(target: object) -> Spec | None:
    """The parsed signature of a stage or pipeline; None for anything else."""
    from ._pipeline import Pipeline
    from ._stage import Stage

    if isinstance(target, Stage | Pipeline):
        spec: Spec = target.spec
        return spec
    return None


def target_label(target: object) -> str:
    spec = spec_of(target)
    if spec is None:
        return repr(target)
    kind = "stage" if type(target).__name__ == "Stage" else "pipeline"
    return f"{kind} {spec.name!r}"


def call_target(target: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Call a stage or pipeline with values by input port (a record's fields as ``s.center``,
    built into the record); its outputs by output port name."""
    spec = spec_of(target)
    assert spec is not None
    return outputs_by_name(spec, target(**spec.group_inputs(inputs)))


def outputs_by_name(spec: Spec, result: Any) -> dict[str, Any]:
    """What a call returned (one value, or the record of its outputs), by output port name."""
    values = spec.unpack_outputs(result)
    assert values is not None, f"{spec.name} returned a {type(result).__name__}"
    return {port.name: value for port, value in zip(spec.outputs, values, strict=True)}


def output_ports(target: object) -> tuple[Port, ...]:
    spec = spec_of(target)
    assert spec is not None
    return spec.outputs


def convertible_units(unit: PintUnit) -> list[PintUnit]:
    """``unit`` first, then a few other units of the same dimension (prefixed, base, percent, affine kin).

    Affine units (degC) get the absolute temperature scales and other offset scales only:
    prefixing an offset unit has no meaning.
    """
    registry = unit._REGISTRY
    found: list[PintUnit] = [unit]
    candidates: list[PintUnit] = []
    if is_affine(unit):
        candidates += [registry.Unit(name) for name in ("kelvin", "degree_Fahrenheit", "degree_Celsius")]
    else:
        container = dict(unit._units)
        for name, exp in container.items():
            parsed = registry.parse_unit_name(name)
            if not parsed:
                continue
            own_prefix, base, _ = parsed[0]
            for prefix in ("", *_PREFIXES):
                if prefix == own_prefix:
                    continue
                try:
                    other = registry.Unit(prefix + base)
                except Exception:  # noqa: BLE001 - pint refuses this prefix on this unit
                    continue
                candidates.append(unit / registry.Unit(name) ** exp * other**exp)
        candidates.append(registry.get_root_units(unit)[1])
        if not container:  # dimensionless: a ratio in percent converts by 1/100
            candidates.append(registry.Unit("percent"))
    for other in candidates:
        if any(other == seen for seen in found):
            continue
        try:
            ok = conversion(UType(unit), UType(other)) is not None
        except OffsetUnitError:
            ok = False
        if ok:
            found.append(other)
    return found
