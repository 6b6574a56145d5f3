"""The glue-bug corpus as data: one `Case` per bug, each written four ways.

A case is a class registered with `@case(...)`. It holds three plain functions (no ``self``),
each taking ``fixed: bool`` so the buggy program and its fixed twin share every line but the
mistake:

- ``typedml(fixed)`` declares stages and a pipeline and returns ``(pipeline, args)``: the
  inputs the pipeline is called with (pint Quantities, in the units the data comes in).
- ``jax(fixed, check)`` writes the same computation as plain JAX functions annotated with
  jaxtyping; ``check`` is the identity for the plain-JAX baseline and
  ``jaxtyped(typechecker=beartype)`` for the jaxtyping+beartype baseline. It returns a
  zero-argument function that runs the program on its data.
- ``pint(fixed)`` writes it with pint Quantities on numpy (functions wrapped with
  ``ureg.wraps`` where they take or give quantities) and returns a zero-argument function.

Data is generated inside each case with a fixed seed, so every run sees the same numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

import typedml as tm

FAMILIES = (
    "units",
    "axes",
    "sizes",
    "dtypes",
    "broadcasting",
    "statistics",
    "wiring",
    "kinds",
    "angles",
    "conversions",
    "affine",
)

# Verdicts. typedml: where the buggy twin is stopped; baselines: the same with their own phases.
BUILD = "build"  # typedml: definition (TM0xx) or wiring (TM1xx) error, no data
BODY = "body"  # typedml: stage body check (TM3xx), no data
WARNED = "warned"  # typedml: no error, but check() warns (a lint, an unused value) where the fixed twin does not
RUN = "run"  # an exception once data is passed (typedml: input check, contract, or the call)
CONVERTED = "converted"  # typedml: the mismatch is a unit conversion it inserted; numbers equal the fixed twin's
MISSED = "missed"  # the program runs and returns a (wrong) number
DEFINITION = "definition"  # baselines: at decoration/definition, before data
CALL = "call"  # baselines: when called with data

CASES: list[type] = []

# The published studies the families are drawn from (full references in README.md).
CITATIONS = {
    "zhang2018": "Zhang et al., An empirical study on TensorFlow program bugs, ISSTA 2018",
    "islam2019": "Islam et al., A comprehensive study on deep learning bug characteristics, ESEC/FSE 2019",
    "humbatova2020": "Humbatova et al., Taxonomy of real faults in deep learning systems, ICSE 2020",
    "wu2021": "Wu, Shen, Chen, An empirical study on tensor shape faults in deep learning systems, arXiv:2106.02887",
    "ore2017": "Ore, Detweiler, Elbaum, Lightweight detection of physical unit inconsistencies without program annotations, ISSTA 2017",
    "ore2017iros": "Ore, Elbaum, Detweiler, Dimensional inconsistencies in code and ROS messages: a study of 5.9M lines of code, IROS 2017",
    "mckeever2021": "McKeever et al., Unit of measurement libraries, their popularity and suitability, Softw. Pract. Exper. 2021",
    "mco1999": "Mars Climate Orbiter Mishap Investigation Board, Phase I Report, NASA 1999",
    "micikevicius2018": "Micikevicius et al., Mixed precision training, ICLR 2018",
    "higham2002": "Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM 2002",
    "kapoor2023": "Kapoor, Narayanan, Leakage and the reproducibility crisis in machine-learning-based science, Patterns 2023",
    "yang2022": "Yang et al., Data leakage in notebooks: static detection and better processes, ASE 2022",
    "rice2017": "Rice et al., Detecting argument selection defects, OOPSLA 2017",
    "iso80000": "ISO 80000-1:2022 Quantities and units, Part 1: General (kinds of quantity); parts 3, 4, 5, 6, 10",
    "bipm2019": "BIPM, The International System of Units (SI Brochure), 9th edition, 2019",
    "quincey2016": "Quincey, Angles in the SI: a detailed proposal for solving the problem, Metrologia 2016",
    "mohr2015": "Mohr, Phillips, Dimensionless units in the SI, Metrologia 2015",
    "rep103": "Foote, Purvis, REP 103: Standard Units of Measure and Coordinate Conventions, ROS 2010",
    "rfc7946": "Butler et al., RFC 7946: The GeoJSON Format, IETF 2016 (positions are longitude, latitude)",
    "pillow": "Pillow documentation, Image.size is (width, height); numpy arrays of images are (height, width)",
    "opencv": "OpenCV documentation, cv2.resize: dsize is (width, height)",
    "numpydoc": "NumPy documentation: numpy.quantile takes q in [0, 1], numpy.percentile in [0, 100]",
    "scipydoc": "SciPy documentation: scipy.signal.freqz returns w in rad/sample unless fs is given",
    "gimli1985": "Lockhart, Final Report of the Board of Inquiry into the Air Canada Boeing 767 C-GAUN incident (Gimli), 1985",
    "mpunits": "Pusz et al., mp-units: quantity kinds and the ISO 80000 hierarchy (documentation and ISO C++ paper P3045)",
}


@dataclasses.dataclass(frozen=True)
class Meta:
    id: str
    family: str
    title: str
    cite: tuple[str, ...]
    expect: str  # typedml's verdict on the buggy twin, as recorded; the smoke test pins it
    registry: str | None = None  # "angles": typedml's twins run under tm.angle_registry()


def case(
    id: str, family: str, title: str, *, cite: tuple[str, ...], expect: str, registry: str | None = None
) -> Callable[[type], type]:
    assert family in FAMILIES, family
    assert expect in (BUILD, BODY, WARNED, RUN, CONVERTED, MISSED), expect
    assert cite and all(key in CITATIONS for key in cite), cite
    assert registry in (None, "angles"), registry

    def register(cls: type) -> type:
        cls.meta = Meta(id, family, title, cite, expect, registry)  # type: ignore[attr-defined]
        CASES.append(cls)
        return cls

    return register


# -- helpers shared by the cases -------------------------------------------------------------


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def f32(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def q(x: Any, unit: str, dtype: Any = np.float32) -> Any:
    """A pint Quantity in typedml's registry (the registry the pint baseline uses too)."""
    return tm.get_registry().Quantity(np.asarray(x, dtype=dtype), unit)


def ureg() -> Any:
    return tm.get_registry()


_angles: list[Any] = []


def angle_registry() -> Any:
    """The one registry with angles as a dimension that the angle cases share."""
    if not _angles:
        _angles.append(tm.angle_registry())
    return _angles[0]


def pick(fixed: bool, good: Any, bad: Any) -> Any:
    """The fixed twin's choice, or the buggy twin's."""
    return good if fixed else bad
