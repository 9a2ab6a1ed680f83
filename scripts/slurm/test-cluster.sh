#!/bin/bash
# End-to-end on a real (one-node) Slurm cluster: bring it up, submit a tiny
# sweep as a 3-task job array of queue workers on one folder through
# sweep.sbatch, send task 0 SIGTERM mid-run (through its batch shell, as
# Slurm's --signal does), check it exits 143 and the others 0, resume with
# a 1-task rerun, collect, check every run equals a sequential sweep, stop
# the daemons. Needs root (as CI runs). About 40-60 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="$PWD/target/release/preinterp"
PY=${PYTHON:-$PWD/.venv/bin/python}
[ -x "$BIN" ] || cargo build --release --quiet
eval "$(scripts/slurm/cluster-up.sh)"
trap 'scripts/slurm/cluster-down.sh' EXIT
W=$(mktemp -d /tmp/preinterp-slurm.XXXXXX)
cat > "$W/tiny.toml" <<TOML
name = "slurm-tiny"
[fixed]
dataset = "$PWD/fixtures/mnist-small"
train_size = 300
val_size = 200
depth = 1
epochs = 1500
[axes]
width = [8, 16, 32]
[[variants]]
optimizer = "adam"
seed = [0, 1]
TOML
fail() { echo "slurm test: $*" >&2; tail -n 5 "$W"/slurm-*.out >&2 || true; exit 1; }
start=$(date +%s)
job=$(cd "$W" && PREINTERP="$BIN" sbatch --parsable --array=0-2 "$OLDPWD/scripts/slurm/sweep.sbatch" "$W/tiny.toml" "$W/out")
job=${job%%;*}
# Task 0 mid-run: it holds a claim and its output shows a run going.
for i in $(seq 600); do
  [ "$(squeue -h -j "${job}_0" -o %T 2>/dev/null)" = RUNNING ] && ls "$W"/out/*.claim >/dev/null 2>&1 && break
  sleep 0.1
done
sleep 1
scancel --signal=TERM --batch "${job}_0"
for i in $(seq 1200); do [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break; sleep 0.25; done
[ -z "$(squeue -h -j "$job")" ] || fail "the array did not end"
grep -q "preinterp exited with 143" "$W/slurm-${job}_0.out" || fail "task 0 did not exit 143 on SIGTERM"
grep -q "_seed-[01] interrupted (" "$W/slurm-${job}_0.out" || fail "task 0 was not mid-run"
for t in 1 2; do
  grep -q "preinterp exited with 0" "$W/slurm-${job}_$t.out" || fail "task $t did not exit 0"
  ! grep -q FAILED "$W/slurm-${job}_$t.out" || fail "task $t reported a failure"
done
ls "$W"/out/*.claim >/dev/null 2>&1 && fail "claim files left behind"
# Resume what task 0 left: a rerun of one worker.
(cd "$W" && PREINTERP="$BIN" sbatch --wait --array=0 "$OLDPWD/scripts/slurm/sweep.sbatch" "$W/tiny.toml" "$W/out" >/dev/null)
"$BIN" sweep collect "$W/out" > "$W/collect.txt"
grep -q "6 runs: 6 complete, 0 diverged, 0 running or interrupted, 0 missing" "$W/collect.txt" || { cat "$W/collect.txt"; fail "not all complete"; }
"$BIN" sweep run "$W/tiny.toml" --out "$W/seq" --jobs 1 > /dev/null
"$PY" - "$W/out" "$W/seq" <<'PY'
import sys, pathlib, h5py, numpy as np
out, seq = map(pathlib.Path, sys.argv[1:])
runs = lambda d: sorted(p.name for p in d.glob("*.h5") if p.name != "sweep.h5")
files = runs(seq)
assert len(files) == 6 and runs(out) == files, (files, runs(out))
for name in files:
    with h5py.File(out / name, "r") as a, h5py.File(seq / name, "r") as b:
        assert a.attrs["status"] == b.attrs["status"] == "complete", name
        names = []
        a["curves"].visit(lambda n: names.append(n) if isinstance(a["curves"][n], h5py.Dataset) else None)
        for k in names:
            if not k.endswith("wall_time"):
                np.testing.assert_array_equal(a["curves"][k][()], b["curves"][k][()], err_msg=f"{name}: {k}")
with h5py.File(out / "sweep.h5", "r") as f:
    st = [x.decode() if isinstance(x, bytes) else x for x in f["status"][()]]
    assert len(st) == 6 and all(s == "complete" for s in st), st
PY
echo "slurm test: 3 queue workers on one folder (one sent SIGTERM: exit 143) and a rerun equal a sequential sweep, in $(( $(date +%s) - start )) s: 1 passed, 0 failed"
rm -rf "$W"
