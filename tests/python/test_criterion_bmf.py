"""scripts/criterion-bmf: a tiny fake criterion tree (two benches, one
with a benchmark.json, plus a baseline and a change folder that must be
ignored) becomes Bencher Metric Format: mean and 95% CI, in ns."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts/criterion-bmf"


def estimates(mean, lo, hi):
    est = {"point_estimate": mean, "standard_error": 1.0,
           "confidence_interval": {"confidence_level": 0.95, "lower_bound": lo, "upper_bound": hi}}
    return {"mean": est, "median": est, "median_abs_dev": est, "slope": None, "std_dev": est}


def write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def test_a_fake_criterion_tree_becomes_bmf(tmp_path):
    crit = tmp_path / "criterion"
    write(crit / "train_step/3x100-b64/new/estimates.json", estimates(2.5e6, 2.4e6, 2.6e6))
    write(crit / "train_step/3x100-b64/new/benchmark.json", {"full_id": "train_step/3x100-b64"})
    write(crit / "train_step/3x100-b64/base/estimates.json", estimates(9.0, 8.0, 10.0))
    write(crit / "train_step/3x100-b64/change/estimates.json", estimates(0.1, 0.0, 0.2))
    write(crit / "exp/new/estimates.json", estimates(120.0, 110.0, 130.0))
    (crit / "report").mkdir()
    out = subprocess.run([sys.executable, str(SCRIPT), str(crit)], capture_output=True, text=True, check=True)
    bmf = json.loads(out.stdout)
    assert bmf == {
        "exp": {"latency": {"value": 120.0, "lower_value": 110.0, "upper_value": 130.0}},
        "train_step/3x100-b64": {"latency": {"value": 2.5e6, "lower_value": 2.4e6, "upper_value": 2.6e6}},
    }


def test_no_results_is_exit_2_in_one_line(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "cargo bench" in out.stderr
