#!/bin/sh
# fuzz.sh - build the fuzz targets with clang's libFuzzer and the address and
# undefined-behaviour sanitizers, then fuzz each for FUZZ_SECONDS (default
# 300) on one core, starting from the committed corpus.
#   tests/fuzz/fuzz.sh SRCDIR BUILDDIR [TARGET...]    (or `make fuzz`)
# TARGET: instance model svm traj bench expr idx (default: all).  New inputs
# go to FUZZ_OUT/<target>/ (default ./fuzz-out), crashes to
# FUZZ_OUT/crash-<target>-*; add a reproducer of each fixed crash to
# tests/fuzz/corpus/<target>/ so that `make check` replays it.
set -eu
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
shift 2
targets=${*:-instance model svm traj bench expr idx}
out=${FUZZ_OUT:-$PWD/fuzz-out}
secs=${FUZZ_SECONDS:-300}
cc=${FUZZ_CC:-clang}
mkdir -p "$out/bin"
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
 -fno-sanitize-recover=undefined -D_GNU_SOURCE -I$build -I$src/src -I$src/oracle
 -I$src/bench ${OPENBLAS_CFLAGS:-} -DMDATT_CONFIGDIR=\"/nonexistent\"
 -DMDATT_SOURCE_CONFIGDIR=\"$src/bench/configs\""
libs=${FUZZ_LIBS:-"-lopenblas -ljansson -lglpk -lz -lpthread -lm"}
# Every library source (src/, and oracle/ for the bench target) and every
# bench/ source of the mdatt program (perf_* are the benchmark programs'):
# the lists follow the tree, not a copy of it.
lib=$(ls "$src"/src/*.c)
for t in $targets; do
    extra=""
    if [ "$t" = bench ]; then
        extra="$(ls "$src"/bench/*.c | grep -v '/perf_') $(ls "$src"/oracle/*.c)"
    fi
    echo "fuzz.sh: building $t"
    # shellcheck disable=SC2086
    $cc $flags -o "$out/bin/fuzz_$t" "$src/tests/fuzz/fuzz_$t.c" $lib $extra $libs
    mkdir -p "$out/$t"
    echo "fuzz.sh: fuzzing $t for $secs s"
    (cd "$out" && OPENBLAS_NUM_THREADS=1 nice -n 10 "$out/bin/fuzz_$t" -max_total_time="$secs" \
        -max_len=65536 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/crash-$t-" \
        -print_final_stats=1 "$out/$t" "$src/tests/fuzz/corpus/$t")
done
