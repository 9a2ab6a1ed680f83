"""A run file opens in h5py and xarray, agrees with itself, does not
depend on the thread count, and ends with the right status."""

import json
import os
import signal
import subprocess
import time
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


def run(out, *extra, check=True):
    return subprocess.run(BASE + ["--out", str(out), *extra], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def runfile(tmp_path_factory):
    p = tmp_path_factory.mktemp("run") / "run.h5"
    run(p, "--epochs", "6", "--threads", "1")
    return p


def test_h5py_shapes_dtypes_and_provenance(runfile):
    with h5py.File(runfile, "r") as f:
        a = f.attrs
        assert a["status"] == "complete" and a["Conventions"] == "CF-1.8"
        assert a["seed"] == 0 and a["threads"] == 1
        for k in ["tool_version", "command_line", "config", "dataset", "dataset_sha256", "cpu", "simd",
                  "started_at", "finished_at"]:
            assert len(str(a[k])) > 0, k
        assert '"train_size":400' in a["config"]
        assert f["curves/val_loss"].shape == (7,) and f["curves/val_loss"].dtype == np.float64
        assert f["val_per_epoch/loss"].shape == (7, 300) and f["val_per_epoch/loss"].dtype == np.float32
        n_ck = f["checkpoints/iteration"].shape[0]
        assert f["checkpoints/train_loss"].shape == (n_ck, 400)
        assert f["checkpoints/eval_loss"].shape == (n_ck, 500)
        assert f["checkpoints/weight_hist"].shape == (n_ck, 3, 202)
        assert f["curves/val_loss"].attrs["units"] == "1"
        assert "cross-entropy" in f["curves/val_loss"].attrs["long_name"]
        # Checkpoints: 0, then log-spaced, ending at or before the last update.
        it = f["checkpoints/iteration"][()]
        assert it[0] == 0 and np.all(np.diff(it) > 0) and it[-1] <= 6 * 8


def test_every_dataset_is_chunked_and_compressed(runfile):
    seen = []

    def check(name, obj):
        if isinstance(obj, h5py.Dataset) and not name.startswith("state/") and obj.size > 0:
            assert obj.chunks is not None, name
            assert obj.compression == "gzip" and obj.shuffle, name
            if obj.maxshape[0] is None and obj.ndim > 1:
                # Per-sample and histogram rows: one row per chunk, so
                # each append is whole chunks.
                assert obj.chunks[0] == 1, (name, obj.chunks)
            seen.append(name)

    with h5py.File(runfile, "r") as f:
        f.visititems(check)
    assert "curves/epoch" in seen and "checkpoints/val_loss" in seen and len(seen) > 30


def test_histogram_bins_are_configurable_and_counts_exact(tmp_path):
    p = tmp_path / "h.h5"
    run(p, "--epochs", "2", "--loss-hist-range", "1e-6,10", "--loss-hist-bins-per-decade", "4",
        "--weight-hist-bins", "50", "--weight-hist-range", "8")
    with h5py.File(p, "r") as f:
        k = f["checkpoints"]
        lo, hi = k["loss_bin_lower"][()], k["loss_bin_upper"][()]
        assert len(lo) == 7 * 4 + 2 and lo[0] == -np.inf and hi[-1] == np.inf
        assert np.isclose(lo[1], 1e-6) and np.isclose(hi[-2], 10.0)
        assert k["weight_hist"].shape[1:] == (3, 52)
        # Layer 0 has fan-in 784: the inner edges span +-8/sqrt(784).
        wl = k["weight_bin_lower"][()]
        assert wl.shape == (3, 52) and np.isclose(wl[0, 1], -8 / 28) and np.isclose(wl[1, 1], -8 / 32 ** 0.5)
        # The histograms count the recorded per-sample losses exactly.
        for s in ["train", "val", "eval"]:
            losses = k[f"{s}_loss"][()]
            for r in range(losses.shape[0]):
                want = np.histogram(losses[r], bins=np.concatenate([lo, [np.inf]]))[0]
                assert np.array_equal(k[f"{s}_loss_hist"][r], want), (s, r)
        opts = json.loads(f.attrs["record_options"])
        assert opts["loss_bins_per_decade"] == 4 and opts["weight_bins"] == 50


def test_xarray_named_dims_and_coordinates(runfile):
    c = xr.open_dataset(runfile, engine="h5netcdf", group="curves")
    assert c.val_loss.dims == ("epoch",)
    assert list(c.epoch.values) == list(range(7))
    v = xr.open_dataset(runfile, engine="h5netcdf", group="val_per_epoch")
    assert v.loss.dims == ("epoch", "val_sample")
    idx = v.val_sample.values
    assert len(set(idx)) == 300 and idx.max() < 1000  # indices into the source file
    k = xr.open_dataset(runfile, engine="h5netcdf", group="checkpoints")
    assert k.val_loss.dims == ("iteration", "val_sample")
    assert k.weight_hist.dims == ("iteration", "layer", "weight_bin")
    assert (k.val_sample.values == idx).all()
    t = xr.open_dataset(runfile, engine="h5netcdf", group="checkpoints").train_sample.values
    assert not set(t) & set(idx), "train and validation are disjoint"


def test_means_agree_with_per_sample_values(runfile):
    c = xr.open_dataset(runfile, engine="h5netcdf", group="curves")
    v = xr.open_dataset(runfile, engine="h5netcdf", group="val_per_epoch")
    per = v.loss.values.astype(np.float64).mean(axis=1)
    np.testing.assert_allclose(c.val_loss.values, per, rtol=1e-12)
    np.testing.assert_allclose(c.val_accuracy.values, v.correct.values.mean(axis=1), rtol=1e-12)
    # The last checkpoint at an epoch end equals that epoch's values.
    k = xr.open_dataset(runfile, engine="h5netcdf", group="checkpoints")
    last = int(k.iteration.values[-1])
    if last == int(c.iteration.values[-1]):
        np.testing.assert_array_equal(k.val_loss.values[-1], v.loss.values[-1])
    # Histograms count every sample exactly once.
    h = k.val_loss_hist.values.sum(axis=1) + k.val_loss_nan.values
    assert (h == 300).all()
    assert (k.weight_hist.values.sum(axis=2)[:, 0] == 784 * 32).all()


def test_thread_count_changes_nothing(runfile, tmp_path):
    other = tmp_path / "two.h5"
    run(other, "--epochs", "6", "--threads", "2")
    with h5py.File(runfile, "r") as a, h5py.File(other, "r") as b:
        names = []
        a.visit(lambda n: names.append(n) if isinstance(a[n], h5py.Dataset) else None)
        assert len(names) > 30
        for n in names:
            if n.endswith("wall_time"):
                continue
            np.testing.assert_array_equal(a[n][()], b[n][()], err_msg=n)


def test_existing_file_is_refused_unless_forced(runfile, tmp_path):
    before = runfile.read_bytes()
    r = run(runfile, "--epochs", "1", check=False)
    assert r.returncode == 2 and "already exists" in r.stderr and "--force" in r.stderr
    assert runfile.read_bytes() == before
    copy = tmp_path / "copy.h5"
    copy.write_bytes(before)
    run(copy, "--epochs", "1", "--force")
    with h5py.File(copy, "r") as f:
        assert f["curves/epoch"].shape == (2,)


def test_unwritable_output_folder(tmp_path):
    r = run(tmp_path / "no" / "such" / "dir" / "run.h5", "--epochs", "1", check=False)
    assert r.returncode == 1 and "does not exist" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_ctrl_c_marks_the_file_interrupted(tmp_path):
    out = tmp_path / "int.h5"
    p = subprocess.Popen(BASE + ["--out", str(out), "--epochs", "100000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "interrupted"
        n = f["curves/epoch"].shape[0]
        assert n >= 2 and f["val_per_epoch/loss"].shape[0] == n


def test_divergence_is_recorded(tmp_path):
    out = tmp_path / "div.h5"
    r = subprocess.run(BASE + ["--out", str(out), "--epochs", "3", "--optimizer", "sgd", "--lr", "1e6"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "diverged"
        assert f["curves/epoch"].shape[0] >= 1  # epoch 0 kept


LONG = ["--epochs", "800"]


def datasets(f):
    names = []
    f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) else None)
    return names


def assert_same_run(a_path, b_path):
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        names = datasets(a)
        assert names == datasets(b) and len(names) > 40
        for n in names:
            if n.endswith("wall_time"):
                continue
            np.testing.assert_array_equal(a[n][()], b[n][()], err_msg=n)
        assert b.attrs["status"] == "complete"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    p = tmp_path_factory.mktemp("long") / "whole.h5"
    run(p, *LONG)
    return p


def start_then(sig, out, wait_s):
    p = subprocess.Popen(BASE + ["--out", str(out), *LONG],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait until a few epochs are on disk (read live, through SWMR).
    deadline = time.time() + 30
    while time.time() < deadline:
        time.sleep(0.05)
        try:
            with h5py.File(out, "r", swmr=True) as f:
                if f["curves/epoch"].shape[0] >= 5:
                    assert f.attrs["status"] == "running"
                    break
        except (OSError, KeyError):
            pass
    time.sleep(wait_s)
    p.send_signal(sig)
    p.communicate(timeout=60)
    return p.returncode


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -9)])
def test_stop_then_resume_equals_an_uninterrupted_run(uninterrupted, tmp_path, sig, code):
    out = tmp_path / "stopped.h5"
    assert start_then(sig, out, 0.2) == code
    # Whatever stopped it, the file reads (SWMR after a kill) up to the last flush.
    with h5py.File(out, "r", swmr=True) as f:
        done = int(f["state/epoch"][0])
        assert f.attrs["status"] == ("running" if sig == signal.SIGKILL else "interrupted")
        assert 4 <= done < 800
        assert f["curves/epoch"].shape[0] >= done + 1
    r = subprocess.run([BIN, "train", "--resume", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"after epoch {done}" in r.stdout
    assert_same_run(uninterrupted, out)


def test_resume_refuses_a_complete_run_and_other_settings(runfile):
    r = subprocess.run([BIN, "train", "--resume", str(runfile)], capture_output=True, text=True)
    assert r.returncode == 2 and "already complete" in r.stderr
    r = subprocess.run([BIN, "train", "--resume", str(runfile), "--lr", "0.1"], capture_output=True, text=True)
    assert r.returncode == 2


def test_resume_checks_the_saved_shuffle_state(tmp_path):
    out = tmp_path / "r.h5"
    assert start_then(signal.SIGINT, out, 0.0) == 130
    with h5py.File(out, "r") as f:
        epoch = int(f["state/epoch"][0])
        slot = epoch % 2  # the state of epoch e is in slot e % 2
        saved = int(f["state/shuffle_seed"][slot])
        assert epoch >= 4 and "Xoshiro256PlusPlus" in f["state/shuffle_seed"].attrs["long_name"]
    with h5py.File(out, "r+") as f:
        f["state/shuffle_seed"][slot] = saved ^ 1
    r = subprocess.run([BIN, "train", "--resume", str(out)], capture_output=True, text=True)
    assert r.returncode == 1 and "shuffle state" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    with h5py.File(out, "r+") as f:
        f["state/shuffle_seed"][slot] = saved
    r = subprocess.run([BIN, "train", "--resume", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_full_disk_gives_one_clear_line(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        r = run(mnt / "run.h5", "--epochs", "50", check=False)
        assert r.returncode == 1
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and str(mnt / "run.h5") in lines[0]
        assert "No space left on device" in lines[0]
        assert "panicked" not in r.stderr
    finally:
        subprocess.run(["umount", str(mnt)])


def test_python_example_redraws_the_curves(runfile, tmp_path):
    png = tmp_path / "curves.png"
    r = subprocess.run([os.sys.executable, str(ROOT / "scripts/examples/load_run.py"), str(runfile), "--out", str(png)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "minimum validation loss at epoch" in r.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_report_on_a_running_run(tmp_path):
    out = tmp_path / "live.h5"
    p = subprocess.Popen(BASE + ["--out", str(out), *LONG], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            time.sleep(0.1)
            try:
                with h5py.File(out, "r", swmr=True) as f:
                    if f["curves/epoch"].shape[0] >= 5:
                        break
            except (OSError, KeyError):
                pass
        rep = tmp_path / "rep"
        r = subprocess.run([BIN, "report", str(out), "--out", str(rep)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        s = json.loads((rep / "summary.json").read_text())
        assert s["status"] == "running" and "still going" in s["status_note"]
        assert s["epochs_recorded"] >= 5
    finally:
        p.kill()
        p.wait()
