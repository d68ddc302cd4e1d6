# slurm_local.sh - a single-node Slurm on this machine, for tests/cluster.test:
# munged, slurmctld and slurmd with their configuration, key, sockets, state
# and logs in the folder $SL (which the caller creates and removes), ports free
# on localhost.  Sourced; slurm_up starts the daemons, slurm_down stops them.
slurm_free_port() {
    # first port from $1 on that nothing listens on
    p=$1
    while ss -ltn 2>/dev/null | awk '{print $4}' | grep -q ":$p\$"; do p=$((p + 1)); done
    echo "$p"
}

slurm_up() {
    mkdir -p "$SL/state" "$SL/spool" "$SL/log" "$SL/munge"
    chmod 700 "$SL/munge"
    dd if=/dev/urandom of="$SL/munge/munge.key" bs=1024 count=1 2>/dev/null
    chmod 400 "$SL/munge/munge.key"
    /usr/sbin/munged --key-file="$SL/munge/munge.key" --socket="$SL/munge/sock" \
        --pid-file="$SL/munge/munged.pid" --log-file="$SL/log/munged.log" \
        --seed-file="$SL/munge/seed" -f || return 1
    host=$(hostname -s)
    cport=$(slurm_free_port 16817)
    dport=$(slurm_free_port $((cport + 1)))
    cpus=$(nproc)
    cat > "$SL/slurm.conf" <<CONF
ClusterName=mdattcheck
SlurmctldHost=localhost
SlurmctldPort=$cport
SlurmdPort=$dport
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SL/munge/sock
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
StateSaveLocation=$SL/state
SlurmdSpoolDir=$SL/spool/%n
SlurmctldPidFile=$SL/slurmctld.pid
SlurmdPidFile=$SL/slurmd.pid
SlurmctldLogFile=$SL/log/slurmctld.log
SlurmdLogFile=$SL/log/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=256 State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
    export SLURM_CONF="$SL/slurm.conf"
    /usr/sbin/slurmctld -D -f "$SLURM_CONF" >"$SL/log/slurmctld.out" 2>&1 &
    echo $! > "$SL/ctld.bg"
    /usr/sbin/slurmd -D -f "$SLURM_CONF" >"$SL/log/slurmd.out" 2>&1 &
    echo $! > "$SL/d.bg"
    # ready: the node is idle
    for _ in $(seq 1 60); do
        sinfo -h -o '%T' 2>/dev/null | grep -q idle && return 0
        sleep 1
    done
    return 1
}

slurm_down() {
    # jobs of this Slurm first, so that no slurmstepd outlives it
    [ -n "${SLURM_CONF:-}" ] && scancel -u "$(id -un)" 2>/dev/null && sleep 1
    for f in "$SL/d.bg" "$SL/ctld.bg"; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    sleep 1
    for f in "$SL/d.bg" "$SL/ctld.bg"; do
        [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    [ -f "$SL/munge/munged.pid" ] && kill "$(cat "$SL/munge/munged.pid")" 2>/dev/null
    rm -f "$SL/d.bg" "$SL/ctld.bg"
}
