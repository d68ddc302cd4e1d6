#!/bin/sh
# run.sh SRCDIR REPORTS - `make bench`: every experiment of bench/configs/,
# the performance benchmarks, then the reports index with provenance.
set -eu
src=$1
out=$2
mdatt=${MDATT:-mdatt}
build=${BUILDDIR:-.}
mkdir -p "$out"
rm -f "$out/.timings" "$out/.perf_timings"
cmd="make bench (OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset})"
for cfg in paper_fig4 paper_paths paper_joint beyond_saturation rates realdata; do
    # --fresh: the reports come from this build, never from records of an older one
    (cd "$src" && "$mdatt" bench "bench/configs/$cfg.json" -o "$out" --fresh)
done
for perf in perf_trainer perf_oracle; do
    if [ -x "$build/bench/$perf" ]; then
        start=$(date +%s)
        "$build/bench/$perf" "$out"
        secs=$(( $(date +%s) - start ))
        printf '%s\t%s\n' "$perf" "$secs" >> "$out/.perf_timings"
        echo "mdatt bench: $perf done in $secs s -> $out/$perf.md" >&2
    fi
done
"$mdatt" bench --index "$out" --command "$cmd"
echo "reports written to $out (index: $out/README.md)"
