"""Careless or hostile input to the data boundary (tables, Parquet, xarray): each is a typed
error naming the user's line, or a correct answer; never a library's traceback or a value
silently changed, and nothing the user gave is mutated."""

from __future__ import annotations

import re
from typing import Any

import pytest

import typedml as tm
from typedml._dataunits import parse_unit

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
xr = pytest.importorskip("xarray")


def refused(code: str, text: str, call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(tm.InputError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert info.value.code == code, message
    assert re.search(text, message), message
    assert "test_data_hostile.py" in message  # the user's line
    return message


# -- unit text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["m,s", "m; import os", "m # a comment", "K|s", "m@"])
def test_unit_text_with_signs_pint_would_skip_is_refused(text: str) -> None:
    df = pd.DataFrame({"a": [1.0]})
    refused("TM241", "is not a unit: .* is no part of a unit's text", tm.columns, df, x="a", unit=text)
    table = pa.table([pa.array([1.0])], schema=pa.schema([pa.field("a", pa.float64(), metadata={"unit": text})]))
    refused("TM241", "column 'a' states the unit", tm.columns, table, x="a")


def test_unit_text_as_data_files_write_it_still_reads() -> None:
    registry = tm.get_registry()
    for text, same in [("m s-1", "m/s"), ("m·s", "m*s"), ("kg/(m*s)", "kg/m/s"), ("µm", "um"), ("%", "percent")]:
        assert parse_unit(text) == registry.Unit(same)._units, text
