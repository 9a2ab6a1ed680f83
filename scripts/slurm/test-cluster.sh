#!/bin/bash
# End-to-end on a real (one-node) Slurm cluster: bring it up, submit a tiny
# sweep as a 2-task job array through sweep.sbatch, wait, collect, check
# the table, stop the daemons. Needs root (as CI runs). About 30 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="$PWD/target/release/preinterp"
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
epochs = 3
[axes]
width = [8, 16, 32]
[[variants]]
optimizer = "adam"
seed = [0, 1]
TOML
start=$(date +%s)
(cd "$W" && PREINTERP="$BIN" sbatch --wait --array=0-1 "$OLDPWD/scripts/slurm/sweep.sbatch" "$W/tiny.toml" "$W/out" >/dev/null)
for t in 0 1; do grep -q "3 of 3 runs in this shard handled, 0 failed" "$W"/slurm-*_$t.out || { cat "$W"/slurm-*.out; exit 1; }; done
"$BIN" sweep collect "$W/out" > "$W/collect.txt"
grep -q "6 runs: 6 complete, 0 diverged, 0 running or interrupted, 0 missing" "$W/collect.txt" || { cat "$W/collect.txt"; exit 1; }
"${PYTHON:-$PWD/.venv/bin/python}" - "$W/out/sweep.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
ids = [x.decode() if isinstance(x, bytes) else x for x in f["run"][()]]
st = [x.decode() if isinstance(x, bytes) else x for x in f["status"][()]]
assert len(ids) == 6 and all(s == "complete" for s in st), (ids, st)
assert (f["min_epoch"][()] >= 0).all() and (f["epochs_recorded"][()] == 4).all()
PY
echo "slurm test: a 2-task job array ran 6 runs and collected, in $(( $(date +%s) - start )) s: 1 passed, 0 failed"
rm -rf "$W"
