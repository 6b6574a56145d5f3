"""Penguins read from Parquet files with their units, fitted, and written back with theirs.

``fit_and_predict`` fits body mass on flipper and bill length and gives, per penguin, the
predicted mass and the residual; their units (g) come from the stdlib's signatures. The data
may arrive in any units of the right dimensions (one file in mm and g, another in cm and kg):
the edges convert.
"""

from __future__ import annotations

from typing import NamedTuple

from jaxtyping import Array, Float

import typedml as tm
from typedml import Q


class Predicted(NamedTuple):
    predicted: Q[Float[Array, "n"], "g"]
    residual: Q[Float[Array, "n"], "g"]


@tm.stage
def difference(a: Q[Float[Array, "n"], "g"], b: Q[Float[Array, "n"], "g"]) -> Q[Float[Array, "n"], "g"]:
    return a - b


@tm.pipeline
def fit_and_predict(x: Q[Float[Array, "n 2"], "mm"], mass: Q[Float[Array, "n"], "g"]) -> Predicted:
    """Per penguin: the body mass a least-squares fit on (flipper, bill) predicts, and the residual."""
    fit = tm.stdlib.linear_regression(x, mass)
    predicted = tm.stdlib.linear_predict(x, fit)
    return Predicted(predicted, difference(mass, predicted))
