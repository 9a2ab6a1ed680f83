"""`preinterp sweep run`: parallel runs, skip and resume on rerun, shards
that together equal an unsharded sweep, value for value, and many workers
sharing one folder as a work queue."""

import os
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PREINTERP_BIN", str(ROOT / "target/release/preinterp"))


def spec(tmp_path, epochs=3):
    p = tmp_path / "tiny.toml"
    p.write_text(f'''name = "tiny"
[fixed]
dataset = "{ROOT / 'fixtures/mnist-small'}"
train_size = 300
val_size = 200
depth = 1
epochs = {epochs}
[axes]
width = [8, 16]
[[variants]]
optimizer = "adam"
seed = [0, 1]
[[variants]]
optimizer = "sgd"
lr = 0.1
seed = [0]
''')
    return p


def sweep(*args, check=True):
    return subprocess.run([BIN, "sweep", "run", *map(str, args)], capture_output=True, text=True, check=check)


def datasets(f):
    names = []
    f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) else None)
    return names


def same(a_path, b_path):
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for n in datasets(a):
            if not n.endswith("wall_time"):
                np.testing.assert_array_equal(a[n][()], b[n][()], err_msg=f"{a_path.name}: {n}")
        assert a.attrs["status"] == b.attrs["status"] == "complete"


def test_runs_skips_and_shards_equal_the_whole(tmp_path):
    s = spec(tmp_path)
    whole = tmp_path / "whole"
    r = sweep(s, "--out", whole, "--jobs", "2")
    assert "6 of 6 runs" in r.stdout and "0 failed" in r.stdout
    files = sorted(p.name for p in whole.glob("*.h5"))
    assert len(files) == 6
    r = sweep(s, "--out", whole, "--jobs", "2")
    assert r.stdout.count("already complete") == 6
    shards = tmp_path / "shards"
    a = sweep(s, "--out", shards, "--shard", "1/2")
    b = sweep(s, "--out", shards, "--shard", "2/2")
    assert "3 of 3" in a.stdout and "3 of 3" in b.stdout
    assert sorted(p.name for p in shards.glob("*.h5")) == files
    for f in files:
        same(whole / f, shards / f)


def test_slurm_variables_pick_the_shard(tmp_path):
    s = spec(tmp_path)
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="1", SLURM_ARRAY_TASK_COUNT="3")
    r = subprocess.run([BIN, "sweep", "run", str(s), "--out", str(tmp_path / "o")], capture_output=True, text=True,
                       env=env, check=True)
    assert "2 of 2 runs" in r.stdout


def test_kill_and_rerun_resumes(tmp_path):
    s = spec(tmp_path, epochs=400)
    out = tmp_path / "o"
    p = subprocess.Popen([BIN, "sweep", "run", str(s), "--out", str(out), "--jobs", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline:
        time.sleep(0.1)
        try:
            with h5py.File(out / "width-8_optimizer-adam_seed-0.h5", "r", swmr=True) as f:
                if f["state/epoch"][0] >= 5:
                    break
        except (OSError, KeyError):
            pass
    p.send_signal(signal.SIGKILL)
    p.wait()
    with h5py.File(out / "width-8_optimizer-adam_seed-0.h5", "r", swmr=True) as f:
        done = int(f["state/epoch"][0])
        assert f.attrs["status"] == "running" and 5 <= done < 400
    r = sweep(s, "--out", out, "--jobs", "2")
    assert "6 of 6 runs" in r.stdout and "0 failed" in r.stdout
    with h5py.File(out / "width-8_optimizer-adam_seed-0.h5", "r") as f:
        assert f.attrs["status"] == "complete" and f["curves/epoch"].shape == (401,)


def sweep_ids(spec_path):
    r = subprocess.run([BIN, "sweep", "list", str(spec_path)], capture_output=True, text=True, check=True)
    return [l.split("\t")[0] for l in r.stdout.splitlines()[1:]]


def test_a_run_another_process_is_writing_is_left_alone(tmp_path):
    """A second `sweep run` on the same folder must not restart (and so
    clobber) a run the first one is still writing."""
    s = tmp_path / "one.toml"
    s.write_text(f'''name = "one"
[fixed]
dataset = "{ROOT / 'fixtures/mnist-small'}"
train_size = 300
val_size = 200
depth = 1
width = 8
epochs = 1000000
''')
    out = tmp_path / "out"
    first = subprocess.Popen([BIN, "sweep", "run", str(s), "--out", str(out), "--jobs", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run = out / f"{sweep_ids(s)[0]}.h5"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with h5py.File(run, "r", locking=False, swmr=True) as f:
                    if f["curves/epoch"].shape[0] >= 3:
                        break
            except (OSError, KeyError):
                pass  # not there yet, or not yet in SWMR mode
            time.sleep(0.05)
        r = sweep(s, "--out", out, "--jobs", "1", "--epochs", "1", check=False)
        assert first.poll() is None, "the first sweep ended too early for the test"
        # The run being written is left to the first worker: no failure,
        # no .error file, exit 0.
        assert f"{run.stem} held by another worker" in r.stdout, r.stdout
        assert "1 left to other workers" in r.stdout
        assert r.returncode == 0
        assert not (out / f"{run.stem}.error").exists()
    finally:
        first.send_signal(signal.SIGINT)
        first.wait()
    # The first writer's file survived and resumes.
    with h5py.File(run, "r") as f:
        assert f["curves/epoch"].shape[0] >= 3


def test_another_sweep_in_the_same_folder_is_refused(tmp_path):
    s = spec(tmp_path)
    out = tmp_path / "o"
    sweep(s, "--out", out)
    other = tmp_path / "other.toml"
    other.write_text(s.read_text().replace('"tiny"', '"other"'))
    r = sweep(other, "--out", out, check=False)
    assert r.returncode == 2 and "another sweep" in r.stderr


def test_collect_builds_an_xarray_table_and_the_scatter_plots(tmp_path):
    import xarray as xr

    s = spec(tmp_path)
    out = tmp_path / "o"
    sweep(s, "--out", out, "--shard", "1/2")  # half the runs: the rest are missing
    r = subprocess.run([BIN, "sweep", "collect", str(out)], capture_output=True, text=True, check=True)
    assert "3 complete" in r.stdout and "3 missing" in r.stdout
    assert r.stdout.count(": missing") == 3
    t = xr.open_dataset(out / "sweep.h5", engine="h5netcdf")
    assert t.min_val_loss.dims == ("run",) and t.sizes["run"] == 6
    ids = [str(i) for i in t.run.values]
    assert ids[0] == "width-8_optimizer-adam_seed-0"
    done = t.where(t.status == "complete", drop=True)
    assert done.sizes["run"] == 3
    # Values agree with the run file itself.
    rid = str(done.run.values[0])
    with h5py.File(out / f"{rid}.h5", "r") as f:
        v = f["curves/val_loss"][()]
        assert float(done.sel(run=rid).min_val_loss) == v.min()
        assert int(done.sel(run=rid).min_epoch) == int(np.argmin(v))
    for name in ["scatter_by_width", "scatter_by_train_set"]:
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG" and (out / f"{name}.svg").exists()


def test_collect_selects_the_best_learning_rate(tmp_path):
    import xarray as xr

    p = tmp_path / "lr.toml"
    p.write_text(f'''name = "lr"
select_best = "lr"
[fixed]
dataset = "{ROOT / 'fixtures/mnist-small'}"
train_size = 300
val_size = 200
depth = 1
epochs = 3
[axes]
width = [8, 16]
[[variants]]
optimizer = "sgd"
lr = [0.001, 0.1, 0.5]
''')
    out = tmp_path / "o"
    sweep(p, "--out", out)
    subprocess.run([BIN, "sweep", "collect", str(out)], check=True, capture_output=True)
    t = xr.open_dataset(out / "sweep.h5", engine="h5netcdf")
    assert int(t.selected.sum()) == 2
    for w in (8, 16):
        g = t.where(t.width == w, drop=True)
        best = g.final_val_accuracy.values.max()
        chosen = g.where(g.selected == 1, drop=True)
        assert chosen.sizes["run"] == 1 and chosen.final_val_accuracy.values[0] == best


def test_collect_records_what_each_selection_criterion_picks(tmp_path):
    """Per run, the epoch each criterion selects and the test accuracy there,
    recomputed from the run files; and the grid search under each criterion."""
    import xarray as xr

    p = tmp_path / "sel.toml"
    p.write_text(f'''name = "sel"
select_best = "lr"
[fixed]
dataset = "{ROOT / 'fixtures/mnist-small'}"
train_size = 300
val_size = 200
depth = 1
width = 16
epochs = 12
[axes]
seed = [0, 1]
[[variants]]
optimizer = "adam"
lr = [0.001, 0.01]
''')
    out = tmp_path / "o"
    sweep(p, "--out", out)
    r = subprocess.run([BIN, "sweep", "collect", str(out)], check=True, capture_output=True, text=True)
    assert "model selection" in r.stdout and "grid over lr picks" in r.stdout
    t = xr.open_dataset(out / "sweep.h5", engine="h5netcdf")
    crit = {
        "min_val_loss": lambda c: np.argmin(c["val_loss"][()]),
        "min_val_loss_median": lambda c: np.argmin(c["val_loss_median"][()]),
        "min_val_loss_trimmed_mean": lambda c: np.argmin(c["val_loss_trimmed_mean"][()]),
        "max_val_accuracy": lambda c: np.argmax(c["val_accuracy"][()]),
        "last_epoch": lambda c: len(c["epoch"]) - 1,
    }
    for run in t.run.values:
        with h5py.File(out / f"{run}.h5", "r") as f:
            c = f["curves"]
            for key, pick in crit.items():
                i = pick(c)
                row = t.sel(run=run)
                assert int(row[f"select_{key}_epoch"]) == int(c["epoch"][i]), (run, key)
                assert float(row[f"select_{key}_eval_accuracy"]) == c["eval_accuracy"][i], (run, key)
                assert float(row[f"select_{key}_eval_loss"]) == c["eval_loss"][i], (run, key)
    # The grid search under "maximum validation accuracy": per seed, the lr
    # whose best validation accuracy is highest (the first on ties).
    for seed in (0, 1):
        g = t.where(t.seed == seed, drop=True)
        accs = []
        for run in g.run.values:
            with h5py.File(out / f"{run}.h5", "r") as f:
                accs.append(f["curves/val_accuracy"][()].max())
        want = int(np.argmax(accs))
        assert list(g.grid_max_val_accuracy_picked.values) == [int(i == want) for i in range(len(accs))]


def same_curves(a_path, b_path):
    """The curves of two complete run files are equal (wall time aside)."""
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        assert a.attrs["status"] == b.attrs["status"] == "complete", a_path
        names = [n for n in datasets(a["curves"]) if not n.endswith("wall_time")]
        assert names
        for n in names:
            np.testing.assert_array_equal(a["curves"][n][()], b["curves"][n][()], err_msg=f"{a_path.name}: {n}")


def equal_to_sequential(tmp_path, s, out):
    seq = tmp_path / "sequential"
    sweep(s, "--out", seq, "--jobs", "1")
    files = sorted(p.name for p in seq.glob("*.h5"))
    assert sorted(p.name for p in out.glob("*.h5")) == files
    for f in files:
        same_curves(seq / f, out / f)
    assert not list(out.glob("*.claim*")) and not list(out.glob("*.error"))


def workers(s, out, n, *extra, env=None):
    return [subprocess.Popen([BIN, "sweep", "run", str(s), "--out", str(out), "--jobs", "1", *map(str, extra)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(n)]


def test_three_workers_share_one_folder_and_equal_a_sequential_sweep(tmp_path):
    s = spec(tmp_path, epochs=20)
    out = tmp_path / "queue"
    ps = workers(s, out, 3)
    outs = [p.communicate() for p in ps]
    for p, (o, e) in zip(ps, outs):
        assert p.returncode == 0, (o, e)
        assert "FAILED" not in o
    # Every run was trained by exactly one worker.
    trained = sum(o.count(" complete (") - o.count("already complete") for o, _ in outs)
    assert trained == 6, [o for o, _ in outs]
    equal_to_sequential(tmp_path, s, out)


def test_simultaneous_starts_never_refuse(tmp_path):
    s = spec(tmp_path, epochs=1)
    for i in range(10):
        for shard in (True, False):
            out = tmp_path / f"o{i}{shard}"
            ps = [subprocess.Popen([BIN, "sweep", "run", str(s), "--out", str(out), "--jobs", "1"]
                                   + (["--shard", f"{k}/4"] if shard else []),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(1, 5)]
            for p in ps:
                o, e = p.communicate()
                assert p.returncode == 0 and "another sweep" not in e, (o, e)
            assert len(list(out.glob("*.h5"))) == 6 and not list(out.glob("*.tmp"))


def wait_for_epoch(run, n, proc, limit=60):
    deadline = time.time() + limit
    while time.time() < deadline:
        assert proc.poll() is None, "the worker ended too early for the test"
        try:
            with h5py.File(run, "r", locking=False, swmr=True) as f:
                if f["curves/epoch"].shape[0] >= n:
                    return
        except (OSError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError("no progress")


def one_run_spec(tmp_path, epochs):
    s = tmp_path / "one.toml"
    s.write_text(f'''name = "one"
[fixed]
dataset = "{ROOT / 'fixtures/mnist-small'}"
train_size = 300
val_size = 200
depth = 1
width = 8
epochs = {epochs}
''')
    return s, f"{sweep_ids(s)[0]}.h5"


def test_a_killed_workers_claim_is_taken_over_and_the_rerun_equals_sequential(tmp_path):
    s, name = one_run_spec(tmp_path, 300)
    out = tmp_path / "o"
    [p] = workers(s, out, 1)
    wait_for_epoch(out / name, 3, p)
    p.send_signal(signal.SIGKILL)
    p.wait()
    claim = out / name.replace(".h5", ".claim")
    assert claim.exists()  # left behind, with a dead pid of this host
    r = sweep(s, "--out", out, "--jobs", "1")
    assert "1 of 1 runs" in r.stdout and "held" not in r.stdout, r.stdout
    equal_to_sequential(tmp_path, s, out)


def test_a_stale_claim_of_another_host_waits_for_the_stale_limit(tmp_path):
    s, name = one_run_spec(tmp_path, 3)
    out = tmp_path / "o"
    out.mkdir()
    claim = out / name.replace(".h5", ".claim")
    claim.write_text(f'host = "elsewhere"\npid = 1\ntoken = "t"\nheartbeat = {time.time() - 5:.3f}\n')
    r = sweep(s, "--out", out, "--jobs", "1")
    assert "held by another worker (elsewhere:1)" in r.stdout and "1 left to other workers" in r.stdout
    assert claim.exists() and not (out / name).exists()
    env = dict(os.environ, PREINTERP_CLAIM_STALE_S="2")
    r = subprocess.run([BIN, "sweep", "run", str(s), "--out", str(out)], capture_output=True, text=True, env=env,
                       check=True)
    assert "held" not in r.stdout and not claim.exists()
    with h5py.File(out / name, "r") as f:
        assert f.attrs["status"] == "complete"


def test_sigterm_exits_143_and_leaves_a_resumable_run_and_no_claim(tmp_path):
    s, name = one_run_spec(tmp_path, 100000)
    out = tmp_path / "o"
    [p] = workers(s, out, 1)
    wait_for_epoch(out / name, 3, p)
    p.send_signal(signal.SIGTERM)
    o, e = p.communicate(timeout=30)
    assert p.returncode == 143, (o, e)
    assert "interrupted: run the same command again to resume" in o
    assert e.strip().splitlines()[-1] == "preinterp: error: sweep interrupted"
    assert not list(out.glob("*.claim*"))
    with h5py.File(out / name, "r") as f:
        assert f.attrs["status"] == "interrupted"
