#!/bin/sh
# layering.sh - TAP: the modules depend one way (doc/design.md §8):
# src/cli (the command line) -> bench/ (the experiments) -> the libraries.
#   1. no bench/ source includes a header of src/cli/
#   2. no libmdatt source includes a header of src/cli/ or bench/
#   3. the bench/ objects of the mdatt program reference no cli_ symbol
# Environment: MDATT_SRCDIR, MDATT_BUILDDIR (set by the test harness).
srcdir=${MDATT_SRCDIR:-.}
builddir=${MDATT_BUILDDIR:-.}

echo "1..3"

# The #include "..." names of the files given, one per line.
includes() {
    for f in "$@"; do
        [ -f "$f" ] || continue
        sed -n "s|^[[:space:]]*#[[:space:]]*include[[:space:]]*\"\\([^\"]*\\)\".*|$(basename "$f"):\\1|p" "$f"
    done
}
# Basenames of the headers in a folder.
headers() { (cd "$1" 2>/dev/null && ls -- *.h 2>/dev/null); }

# Lines "file:header" of $1 naming one of the headers $2 (space separated).
offending() {
    echo "$1" | while IFS=: read -r file inc; do
        [ -n "$inc" ] || continue
        for h in $2; do
            [ "$(basename "$inc")" = "$h" ] && printf ' %s:%s' "$file" "$inc"
        done
    done
}

cli_h=$(headers "$srcdir/src/cli")
bench_h=$(headers "$srcdir/bench")
if [ -z "$cli_h" ] || [ -z "$bench_h" ]; then
    echo "not ok 1 - no headers found in $srcdir/src/cli or $srcdir/bench"
    echo "not ok 2 - no headers found"
else
    bad=$(offending "$(includes "$srcdir"/bench/*.c "$srcdir"/bench/*.h)" "$cli_h")
    if [ -z "$bad" ]; then
        echo "ok 1 - no bench/ source includes a header of src/cli/"
    else
        echo "not ok 1 - bench/ sources include the command line's headers:$bad"
    fi
    bad=$(offending "$(includes "$srcdir"/src/*.c "$srcdir"/src/*.h)" "$cli_h $bench_h")
    if [ -z "$bad" ]; then
        echo "ok 2 - no libmdatt source includes a header of src/cli/ or bench/"
    else
        echo "not ok 2 - libmdatt sources include headers above them:$bad"
    fi
fi

# Objects the mdatt program built from bench/ (automake names them mdatt-*.o).
objs=$(ls "$builddir"/bench/mdatt-*.o 2>/dev/null)
if [ -z "$objs" ]; then
    echo "not ok 3 - no bench objects of mdatt in $builddir/bench (build mdatt first)"
else
    bad=$(for o in $objs; do nm -u "$o" | awk -v o="$(basename "$o")" '$NF ~ /^cli_/ {printf " %s:%s", o, $NF}'; done)
    if [ -z "$bad" ]; then
        echo "ok 3 - the bench/ objects of mdatt reference no cli_ symbol"
    else
        echo "not ok 3 - bench/ objects use the command line:$bad"
    fi
fi
