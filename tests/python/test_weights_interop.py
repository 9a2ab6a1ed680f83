"""Weights files written by preinterp open in h5py with PyTorch's layout,
and weights written by another tool (here numpy + h5py) start a run."""

import json
import os
import subprocess
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PREINTERP_BIN", str(ROOT / "target/release/preinterp"))
FIXTURE = str(ROOT / "fixtures/mnist-small")


def train(tmp_path, *extra):
    args = [BIN, "train", "--dataset", FIXTURE, "--train-size", "300", "--val-size", "100",
            "--depth", "2", "--width", "16", "--epochs", "1", "--json", *extra]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_exported_weights_have_pytorch_layout(tmp_path):
    init = tmp_path / "init.h5"
    train(tmp_path, "--save-init", str(init))
    with h5py.File(init, "r") as f:
        assert f.attrs["depth"] == 2 and f.attrs["width"] == 16
        shapes = [(f[f"layer{i}/weight"].shape, f[f"layer{i}/bias"].shape) for i in range(3)]
        assert shapes == [((16, 784), (16,)), ((16, 16), (16,)), ((10, 16), (10,))]
        w0 = f["layer0/weight"][()]
        assert w0.dtype == np.float32
        # nn.Linear's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        bound = 1 / np.sqrt(784)
        assert np.abs(w0).max() <= bound and np.abs(w0).max() > 0.9 * bound


def test_foreign_initialisation_is_used(tmp_path):
    rng = np.random.default_rng(0)
    init = tmp_path / "foreign.h5"
    dims = [(16, 784), (16, 16), (10, 16)]
    with h5py.File(init, "w") as f:
        for i, (o, n) in enumerate(dims):
            f[f"layer{i}/weight"] = rng.uniform(-0.05, 0.05, (o, n)).astype(np.float32)
            f[f"layer{i}/bias"] = np.zeros(o, np.float32)
    a = train(tmp_path, "--init-from", str(init), "--seed", "1")
    b = train(tmp_path, "--init-from", str(init), "--seed", "1")
    c = train(tmp_path, "--seed", "1")
    loss0 = lambda r: r["report"]["epochs"][0]["train"]["loss"]
    assert loss0(a) == loss0(b)
    assert loss0(a) != loss0(c)
    # The imported weights round-trip through --save-init unchanged.
    again = tmp_path / "again.h5"
    train(tmp_path, "--init-from", str(init), "--save-init", str(again))
    with h5py.File(init, "r") as f, h5py.File(again, "r") as g:
        for i in range(3):
            np.testing.assert_array_equal(f[f"layer{i}/weight"][()], g[f"layer{i}/weight"][()])


def test_existing_weights_file_is_not_overwritten(tmp_path):
    init = tmp_path / "init.h5"
    init.write_bytes(b"precious")
    args = [BIN, "train", "--dataset", FIXTURE, "--train-size", "300", "--epochs", "1",
            "--save-init", str(init)]
    out = subprocess.run(args, capture_output=True, text=True)
    assert out.returncode == 2
    assert "already exists" in out.stderr and str(init) in out.stderr
    assert init.read_bytes() == b"precious"


def test_wrong_shapes_are_refused(tmp_path):
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f["layer0/weight"] = np.zeros((8, 784), np.float32)
        f["layer0/bias"] = np.zeros(8, np.float32)
    args = [BIN, "train", "--dataset", FIXTURE, "--train-size", "300", "--depth", "2",
            "--width", "16", "--epochs", "1", "--init-from", str(bad)]
    out = subprocess.run(args, capture_output=True, text=True)
    assert out.returncode == 1
    assert "layer0/weight has shape [8, 784]" in out.stderr and str(bad) in out.stderr
