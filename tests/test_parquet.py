"""Parquet files stream into tm.stream with the units of their field metadata; results are written back with theirs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def write(path: Path, columns: dict[str, Any], units: dict[str, str], row_group: int | None = None) -> Path:
    """A Parquet file of ``columns``, each ``units[name]`` in its field's metadata."""
    arrays = {k: pa.array(v) for k, v in columns.items()}
    fields = [pa.field(k, a.type, metadata={"unit": units[k]} if k in units else None) for k, a in arrays.items()]
    pq.write_table(
        pa.Table.from_arrays(list(arrays.values()), schema=pa.schema(fields)), path, row_group_size=row_group
    )
    return path


@tm.stage
def calibrate(raw: Q[Float[Array, "n c"], "V"], gain: Q[Float[Array, "n"], "K/V"]) -> Q[Float[Array, "n c"], "K"]:
    return raw * gain[:, None]


def test_two_files_in_different_units_stream_to_the_right_mean(tmp_path: Path) -> None:
    a = write(tmp_path / "a.parquet", {"v": np.arange(10, dtype=np.float32)}, {"v": "mV"}, row_group=3)
    b = write(tmp_path / "b.parquet", {"v": np.arange(1, 6, dtype=np.float32) / 1000}, {"v": "V"}, row_group=2)
    source = tm.parquet_chunks([a, b], "v", rows=4)
    assert isinstance(source, tm.FileChunks)
    chunks = list(source)
    # row groups of 3 and 2 re-cut into chunks of exactly 4 rows, never across files (units differ)
    assert [(c.shape, str(c.units)) for c in chunks] == [
        ((4,), "millivolt"),
        ((4,), "millivolt"),
        ((2,), "millivolt"),
        ((4,), "volt"),
        ((1,), "volt"),
    ]
    np.testing.assert_array_equal(np.concatenate([c.magnitude for c in chunks[:3]]), np.arange(10))
    init = tm.stdlib.moments_init(tm.Quantity(np.float32(0.0), "mV"))
    state = tm.stream(tm.stdlib.moments_update, tm.parquet_chunks([a, b], "v", rows=4), init=init)
    result = tm.stdlib.moments_finalize(state)
    assert float(result.mean.to("mV").magnitude) == pytest.approx((45 + 15) / 15, rel=1e-6)
    halves = [source.share(0, 2), source.share(1, 2)]  # the files split between two processes
    assert [len(h) for h in halves] == [1, 1]


def test_ports_by_mapping_stacked_and_given_units(tmp_path: Path) -> None:
    path = write(
        tmp_path / "f.parquet",
        {
            "ch0": np.array([1000.0, 2000.0], np.float32),
            "ch1": np.array([3.0, 4.0], np.float32),
            "g": np.array([1.0, 2.0], np.float32),
        },
        {"ch0": "mV", "ch1": "V"},
    )
    (chunk,) = tm.parquet_chunks([path], {"raw": ["ch0", "ch1"], "gain": "g"}, units={"g": "K/V"})
    assert str(chunk["raw"].units) == "millivolt"
    out = calibrate(**chunk)
    np.testing.assert_allclose(np.asarray(out.magnitude), [[1.0, 3.0], [4.0, 8.0]])
    # a unit given and the file's own must agree
    with pytest.raises(tm.InputError) as info:
        tm.parquet_chunks([path], {"x": "ch0"}, unit="V")
    assert info.value.code == "TM241"
    assert "column 'ch0' states two units: 'mV' in its data and 'V' given" in str(info.value)


def test_float64_columns_warn_or_are_converted_on_purpose(tmp_path: Path) -> None:
    path = write(tmp_path / "d.parquet", {"v": np.array([1.0, 2.0, 3.0])}, {"v": "m"})
    init = tm.stdlib.moments_init(tm.Quantity(np.float32(0.0), "m"))
    with pytest.warns(tm.PrecisionWarning):
        tm.stream(tm.stdlib.moments_update, tm.parquet_chunks([path], "v"), init=init)
    (chunk,) = tm.parquet_chunks([path], "v", dtype=np.float32)
    assert chunk.magnitude.dtype == np.float32


def test_faults_are_named_with_the_file_and_row(tmp_path: Path) -> None:
    good = write(tmp_path / "good.parquet", {"v": np.ones(3, np.float32)}, {"v": "m"})
    other = write(tmp_path / "other.parquet", {"w": np.ones(3, np.float32)}, {"w": "m"})
    with pytest.raises(tm.InputError) as info:
        tm.parquet_chunks([good, other], "v")  # every file's schema is checked before any row is read
    assert info.value.code == "TM245"
    assert "other.parquet: there is no column 'v'" in str(info.value)
    assert "test_parquet.py" in str(info.value)

    gaps = tmp_path / "gaps.parquet"
    pq.write_table(pa.table({"v": pa.array([1.0, 2.0, 3.0, None, 5.0], pa.float32())}), gaps)
    chunks = tm.parquet_chunks([gaps], "v", unit="m", rows=2)
    with pytest.raises(tm.InputError) as info:
        list(chunks)
    assert info.value.code == "TM245"
    assert "gaps.parquet, chunk 1 (rows 2-3): column 'v' holds 1 missing value(s), the first at row 3" in str(
        info.value
    )

    text = write(tmp_path / "text.parquet", {"s": ["a", "b"]}, {})
    with pytest.raises(tm.InputError, match=r"TM245.*column 's' holds string values, not numbers"):
        tm.parquet_chunks([text], "s")

    bogus = tmp_path / "bogus.parquet"
    bogus.write_bytes(b"not a parquet file at all")
    with pytest.raises(tm.InputError, match=r"TM510.*bogus.parquet cannot be read"):
        tm.parquet_chunks([bogus], "v")
    with pytest.raises(tm.InputError, match="TM510"):
        tm.parquet_chunks([tmp_path / "absent.parquet"], "v")

    seconds = write(tmp_path / "s.parquet", {"v": np.ones(2, np.float32)}, {"v": "s"})
    init = tm.stdlib.moments_init(tm.Quantity(np.float32(0.0), "m"))
    with pytest.raises(tm.InputError) as info:  # a file in seconds for a state in metres
        tm.stream(tm.stdlib.moments_update, tm.parquet_chunks([seconds], "v"), init=init)
    assert "was read from column 'v' of an Arrow table, by parquet_chunks(): " in str(info.value)
    assert "s.parquet, chunk 0 (rows 0-1)" in str(info.value)

    bad_unit = write(tmp_path / "u.parquet", {"v": np.ones(2, np.float32)}, {"v": "furlongs per bogus"})
    with pytest.raises(tm.InputError, match="TM241"):
        tm.parquet_chunks([bad_unit], "v")


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"columns": "v", "rows": 0}, "rows must be a positive int, got 0"),
        ({"columns": 3}, "columns= takes a column's name or a mapping"),
        ({"columns": {"x": []}}, r"x=\[\]: a port takes a column's name"),
        ({"columns": "v", "units": {"w": "m"}}, "units= names column 'w', which no port is given"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], text: str) -> None:
    path = write(tmp_path / "f.parquet", {"v": np.ones(2, np.float32)}, {"v": "m"})
    with pytest.raises(tm.InputError) as info:
        tm.parquet_chunks([path], **kwargs)
    assert info.value.code == "TM246"
    assert re.search(text, str(info.value)), str(info.value)


def test_results_written_with_units_and_read_back(tmp_path: Path) -> None:
    raw = tm.Quantity(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), "V")
    gain = tm.Quantity(np.array([10.0, 20.0], np.float32), "K/V")
    out = tmp_path / "out.parquet"
    tm.write_parquet(out, calibrate(raw, gain), names=["left", "right"])
    schema = pq.read_schema(out)
    assert schema.names == ["left", "right"]
    assert schema.field("left").metadata == {b"unit": b"K"}
    (back,) = tm.parquet_chunks([out], {"x": ["left", "right"]})
    assert str(back["x"].units) == "kelvin"
    np.testing.assert_allclose(back["x"].magnitude, [[10.0, 20.0], [60.0, 80.0]])
    # also read by tm.columns from an Arrow table
    assert str(tm.columns(pq.read_table(out), x="right")["x"].units) == "kelvin"
    with pytest.raises(tm.InputError) as info:
        tm.write_parquet(tmp_path / "s.parquet", {"mean": tm.Quantity(np.float32(1.0), "K")})
    assert info.value.code == "TM248"
    with pytest.raises(tm.InputError, match=r"TM248.*not one value per row of the 2 rows"):
        tm.write_parquet(tmp_path / "s.parquet", {"a": np.ones(2, np.float32), "b": np.ones(3, np.float32)})


def test_missing_pyarrow_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "import typedml as tm\n"
        "try:\n"
        "    tm.parquet_chunks(['x.parquet'], 'v')\n"
        "except ModuleNotFoundError as err:\n"
        "    print(err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'typedml[parquet]'" in out
