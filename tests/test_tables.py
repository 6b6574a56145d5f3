"""Data frames feed ports by an explicit column mapping, with units; results come back as frames."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pytest
from jaxtyping import Array, Float, Int

import typedml as tm
from typedml import Q

pd = pytest.importorskip("pandas")


class Calibrated(NamedTuple):
    temp: Q[Float[Array, "n c"], "K"]
    mean: Q[Float[Array, "n"], "K"]


@tm.stage
def calibrate(raw: Q[Float[Array, "n c"], "V"], gain: Q[Float[Array, "n"], "K/V"]) -> Calibrated:
    temp = raw * gain[:, None]
    return Calibrated(temp, temp.mean(axis=1))


@tm.stage
def total(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, ""], "m"]:
    return x.sum()


def frame() -> object:
    return pd.DataFrame(
        {
            "ch0": np.array([1000.0, 2000.0, 3000.0], dtype=np.float32),
            "ch1": np.array([4000.0, 5000.0, 6000.0], dtype=np.float32),
            "g": np.array([1.0, 2.0, 3.0], dtype=np.float32),
            "label": ["a", "b", "c"],
        },
        index=["r0", "r1", "r2"],
    )


def test_columns_stacked_by_mapping_in_the_given_unit_and_converted():
    df = frame()
    cols = tm.columns(df, raw=["ch0", "ch1"], gain="g", units={"ch0": "mV", "ch1": "mV", "g": "K/V"})
    assert set(cols) == {"raw", "gain"}
    assert cols["raw"].shape == (3, 2)
    out = calibrate(**cols)
    np.testing.assert_allclose(np.asarray(out.temp.magnitude), [[1.0, 4.0], [4.0, 10.0], [9.0, 18.0]])
    assert str(out.temp.units) == "kelvin"


def test_one_unit_for_all_columns_and_columns_in_another_order():
    df = frame()
    a = tm.columns(df, x=["ch1", "ch0"], unit="mV")
    np.testing.assert_array_equal(a["x"].magnitude, [[4000.0, 1000.0], [5000.0, 2000.0], [6000.0, 3000.0]])
    assert str(a["x"].units) == "millivolt"


def test_stacked_columns_in_different_units_are_converted_to_the_first_ones():
    df = frame()
    cols = tm.columns(df, raw=["ch0", "ch1"], gain="g", units={"ch0": "mV", "ch1": "V", "g": "K/V"})
    np.testing.assert_allclose(cols["raw"].magnitude[:, 1], [4e6, 5e6, 6e6])
    assert str(cols["raw"].units) == "millivolt"


def test_stacked_columns_of_two_dimensions_are_refused():
    with pytest.raises(tm.InputError) as info:
        tm.columns(frame(), raw=["ch0", "ch1"], units={"ch0": "mV", "ch1": "s"})
    assert info.value.code == "TM249"
    assert "'ch0' in mV, 'ch1' in s" in str(info.value)


def test_results_back_as_a_pandas_frame_with_units_and_the_index():
    df = frame()
    cols = tm.columns(df, raw=["ch0", "ch1"], gain="g", units={"ch0": "mV", "ch1": "mV", "g": "K/V"})
    back = cols.frame(calibrate(**cols), names={"temp": ["t0", "t1"]})
    assert list(back.columns) == ["t0", "t1", "mean"]
    assert list(back.index) == ["r0", "r1", "r2"]
    assert back.attrs["units"] == {"t0": "K", "t1": "K", "mean": "K"}
    np.testing.assert_allclose(back["mean"], [2.5, 7.0, 13.5])
    # the attrs read back: a frame made by typedml feeds the next pipeline with its units
    again = tm.columns(back, x="mean")
    assert str(again["x"].units) == "kelvin"


def test_a_summary_is_not_a_column():
    df = frame()
    cols = tm.columns(df, x="ch0", unit="m", dtype=np.float32)
    with pytest.raises(tm.InputError) as info:
        cols.frame(total(**cols))
    assert info.value.code == "TM248"
    assert "not one value per row of the 3-row table" in str(info.value)


def test_pint_pandas_dtypes_are_read():
    pytest.importorskip("pint_pandas")
    df = pd.DataFrame({"d": pd.Series([1.0, 2.0, 3.0], dtype="pint[km]")})
    cols = tm.columns(df, x="d", dtype=np.float32)  # pandas' float64, converted on purpose
    assert cols["x"].magnitude.dtype == np.float32
    assert total(**cols).to("m").magnitude == pytest.approx(6000.0)
    with pytest.warns(tm.PrecisionWarning):  # float64 as it is: said
        total(**tm.columns(df, x="d"))
    same = tm.columns(df, x="d", unit="kilometer")  # said again, the same unit: fine
    assert str(same["x"].units) == "kilometer"
    with pytest.raises(tm.InputError) as info:
        tm.columns(df, x="d", unit="m", dtype=np.float32)
    assert info.value.code == "TM241"
    assert "column 'd' states two units: 'kilometer' in its data and 'm' given" in str(info.value)


BAD_COLUMNS = [
    ({"x": "nope"}, "TM245", "there is no column 'nope'"),
    ({"x": "label"}, "TM245", "column 'label' holds (object|str) values, not numbers"),
    ({"x": "gaps"}, "TM245", r"column 'gaps' holds 2 missing value\(s\), the first at row 1"),
    ({"x": "nullable"}, "TM245", r"column 'nullable' holds 1 missing value\(s\), the first at row 2"),
    ({"x": "when"}, "TM245", "column 'when' holds datetime64"),
    ({"x": 3}, "TM246", "x=3: a port takes a column's name"),
    ({"x": []}, "TM246", r"x=\[\]: a port takes a column's name"),
    ({}, "TM246", "no port is given its columns"),
    ({"x": "ok", "dtype": "U3"}, "TM246", "dtype='U3' is not a numeric numpy dtype"),
]


@pytest.mark.parametrize(("ports", "code", "text"), BAD_COLUMNS)
def test_bad_columns_are_named(ports, code, text):
    df = pd.DataFrame(
        {
            "ok": [1.0, 2.0, 3.0],
            "label": ["a", "b", "c"],
            "gaps": [1.0, np.nan, np.nan],
            "nullable": pd.array([1, 2, None], dtype="Int64"),
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        }
    )
    before = df.copy()
    with pytest.raises(tm.InputError) as info:
        tm.columns(df, **ports)
    assert info.value.code == code
    assert re.search(text, str(info.value)), str(info.value)
    assert "test_tables.py" in str(info.value)  # the user's line
    pd.testing.assert_frame_equal(df, before)  # nothing the user gave is changed


def test_bad_units_are_named():
    with pytest.raises(tm.InputError) as info:
        tm.columns(frame(), x="ch0", unit="furlongs per bogus")
    assert info.value.code == "TM241"
    with pytest.raises(tm.InputError) as info:
        tm.columns(frame(), x="ch0", units={"ch9": "m"})
    assert info.value.code == "TM246"
    assert "units= names column 'ch9', which no port is given" in str(info.value)


def test_not_a_table():
    with pytest.raises(tm.InputError) as info:
        tm.columns(np.ones(3), x="a")
    assert info.value.code == "TM246"


@pytest.mark.parametrize("make", [lambda df: df, lambda df: df["ch0"]], ids=["DataFrame", "Series"])
def test_a_raw_frame_given_to_a_port_is_refused_with_a_hint(make):
    with pytest.raises(tm.InputError) as info:
        total(make(frame()))
    err = info.value
    assert err.code == "TM247"
    assert "tm.columns(df, x=" in str(err)
    assert "test_tables.py" in str(err)


def test_polars_frames_by_mapping():
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"a": [1.0, 2.0, 3.0], "b": [10.0, 20.0, 30.0], "g": [1.0, 1.0, 2.0]})
    cols = tm.columns(df, raw=["a", "b"], gain="g", unit="V", units={"g": "K/V"}, dtype="float32")
    out = calibrate(**cols)
    back = cols.frame(out)
    assert isinstance(back, pl.DataFrame)
    assert back.columns == ["temp_0", "temp_1", "mean"]
    np.testing.assert_allclose(back["mean"].to_numpy(), [5.5, 11.0, 33.0])
    assert cols.units(out) == {"temp_0": "K", "temp_1": "K", "mean": "K"}
    with pytest.raises(tm.InputError) as info:
        tm.columns(pl.DataFrame({"a": [1.0, None]}), x="a")
    assert info.value.code == "TM245"
    assert "column 'a' holds 1 missing value(s), the first at row 1" in str(info.value)
    with pytest.raises(tm.InputError) as info:
        total(df)
    assert info.value.code == "TM247"


def test_arrow_tables_read_units_from_field_metadata():
    pa = pytest.importorskip("pyarrow")
    table = pa.table(
        {"d": pa.array([1.0, 2.0], pa.float32())},
    ).cast(pa.schema([pa.field("d", pa.float32(), metadata={"unit": "km"})]))
    cols = tm.columns(table, x="d")
    assert total(**cols).to("m").magnitude == pytest.approx(3000.0)
    back = cols.frame({"y": cols["x"]})
    assert back.schema.field("y").metadata == {b"unit": b"km"}


@tm.stage
def count_events(n: Int[Array, "k"]) -> Int[Array, ""]:
    return n.sum()


def test_a_column_in_the_wrong_unit_or_dtype_for_its_port_is_named():
    df = frame()
    with pytest.raises(tm.InputError) as info:
        total(**tm.columns(df, x="ch0", unit="s"))  # the port takes metres
    assert info.value.code == "TM203"
    assert "'x' was read from column 'ch0' of a pandas DataFrame, by tm.columns()" in str(info.value)
    with pytest.raises(tm.InputError) as info:
        count_events(**tm.columns(df, n="g"))  # the port takes integers
    assert "'n' was read from column 'g' of a pandas DataFrame" in str(info.value)
    # a plain quantity in the wrong unit has no such note
    with pytest.raises(tm.InputError) as info:
        total(tm.Quantity(np.ones(3, np.float32), "s"))
    assert "was read from" not in str(info.value)
