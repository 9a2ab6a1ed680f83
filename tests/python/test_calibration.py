"""Per-epoch calibration (issue 20) agrees with an independent computation:
the final weights (`--save-final`) give float64 logits in numpy, scipy's
bounded scalar minimiser gives T*, and numpy gives the ECE."""

import gzip
import re
import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PREINTERP_BIN", str(ROOT / "target/release/preinterp"))
FIXTURE = ROOT / "fixtures/mnist-small"


def idx(name):
    with gzip.open(FIXTURE / name) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def train(tmp_path, *extra, name="run.h5"):
    out = tmp_path / name
    args = [BIN, "train", "--dataset", str(FIXTURE), "--train-size", "600", "--depth", "2",
            "--width", "32", "--lr", "0.01", "-q", "-o", str(out), *extra]
    subprocess.run(args, check=True, capture_output=True, text=True)
    return out


def logits(weights, x):
    """float64 forward pass of the saved (PyTorch-layout) weights."""
    with h5py.File(weights, "r") as f:
        n = len([k for k in f.keys() if k.startswith("layer")])
        h = x.astype(np.float64) / 255.0
        for i in range(n):
            w = f[f"layer{i}/weight"][()].astype(np.float64)
            b = f[f"layer{i}/bias"][()].astype(np.float64)
            h = h @ w.T + b
            if i < n - 1:
                h = np.maximum(h, 0.0)
    return h


def mean_ce(z, y):
    return float(np.mean(logsumexp(z, axis=1) - z[np.arange(len(y)), y]))


def scipy_temperature(z, y):
    r = minimize_scalar(lambda u: mean_ce(z / np.exp(u), y), bounds=(np.log(1e-4), np.log(1e4)),
                        method="bounded", options={"xatol": 1e-10})
    return float(np.exp(r.x))


def numpy_ece(z, y, bins=15):
    p = np.exp(z - logsumexp(z, axis=1, keepdims=True))
    conf, pred = p.max(axis=1), p.argmax(axis=1)
    b = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    ece, count, acc, mean_conf = 0.0, np.zeros(bins, int), np.full(bins, np.nan), np.full(bins, np.nan)
    for k in range(bins):
        m = b == k
        count[k] = m.sum()
        if count[k]:
            acc[k], mean_conf[k] = np.mean(pred[m] == y[m]), conf[m].mean()
            ece += count[k] / len(y) * abs(acc[k] - mean_conf[k])
    return ece, count, acc, mean_conf


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cal")
    final = tmp / "final.h5"
    run = train(tmp, "--val-size", "400", "--epochs", "25", "--save-final", str(final))
    return run, final


def sets(run):
    with h5py.File(run, "r") as f:
        k = f["checkpoints"]
        return {"val": (k["val_sample"][()], idx("train-images-idx3-ubyte.gz"),
                        idx("train-labels-idx1-ubyte.gz")),
                "eval": (k["eval_sample"][()], idx("t10k-images-idx3-ubyte.gz"),
                         idx("t10k-labels-idx1-ubyte.gz"))}


@pytest.mark.parametrize("name", ["val", "eval"])
def test_last_epoch_agrees_with_scipy_and_numpy(trained, name):
    run, final = trained
    samples, images, labels = sets(run)[name]
    x = images[samples].reshape(len(samples), -1)
    y = labels[samples].astype(int)
    z = logits(final, x)
    with h5py.File(run, "r") as f:
        c = f["curves"]
        last = lambda v: c[f"{name}_{v}"][-1]
        assert last("calibration_status") == 0
        t_ours, t_ref = last("temperature"), scipy_temperature(z, y)
        assert abs(t_ours / t_ref - 1) < 1e-4, (t_ours, t_ref)
        scaled_ref = mean_ce(z / t_ref, y)
        assert abs(last("loss_at_temperature") / scaled_ref - 1) < 1e-5
        # Temperature scaling never raises the loss, and leaves accuracy alone.
        assert last("loss_at_temperature") <= c[f"{name}_loss"][-1] * (1 + 1e-9)
        assert c[f"{name}_accuracy"][-1] == np.mean(z.argmax(axis=1) == y)
        ece, count, acc, conf = numpy_ece(z, y)
        assert abs(last("ece") - ece) < 1e-6, (last("ece"), ece)
        r = f["reliability"]
        np.testing.assert_array_equal(r["epoch"][()], c["epoch"][()])
        np.testing.assert_array_equal(r[f"{name}_reliability_count"][-1], count)
        np.testing.assert_allclose(r[f"{name}_reliability_accuracy"][-1], acc, atol=1e-12)
        np.testing.assert_allclose(r[f"{name}_reliability_confidence"][-1], conf, atol=1e-6)
        # Where the loss sits: wrong samples, margins, largest logits.
        loss = logsumexp(z, axis=1) - z[np.arange(len(y)), y]
        wrong = z.argmax(axis=1) != y
        assert abs(last("wrong_loss_share") - loss[wrong].sum() / loss.sum()) < 1e-5
        assert abs(last("wrong_loss_mean") / loss[wrong].mean() - 1) < 1e-5
        other = np.where(np.eye(10, dtype=bool)[y], -np.inf, z).max(axis=1)
        margin = z[np.arange(len(y)), y] - other
        assert abs(last("margin_wrong") - margin[wrong].mean()) < 1e-4
        assert abs(last("margin_correct") - margin[~wrong].mean()) < 1e-4
        assert abs(last("max_logit_correct") - z.max(axis=1)[~wrong].mean()) < 1e-4


def test_the_rise_in_this_run_is_over_confidence(trained):
    """On this over-fitting run (found by the check, not assumed): the raw
    validation loss rises from its minimum while the scaled loss barely
    moves, and T* grows."""
    run, _ = trained
    with h5py.File(run, "r") as f:
        c = f["curves"]
        raw, scaled, t = c["val_loss"][()], c["val_loss_at_temperature"][()], c["val_temperature"][()]
    m = int(np.argmin(raw))
    assert raw[-1] > raw[m] * 1.1
    assert scaled[-1] - scaled[m] < 0.5 * (raw[-1] - raw[m])
    assert t[-1] > t[m]
    assert np.all(scaled[1:] <= raw[1:] * (1 + 1e-9))


def test_cf_metadata_and_xarray(trained):
    run, _ = trained
    ds = xr.open_dataset(run, engine="h5netcdf", group="curves")
    assert ds["val_temperature"].dims == ("epoch",)
    # /curves stays one row per epoch; the tables have their own group.
    assert len(ds.to_dataframe()) == ds.sizes["epoch"]
    rel = xr.open_dataset(run, engine="h5netcdf", group="reliability")
    assert rel["val_reliability_count"].dims == ("epoch", "confidence_bin")
    assert "Guo et al. 2017" in ds["val_temperature"].attrs["long_name"]
    assert rel["confidence_bin"].attrs["bounds"] == "confidence_bin_bounds"
    np.testing.assert_allclose(rel["confidence_bin_bounds"][-1], [14 / 15, 1.0])
    flags = ds["eval_calibration_status"].attrs
    assert list(flags["flag_values"]) == [0, 1, 2, 3, 4]
    assert flags["flag_meanings"].split()[:2] == ["ok", "logits_all_equal"]
    with h5py.File(run, "r") as f:
        # One line per set, counting the status flags; T* is missing only
        # at epoch 0 at most (random weights predict no better than chance).
        lines = f.attrs["calibration_status"].split("\n")
        for line, set_ in zip(lines, ["val", "eval"], strict=True):
            flags = f[f"curves/{set_}_calibration_status"][()]
            ok = int((flags == 0).sum())
            assert line.startswith(f"{set_}: T* found at {ok} of 26 epochs"), line
            assert ok >= 25 and np.all(flags[1:] == 0)
            t = f[f"curves/{set_}_temperature"][()]
            assert np.all(np.isnan(t) == (flags != 0))


def test_without_a_validation_set_the_evaluation_set_is_calibrated(tmp_path):
    run = train(tmp_path, "--val-size", "0", "--epochs", "2")
    with h5py.File(run, "r") as f:
        c = f["curves"]
        assert "val_temperature" not in c and "eval_temperature" in c
        assert c["eval_temperature"].shape == (3,)
        assert re.match(r"eval: T\* found at [23] of 3 epochs", f.attrs["calibration_status"])


def test_equal_logits_give_nan_and_a_status(tmp_path):
    """All-zero weights: every logit is 0 at epoch 0, so no T* exists."""
    init = tmp_path / "zeros.h5"
    with h5py.File(init, "w") as f:
        for i, (o, n) in enumerate([(32, 784), (32, 32), (10, 32)]):
            f[f"layer{i}/weight"] = np.zeros((o, n), np.float32)
            f[f"layer{i}/bias"] = np.zeros(o, np.float32)
    run = train(tmp_path, "--val-size", "100", "--epochs", "1", "--init-from", str(init))
    with h5py.File(run, "r") as f:
        c = f["curves"]
        assert c["val_calibration_status"][0] == 1
        assert np.isnan(c["val_temperature"][0]) and np.isnan(c["val_loss_at_temperature"][0])
        assert np.isfinite(c["val_ece"][0])
        assert "logits_all_equal, epochs 0..0" in f.attrs["calibration_status"]
