"""xarray DataArrays as inputs and outputs: dims by name, units from attrs or pint, coordinates carried."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from jaxtyping import Array, Float

import typedml as tm
from typedml import Q

xr = pytest.importorskip("xarray")


@tm.stage
def calibrate(
    raw: Q[Float[Array, "time channel"], "mV"],
    gain: Q[Float[Array, "channel"], "K/mV"],
    offset: Q[Float[Array, "channel"], "K"],
) -> Q[Float[Array, "time channel"], "K"]:
    return raw * gain + offset


@tm.pipeline
def sensor(
    raw: Q[Float[Array, "time channel"], "V"],
    gain: Q[Float[Array, "channel"], "K/mV"],
    offset: Q[Float[Array, "channel"], "K"],
) -> Q[Float[Array, "channel"], "degC"]:
    return tm.stdlib.mean(calibrate(raw, gain, offset), axis="time")


def arrays(raw_unit: str = "mV", scale: float = 1.0) -> tuple[object, object, object]:
    values = np.arange(12, dtype=np.float32).reshape(3, 4) * scale  # channel-major: (channel, time)
    raw = xr.DataArray(
        values,
        dims=("channel", "time"),
        coords={"channel": ["a", "b", "c"], "time": np.arange(4), "site": ("channel", ["x", "y", "z"])},
        attrs={"units": raw_unit},
        name="raw",
    )
    gain = xr.DataArray(np.array([1.0, 2.0, 3.0], np.float32), dims=("channel",), attrs={"units": "K/mV"})
    offset = xr.DataArray(np.full(3, 273.15, np.float32), dims=("channel",), attrs={"units": "K"})
    return raw, gain, offset


def expected() -> np.ndarray:
    values = np.arange(12, dtype=np.float64).reshape(3, 4)  # in mV
    return values.mean(axis=1) * np.array([1.0, 2.0, 3.0])  # degC (offset 273.15 K is 0 degC)


def test_transposed_dims_are_matched_by_name_and_outputs_come_back_as_dataarrays() -> None:
    raw, gain, offset = arrays()
    out = sensor(raw, gain, offset)
    assert isinstance(out, xr.DataArray)
    assert out.dims == ("channel",)
    np.testing.assert_allclose(out.values, expected(), rtol=1e-5)
    assert out.attrs["units"] == "degC"
    assert list(out.coords["channel"].values) == ["a", "b", "c"]  # coordinates of the surviving dim
    assert list(out.coords["site"].values) == ["x", "y", "z"]  # and a coordinate along it
    assert "time" not in out.coords  # the reduced dim's coordinate does not survive
    assert raw.dims == ("channel", "time") and raw.attrs == {"units": "mV"}  # the input is untouched


def test_volts_and_millivolts_give_the_same_answer() -> None:
    in_mv = sensor(*arrays("mV"))
    in_v = sensor(*arrays("V", scale=0.001))
    np.testing.assert_allclose(in_v.values, in_mv.values, rtol=1e-5)


def test_cf_units_and_pint_quantified_arrays() -> None:
    raw, gain, offset = arrays()
    cf = offset.assign_attrs(units="degrees_Celsius") - 273.15  # arithmetic drops attrs: set them again
    cf.attrs["units"] = "degrees_Celsius"
    np.testing.assert_allclose(sensor(raw, gain, cf).values, expected(), rtol=1e-4)
    pint_raw = xr.DataArray(tm.get_registry().Quantity(raw.values, "mV"), dims=raw.dims, coords=raw.coords)
    np.testing.assert_allclose(sensor(pint_raw, gain, offset).values, expected(), rtol=1e-5)
    both = pint_raw.assign_attrs(units="V")
    with pytest.raises(tm.InputError, match=r"TM241.*two units"):
        sensor(both, gain, offset)


def test_a_missing_dim_an_extra_dim_and_a_missing_unit_are_named() -> None:
    raw, gain, offset = arrays()
    with pytest.raises(tm.InputError) as err:
        sensor(raw.rename(time="t"), gain, offset)
    assert err.value.code == "TM240"
    assert "has no dim 'time'" in str(err.value) and "('channel', 't')" in str(err.value)
    with pytest.raises(tm.InputError, match=r"TM240.* has dim 'run' that the port does not name"):
        sensor(raw.expand_dims(run=2), gain, offset)
    with pytest.raises(tm.InputError, match=r"TM241.*has no unit; the port expects K/mV"):
        sensor(raw, gain.drop_attrs(), offset)
    with pytest.raises(tm.InputError, match=r"TM241.*'bogons'"):
        sensor(raw.assign_attrs(units="bogons"), gain, offset)
    with pytest.raises(tm.InputError, match="TM203"):  # the core's own unit check, on converted data
        sensor(raw.assign_attrs(units="m"), gain, offset)


def test_coordinates_that_disagree_are_refused_not_aligned() -> None:
    raw, gain, offset = arrays()
    other = gain.assign_coords(channel=["c", "b", "a"])
    with pytest.raises(tm.InputError) as err:
        sensor(raw, other, offset)
    assert err.value.code == "TM242"
    assert "along dim 'channel'" in str(err.value)
    assert "['a', 'b', 'c']" in str(err.value) and "['c', 'b', 'a']" in str(err.value)


def test_dataset_variables_and_mixed_inputs() -> None:
    raw, gain, offset = arrays()
    ds = xr.Dataset({"raw": raw, "gain": gain, "offset": offset, "notes": ("channel", ["", "", ""])})
    out = sensor(**ds[["raw", "gain", "offset"]])
    np.testing.assert_allclose(out.values, expected(), rtol=1e-5)
    with pytest.raises(tm.InputError, match=r"TM247.*Dataset"):
        sensor(ds, gain, offset)
    q = tm.get_registry().Quantity(raw.transpose("time", "channel").values, "mV")
    mixed = sensor(q, gain, offset)  # a quantity among DataArrays: still DataArrays out
    assert isinstance(mixed, xr.DataArray) and mixed.dims == ("channel",)


def test_fast_path_sends_dataarrays_to_the_adapter_every_time() -> None:
    raw, gain, offset = arrays()
    reg = tm.get_registry()
    plain = [
        reg.Quantity(np.asarray(v.transpose(*sorted(v.dims, reverse=True)).values), v.attrs["units"])
        for v in (raw, gain, offset)
    ]
    sensor(*plain)  # compiled and cached for these units
    sensor(*plain)
    out = sensor(raw, gain, offset)
    assert isinstance(out, xr.DataArray)
    with pytest.raises(tm.InputError, match="TM240"):
        sensor(raw.rename(time="t"), gain, offset)


class Stats(NamedTuple):
    mean: Q[Float[Array, "channel"], "K"]
    spread: Q[Float[Array, "time channel"], "K"]


@tm.stage
def centre(x: Q[Float[Array, "time channel"], "K"]) -> Stats:
    m = x.mean(axis=0)
    return Stats(m, x - m)


def test_several_outputs_each_a_dataarray_with_its_dims() -> None:
    x = xr.DataArray(
        np.arange(6, dtype=np.float32).reshape(2, 3),
        dims=("channel", "time"),
        coords={"time": [10, 20, 30]},
        attrs={"units": "K"},
    )
    out = centre(x)
    assert isinstance(out, Stats)
    assert out.mean.dims == ("channel",) and out.mean.attrs["units"] == "K"
    assert out.spread.dims == ("time", "channel")
    assert list(out.spread.coords["time"].values) == [10, 20, 30]
    np.testing.assert_allclose(out.spread.values, (x - x.mean("time")).transpose("time", "channel").values)


def test_debug_and_checked_take_dataarrays() -> None:
    raw, gain, offset = arrays()
    run = sensor.debug(raw, gain, offset)
    np.testing.assert_allclose(np.asarray(run.outputs.magnitude), expected(), rtol=1e-5)
    out = sensor.checked(raw, gain, offset)
    assert isinstance(out, xr.DataArray) and out.attrs["units"] == "degC"


def test_float64_dataarray_warns_naming_the_port() -> None:
    raw, gain, offset = arrays()
    with pytest.warns(tm.PrecisionWarning, match=r"'raw' \(float64 as float32\)"):
        sensor(raw.astype(np.float64).assign_attrs(units="mV"), gain, offset)


class Total(NamedTuple):
    total: Q[Float[Array, "channel"], "mV"]
    count: Float[Array, ""]


@tm.stage
def accumulate(
    total: Q[Float[Array, "channel"], "mV"], count: Float[Array, ""], x: Q[Float[Array, "time channel"], "mV"]
) -> Total:
    return Total(total + x.sum(axis=0), count + x.shape[0])


def test_streaming_a_chunked_dataarray_along_a_named_dim() -> None:
    pytest.importorskip("dask")
    values = np.arange(2 * 10, dtype=np.float32).reshape(2, 10)
    da = xr.DataArray(values, dims=("channel", "time"), attrs={"units": "V"}).chunk({"time": 4})
    chunks = list(tm.xarray_chunks(da, "time"))
    assert [c.sizes["time"] for c in chunks] == [4, 4, 2] and chunks[0].dims == ("time", "channel")
    reg = tm.get_registry()
    init = Total(reg.Quantity(np.zeros(2, np.float32), "mV"), np.float32(0))
    out = tm.stream(accumulate, tm.xarray_chunks(da, "time"), init=init)
    np.testing.assert_allclose(out.total.magnitude, values.sum(axis=1) * 1000, rtol=1e-5)
    assert float(out.count) == 10
    with pytest.raises(tm.InputError, match=r"TM247.*not chunked along 'time'"):
        tm.xarray_chunks(da.compute(), "time")
    with pytest.raises(tm.InputError, match=r"TM247.*no dim 'row'"):
        tm.xarray_chunks(da, "row", rows=3)


def test_import_typedml_does_not_import_xarray() -> None:
    import subprocess
    import sys

    code = "import sys, typedml; assert 'xarray' not in sys.modules and 'pyarrow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
