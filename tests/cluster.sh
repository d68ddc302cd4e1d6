#!/bin/sh
# cluster.sh - `make check-cluster`: a reduced Fig. 4 sweep (tests/data/
# fig4_cluster.json) run every way mdatt bench can spread it, each output
# compared byte for byte (tables, .tsv, .svg, .gp, index.md) with one
# uninterrupted process:
#   - a Slurm array job of shards with a dependent merge job, and an MPI job
#     inside one Slurm allocation, on a single-node Slurm started here (munged,
#     slurmctld, slurmd; configuration, key and state in a temporary folder;
#     everything stopped at the end, also on failure);
#   - mpirun -np 3 --oversubscribe, and one whose worker rank is killed;
#   - one process killed with SIGKILL at three moments and resumed, counting
#     that the resumed run recomputes no completed run;
#   - a record with a flipped byte and a truncated one, recomputed.
# TAP on stdout.
set -u
MDATT=${MDATT:-./mdatt}
SRC=${MDATT_SRCDIR:-.}
CFG="$SRC/tests/data/fig4_cluster.json"
EXP=paper_fig4
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
W=$(mktemp -d /tmp/mdatt-cluster-XXXXXX)
SL="$W/slurm"
. "$SRC/tests/slurm_local.sh"
cleanup() {
    slurm_down >/dev/null 2>&1
    [ -n "${bg:-}" ] && kill -9 "$bg" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
n=0 failed=0 t0=$(date +%s)
ok() { n=$((n + 1)); echo "ok $n - $1 ($(($(date +%s) - t0)) s)"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# same DIR: the experiment's outputs equal the reference's, byte for byte
same() {
    out=$(diff -r -x runs -x '*.png' "$W/ref/$EXP" "$1/$EXP" 2>&1 | head -5)
    [ -z "$out" ] && [ -f "$1/$EXP/table.csv" ]
}
records() { ls "$1/$EXP/runs/$EXP" 2>/dev/null | grep -c '\.rec$'; }
total=$(( 3 * 20 ))

echo "1..11"
if "$MDATT" bench "$CFG" -o "$W/ref" --threads 1 --quiet && [ -f "$W/ref/$EXP/table.csv" ]; then
    ok "one uninterrupted process (the reference)"
else
    nok "one uninterrupted process (the reference)"
fi

# ---------------------------------------------------------------- Slurm
mkdir -p "$SL"
if command -v slurmctld >/dev/null && command -v munged >/dev/null && slurm_up; then
    ok "single-node Slurm up: $(sinfo -h -o '%N %c CPUs %T' 2>&1)"
    export MDATT CONFIG="$CFG" REPORTS="$W/array"
    out=$(cd "$W" && timeout 300 sh "$SRC/bench/slurm/submit.sh" "$CFG" "$W/array" 3 --wait \
          -o "$W/slurm-%j.out" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && same "$W/array" && [ "$(records "$W/array")" -eq $total ]; then
        ok "Slurm array job of 3 shards + dependent merge: same bytes as one process"
    else
        nok "Slurm array job of 3 shards + dependent merge (exit $rc)" "$out" \
            "$(cat "$W"/slurm-*.out 2>/dev/null | tail -5)" "$(same "$W/array"; echo "$out")"
    fi
    out=$(cd "$W" && REPORTS="$W/smpi" timeout 300 sbatch --wait --ntasks=2 -o "$W/smpi-%j.out" \
          "$SRC/bench/slurm/mpi.sbatch" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && same "$W/smpi"; then
        ok "Slurm MPI job (2 ranks in one allocation): same bytes as one process"
    else
        nok "Slurm MPI job (exit $rc)" "$out" "$(tail -5 "$W"/smpi-*.out 2>/dev/null)"
    fi
else
    nok "single-node Slurm did not start" "$(tail -3 "$SL"/log/*.log "$SL"/log/*.out 2>/dev/null)"
    nok "Slurm array job: not run"
    nok "Slurm MPI job: not run"
fi
slurm_down >/dev/null 2>&1

# ------------------------------------------------------------------ MPI
out=$(timeout 300 mpirun -np 3 --oversubscribe "$MDATT" bench "$CFG" -o "$W/mpi" --threads 1 2>&1)
rc=$?
if [ $rc -eq 0 ] && same "$W/mpi"; then
    ok "mpirun -np 3 --oversubscribe: same bytes as one process"
else
    nok "mpirun -np 3 --oversubscribe (exit $rc)" "$out"
fi

# wait_records DIR COUNT PID: until DIR has COUNT records or PID ended
wait_records() {
    i=0
    while [ "$(records "$1")" -lt "$2" ] && kill -0 "$3" 2>/dev/null && [ $i -lt 6000 ]; do
        sleep 0.02
        i=$((i + 1))
    done
}

# A worker rank dies: the job ends with a message, the records stay, a rerun resumes.
mpirun -np 3 --oversubscribe "$MDATT" bench "$CFG" -o "$W/dead" --threads 1 >"$W/dead.out" 2>&1 &
bg=$!
wait_records "$W/dead" 5 $bg
victim=""
for p in $(ps -o pid= --ppid $bg 2>/dev/null); do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$p
done
[ -n "$victim" ] && kill -9 "$victim"
wait $bg
rc=$?
bg=""
kept=$(records "$W/dead")
out=$("$MDATT" bench "$CFG" -o "$W/dead" --threads 2 2>&1)
if [ -n "$victim" ] && [ $rc -ne 0 ] && grep -qi "rank 1" "$W/dead.out" && [ "$kept" -ge 5 ] &&
   echo "$out" | grep -q "$total runs, $kept reused from records, $((total - kept)) computed" && same "$W/dead"; then
    ok "a killed MPI rank ends the job (exit $rc, mpirun names rank 1); its $kept records are reused"
else
    nok "a killed MPI rank (victim '$victim', exit $rc, $kept records)" "$(tail -5 "$W/dead.out")" "$out"
fi

# ------------------------------------------------- SIGKILL and resume
# Killed after 3, 20 and 45 of the 60 runs; each resume must reuse exactly the
# records present and compute only the others (one thread: runs in order).
for at in 3 20 45; do
    before=$(records "$W/kill")
    "$MDATT" bench "$CFG" -o "$W/kill" --threads 1 --quiet &
    bg=$!
    wait_records "$W/kill" $at $bg
    kill -9 $bg 2>/dev/null
    wait $bg 2>/dev/null
    bg=""
    now=$(records "$W/kill")
    if [ "$now" -ge "$at" ] && [ "$now" -lt $total ] && [ "$now" -ge "$before" ] &&
       [ ! -f "$W/kill/$EXP/table.csv" ]; then
        ok "SIGKILL with $now of $total runs recorded (no tables yet)"
    else
        nok "SIGKILL at $at runs: $now records (before: $before), tables: $(ls "$W/kill/$EXP" 2>&1 | tr '\n' ' ')"
    fi
done
kept=$(records "$W/kill")
out=$("$MDATT" bench "$CFG" -o "$W/kill" --threads 2 2>&1)
if echo "$out" | grep -q "$total runs, $kept reused from records, $((total - kept)) computed" && same "$W/kill"; then
    ok "resumed: $kept runs reused, $((total - kept)) computed, none twice; same bytes as one process"
else
    nok "resume after three kills ($kept records)" "$out" "$(diff -rq -x runs "$W/ref/$EXP" "$W/kill/$EXP" 2>&1 | head -3)"
fi

# ------------------------------------------------------ corrupted records
d="$W/kill/$EXP/runs/$EXP"
printf '\377' | dd of="$d/7.rec" bs=1 seek=60 conv=notrunc 2>/dev/null
head -c 30 "$d/12.rec" > "$d/12.tmp" && mv "$d/12.tmp" "$d/12.rec"
out=$("$MDATT" bench "$CFG" -o "$W/kill" --threads 2 2>&1)
if echo "$out" | grep -q "2 truncated or corrupted record(s) are recomputed" &&
   echo "$out" | grep -q "$total runs, $((total - 2)) reused from records, 2 computed" && same "$W/kill"; then
    ok "a flipped byte and a truncated record are recomputed; same bytes as one process"
else
    nok "corrupted records" "$out"
fi
exit $((failed > 0))
