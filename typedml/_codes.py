"""What each diagnostic code means, in one line: the titles of ``docs/errors.md``.

Used where a diagnostic travels without its page: SARIF rules (``shortDescription``) and
editors. ``tests/test_sarif.py`` checks that this table and the page agree.
"""

from __future__ import annotations

__all__ = ["TITLES", "title"]

TITLES: dict[str, str] = {
    "TM001": "unknown unit",
    "TM002": "malformed unit expression",
    "TM003": "malformed shape",
    "TM004": "parameter without annotation",
    "TM005": "missing return annotation",
    "TM006": "output unit variable bound by no input",
    "TM007": "`Q[...]` around a type that is not an array",
    "TM008": "malformed `Q[...]`",
    "TM009": "`*args` or `**kwargs` in a stage",
    "TM010": "unsupported or unresolvable annotation",
    "TM011": "output field without annotation",
    "TM012": "decorator applied to something that is not a function",
    "TM013": "pipeline configuration without a default",
    "TM014": "a value contract that cannot apply to its port",
    "TM101": "dtype mismatch on an edge",
    "TM102": "unit mismatch on an edge",
    "TM103": "axis size mismatch on an edge",
    "TM104": "rank mismatch on an edge",
    "TM105": "two independent sizes for one axis",
    "TM106": "unit flowing into a unit-less port",
    "TM107": "lossy unit conversion on an integer edge",
    "TM108": "offset unit (degC, degF) where it has no meaning",
    "TM109": "unit variable that cannot be inferred",
    "TM110": "unknown or repeated argument in a call",
    "TM111": "missing argument in a call",
    "TM112": "too many positional arguments in a call",
    "TM113": "a value that does not flow through the pipeline",
    "TM114": "computing on a traced value in a pipeline body",
    "TM115": "pipeline returns the wrong number of outputs",
    "TM116": "traced value passed as static configuration",
    "TM117": "array where a pytree value is expected, or the reverse",
    "TM118": "the pipeline body raised an exception",
    "TM119": "a pipeline that calls itself",
    "TM150": "dtype that may not match",
    "TM151": "shape that cannot be verified before data",
    "TM152": "stage output never used",
    "TM153": "pipeline input never used",
    "TM201": "missing input",
    "TM202": "too many, unknown or repeated inputs",
    "TM203": "input unit mismatch",
    "TM204": "input without a unit",
    "TM205": "input rank mismatch",
    "TM206": "input axis size mismatch",
    "TM207": "input dtype mismatch",
    "TM208": "input that is not an array",
    "TM209": "lossy conversion of an integer input",
    "TM210": "unit on an input whose port has no unit",
    "TM211": "unknown unit for a `tm.Quantity`",
    "TM212": "input units that cannot determine the unit variables",
    "TM213": "a unit the registry in use does not know",
    "TM214": "an input that breaks its value contract",
    "TM215": "`pipeline.cost()` without a size for every axis",
    "TM216": "a sharding that does not fit the pipeline or the data",
    "TM217": "a stream that cannot fold its chunks",
    "TM301": "a stage body returns the wrong shape",
    "TM302": "a stage body returns the wrong number of axes",
    "TM303": "a stage body returns the wrong dtype",
    "TM304": "a stage body returns the wrong structure",
    "TM305": "a stage body fails for the declared shapes",
    "TM306": "a stage call that does not match its signature at run time",
    "TM307": "a stage over its declared cost budget",
    "TM350": "a stage body that could not be verified for every size",
    "TM401": "a module `typedml check` cannot import",
    "TM410": "a file marked not to be checked",
    "TM411": "a check that ran past its time limit",
    "TM412": "a module that stopped the checking process",
    "TM501": "a stage produced NaN or Inf from finite inputs",
    "TM502": "a pipeline input holds NaN or Inf",
    "TM503": "a stage returned values that break its declared contract",
    "TM504": "a stage was given values that break its contract",
}


def title(code: str) -> str | None:
    """The one-line meaning of ``code`` (None for a code this table does not know yet)."""
    return TITLES.get(code)
