"""`preinterp report`'s per-sample statistics (RUN-report/samples.h5),
recomputed with numpy from the run file, its model selection
(summary.json), and what it skips on files without the records.

Tolerances: integer statistics, correctness, final values and
coordinates are compared exactly; confidence, variability and aum (sums
of float64 in a different order than numpy's pairwise sums) to a relative
1e-12 (absolute 1e-15)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PREINTERP_BIN", str(ROOT / "target/release/preinterp"))
FIXTURE = ROOT / "fixtures/mnist-small"
SIZES = ["--train-size", "400", "--val-size", "300", "--depth", "2", "--width", "32", "--batch-size", "50"]


def train(out, *extra, dataset=FIXTURE):
    cmd = [BIN, "train", "--dataset", str(dataset), *SIZES, "--out", str(out), *extra]
    subprocess.run(cmd, capture_output=True, text=True, check=True)


def report(run, out, *extra):
    r = subprocess.run([BIN, "report", str(run), "--out", str(out), *extra], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout, json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """A run with every per-sample record (margins too), and its report."""
    d = tmp_path_factory.mktemp("full")
    train(d / "run.h5", "--epochs", "8", "--lr", "0.01", "--record-margins")
    stdout, summary = report(d / "run.h5", d / "rep")
    return d / "run.h5", d / "rep", stdout, summary


def expected(g):
    """Every statistic of a per-epoch group, recomputed with numpy."""
    epoch = g["epoch"][()]
    loss = g["loss"][()].astype(np.float64)
    correct = g["correct"][()].astype(bool)
    q1, q3 = np.quantile(loss, [0.25, 0.75], axis=1)
    fence = q3 + 1.5 * (q3 - q1)
    above = loss > fence[:, None]
    counted = epoch >= 1
    c = correct[counted]
    ep = epoch[counted]
    p = np.exp(-loss[counted])
    # First epoch from which the sample stays correct: after its last
    # wrong counted epoch; -1 if wrong at the end.
    wrong_rows = np.where(~c, np.arange(len(ep))[:, None], -1)
    last_wrong = wrong_rows.max(axis=0)
    first_stable = np.where(c[-1], ep[np.minimum(last_wrong + 1, len(ep) - 1)], -1)
    out = {
        "label": g["label"][()],
        "final_pred": g["pred"][-1],
        "final_loss": g["loss"][-1],
        "epochs_above_fence": above.sum(axis=0),
        "above_fence_at_end": above[-1].astype(np.uint8),
        "first_stable_correct_epoch": first_stable,
        "forgetting_events": (c[:-1] & ~c[1:]).sum(axis=0),
        "correctness": c.mean(axis=0),
        "confidence": p.mean(axis=0),
        "variability": p.std(axis=0),
    }
    if "margin" in g:
        out["aum"] = g["margin"][()][counted].astype(np.float64).mean(axis=0)
    return out, fence


CLOSE = {"confidence", "variability", "aum"}


@pytest.mark.parametrize("group,source", [("val", "val_per_epoch"), ("train", "train_per_epoch")])
def test_every_statistic_recomputed_with_numpy(full, group, source):
    run, rep, _, _ = full
    ds = xr.open_dataset(rep / "samples.h5", engine="h5netcdf", group=group)
    with h5py.File(run, "r") as f:
        g = f[source]
        want, fence = expected(g)
        idx = g[f"{group}_sample"][()]
        if group == "val":
            # The fence numpy finds is the one the run recorded.
            np.testing.assert_allclose(f["curves/val_loss_fence"][()], fence, rtol=1e-12)
    assert ds.sizes["sample"] == len(idx) and ds["sample"].dims == ("sample",)
    np.testing.assert_array_equal(ds["sample"].values, idx)
    for name, w in want.items():
        got = ds[name].values
        assert got.shape == w.shape, name
        if name in CLOSE:
            np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-15, err_msg=name)
        else:
            np.testing.assert_array_equal(got, w, err_msg=name)
    assert ds.label.dtype == np.uint8 and ds.final_pred.dtype == np.uint8
    assert ds.final_loss.dtype == np.float32 and ds.confidence.dtype == np.float64
    for name in ["epochs_above_fence", "first_stable_correct_epoch", "forgetting_events"]:
        assert ds[name].dtype == np.int64, name
    # The statistics are not all trivial on this run.
    assert want["forgetting_events"].max() >= 1 and want["epochs_above_fence"].max() >= 1
    assert (want["first_stable_correct_epoch"] == -1).any() and (want["first_stable_correct_epoch"] > 1).any()


def test_long_names_say_which_epochs_count(full):
    _, rep, _, _ = full
    ds = xr.open_dataset(rep / "samples.h5", engine="h5netcdf", group="val")
    for name in ["confidence", "variability", "correctness", "aum", "forgetting_events",
                 "first_stable_correct_epoch"]:
        assert "epochs 1..last" in ds[name].attrs["long_name"], name
    assert "0..last" in ds.epochs_above_fence.attrs["long_name"]
    assert "epoch ends" in ds.forgetting_events.attrs["long_name"]
    assert "Toneva" in ds.forgetting_events.attrs["long_name"]
    assert "Swayamdipta" in ds.confidence.attrs["long_name"] and "Pleiss" in ds.aum.attrs["long_name"]
    assert all(ds[v].attrs["units"] == "1" for v in ds.data_vars)
    assert ds.attrs["epochs_counted"] == 8 and ds.attrs["final_epoch"] == 8


def test_model_selection_recomputed(full):
    run, _, stdout, s = full
    with h5py.File(run, "r") as f:
        c = {k: f["curves"][k][()] for k in f["curves"]}
        loss = f["val_per_epoch/loss"][()].astype(np.float64)
    # The robust curves are what numpy finds.
    np.testing.assert_allclose(c["val_loss_median"], np.median(loss, axis=1), rtol=1e-12)
    n = loss.shape[1]
    k = int(0.1 * n)
    trimmed = np.sort(loss, axis=1)[:, k:n - k].mean(axis=1)
    np.testing.assert_allclose(c["val_loss_trimmed_mean"], trimmed, rtol=1e-12)
    picks = {
        "min_val_loss": np.argmin(c["val_loss"]),
        "min_val_loss_median": np.argmin(c["val_loss_median"]),
        "min_val_loss_trimmed_mean": np.argmin(c["val_loss_trimmed_mean"]),
        "max_val_accuracy": np.argmax(c["val_accuracy"]),
        "last_epoch": len(c["epoch"]) - 1,
    }
    sel = s["selection"]
    for name, i in picks.items():
        p = sel[name]
        assert p["epoch"] == c["epoch"][i], name
        assert p["eval_accuracy"] == c["eval_accuracy"][i] and p["eval_loss"] == c["eval_loss"][i], name
    assert s["selection_source"].startswith("/curves")
    assert "model selection" in stdout and "maximum validation accuracy" in stdout


def test_report_draws_the_sample_figures(full):
    _, rep, stdout, s = full
    for f in ["data_map", "gallery", "trajectories"]:
        assert (rep / f"{f}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f
        assert f"{f}.svg" in s["figures"]
    assert s["skipped"] == [], s["skipped"]
    assert s["samples"]["sets"] == ["val", "train"]
    assert "samples.h5" in stdout


def test_without_margins_or_train_records(tmp_path):
    run = tmp_path / "run.h5"
    train(run, "--epochs", "3")
    stdout, s = report(run, tmp_path / "rep")
    ds = xr.open_dataset(tmp_path / "rep/samples.h5", engine="h5netcdf", group="val")
    assert "aum" not in ds and "confidence" in ds
    assert any("--record-margins" in k for k in s["skipped"])
    assert "skipped:" in stdout and "--record-margins" in stdout


@pytest.mark.parametrize("mode", ["checkpoints", "none"])
def test_report_without_per_epoch_records(tmp_path, mode):
    run = tmp_path / "run.h5"
    train(run, "--epochs", "3", "--record-samples", mode)
    stdout, s = report(run, tmp_path / "rep")
    assert not (tmp_path / "rep/samples.h5").exists()
    assert "fig1_curves.png" in s["figures"] and "gallery.png" not in s["figures"]
    assert any("--record-samples all" in k and "samples.h5" in k for k in s["skipped"])
    assert any("figure 7" in k for k in s["skipped"])
    # The robust curves are in every run: every criterion is there.
    assert all(s["selection"][k] is not None for k in ["min_val_loss_median", "max_val_accuracy"])
    assert "--record-samples all" in stdout


def test_older_files_fall_back(full, tmp_path):
    """A file without the robust curves: the median comes from
    /val_per_epoch; without that too, the robust criteria are skipped."""
    run = tmp_path / "old.h5"
    shutil.copy(full[0], run)
    with h5py.File(run, "r+") as f:
        for k in list(f["curves"]):
            if k.startswith("val_loss_") or k.startswith("val_frac"):
                del f["curves"][k]
        for k in ["pred", "label", "margin"]:
            del f["val_per_epoch"][k]
        del f["train_per_epoch"]
        loss = f["val_per_epoch/loss"][()].astype(np.float64)
        c = {k: f["curves"][k][()] for k in ["epoch", "eval_accuracy"]}
    stdout, s = report(run, tmp_path / "rep")
    assert s["selection_source"].startswith("computed from /val_per_epoch")
    i = np.argmin(np.median(loss, axis=1))
    assert s["selection"]["min_val_loss_median"]["epoch"] == c["epoch"][i]
    ds = xr.open_dataset(tmp_path / "rep/samples.h5", engine="h5netcdf", group="val")
    assert "final_pred" not in ds and "label" in ds  # labels from the dataset
    skipped = " ".join(s["skipped"])
    assert "/train_per_epoch" in skipped and "gallery" in skipped and "final_pred" in skipped
    with h5py.File(run, "r+") as f:
        del f["val_per_epoch"]
    _, s = report(run, tmp_path / "rep2")
    assert s["selection"]["min_val_loss_median"] is None and s["selection"]["min_val_loss"] is not None
    assert any("median" in k for k in s["skipped"])


def test_gallery_skipped_when_the_data_is_gone(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    run = tmp_path / "run.h5"
    train(run, "--epochs", "2", dataset=data)
    shutil.rmtree(data)
    stdout, s = report(run, tmp_path / "rep")
    assert "gallery.png" not in s["figures"] and "data_map.png" in s["figures"]
    assert any(k.startswith("gallery:") and "not found" in k for k in s["skipped"])
    assert "skipped: gallery" in stdout
