"""typedml's standard library of ready stages, importable as ``typedml.stdlib``.

Built only on typedml's public API. One private module per family of stages.
"""

from ._summaries import mean as mean
from ._summaries import std as std
from ._summaries import variance as variance

__all__ = ["mean", "std", "variance"]
