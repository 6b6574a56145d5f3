"""TM152: an unused output is flagged, but a record's fields are used as needed."""

from typing import NamedTuple

from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

V = Float[Array, "n"]


class Summary(NamedTuple):
    mean: Q[Float[Array, ""], "'u"]
    spread: Q[Float[Array, ""], "delta('u)"]


@tm.stage
def summarise(x: Q[V, "'u"]) -> Summary:
    return Summary(x.mean(), x.std())


def unused(p: tm.Pipeline) -> list[str]:
    return [d.message for d in p.check().warnings if d.code == "TM152"]


def test_using_some_fields_of_a_record_is_not_flagged() -> None:
    @tm.pipeline
    def centre(x: Q[V, "m"]) -> Q[Float[Array, ""], "m"]:
        return summarise(x).mean

    assert unused(centre) == []


def test_a_record_none_of_whose_fields_is_used_is_flagged_once() -> None:
    @tm.pipeline
    def forgotten(x: Q[V, "m"]) -> Q[Float[Array, ""], "m"]:
        summarise(x)
        return tm.stdlib.mean(x)

    assert unused(forgotten) == ["no output of summarise is used (mean, spread)"]


def test_an_unused_single_output_is_still_flagged() -> None:
    @tm.pipeline
    def p(x: Q[V, "m"]) -> Q[Float[Array, ""], "m"]:
        tm.stdlib.std(x)
        return tm.stdlib.mean(x)

    assert unused(p) == ["return value of std is never used"]
