"""Careless or hostile input to the data boundary (tables, Parquet, xarray): each is a typed
error naming the user's line, or a correct answer; never a library's traceback or a value
silently changed, and nothing the user gave is mutated."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q
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


# -- tm.columns ------------------------------------------------------------------------------


def test_units_that_are_not_a_mapping_are_refused() -> None:
    df = pd.DataFrame({"a": [1.0, 2.0]})
    refused("TM246", "units= takes a mapping of column names to units, got list", tm.columns, df, x="a", units=["m"])
    refused("TM246", "units= takes a mapping .* got str", tm.columns, df, x="a", units="m")


def test_a_port_name_that_is_not_a_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"a": [1.0]}), path)
    refused("TM246", "1 is not a port's name", tm.parquet_chunks, path, {1: "a"})


def test_pandas_columns_whose_labels_are_not_text_are_read_by_the_name_shown() -> None:
    ints = pd.DataFrame({0: [1.0, 2.0], 1: [3.0, 4.0]})
    np.testing.assert_array_equal(tm.columns(ints, x="1")["x"], [3.0, 4.0])
    both = pd.DataFrame({1.0: [1.0, 2.0], "1.0": [5.0, 6.0]})  # the str label is the one named
    np.testing.assert_array_equal(tm.columns(both, x="1.0")["x"], [5.0, 6.0])
    multi = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")]))
    message = refused("TM245", "there is no column 'a'", tm.columns, multi, x="a")
    assert "('a', 'y')" in message  # the names it lists are names it reads
    np.testing.assert_array_equal(tm.columns(multi, x="('a', 'y')")["x"], [2.0, 4.0])


def test_arrow_columns_named_twice_are_refused(tmp_path: Path) -> None:
    table = pa.table([pa.array([1.0]), pa.array([2.0])], names=["a", "a"])
    refused("TM245", "column 'a' appears more than once", tm.columns, table, x="a")
    refused("TM245", "column 'a' appears more than once", tm.columns, table, x=["a"])
    pq.write_table(table, tmp_path / "twice.parquet")
    refused("TM245", "column 'a' appears more than once", tm.parquet_chunks, tmp_path / "twice.parquet", "a")


def test_polars_columns_it_gives_as_objects_are_not_numbers() -> None:
    df = pl.DataFrame({"d": pl.Series([1, 2]).cast(pl.Decimal(10, 2))})
    refused("TM245", "column 'd' holds Decimal.* which polars gives as object, not as numbers", tm.columns, df, x="d")


@pytest.mark.parametrize(
    ("values", "dtype", "text"),
    [
        ([1.0, 1e10], np.int8, r"holds 10000000000.0 at row 1, which dtype=int8 cannot hold"),
        ([1.5, 2.0], np.int32, "holds 1.5 at row 0, which dtype=int32"),
        ([-1, 2], np.uint16, "holds -1 at row 0, which dtype=uint16"),
        ([1.0, 1e300], np.float32, r"holds 1e\+?300 at row 1, which dtype=float32"),
    ],
)
def test_dtype_never_changes_a_value_silently(values: list[float], dtype: Any, text: str) -> None:
    df = pd.DataFrame({"a": values})
    before = df.copy()
    refused("TM245", f"column 'a' {text}", tm.columns, df, x="a", dtype=dtype)
    pd.testing.assert_frame_equal(df, before)
    ok = tm.columns(pd.DataFrame({"a": [1.0, 2.0]}), x="a", dtype=np.int8)["x"]  # values it holds convert
    assert ok.dtype == np.int8 and ok.tolist() == [1, 2]


def test_dtype_is_checked_per_chunk_with_the_row_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"a": [1.0, 2.0, 3.0, 300.0]}), path)
    with pytest.raises(tm.InputError, match=r"TM245.*chunk 1 .*holds 300.0 at row 3, which dtype=int8"):
        list(tm.parquet_chunks(path, "a", rows=2, dtype=np.int8))


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


# -- Columns.frame, write_parquet ------------------------------------------------------------


def test_result_keys_that_collide_as_text_are_refused(tmp_path: Path) -> None:
    cols = tm.columns(pd.DataFrame({"a": [1.0, 2.0]}), x="a")
    refused("TM248", "the result's key 1 is not a column name", cols.frame, {1: np.ones(2), "1": np.zeros(2)})
    refused("TM248", "key 1 is not a column name", tm.write_parquet, tmp_path / "o.parquet", {1: np.ones(2)})


@pytest.mark.parametrize("names", [5, [1, 2], {"result": [1, 2]}, {"result": 7}])
def test_names_that_are_not_text_are_refused(tmp_path: Path, names: Any) -> None:
    cols = tm.columns(pd.DataFrame({"a": [1.0, 2.0]}), x="a")
    refused("TM248", "a column's name is a str", cols.frame, np.ones((2, 2)), names=names)
    refused("TM248", "a column's name is a str", tm.write_parquet, tmp_path / "o.parquet", np.ones((2, 2)), names)
    assert not (tmp_path / "o.parquet").exists()


def test_frame_keeps_the_rows_read_when_the_frame_has_changed_since() -> None:
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=["r0", "r1", "r2"])
    cols = tm.columns(df, x="a")
    df.loc["r3"] = 4.0  # a row added in place
    frame = cols.frame(np.asarray(cols["x"]) * 2)
    assert list(frame.index) == ["r0", "r1", "r2"] and frame["result"].tolist() == [2.0, 4.0, 6.0]


def test_a_name_for_an_output_of_columns_is_their_prefix() -> None:
    cols = tm.columns(pd.DataFrame({"a": [1.0, 2.0]}), x="a")
    frame = cols.frame({"t": np.ones((2, 2))}, names={"t": "temp"})
    assert list(frame.columns) == ["temp_0", "temp_1"]


def test_complex_results_are_refused_where_the_table_has_no_type_for_them(tmp_path: Path) -> None:
    z = np.array([1 + 2j, 3 - 1j])
    for data in (pa.table({"a": [1.0, 2.0]}), pl.DataFrame({"a": [1.0, 2.0]})):
        refused("TM248", "output 'result' holds complex128 values", tm.columns(data, x="a").frame, z)
    refused("TM248", "which a Parquet file has no column type for", tm.write_parquet, tmp_path / "z.parquet", z)
    pandas_frame = tm.columns(pd.DataFrame({"a": [1.0, 2.0]}), x="a").frame(z)  # pandas holds them
    np.testing.assert_array_equal(pandas_frame["result"].to_numpy(), z)


@pytest.mark.parametrize(
    ("path", "rows", "code", "text"),
    [
        (None, None, "TM510", "None is not a path"),
        (5, None, "TM510", "5 is not a path"),
        ("o.parquet", 0, "TM246", "row_group_rows must be a positive int or None, got 0"),
        ("o.parquet", -1, "TM246", "got -1"),
        ("o.parquet", "a", "TM246", "got 'a'"),
        ("o.parquet", 1.5, "TM246", "got 1.5"),
    ],
)
def test_write_parquet_arguments(tmp_path: Path, monkeypatch: Any, path: Any, rows: Any, code: str, text: str) -> None:
    monkeypatch.chdir(tmp_path)
    refused(code, text, tm.write_parquet, path, np.ones(3), row_group_rows=rows)
    assert not (tmp_path / "o.parquet").exists()


# -- parquet_chunks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paths", "text"),
    [
        (None, "takes a path or a list of paths, got NoneType"),
        (3, "got int"),
        ({"a.parquet": 1}, "got dict"),
        (["a.parquet", None], r"path \[1\] is None, not a path"),
        (["a.parquet", 5], r"path \[1\] is 5, not a path"),
    ],
)
def test_paths_that_are_not_paths_are_refused(tmp_path: Path, monkeypatch: Any, paths: Any, text: str) -> None:
    monkeypatch.chdir(tmp_path)
    pq.write_table(pa.table({"a": [1.0]}), "a.parquet")
    refused("TM246", text, tm.parquet_chunks, paths, "a")


def test_paths_as_bytes_a_generator_or_a_huge_rows_read_the_files(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"a": [1.0, 2.0, 3.0]}), path)
    got = list(tm.parquet_chunks(str(path).encode(), "a", rows=2))
    assert [c.tolist() for c in got] == [[1.0, 2.0], [3.0]]
    got = list(tm.parquet_chunks((p for p in [path, path]), "a", rows=2**70))
    assert [c.tolist() for c in got] == [[1.0, 2.0, 3.0]] * 2


def test_no_file_is_refused_rather_than_streaming_nothing() -> None:
    refused("TM246", "no file is given", tm.parquet_chunks, [], "a")
    refused("TM246", "no file is given", tm.parquet_chunks, (p for p in ()), "a")


def test_a_result_of_no_outputs_is_refused(tmp_path: Path) -> None:
    cols = tm.columns(pd.DataFrame({"a": [1.0, 2.0]}), x="a")
    refused("TM248", "the result has no outputs", cols.frame, {})
    refused("TM248", "the result has no outputs", tm.write_parquet, tmp_path / "o.parquet", {})
    assert not (tmp_path / "o.parquet").exists()


def test_frame_units_that_are_not_a_mapping_are_refused() -> None:
    df = pd.DataFrame({"a": [1.0, 2.0]})
    df.attrs["units"] = "m"
    refused("TM241", r"attrs\['units'\] is 'm', not a mapping of column names to units", tm.columns, df, x="a")
    assert df.attrs == {"units": "m"}


def test_a_units_list_is_refused_by_parquet_chunks(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"a": [1.0]}), path)
    refused("TM246", "units= takes a mapping", tm.parquet_chunks, path, "a", units=["m"])


# -- xarray_chunks ---------------------------------------------------------------------------


def test_xarray_chunks_of_no_variable_or_unknown_ones_are_refused() -> None:
    da = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("t", "c"))
    ds = xr.Dataset({"a": da})
    refused("TM247", "no data variable of the Dataset has dim 't'", tm.xarray_chunks, xr.Dataset(), "t", rows=1)
    refused("TM247", "variables= names 'zz', which the Dataset has not", tm.xarray_chunks, ds, "t", 1, variables=["zz"])
    refused("TM247", "variables= names None", tm.xarray_chunks, ds, "t", 1, variables=[None])
    for bad in ([], "a", 3):
        refused("TM247", "variables= takes a non-empty list", tm.xarray_chunks, ds, "t", 1, variables=bad)
    refused("TM247", "variables= names a Dataset's variables", tm.xarray_chunks, da, "t", 1, variables=["a"])
    chunks = list(tm.xarray_chunks(ds, "t", np.int64(1), variables=["a"]))
    assert [c["a"].values.tolist() for c in chunks] == [[[0.0, 1.0, 2.0]], [[3.0, 4.0, 5.0]]]


def test_xarray_chunks_of_an_array_with_a_dim_named_twice_is_refused() -> None:
    with pytest.warns(UserWarning, match="Duplicate dimension names"):
        twice = xr.DataArray(np.ones((2, 2)), dims=("t", "t"))
    refused("TM247", "the DataArray has a dim named twice: 't', 't'", tm.xarray_chunks, twice, "t", rows=1)


def test_a_dataarray_with_a_dim_named_twice_given_to_a_port_is_tm240() -> None:
    @tm.stage
    def same(x: Q[Float[Array, "*b"], "m"]) -> Q[Float[Array, "*b"], "m"]:
        return x

    with pytest.warns(UserWarning, match="Duplicate dimension names"):
        twice = xr.DataArray(np.ones((2, 2)), dims=("t", "t"), attrs={"units": "m"})
    refused("TM240", "DataArray given to 'x' of same\\(\\) has dim 't' more than once", same, twice)
