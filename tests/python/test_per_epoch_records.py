"""Issue 12's records: the per-epoch robust statistics of the validation
losses in every run, the training set's per-sample values, predictions,
labels and margins, and a split seed separate from the initialisation."""

import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PREINTERP_BIN", str(ROOT / "target/release/preinterp"))
FIXTURE = str(ROOT / "fixtures/mnist-small")
BASE = [BIN, "train", "--dataset", FIXTURE, "--train-size", "400", "--val-size", "300",
        "--depth", "2", "--width", "32", "--batch-size", "50"]


def train(out, *extra, epochs="8"):
    subprocess.run(BASE + ["--epochs", epochs, "--out", str(out), *extra], check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def margins_run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("m") / "run.h5", "--record-margins")


def robust(x):
    """The statistics as numpy computes them (full sort, linear quantiles)."""
    x = np.sort(x.astype(np.float64))
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    fence = q3 + 1.5 * (q3 - q1)
    above = x[x > fence]
    k = int(np.floor(0.1 * len(x)))
    return [q1, med, q3, fence, len(above) / len(x), above.sum() / x.sum(), x[k:len(x) - k].mean()]


NAMES = ["val_loss_q1", "val_loss_median", "val_loss_q3", "val_loss_fence",
         "val_frac_above_fence", "val_loss_share_above_fence", "val_loss_trimmed_mean"]


def test_robust_curves_equal_numpy_on_the_recorded_losses(margins_run):
    with h5py.File(margins_run, "r") as f:
        losses = f["val_per_epoch/loss"][()]
        for e in range(losses.shape[0]):
            want = robust(losses[e])
            for name, w in zip(NAMES, want):
                got = f["curves"][name][e]
                # Selection sums the trimmed values in another order: float64 rounding only.
                assert got == pytest.approx(w, rel=1e-12, abs=1e-300), (name, e)
        for name in NAMES:
            assert f["curves"][name].attrs["long_name"]


def test_robust_curves_are_recorded_without_per_sample_data(tmp_path):
    out = train(tmp_path / "none.h5", "--record-samples", "none")
    with h5py.File(out, "r") as f:
        assert "val_per_epoch" not in f and "train_per_epoch" not in f
        med = f["curves/val_loss_median"][()]
        assert med.shape == (9,) and np.all(np.isfinite(med))
        # The median sits below the mean once a minority carries the loss.
        assert med[-1] < f["curves/val_loss"][-1]


def test_training_set_per_epoch_agrees_with_its_curves(margins_run):
    with h5py.File(margins_run, "r") as f:
        t = f["train_per_epoch"]
        loss, correct, pred, label = t["loss"][()], t["correct"][()], t["pred"][()], t["label"][()]
        assert loss.shape == (9, 400) and pred.dtype == np.uint8 and label.shape == (400,)
        np.testing.assert_allclose(loss.astype(np.float64).mean(axis=1), f["curves/train_loss"][()], rtol=1e-12)
        np.testing.assert_array_equal(correct, (pred == label[None, :]).astype(np.uint8))
        np.testing.assert_allclose(correct.mean(axis=1), f["curves/train_accuracy"][()], rtol=1e-12)
        # The training samples are the checkpoint's training samples.
        np.testing.assert_array_equal(t["train_sample"][()], f["checkpoints/train_sample"][()])
        v = f["val_per_epoch"]
        np.testing.assert_array_equal(v["correct"][()], (v["pred"][()] == v["label"][()][None, :]).astype(np.uint8))


def test_per_epoch_groups_open_in_xarray_with_named_dimensions(margins_run):
    for g, dim in (("train_per_epoch", "train_sample"), ("val_per_epoch", "val_sample")):
        x = xr.open_dataset(margins_run, engine="h5netcdf", group=g)
        for v in ("loss", "correct", "pred", "margin"):
            assert x[v].dims == ("epoch", dim), (g, v)
        assert x.label.dims == (dim,)


def test_margins_bound_the_loss(margins_run):
    # loss = log(1 + sum_{j != y} exp(z_j - z_y)), and the largest term is exp(-margin):
    # log1p(exp(-m)) <= loss <= log1p(9 exp(-m)).
    with h5py.File(margins_run, "r") as f:
        for g in ("val_per_epoch", "train_per_epoch"):
            m = f[g]["margin"][()].astype(np.float64)
            loss = f[g]["loss"][()].astype(np.float64)
            lo, hi = np.log1p(np.exp(-m)), np.log1p(9 * np.exp(-m))
            assert np.all(loss >= lo * (1 - 1e-4) - 1e-6), g
            assert np.all(loss <= hi * (1 + 1e-4) + 1e-6), g
            correct = f[g]["correct"][()]
            assert np.all((m > 0)[correct == 0] == False), g  # noqa: E712 (a wrong sample has margin <= 0)


def test_margins_cost_is_stated_and_off_by_default(tmp_path, margins_run):
    plain = train(tmp_path / "plain.h5")
    with h5py.File(plain, "r") as f:
        assert "margin" not in f["val_per_epoch"] and "margin" not in f["train_per_epoch"]
        assert '"margins":false' in f.attrs["record_options"]
    with h5py.File(margins_run, "r") as f:
        assert '"margins":true' in f.attrs["record_options"]


def test_split_seed_shares_the_validation_set_across_initialisations(tmp_path):
    a = train(tmp_path / "a.h5", "--seed", "1", "--split-seed", "7", epochs="1")
    b = train(tmp_path / "b.h5", "--seed", "2", "--split-seed", "7", epochs="1")
    c = train(tmp_path / "c.h5", "--seed", "2", epochs="1")
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb, h5py.File(c, "r") as fc:
        va, vb, vc = (f["val_per_epoch/val_sample"][()] for f in (fa, fb, fc))
        np.testing.assert_array_equal(va, vb)
        assert not np.array_equal(va, vc)
        # Different initialisations: different epoch-0 losses.
        assert not np.array_equal(fa["val_per_epoch/loss"][0], fb["val_per_epoch/loss"][0])
        assert '"split_seed":7' in fa.attrs["config"] and "split_seed" not in fc.attrs["config"]
