#!/bin/bash
# A one-node Slurm cluster (munged + slurmctld + slurmd) as root, without
# systemd, for tests; prints `export SLURM_CONF=...`. The tested recipe of
# ../shared/notes/slurm-single-node.md.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
command -v slurmctld >/dev/null || { apt-get update -qq; apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; }

S=$(mktemp -d /tmp/slurm-ci.XXXXXX)
mkdir -p "$S"/state "$S"/spool "$S"/log
CPUS=$(nproc)
MEM=$(awk '/MemTotal/ {printf "%d", $2/1024*0.9}' /proc/meminfo)

cat > "$S/slurm.conf" <<CONF
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$S/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
NodeName=localhost CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$S/slurm.conf"

[ -s /etc/munge/munge.key ] || { mungekey -c -k /etc/munge/munge.key; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
install -d -o munge -g munge -m 755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for i in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

slurmctld
slurmd -N localhost
for i in $(seq 60); do
  [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = idle ] && break; sleep 0.5
done
[ "$(sinfo -h -n localhost -o %t)" = idle ] || { echo "node not idle" >&2; tail -n 30 "$S"/log/*.log >&2; exit 1; }
echo "export SLURM_CONF=$S/slurm.conf"
