#!/bin/sh
# perf_scale.sh OUT.md - `make perf-scale`: what the run records, the MPI work
# queue and resuming cost, measured with `mdatt bench` on sweep_scale
# configurations written here:
#   1. trivial runs (n = 1, T = 2, d = 1, one step): the whole per-run time, an
#      upper bound of the bookkeeping per run (records, dispatch), one process
#      and 2 MPI ranks; and the per-run time of a resume that reuses them all;
#   2. a 1000-run sweep on 1 and on 2 MPI ranks (one thread each): throughput;
#   3. that sweep killed with SIGKILL and resumed: runs recomputed, counted.
set -eu
OUT=${1:?usage: perf_scale.sh OUT.md}
MDATT=${MDATT:-./mdatt}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
W=$(mktemp -d /tmp/mdatt-perf-scale-XXXXXX)
trap 'rm -rf "$W"' EXIT
export TMPDIR="$W"          # scratch folders of MPI ranks and killed runs
now() { date +%s.%N; }
calc() { awk "BEGIN { print ($1) }"; }
secs() { calc "$2 - $1"; }
fmt() { printf '%.3f' "$1"; }

cat > "$W/trivial.json" <<EOF
{"experiment": "sweep_scale", "n": [1], "T": [2], "d": [1], "seeds": {"from": 1, "to": 10000},
 "p": 2, "iters": 1, "lr": 0.1}
EOF
cat > "$W/sweep.json" <<EOF
{"experiment": "sweep_scale", "n": [24], "T": [16], "d": [16], "seeds": {"from": 1, "to": 1000},
 "p": 2, "iters": 2000, "lr": 0.1}
EOF
NT=10000 NS=1000
# run NAME CMD...: wall seconds into $t, stderr into $W/NAME.err
run() {
    name=$1
    shift
    t0=$(now)
    "$@" 2>"$W/$name.err" >/dev/null
    t=$(secs "$t0" "$(now)")
}

run triv1 "$MDATT" bench "$W/trivial.json" -o "$W/t1" --threads 1
triv1=$t
run trivre "$MDATT" bench "$W/trivial.json" -o "$W/t1" --threads 1
trivre=$t
reused=$(grep -o "[0-9]* reused" "$W/trivre.err" | cut -d' ' -f1)
run triv2 mpirun -np 2 --bind-to none "$MDATT" bench "$W/trivial.json" -o "$W/t2" --threads 1
triv2=$t
run mpi0 mpirun -np 2 --bind-to none true
mpi0=$t

run one "$MDATT" bench "$W/sweep.json" -o "$W/s1" --threads 1
one=$t
run two mpirun -np 2 --bind-to none "$MDATT" bench "$W/sweep.json" -o "$W/s2" --threads 1
two=$t
same=no
diff -r -x runs "$W/s1/sweep_scale" "$W/s2/sweep_scale" >/dev/null && same=yes

# killed after about a third of the runs, then resumed
"$MDATT" bench "$W/sweep.json" -o "$W/k" --threads 1 --quiet &
pid=$!
rec="$W/k/sweep_scale/runs/sweep_scale"
while [ "$(ls "$rec" 2>/dev/null | grep -c '\.rec$')" -lt 330 ] && kill -0 $pid 2>/dev/null; do sleep 0.05; done
kill -9 $pid
wait $pid 2>/dev/null || true
kept=$(ls "$rec" | grep -c '\.rec$')
run resume "$MDATT" bench "$W/sweep.json" -o "$W/k" --threads 1
line=$(grep "runs," "$W/resume.err")
computed=$(echo "$line" | sed 's/.*reused from records, \([0-9]*\) computed.*/\1/')
rsame=no
diff -r -x runs "$W/s1/sweep_scale" "$W/k/sweep_scale" >/dev/null && rsame=yes

per1=$(calc "1000 * $triv1 / $NT")
per2=$(calc "1000 * ($triv2 - $mpi0) / $NT")
perre=$(calc "1000 * $trivre / $NT")
speed=$(calc "$one / $two")
verdict() { [ "$(calc "$1")" -eq 1 ] && echo met || echo "NOT met"; }
cat > "$OUT" <<EOF
# Run records, MPI and resuming: what they cost

Measured by \`make perf-scale\` (bench/perf_scale.sh) with \`mdatt bench\` on sweep_scale
configurations, OPENBLAS_NUM_THREADS=1, one thread per process; \`mpirun -np 2 --bind-to none\`.
Machine: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) online CPUs, shared with
other jobs (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end), so the times are upper bounds.
mdatt $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u '+%Y-%m-%d %H:%M UTC').

## Bookkeeping per run (target: at most 1 ms)

Trivial runs (n = 1, T = 2, d = 1, one training step and the certified SVM; $NT runs): the whole
time per run, computing included, is an upper bound of what records and dispatch add to a run.

| setting | wall time | per run |
|---|---|---|
| one process, every run computed and written as a record | $(fmt "$triv1") s | $(fmt "$per1") ms |
| 2 MPI ranks (work queue on rank 0), less the $(fmt "$mpi0") s of starting mpirun | $(fmt "$triv2") s | $(fmt "$per2") ms |
| one process, resumed: $reused records read and checked, nothing computed | $(fmt "$trivre") s | $(fmt "$perre") ms |

Target of at most 1 ms per run: $(verdict "$per1 <= 1 && $per2 <= 1") (a million-run sweep spends at most
$(printf '%.0f' "$(calc "$per1 * 1000000 / 60000")") CPU-minutes in one process on all of this).

## Two ranks against one (target: at least 1.8 times the throughput)

A 1000-run sweep (n = 24, T = 16, d = 16, 2000 steps of l_2-AttGD and the certified SVM per run):

| setting | wall time | runs per second |
|---|---|---|
| one process, one thread | $(fmt "$one") s | $(fmt "$(calc "$NS / $one")") |
| mpirun -np 2, one thread each | $(fmt "$two") s | $(fmt "$(calc "$NS / $two")") |

Speed-up $(fmt "$speed"): target $(verdict "$speed >= 1.8"). Tables and figures of the two byte-identical: $same.
The machine is shared: a ratio above 2 means that the other jobs' load changed between the two
measurements.

## Killed and resumed

The one-process sweep killed with SIGKILL after $kept of its $NS runs had their records, then run
again: \`$line\`. Runs computed again that had been completed: $((computed - (NS - kept))) (the
resumed run computed $computed = $NS - $kept). Tables byte-identical to the uninterrupted run: $rsame.
EOF
cat "$OUT"
