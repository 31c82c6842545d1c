#!/bin/bash
# A single-node SLURM cluster on this machine, for the workflow test (issue 19): munge and
# Debian's slurm-wlm configured for localhost in a private folder, started, and stopped again.
# The one file outside that folder is /etc/slurm/slurm.conf, a copy of the private one, written
# only when the machine has none and removed by stop: Snakemake's jobstep executor removes
# every SLURM_* variable (SLURM_CONF too) before its nested srun, which then reads the default
# path only.
#
#   single-node-cluster.sh start DIR   configure in DIR, start munged, slurmctld and slurmd,
#                                      wait until the node is idle; prints SLURM_CONF=DIR/slurm.conf
#   single-node-cluster.sh stop DIR    stop the daemons started in DIR
#
# Needs root (slurmd runs jobs as their user) and the Debian packages slurm-wlm and munge.
# Exits non-zero with one line saying why when the cluster cannot be started.
set -eu
action=${1:?usage: single-node-cluster.sh start|stop DIR}
dir=${2:?usage: single-node-cluster.sh start|stop DIR}

fail() { echo "single-node SLURM: $*" >&2; exit 1; }

# Runs a daemon with no standard streams and none of this script's other open descriptors. A
# caller may have handed the script more than its output: swift-corelibs-foundation's Process
# passes the end of a socket pair whose closing tells it the child has exited, so a daemon that
# inherits it makes the caller wait for the daemon instead of the script.
detached() {
  (
    for fd in $(ls /proc/$BASHPID/fd); do
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done 2>/dev/null
    exec "$@" </dev/null >/dev/null 2>&1
  )
}

stop() {
  if [ -f /etc/slurm/slurm.conf ] && grep -q "^# flowmrd single-node test cluster: $dir\$" /etc/slurm/slurm.conf; then
    rm -f /etc/slurm/slurm.conf
  fi
  for daemon in slurmd slurmctld munged; do
    if [ -f "$dir/$daemon.pid" ]; then kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true; fi
  done
  sleep 1
  for daemon in slurmd slurmctld munged; do
    if [ -f "$dir/$daemon.pid" ]; then kill -9 "$(cat "$dir/$daemon.pid")" 2>/dev/null || true; rm -f "$dir/$daemon.pid"; fi
  done
}

if [ "$action" = stop ]; then stop; exit 0; fi
[ "$action" = start ] || fail "unknown action $action (start or stop)"
[ "$(id -u)" = 0 ] || fail "needs root (slurmd starts jobs as their user); running as $(id -un)"
for tool in munged slurmctld slurmd sinfo sbatch squeue; do
  command -v $tool >/dev/null 2>&1 || fail "$tool is not installed (apt-get install slurm-wlm munge)"
done

mkdir -p "$dir/state" "$dir/spool"
chmod 700 "$dir"
host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
# Ports away from the defaults (6817/6818), in case a real SLURM runs here too.
port=${FLOWMRD_SLURM_PORT:-16817}

dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$dir/munge.key"
detached munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" --pid-file="$dir/munged.pid" \
  --log-file="$dir/munged.log" --seed-file="$dir/munge.seed" || { stop; fail "munged did not start: $(tail -1 "$dir/munged.log" 2>/dev/null)"; }

if [ -f /etc/slurm/slurm.conf ] && ! grep -q "^# flowmrd single-node test cluster: " /etc/slurm/slurm.conf; then
  fail "/etc/slurm/slurm.conf exists (a SLURM set up on this machine); not replacing it"
fi
cat > "$dir/slurm.conf" <<CONF
# flowmrd single-node test cluster: $dir
ClusterName=flowmrd-test
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue for 10 minutes, which the Snakemake plugin's squeue status check needs.
MinJobAge=600
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p /etc/slurm
cp "$dir/slurm.conf" /etc/slurm/slurm.conf
export SLURM_CONF="$dir/slurm.conf"

# The daemons' standard streams go nowhere (detached): a caller reading this script's output to
# its end would otherwise wait for the daemons to exit.
detached slurmctld -c || { stop; fail "slurmctld did not start: $(tail -1 "$dir/slurmctld.log" 2>/dev/null)"; }
detached slurmd || { stop; fail "slurmd did not start: $(tail -1 "$dir/slurmd.log" 2>/dev/null)"; }

tries=0
until sinfo -h -N -o '%t' 2>/dev/null | grep -q '^idle'; do
  tries=$((tries + 1))
  if [ $tries -ge 30 ]; then
    state=$(sinfo -h -N -o '%t %E' 2>&1 | head -1)
    stop
    fail "the node did not become idle within 30 s (sinfo: $state; slurmd: $(tail -1 "$dir/slurmd.log" 2>/dev/null))"
  fi
  sleep 1
done
echo "SLURM_CONF=$dir/slurm.conf"
