"""`preinterp compare`: every pairwise number and per-sample count in
compare.h5 recomputed here in plain Python (no numpy or scipy in the
arithmetic), a run against itself (Jaccard 1, Spearman 1), a constructed
pair with disjoint outliers (Jaccard 0), a sweep folder, and the
refusals (one line, exit 2)."""

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import h5py
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PREINTERP_BIN", str(ROOT / "target/release/preinterp"))
FIXTURE = str(ROOT / "fixtures/mnist-small")
BASE = [BIN, "train", "--dataset", FIXTURE, "--train-size", "300", "--val-size", "600",
        "--depth", "1", "--width", "16", "--batch-size", "50", "--epochs", "8", "--threads", "1"]
TOL = 1e-9


def train(out, *extra):
    subprocess.run(BASE + ["--out", str(out), *map(str, extra)], capture_output=True, text=True, check=True)
    return out


def compare(*args, check=True):
    r = subprocess.run([BIN, "compare", *map(str, args)], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two initialisations sharing one validation set (--split-seed), and
    a third on another split."""
    d = tmp_path_factory.mktemp("runs")
    return {
        "a": train(d / "a.h5", "--seed", 0, "--split-seed", 0),
        "b": train(d / "b.h5", "--seed", 1, "--split-seed", 0),
        "c": train(d / "c.h5", "--seed", 1, "--split-seed", 1),
    }


# ---- the reference, in plain Python ------------------------------------

def quantile(sorted_x, p):
    """numpy's default (linear) quantile of a sorted list."""
    h = (len(sorted_x) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_x) - 1)
    return sorted_x[lo] + (h - lo) * (sorted_x[hi] - sorted_x[lo])


def fence(losses):
    s = sorted(float(x) for x in losses)
    q1, q3 = quantile(s, 0.25), quantile(s, 0.75)
    return q3 + 1.5 * (q3 - q1)


def top_k(frac, n):
    """k for a fraction of n shared samples: rounded half away from zero
    (Rust's f64::round, not Python's round-half-even), at least 1."""
    return max(1, min(n, math.floor(frac * n + 0.5)))


def jaccard(a, b):
    union = len(a | b)
    return float("nan") if union == 0 else len(a & b) / union


def chance(n, a, b):
    if a == 0 and b == 0:
        return float("nan")
    total = math.comb(n, b)
    return sum(math.comb(a, k) * math.comb(n - a, b - k) / total * k / (a + b - k)
               for k in range(max(1, a + b - n), min(a, b) + 1))


def ranks(x):
    order = sorted(range(len(x)), key=lambda i: x[i])
    r = [0.0] * len(x)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
            j += 1
        for t in range(i, j + 1):
            r[order[t]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy)


def final(path, group="val_per_epoch"):
    """(dataset index -> final loss) of a run's validation set (last epoch)
    or evaluation set (last checkpoint)."""
    with h5py.File(path, "r") as f:
        if group == "val_per_epoch":
            idx = f["val_per_epoch/val_sample"][()].tolist()
            loss = f["val_per_epoch/loss"][-1].tolist()
        else:
            idx = f["checkpoints/eval_sample"][()].tolist()
            loss = f["checkpoints/eval_loss"][-1].tolist()
    return dict(zip(idx, loss))


def reference(paths, group, k=None):
    finals = [final(p, group) for p in paths]
    shared = sorted(set.intersection(*(set(f) for f in finals)))
    n = len(shared)
    k = k if k is not None else top_k(0.01, n)
    out_sets, top_sets, losses = [], [], []
    for f in finals:
        fe = fence(f.values())
        out_sets.append({i for i in shared if f[i] > fe})
        top = sorted(shared, key=lambda i: (-f[i], i))[:k]
        top_sets.append(set(top))
        losses.append([f[i] for i in shared])
    m = len(paths)
    pairs = {name: [[0.0] * m for _ in range(m)] for name in
             ["jaccard_outliers", "jaccard_outliers_chance", "jaccard_top_k", "jaccard_top_k_chance", "spearman"]}
    for a in range(m):
        for b in range(m):
            pairs["jaccard_outliers"][a][b] = jaccard(out_sets[a], out_sets[b])
            pairs["jaccard_outliers_chance"][a][b] = chance(n, len(out_sets[a]), len(out_sets[b]))
            pairs["jaccard_top_k"][a][b] = jaccard(top_sets[a], top_sets[b])
            pairs["jaccard_top_k_chance"][a][b] = chance(n, k, k)
            pairs["spearman"][a][b] = spearman(losses[a], losses[b])
    counts = [sum(i in s for s in out_sets) for i in shared]
    return {"shared": shared, "k": k, "pairs": pairs, "counts": counts, "outliers": out_sets}


def same(x, y):
    return (math.isnan(x) and math.isnan(y)) or abs(x - y) <= TOL * (1 + abs(y))


def check_group(h5, group, ref):
    g = h5[group]
    assert g["sample"][()].tolist() == ref["shared"]
    assert g.attrs["top_k"] == ref["k"]
    for name, want in ref["pairs"].items():
        got = g[name][()].tolist()
        for a, row in enumerate(want):
            for b, w in enumerate(row):
                assert same(got[a][b], w), f"{group}/{name}[{a},{b}]: {got[a][b]} vs {w}"
    assert g["outlier_runs"][()].tolist() == ref["counts"]
    m = len(ref["pairs"]["spearman"])
    hist = [ref["counts"].count(k) for k in range(m + 1)]
    assert g["outlier_runs_hist"][()].tolist() == hist


def order_in_file(out):
    with h5py.File(out / "compare.h5", "r") as f:
        return [s.decode() if isinstance(s, bytes) else s for s in f["run"][()]]


# ---- tests ---------------------------------------------------------------

def test_a_run_with_itself_gives_one(runs, tmp_path):
    out = tmp_path / "self"
    r = compare(runs["a"], runs["a"], "--out", out)
    assert "a vs a-2" in r.stdout
    with h5py.File(out / "compare.h5", "r") as f:
        for g in ["val", "eval"]:
            assert f[g]["jaccard_top_k"][0, 1] == 1.0
            assert f[g]["spearman"][0, 1] == pytest.approx(1.0, abs=1e-12)
        assert f["val/n_outliers"][0] > 0
        assert f["val/jaccard_outliers"][0, 1] == 1.0
        check_group(f, "val", reference([runs["a"], runs["a"]], "val_per_epoch"))
    # Every outlier is one in both: the gallery shows them.
    s = json.loads((out / "compare.json").read_text())
    assert "compare_gallery.png" in s["files"] and (out / "compare_gallery.svg").is_file()


def test_gallery_skipped_with_a_note_without_the_dataset(runs, tmp_path):
    p = tmp_path / "moved-data.h5"
    shutil.copy(runs["a"], p)
    with h5py.File(p, "r+") as f:
        f.attrs["dataset"] = str(tmp_path / "gone")
        f.attrs["dataset_files"] = "\n".join(str(tmp_path / "gone" / n) for n in "abcd")
    out = tmp_path / "o"
    r = compare(p, p, "--out", out, "--no-download")
    s = json.loads((out / "compare.json").read_text())
    assert "compare_gallery.png" not in s["files"]
    assert any(n.startswith("no gallery: cannot load the dataset") for n in s["notes"]), s["notes"]
    assert "note: no gallery" in r.stdout


def test_pairwise_numbers_match_python(runs, tmp_path):
    out = tmp_path / "abc"
    compare(runs["c"], runs["a"], runs["b"], "--out", out, "--top-k", "2%")
    # Ordered by configuration: split seed, then seed.
    order = order_in_file(out)
    assert order == ["a", "b", "c"]
    paths = [runs[i] for i in order]
    with h5py.File(out / "compare.h5", "r") as f:
        shared = len(reference(paths, "val_per_epoch")["shared"])
        check_group(f, "val", reference(paths, "val_per_epoch", k=top_k(0.02, shared)))
        # The evaluation set is the whole test file (500 samples): k = 10.
        check_group(f, "eval", reference(paths, "checkpoints", k=10))
        # a and b share their split; c shares only part of it.
        assert f["val/own_samples"][()].tolist() == [600, 600, 600]
        assert 0 < shared < 600
    check_per_run(out / "compare.h5", paths)
    s = json.loads((out / "compare.json").read_text())
    assert s["val"]["shared_samples"] < 600 and len(s["val"]["pairs"]) == 3
    p = s["val"]["pairs"][0]
    assert (p["a"], p["b"]) == ("a", "b")
    with h5py.File(out / "compare.h5", "r") as f:
        assert p["spearman"] == pytest.approx(f["val/spearman"][0, 1], abs=1e-15)
    for name in ["compare_matrix_val.png", "compare_matrix_eval.svg", "compare_outlier_runs.png"]:
        assert (out / name).stat().st_size > 1000
        assert name in s["files"]


def check_per_run(compare_h5, paths):
    """Fences, epochs, predictions, labels and epochs above the fence
    against the run files (the fence also against the run's own
    /curves/val_loss_fence)."""
    with h5py.File(compare_h5, "r") as f:
        shared = f["val/sample"][()].tolist()
        for i, p in enumerate(paths):
            with h5py.File(p, "r") as r:
                g = r["val_per_epoch"]
                assert f["val/at"][i] == g["epoch"][-1]
                assert f["val/fence"][i] == pytest.approx(r["curves/val_loss_fence"][-1], rel=1e-12)
                assert f["val/fence"][i] == pytest.approx(fence(g["loss"][-1].tolist()), rel=1e-15)
                pos = {x: j for j, x in enumerate(g["val_sample"][()].tolist())}
                pred = g["pred"][-1].tolist()
                assert f["val/pred"][i].tolist() == [pred[pos[x]] for x in shared]
                label = g["label"][()].tolist()
                assert f["val/label"][()].tolist() == [label[pos[x]] for x in shared]
                losses = g["loss"][()].tolist()
                above = [0] * len(pos)
                for row in losses:
                    fe = fence(row)
                    above = [c + (x > fe) for c, x in zip(above, row)]
                assert f["val/epochs_above"][i].tolist() == [above[pos[x]] for x in shared]


def permuted_copy(src, dst):
    """A copy of `src` whose last-epoch validation losses are permuted so
    that its above-fence set is disjoint from the original's (the fence
    is unchanged: the same values)."""
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        ds = f["val_per_epoch/loss"]
        row = ds[-1].tolist()
        fe = fence(row)
        out = [i for i, x in enumerate(row) if x > fe]
        rest = [i for i, x in enumerate(row) if x <= fe]
        assert 0 < len(out) <= len(rest)
        new = list(row)
        for o, u in zip(out, rest):
            new[o], new[u] = row[u], row[o]
        ds[-1] = new
    return set(out)


def test_disjoint_outliers_give_zero(runs, tmp_path):
    p = tmp_path / "permuted.h5"
    original = permuted_copy(runs["a"], p)
    out = tmp_path / "disjoint"
    compare(runs["a"], p, "--out", out)
    with h5py.File(out / "compare.h5", "r") as f:
        assert f["val/jaccard_outliers"][0, 1] == 0.0
        assert f["val/n_outliers"][()].tolist() == [len(original)] * 2
        assert f["val/outlier_runs_hist"][()].tolist()[2] == 0
        check_group(f, "val", reference([runs["a"], p], "val_per_epoch"))


def test_xarray_reads_named_dimensions(runs, tmp_path):
    out = tmp_path / "x"
    compare(runs["a"], runs["b"], "--out", out)
    root = xr.open_dataset(out / "compare.h5", engine="h5netcdf")
    assert list(root["run"].values) == ["a", "b"]
    val = xr.open_dataset(out / "compare.h5", engine="h5netcdf", group="val")
    assert val["jaccard_outliers"].dims == ("run", "run_b")
    assert val["final_loss"].dims == ("run", "sample")
    assert val["outlier_runs_hist"].dims == ("k",)
    assert "Jaccard" in val["jaccard_outliers"].attrs["long_name"]
    assert float(val["spearman"].sel(run="a", run_b="b")) == float(val["spearman"].sel(run="b", run_b="a"))


def test_sweep_folder_and_output_folder_rules(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(f'''name = "cmp"
[fixed]
dataset = "{FIXTURE}"
train_size = 300
val_size = 400
depth = 1
epochs = 4
record_samples = "all"
seed = 0
[axes]
width = [8, 16]
''')
    d = tmp_path / "sweep"
    subprocess.run([BIN, "sweep", "run", str(spec), "--out", str(d), "--jobs", "1"], capture_output=True, check=True)
    r = compare(d)
    assert (d / "compare" / "compare.h5").is_file(), r.stdout
    s = json.loads((d / "compare" / "compare.json").read_text())
    assert [x["id"] for x in s["runs"]] == ["width-8", "width-16"]
    # Sweeps record no checkpoints by default: the evaluation set is skipped, and said so.
    assert s["eval"] is None and any("checkpoints-per-decade" in n for n in s["notes"])
    # An earlier compare output is replaced; a foreign folder is not written without --force.
    compare(d)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    r = compare(d, "--out", foreign, check=False)
    assert r.returncode == 2 and "--force" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    compare(d, "--out", foreign, "--force")
    assert (foreign / "keep.txt").is_file() and (foreign / "compare.json").is_file()


def refused(*args):
    r = compare(*args, check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_refuses_runs_on_different_datasets(runs, tmp_path):
    f = tmp_path / "fashion.h5"
    subprocess.run([*BASE[:3], str(ROOT / "fixtures/fashion-mnist-small"), *BASE[4:], "--out", str(f)],
                   capture_output=True, check=True)
    line = refused(runs["a"], f, "--out", tmp_path / "o")
    assert "different datasets" in line and "fashion.h5" in line
    assert not (tmp_path / "o").exists()


def test_refuses_runs_that_share_no_samples(runs, tmp_path):
    p = tmp_path / "moved.h5"
    shutil.copy(runs["a"], p)
    with h5py.File(p, "r+") as f:
        s = f["val_per_epoch/val_sample"]
        s[...] = s[()] + 100_000
    line = refused(runs["a"], p, "--out", tmp_path / "o")
    assert "share no validation samples" in line and "moved.h5" in line and "--split-seed" in line


@pytest.mark.parametrize("which", ["none", "checkpoints"])
def test_refuses_files_without_per_sample_data(runs, tmp_path, which):
    p = train(tmp_path / f"{which}.h5", "--record-samples", which)
    line = refused(runs["a"], p, "--out", tmp_path / "o")
    assert f"{which}.h5" in line and "--record-samples all" in line


def test_refuses_a_file_that_is_not_a_run(runs, tmp_path):
    p = tmp_path / "weights.h5"
    with h5py.File(p, "w") as f:
        f["x"] = [1, 2, 3]
    line = refused(runs["a"], p, "--out", tmp_path / "o")
    assert "weights.h5" in line and "not a preinterp run file" in line


def test_refuses_a_single_run(runs, tmp_path):
    line = refused(runs["a"], "--out", tmp_path / "o")
    assert "twice" in line
