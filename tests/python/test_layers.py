"""What the architecture step (issue 10) promised users of the run files
and of `--resume`: named `/state` dimensions, a resume that finds its data
where the run found it, and a clear word when another process is still
writing the run."""

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
SHARED = ROOT.parent / "shared" / "datasets"
SMALL = ["--train-size", "300", "--val-size", "300", "--depth", "1", "--width", "16",
         "--batch-size", "50"]


def env_without_data(tmp_path):
    e = {k: v for k, v in os.environ.items() if k not in ("PREINTERP_DATA_DIR", "PREINTERP_MIRROR")}
    e["PREINTERP_CACHE_DIR"] = str(tmp_path / "empty-cache")
    return e


def start(args, out, env=None, epochs_on_disk=3):
    """Starts `train ARGS --out OUT` and waits until some epochs are on disk."""
    p = subprocess.Popen([BIN, "train", *args, "--out", str(out)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        time.sleep(0.05)
        try:
            with h5py.File(out, "r", swmr=True) as f:
                if f["curves/epoch"].shape[0] >= epochs_on_disk:
                    return p
        except (OSError, KeyError):
            pass
    p.kill()
    raise AssertionError("the run did not start")


def test_state_has_named_dimensions(tmp_path):
    out = tmp_path / "run.h5"
    subprocess.run([BIN, "train", "--dataset", FIXTURE, *SMALL, "--epochs", "2", "--out", str(out)],
                   check=True, capture_output=True)
    s = xr.open_dataset(out, engine="h5netcdf", group="state")
    assert s.params.dims == ("slot", "param") and s.opt_m.dims == ("slot", "param")
    assert s.sizes["param"] == 784 * 16 + 16 + 16 * 10 + 10 and s.sizes["slot"] == 2
    for v in ("iteration", "opt_step", "wall_time", "shuffle_seed"):
        assert s[v].dims == ("slot",), v
    assert s.epoch.dims == ("value",)
    assert not any(d.startswith("phony_dim") for d in s.dims)
    assert int(s.epoch.values[0]) == 2
    # Epoch 2's state is in slot 0, epoch 1's still in slot 1.
    assert list(s.iteration.values) == [2 * 6, 6]


def test_a_kill_while_the_state_is_saved_leaves_the_last_epoch_whole(tmp_path):
    """The state of epoch e goes to slot e % 2 and `epoch` commits it last,
    so a torn write of epoch e + 1's slot leaves epoch e resumable."""
    whole = tmp_path / "whole.h5"
    subprocess.run([BIN, "train", "--dataset", FIXTURE, *SMALL, "--epochs", "4", "--out", str(whole)],
                   check=True, capture_output=True)
    torn = tmp_path / "torn.h5"
    subprocess.run([BIN, "train", "--dataset", FIXTURE, *SMALL, "--epochs", "4", "--out", str(torn)],
                   check=True, capture_output=True)
    with h5py.File(torn, "r+") as f:
        # As if killed after epoch 3 while saving epoch 4's state: epoch 3
        # committed, epoch 4's slot half written (garbage), status running.
        f["state/epoch"][0] = 3
        f["state/params"][0, : 100] = 123.0
        f.attrs["status"] = "running"
    r = subprocess.run([BIN, "train", "--resume", str(torn)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "after epoch 3" in r.stdout
    with h5py.File(whole, "r") as a, h5py.File(torn, "r") as b:
        for n in ("curves/val_loss", "state/params", "checkpoints/weight_hist"):
            np.testing.assert_array_equal(a[n][()], b[n][()], err_msg=n)


def test_resume_while_another_process_writes_is_refused(tmp_path):
    out = tmp_path / "live.h5"
    p = start(["--dataset", FIXTURE, *SMALL, "--epochs", "2000"], out)
    try:
        r = subprocess.run([BIN, "train", "--resume", str(out)], capture_output=True, text=True)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "another process is writing this run" in lines[0], r.stderr
        assert "h5clear" not in r.stderr
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=60)
    assert p.returncode == 130
    # Once the writer is gone, the same command resumes the run.
    with h5py.File(out, "r+") as f:
        cfg = f.attrs["config"]
        f.attrs["config"] = cfg.replace('"epochs":2000', '"epochs":' + str(int(f["state/epoch"][0]) + 1))
    r = subprocess.run([BIN, "train", "--resume", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="needs ../shared/datasets/mnist")
def test_resume_finds_the_data_where_the_run_found_it(tmp_path):
    env = env_without_data(tmp_path)
    out = tmp_path / "named.h5"
    p = start(["--dataset", "mnist", "--data-dir", str(SHARED), "--no-download", *SMALL,
               "--epochs", "2000"], out, env=env, epochs_on_disk=2)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    assert p.returncode == 130
    with h5py.File(out, "r+") as f:
        done = int(f["state/epoch"][0])
        f.attrs["config"] = f.attrs["config"].replace('"epochs":2000', f'"epochs":{done + 1}')
    # No --data-dir, no $PREINTERP_DATA_DIR, an empty cache, no download:
    # the run's own files (checked by their recorded SHA-256) are used.
    r = subprocess.run([BIN, "train", "--resume", str(out), "--no-download"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert f"after epoch {done}" in r.stdout
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "complete" and int(f["state/epoch"][0]) == done + 1
