#!/bin/bash
# Stops the cluster of cluster-up.sh (needs SLURM_CONF), by PID, never by name.
S=$(dirname "$SLURM_CONF")
for f in "$S/slurmd.pid" "$S/slurmctld.pid" /run/munge/munged.pid; do
  [ -s "$f" ] || continue
  pid=$(cat "$f"); kill "$pid" 2>/dev/null || continue
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
done
exit 0
