"""`preinterp report` and `sweep collect` read the per-epoch calibration
(issue 20) back: summary.json's `calibration` agrees with the run file's
curves and with the criterion `min_scaled_val_loss`, the two calibration
figures are drawn, a file recorded before calibration still reports and
says why it has none, and sweep.h5 / sweep.csv carry the same numbers."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PREINTERP_BIN", str(ROOT / "target/release/preinterp"))
FIXTURE = ROOT / "fixtures/mnist-small"
NO_CALIBRATION = "recorded before calibration was added (preinterp since issue 20)"
FIGURES = ["calibration", "reliability"]

# The calibration variables of /curves; a file without them is what
# preinterp wrote before issue 20.
CAL_SUFFIXES = ("_temperature", "_loss_at_temperature", "_ece", "_max_logit_correct", "_max_logit_wrong",
                "_margin_correct", "_margin_wrong", "_wrong_loss_share", "_wrong_loss_mean",
                "_calibration_status", "_reliability_count", "_reliability_accuracy",
                "_reliability_confidence")

# sweep.h5's float columns and the summary.json fields they hold.
CAL_COLUMNS = {
    "cal_temperature_at_min": "temperature_at_raw_min",
    "cal_temperature_at_end": "temperature_at_end",
    "cal_scaled_loss_at_min": "scaled_loss_at_raw_min",
    "cal_scaled_loss_at_end": "scaled_loss_at_end",
    "cal_ece_at_min": "ece_at_raw_min",
    "cal_ece_at_end": "ece_at_end",
    "cal_raw_loss_at_end": "raw_loss_at_end",
    "cal_raw_change": "raw_change",
    "cal_scaled_change": "scaled_change",
    "cal_wrong_loss_share_at_end": "wrong_loss_share_at_end",
}


def run(*args):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, check=True)


def train(path, *extra):
    run("train", "--dataset", FIXTURE, "--train-size", 600, "--val-size", 400, "--depth", 2, "--width", 32,
        "--epochs", 30, "--lr", 0.01, "-q", "-o", path, *extra)
    return path


def num(x):
    """A JSON number (NaN is written as null)."""
    return np.nan if x is None else x


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    d = tmp_path_factory.mktemp("cal")
    path = train(d / "run.h5")
    out = d / "rep"
    r = run("report", path, "-o", out)
    summary = json.loads((out / "summary.json").read_text())
    return path, out, summary, r.stdout


def test_summary_calibration_is_the_run_files_curves(reported):
    path, _, s, _ = reported
    cal = s["calibration"]
    with h5py.File(path, "r") as f:
        c = {k: f["curves"][k][()] for k in f["curves"]}
    epoch, raw = c["epoch"], c["val_loss"]
    scaled, t, ece = c["val_loss_at_temperature"], c["val_temperature"], c["val_ece"]
    m, last = int(np.nanargmin(raw)), len(epoch) - 1
    assert cal["raw_min_epoch"] == epoch[m] == s["curves"]["min_val_loss"]["epoch"]
    assert cal["last_epoch"] == epoch[last]
    expected = {
        "raw_loss_at_raw_min": raw[m], "scaled_loss_at_raw_min": scaled[m],
        "temperature_at_raw_min": t[m], "ece_at_raw_min": ece[m],
        "raw_loss_at_end": raw[last], "scaled_loss_at_end": scaled[last],
        "temperature_at_end": t[last], "ece_at_end": ece[last],
        "raw_change": raw[last] - raw[m], "scaled_change": scaled[last] - scaled[m],
        "wrong_loss_share_at_end": c["val_wrong_loss_share"][last],
    }
    for k, v in expected.items():
        np.testing.assert_equal(num(cal[k]), v, err_msg=k)
    assert cal["scaled_does_not_rise"] == bool(scaled[last] <= scaled[m])
    # The minimum of the scaled loss is the epoch the criterion picks.
    sm = int(np.nanargmin(scaled))
    assert cal["scaled_min_epoch"] == epoch[sm]
    pick = s["selection"]["min_scaled_val_loss"]
    assert pick["epoch"] == cal["scaled_min_epoch"] and pick["value"] == scaled[sm]
    assert pick["eval_accuracy"] == c["eval_accuracy"][sm] and pick["eval_loss"] == c["eval_loss"][sm]
    # This run over-fits: the raw loss rises, T* grows, and the scaled
    # loss moves far less than the raw one.
    assert cal["raw_change"] > 0.1
    assert cal["temperature_at_end"] > cal["temperature_at_raw_min"]
    assert abs(cal["scaled_change"]) < 0.1 * cal["raw_change"]


def test_the_figures_are_drawn_in_png_and_svg(reported):
    _, out, s, _ = reported
    for name in FIGURES:
        png = (out / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, name
        svg = (out / f"{name}.svg").read_text()
        assert "<svg" in svg and "<text" in svg, name
        assert {f"{name}.png", f"{name}.svg"} <= set(s["figures"])
    assert "expected calibration error" in (out / "calibration.svg").read_text()
    rel = (out / "reliability.svg").read_text()
    assert "minimum raw loss" in rel and "last epoch" in rel
    assert not any("calibration" in k for k in s["skipped"]), s["skipped"]


def test_the_cli_prints_the_calibration(reported):
    _, _, s, stdout = reported
    cal = s["calibration"]
    assert f"calibration, epoch {cal['raw_min_epoch']} -> {cal['last_epoch']}:" in stdout
    assert f"the loss at T* is lowest at epoch {cal['scaled_min_epoch']}" in stdout


def strip_calibration(src, dst):
    """A copy of run file `src` as preinterp wrote it before issue 20."""
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        c = f["curves"]
        gone = [n for n in c if n.endswith(CAL_SUFFIXES) and n.startswith(("val_", "eval_"))]
        for n in gone:
            del c[n]
        del f["reliability"]
        if "calibration_status" in f.attrs:
            del f.attrs["calibration_status"]
        left = list(c)
    assert len(gone) == 20 and not any("temperature" in n or "calibration" in n or "reliability" in n
                                       or "confidence" in n or "ece" in n for n in left), left
    return dst


def test_a_file_recorded_before_calibration_reports_and_says_so(reported, tmp_path):
    path, _, _, _ = reported
    old = strip_calibration(path, tmp_path / "old.h5")
    out = tmp_path / "rep"
    r = subprocess.run([BIN, "report", str(old), "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())
    assert s["calibration"] is None
    assert s["selection"]["min_scaled_val_loss"] is None
    assert f"calibration figures and summary: {NO_CALIBRATION}" in s["skipped"]
    assert f"skipped: calibration figures and summary: {NO_CALIBRATION}" in r.stdout
    for name in FIGURES:
        assert not (out / f"{name}.png").exists() and f"{name}.png" not in s["figures"]
    # Everything else is still there.
    assert (out / "fig1_curves.png").exists() and s["curves"] is not None


def test_without_a_validation_set_the_evaluation_set_is_drawn(tmp_path):
    path = tmp_path / "noval.h5"
    run("train", "--dataset", FIXTURE, "--train-size", 600, "--val-size", 0, "--depth", 1, "--width", 16,
        "--epochs", 4, "-q", "-o", path)
    out = tmp_path / "rep"
    run("report", path, "-o", out)
    s = json.loads((out / "summary.json").read_text())
    assert s["calibration"] is None
    assert any(k.startswith("calibration summary: the run has no validation set") for k in s["skipped"])
    for name in FIGURES:
        assert (out / f"{name}.png").exists() and (out / f"{name}.svg").exists()
    assert "evaluation set, epoch" in (out / "reliability.svg").read_text()


def test_sweep_collect_has_the_calibration_columns(tmp_path):
    spec = tmp_path / "cal.toml"
    spec.write_text(f'''name = "cal"
[fixed]
dataset = "{FIXTURE}"
train_size = 300
val_size = 200
depth = 1
epochs = 8
optimizer = "adam"
lr = 0.01
[axes]
width = [8, 16]
''')
    out = tmp_path / "o"
    run("sweep", "run", spec, "--out", out, "--shard", "1/2")  # the other run is missing
    run("sweep", "collect", out)
    t = xr.open_dataset(out / "sweep.h5", engine="h5netcdf")
    # pandas 3 parses floats exactly; pandas 2 needs "round_trip" for it.
    exact = int(pd.__version__.split(".")[0]) >= 3
    df = pd.read_csv(out / "sweep.csv", **({} if exact else {"float_precision": "round_trip"}))
    df = df.set_index("run")
    ints = ["cal_scaled_min_epoch", "cal_scaled_does_not_rise"]
    for name in [*CAL_COLUMNS, *ints]:
        v = t[name]
        assert v.dims == ("run",) and v.attrs["units"] == "1" and v.attrs["long_name"], name
        assert name in df.columns, name
    flags = t["cal_scaled_does_not_rise"].attrs
    assert list(flags["flag_values"]) == [0, 1]
    assert flags["flag_meanings"].split() == ["scaled_loss_rises", "scaled_loss_does_not_rise"]
    for name in ints:
        assert t[name].dtype == np.int64 and df[name].dtype.kind == "i", name
    done = [str(r) for r in t.run.values if str(t.status.sel(run=r).values) == "complete"]
    missing = [str(r) for r in t.run.values if str(t.status.sel(run=r).values) == "missing"]
    assert len(done) == 1 and len(missing) == 1
    # A missing run: NaN and -1.
    row = t.sel(run=missing[0])
    assert all(np.isnan(float(row[c])) for c in CAL_COLUMNS)
    assert all(int(row[c]) == -1 for c in ints)
    assert all(np.isnan(df.loc[missing[0], c]) for c in CAL_COLUMNS)
    # The finished run: the numbers of its own report's summary.json.
    rid = done[0]
    rep = tmp_path / "rep"
    run("report", out / f"{rid}.h5", "-o", rep)
    s = json.loads((rep / "summary.json").read_text())
    cal, row = s["calibration"], t.sel(run=rid)
    for col, key in CAL_COLUMNS.items():
        np.testing.assert_equal(float(row[col]), num(cal[key]), err_msg=col)
        np.testing.assert_equal(df.loc[rid, col], num(cal[key]), err_msg=col)
    assert int(row["cal_scaled_min_epoch"]) == cal["scaled_min_epoch"] == df.loc[rid, "cal_scaled_min_epoch"]
    assert int(row["cal_scaled_does_not_rise"]) == int(cal["scaled_does_not_rise"])
    assert int(row["min_epoch"]) == cal["raw_min_epoch"]
    # The criterion's columns come through Criterion::ALL.
    pick = s["selection"]["min_scaled_val_loss"]
    assert int(row["select_min_scaled_val_loss_epoch"]) == pick["epoch"] == cal["scaled_min_epoch"]
    assert float(row["select_min_scaled_val_loss_eval_accuracy"]) == pick["eval_accuracy"]
    assert float(row["select_min_scaled_val_loss_eval_loss"]) == pick["eval_loss"]
