"""Every file kind opens in the analysis tools without help (issue 22): the
run file's groups, samples.h5, sweep.h5 and sweep.csv, read with xarray
(h5netcdf), netCDF4, pandas and cf_xarray. The CF global attributes,
`flag_values`/`flag_meanings`, `_FillValue` (NaN, decoded, values
unchanged), the bin `bounds` and the checkpoints' `coordinates` link."""

import os
import re
import subprocess
from pathlib import Path

import cf_xarray  # noqa: F401  (registers the .cf accessor)
import h5py
import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PREINTERP_BIN", str(ROOT / "target/release/preinterp"))
FIXTURE = str(ROOT / "fixtures/mnist-small")
SMALL = ["--train-size", "200", "--val-size", "100", "--depth", "1", "--width", "16", "--batch-size", "50"]
GROUPS = ["curves", "reliability", "val_per_epoch", "train_per_epoch", "checkpoints"]
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: .*preinterp\S* ")


def train(out, *extra):
    cmd = [BIN, "train", "--dataset", FIXTURE, *SMALL, "--out", str(out), *extra]
    subprocess.run(cmd, capture_output=True, text=True, check=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cf")
    run = d / "run.h5"
    train(run, "--epochs", "3", "--record-samples", "all", "--record-margins")
    subprocess.run([BIN, "report", str(run), "--out", str(d / "rep")], capture_output=True, check=True)
    spec = d / "s.toml"
    spec.write_text(f'''name = "cf"
[fixed]
dataset = "{FIXTURE}"
train_size = 200
val_size = 100
depth = 1
epochs = 2
[axes]
width = [8, 16]
[[variants]]
optimizer = "adam"
''')
    sweep = d / "sweep"
    subprocess.run([BIN, "sweep", "run", str(spec), "--out", str(sweep), "--shard", "1/2"],
                   capture_output=True, check=True)
    subprocess.run([BIN, "sweep", "collect", str(sweep)], capture_output=True, check=True)
    subprocess.run([BIN, "compare", str(run), str(run), "--out", str(d / "cmp")], capture_output=True, check=True)
    return {"run": run, "samples": d / "rep" / "samples.h5", "sweep": sweep / "sweep.h5",
            "csv": sweep / "sweep.csv", "compare": d / "cmp" / "compare.h5"}


def check_globals(attrs, command):
    assert attrs["Conventions"] == "CF-1.8"
    assert attrs["source"].startswith("preinterp ") and len(attrs["source"].split()) == 2
    assert "Venter, Theunissen & Davel (2021)" in attrs["references"]
    assert "Pre-interpolation loss behaviour in neural networks" in attrs["references"]
    assert "doi:10.1007/978-3-030-66151-9_19" in attrs["references"]
    assert "arXiv:2103.07986" in attrs["references"]
    lines = attrs["history"].splitlines()
    assert all(LINE.match(x) for x in lines), lines
    assert command in lines[-1]
    return lines


def test_global_attributes_in_every_file(files):
    with netCDF4.Dataset(files["run"]) as nc:
        lines = check_globals({k: nc.getncattr(k) for k in nc.ncattrs()}, " train ")
        assert len(lines) == 1 and "--record-margins" in lines[0]
        assert set(GROUPS) <= set(nc.groups)
    with netCDF4.Dataset(files["samples"]) as nc:
        check_globals({k: nc.getncattr(k) for k in nc.ncattrs()}, " report ")
    t = xr.open_dataset(files["sweep"], engine="h5netcdf")
    assert len(check_globals(t.attrs, " sweep collect ")) == 1
    with netCDF4.Dataset(files["compare"]) as nc:
        check_globals({k: nc.getncattr(k) for k in nc.ncattrs()}, " compare ")


def float_vars(path):
    out = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) and o.dtype.kind == "f"
                     and not n.startswith("state/") and "CLASS" not in o.attrs else None)
    return out


@pytest.mark.parametrize("kind", ["run", "samples", "sweep"])
def test_fill_value_is_nan_of_the_variables_type_and_values_are_unchanged(files, kind):
    path = files[kind]
    names = float_vars(path)
    assert names, kind
    opened = {}
    with h5py.File(path, "r") as f, netCDF4.Dataset(path) as nc:
        for n in names:
            h = f[n]
            assert h.fillvalue.dtype == h.dtype and np.isnan(h.fillvalue), n
            assert h.attrs["_FillValue"].dtype == h.dtype and np.isnan(h.attrs["_FillValue"]), n
            group, _, var = n.rpartition("/")
            v = (nc[group] if group else nc).variables[var]
            assert np.isnan(v._FillValue) and v.dtype == h.dtype, n
            raw = h[()]
            got = np.ma.filled(v[:], np.nan)
            np.testing.assert_array_equal(got, raw, err_msg=n)
            if group not in opened:
                opened[group] = xr.open_dataset(path, engine="h5netcdf", group=group or None)
            x = opened[group][var]
            assert np.isnan(x.encoding["_FillValue"]) and x.dtype == h.dtype, n
            np.testing.assert_array_equal(x.values, raw, err_msg=n)
            assert x.values.tobytes() == raw.tobytes() or np.isnan(raw).any(), n


def test_sweep_flags_are_cf_flags(files):
    with h5py.File(files["sweep"], "r") as f:
        for name in ["selected", "triangle"]:
            d = f[name]
            assert list(d.attrs["flag_values"]) == [0, 1], name
            assert len(d.attrs["flag_meanings"].split()) == 2, name
            assert set(np.unique(d[:])) <= {0, 1}, name


def test_correct_variables_are_cf_flags(files):
    groups = {"val_per_epoch": ["correct"], "train_per_epoch": ["correct"],
              "checkpoints": ["train_correct", "val_correct", "eval_correct"]}
    for g, names in groups.items():
        ds = xr.open_dataset(files["run"], engine="h5netcdf", group=g)
        for n in names:
            da = ds[n]
            assert da.dtype == np.uint8
            assert list(da.attrs["flag_values"]) == [0, 1] and da.attrs["flag_values"].dtype == np.uint8
            assert da.attrs["flag_meanings"] == "misclassified correctly_classified"
            assert da.cf.is_flag_variable
            np.testing.assert_array_equal((da.cf == "correctly_classified").values, da.values == 1)
            np.testing.assert_array_equal((da.cf == "misclassified").values, da.values == 0)
    with netCDF4.Dataset(files["run"]) as nc:
        v = nc["checkpoints"].variables["val_correct"]
        assert v.flag_meanings.split() == ["misclassified", "correctly_classified"]


def test_histogram_bins_have_cf_bounds(files):
    ck = xr.open_dataset(files["run"], engine="h5netcdf", group="checkpoints")
    assert ck.cf.bounds["loss_bin"] == ["loss_bin_bounds"]
    assert ck.cf.bounds["weight_bin"] == ["weight_bin_bounds"]
    lb = ck.cf.get_bounds("loss_bin")
    assert lb.dims == ("loss_bin", "nv")
    np.testing.assert_array_equal(lb.values[:, 0], ck.loss_bin_lower.values)
    np.testing.assert_array_equal(lb.values[:, 1], ck.loss_bin_upper.values)
    wb = ck["weight_bin_bounds"]
    assert wb.dims == ("layer", "weight_bin", "nv")
    np.testing.assert_array_equal(wb.values[..., 0], ck.weight_bin_lower.values)
    np.testing.assert_array_equal(wb.values[..., 1], ck.weight_bin_upper.values)
    assert lb.values[0, 0] == -np.inf and lb.values[-1, 1] == np.inf


def test_checkpoint_epoch_is_an_auxiliary_coordinate(files):
    ck = xr.open_dataset(files["run"], engine="h5netcdf", group="checkpoints")
    assert "epoch" in ck.coords and "epoch" not in ck.data_vars
    by_iteration = [n for n in ck.data_vars if ck[n].dims[:1] == ("iteration",)]
    assert "val_loss_hist" in by_iteration and "weight_l2" in by_iteration and "val_loss" in by_iteration
    for n in by_iteration:
        assert ck[n].attrs.get("coordinates", ck[n].encoding.get("coordinates")) == "epoch", n
        assert "epoch" in ck[n].coords, n
        assert ck.cf.get_associated_variable_names(n)["coordinates"] == ["epoch"], n
    with h5py.File(files["run"], "r") as f:
        np.testing.assert_array_equal(ck.epoch.values, f["checkpoints/epoch"][()])
    with netCDF4.Dataset(files["run"]) as nc:
        assert nc["checkpoints"].variables["weight_hist"].coordinates == "epoch"
    df = ck[["val_loss_nan"]].to_dataframe()
    assert "epoch" in df.columns


def test_every_group_and_file_opens_in_pandas(files):
    for g in GROUPS:
        ds = xr.open_dataset(files["run"], engine="h5netcdf", group=g)
        assert len(ds.data_vars) > 2, g
    curves = xr.open_dataset(files["run"], engine="h5netcdf", group="curves").to_dataframe()
    assert len(curves) == 4 and curves.val_loss.notna().all()
    val = xr.open_dataset(files["samples"], engine="h5netcdf", group="val").to_dataframe()
    assert len(val) == 100 and val.final_loss.notna().all()
    t = xr.open_dataset(files["sweep"], engine="h5netcdf").to_dataframe()
    assert len(t) == 2


def test_sweep_csv_is_the_table_pandas_reads(files):
    df = pd.read_csv(files["csv"])
    # pandas 3 parses floats exactly; pandas 2's default parser may be off
    # by one bit (its float_precision="round_trip" is exact).
    exact = int(pd.__version__.split(".")[0]) >= 3
    with h5py.File(files["sweep"], "r") as f:
        cols = [n for n in f if f[n].ndim == 1 and "CLASS" not in f[n].attrs]
        assert list(df.columns)[0] == "run" and set(df.columns) == {"run", *cols}
        assert len(df.columns) == len(cols) + 1
        runs = [x.decode() for x in f["run"][()]]
        assert list(df.run) == runs
        for n in cols:
            h = f[n][()]
            if h.dtype.kind == "O":
                assert list(df[n]) == [x.decode() for x in h], n
            elif h.dtype.kind == "f":
                got = df[n].to_numpy(dtype=float)
                if exact:
                    np.testing.assert_array_equal(got, h, err_msg=n)
                else:
                    np.testing.assert_allclose(got, h, rtol=1e-15, err_msg=n)
            else:
                assert df[n].dtype.kind == "i", n
                np.testing.assert_array_equal(df[n].to_numpy(), h, err_msg=n)
    # Half the runs are missing: their floats are NaN in both.
    assert (df.status == "missing").sum() == 1 and df.min_val_loss.isna().sum() == 1
    assert files["csv"].read_text().splitlines()[0].startswith("run,status,")


def resume_one_more_epoch(path, drop=()):
    with h5py.File(path, "r+") as f:
        f.attrs["config"] = f.attrs["config"].replace('"epochs":2', '"epochs":3')
        f.attrs["status"] = "interrupted"
        for a in drop:
            del f.attrs[a]
    r = subprocess.run([BIN, "train", "--resume", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_resume_appends_to_history(tmp_path):
    p = tmp_path / "r.h5"
    train(p, "--epochs", "2")
    with h5py.File(p, "r") as f:
        first = f.attrs["history"]
    resume_one_more_epoch(p)
    with h5py.File(p, "r") as f:
        lines = f.attrs["history"].splitlines()
        assert f.attrs["status"] == "complete"
    assert len(lines) == 2 and lines[0] == first and "--resume" in lines[1]
    assert all(LINE.match(x) for x in lines)


def test_a_file_from_before_the_cf_attributes_still_resumes(tmp_path):
    p = tmp_path / "old.h5"
    train(p, "--epochs", "2")
    with h5py.File(p, "r") as f:
        started, command = f.attrs["started_at"], f.attrs["command_line"]
    resume_one_more_epoch(p, drop=["history", "source", "references"])
    with h5py.File(p, "r") as f:
        lines = f.attrs["history"].splitlines()
        assert f.attrs["status"] == "complete" and f["curves/epoch"].shape == (4,)
    assert lines[0] == f"{started}: {command}" and "--resume" in lines[1]
    r = subprocess.run([BIN, "report", str(p), "--out", str(tmp_path / "rep")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
