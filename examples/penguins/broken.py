"""A teaching case: a length and a mass stacked into one feature matrix.

``typedml check examples/`` skips this file (the marker below); ``typedml check
examples/penguins/broken.py --no-skip`` shows the build-time error (TM102).
"""
# typedml: skip-file

from __future__ import annotations

from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

from .pipeline import columns


@tm.pipeline
def mixed(flipper: Q[Float[Array, "n"], "mm"], mass: Q[Float[Array, "n"], "g"]) -> Q[Float[Array, "n 2"], "mm"]:
    """A length and a mass in one matrix: a build-time error (TM102), not a silent mix."""
    return columns(flipper, mass)
