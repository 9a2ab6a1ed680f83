"""A run gives the same bits on the AVX-512 and the AVX2 path
(`PREINTERP_SIMD=avx2`): every recorded dataset (curves, calibration,
per-sample losses, histograms, checkpoints, the resume state) and the
final weights. Users on mixed clusters rely on it (issue 21)."""

import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PREINTERP_BIN", str(ROOT / "target/release/preinterp"))
FIXTURE = str(ROOT / "fixtures/mnist-small")
# Timings differ from run to run; everything else must not.
TIMES = {"curves/wall_time", "state/wall_time"}

avx512 = "avx512f" in Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else False


def train(tmp_path, path, **env):
    out = tmp_path / f"{path}.h5"
    final = tmp_path / f"{path}-final.h5"
    args = [BIN, "train", "--preset", "a", "--dataset", FIXTURE, "--train-size", "600",
            "--val-size", "300", "--epochs", "4", "--threads", "2", "-q", "-o", str(out),
            "--save-final", str(final)]
    r = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **env})
    assert r.returncode == 0, r.stderr
    return out, final


def datasets(path):
    found = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and name not in TIMES:
                a = obj[()]
                found[name] = (a.dtype, a.shape, np.ascontiguousarray(a).tobytes())
        f.visititems(visit)
        simd = f.attrs.get("simd")
    return found, simd


@pytest.mark.skipif(not avx512, reason="needs an AVX-512 CPU to compare its path with AVX2's")
def test_avx512_and_avx2_paths_record_the_same_bits(tmp_path):
    run512, fin512 = train(tmp_path, "native", PREINTERP_SIMD="native")
    run2, fin2 = train(tmp_path, "avx2", PREINTERP_SIMD="avx2")
    a, simd_a = datasets(run512)
    b, simd_b = datasets(run2)
    assert simd_a != simd_b, (simd_a, simd_b)
    assert sorted(a) == sorted(b)
    differ = [k for k in a if a[k] != b[k]]
    assert not differ, differ
    # The calibration series are among them, and were computed.
    assert "curves/val_temperature" in a and "checkpoints/val_loss" in a
    wa, _ = datasets(fin512)
    wb, _ = datasets(fin2)
    assert wa == wb and len(wa) == 8
