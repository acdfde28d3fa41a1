#!/usr/bin/env bash
# A single-node Slurm cluster for `just test-slurm`.
#
#   slurm-cluster.sh start   install Debian's slurmctld, slurmd, slurm-client and munge when
#                            missing (apt-get; sudo when not root); if no cluster answers
#                            `sinfo`, start munged (unless running), slurmctld and slurmd with
#                            a slurm.conf generated for this node, and wait for it to be idle.
#                            Writes $STATE/env: SLURM_CONF for the cluster it started.
#   slurm-cluster.sh stop    stop the daemons `start` started, and nothing else.
#
# $STATE/started lists what start started, a line each: name, pid, and the process's start
# time (field 22 of /proc/PID/stat). stop kills a pid only while /proc says it is still that
# process (same name, same start time): a pid the kernel has since given to a stranger is
# left alone. A `started` file left by an aborted run is checked the same way.
set -euo pipefail
STATE=${MASKLAB_SLURM_STATE:-/tmp/masklab-slurm}
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

start() {
    local need=""
    for p in slurmctld slurmd slurm-client munge; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
    done
    if [ -n "$need" ]; then
        echo "installing$need..."
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need
    fi
    mkdir -p "$STATE"
    : > "$STATE/env"
    if sinfo >/dev/null 2>&1; then
        echo "a Slurm cluster answers sinfo: using it"
        return
    fi
    # No cluster answers: daemons an aborted run started are gone or stuck; stop those
    # that are provably ours, then start afresh.
    stop
    rm -rf "$STATE/state" "$STATE/spool"
    mkdir -p "$STATE/state" "$STATE/spool"
    : > "$STATE/started"
    local host cpus
    host=$(hostname -s)
    cpus=$(nproc)
    cat > "$STATE/slurm.conf" <<CONF
ClusterName=masklab
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    if ! pgrep -x munged >/dev/null; then
        [ -f /etc/munge/munge.key ] || $sudo mungekey --create
        $sudo mkdir -p /run/munge
        $sudo /usr/sbin/munged --force --pid-file="$STATE/munged.pid"
        record munged "$STATE/munged.pid"
    fi
    rm -f "$STATE/slurmctld.pid" "$STATE/slurmd.pid"
    $sudo /usr/sbin/slurmctld -f "$STATE/slurm.conf"
    record slurmctld "$STATE/slurmctld.pid"
    $sudo /usr/sbin/slurmd -f "$STATE/slurm.conf"
    record slurmd "$STATE/slurmd.pid"
    echo "SLURM_CONF=$STATE/slurm.conf" > "$STATE/env"
    for _ in $(seq 60); do
        if SLURM_CONF="$STATE/slurm.conf" sinfo -h -o %t 2>/dev/null | grep -q idle; then
            echo "started a single-node cluster ($host, $cpus CPUs): $STATE/slurm.conf"
            return
        fi
        sleep 0.5
    done
    echo "the cluster did not come up; see $STATE/slurmctld.log and $STATE/slurmd.log" >&2
    stop
    exit 1
}

# The start time of process $1 (clock ticks since boot), or nothing when it does not run.
start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    # Fields after the command (which may hold spaces) start at field 3.
    echo "${stat##*) }" | cut -d' ' -f20
}

# Appends "NAME PID START" for the daemon whose pid file is $2, waiting for the file.
record() {
    local name=$1 pidfile=$2 pid=""
    for _ in $(seq 100); do
        pid=$(cat "$pidfile" 2>/dev/null || true)
        [[ "$pid" =~ ^[0-9]+$ ]] && [ -n "$(start_time "$pid")" ] && break
        pid=""
        sleep 0.1
    done
    if [ -z "$pid" ]; then
        echo "$name did not write its pid file $pidfile; see $STATE/$name.log" >&2
        stop
        exit 1
    fi
    echo "$name $pid $(start_time "$pid")" >> "$STATE/started"
}

# Whether pid $2 is still the $1 started at time $3.
ours() {
    local name=$1 pid=$2 started=$3
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ -n "$started" ] && [ "$(start_time "$pid")" = "$started" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

stop() {
    [ -f "$STATE/started" ] || return 0
    local pids=""
    while read -r name pid started; do
        if ours "$name" "${pid:-}" "${started:-}"; then
            $sudo kill "$pid" && echo "stopping $name ($pid)"
            pids="$pids $pid"
        elif [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
            echo "not stopping pid $pid: it is no longer the $name this script started"
        fi
    done < "$STATE/started"
    # Wait until they are gone, so that a following start finds its ports free.
    for _ in $(seq 40); do
        local alive=""
        for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
        [ -z "$alive" ] && break
        sleep 0.25
    done
    rm -f "$STATE/started" "$STATE/env"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
