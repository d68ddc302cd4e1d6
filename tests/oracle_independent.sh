#!/bin/sh
# oracle_independent.sh - TAP: libattsvm stays independent of the trainer.
#   1. no oracle source includes mdatt.h or any header of src/
#   2. the archive oracle/libattsvm.a exists
#   3. nm of the archive shows no mdatt_ symbol, defined or undefined
#   4. every global symbol the archive defines carries the attsvm_ prefix
# Environment: MDATT_SRCDIR, MDATT_BUILDDIR (set by the test harness).
srcdir=${MDATT_SRCDIR:-.}
builddir=${MDATT_BUILDDIR:-.}
lib="$builddir/oracle/libattsvm.a"

echo "1..4"

# Headers that exist in src/ (and src/cli/): none of them may be named by an
# oracle source, nor mdatt.h by any path.
bad=""
src_headers=$(cd "$srcdir/src" 2>/dev/null && find . -name '*.h' | sed 's|^\./||')
for f in "$srcdir"/oracle/*.c "$srcdir"/oracle/*.h; do
    [ -f "$f" ] || continue
    incs=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1/p' "$f")
    for i in $incs; do
        base=$(basename "$i")
        case "$i" in
        *mdatt*|src/*|*/src/*|../*) bad="$bad $(basename "$f"):$i" ;;
        esac
        for h in $src_headers; do
            if [ "$i" = "$h" ] || [ "$base" = "$(basename "$h")" ]; then
                [ "$base" = "attsvm.h" ] || [ "$base" = "internal.h" ] || bad="$bad $(basename "$f"):$i"
            fi
        done
    done
done
if [ -z "$bad" ]; then
    echo "ok 1 - no oracle source includes mdatt.h or a src/ header"
else
    echo "not ok 1 - oracle sources include trainer headers:$bad"
fi

if [ -f "$lib" ]; then
    echo "ok 2 - $lib exists"
else
    echo "not ok 2 - $lib not found (build it first)"
fi

if ! command -v nm >/dev/null 2>&1; then
    echo "ok 3 # SKIP nm not available"
    echo "ok 4 # SKIP nm not available"
    exit 0
fi
if [ ! -f "$lib" ]; then
    echo "not ok 3 - no archive to inspect"
    echo "not ok 4 - no archive to inspect"
    exit 0
fi
syms=$(nm "$lib" 2>/dev/null)
leak=$(printf '%s\n' "$syms" | awk '$NF ~ /^_?mdatt_/ {print $NF}' | sort -u | tr '\n' ' ')
if [ -z "$leak" ]; then
    echo "ok 3 - libattsvm.a references no mdatt_ symbol"
else
    echo "not ok 3 - libattsvm.a references trainer symbols: $leak"
fi
foreign=$(printf '%s\n' "$syms" | awk 'NF == 3 && $2 ~ /^[TDBRC]$/ && $3 !~ /^attsvm_/ {print $3}' | sort -u | tr '\n' ' ')
if [ -z "$foreign" ]; then
    echo "ok 4 - every exported symbol has the attsvm_ prefix"
else
    echo "not ok 4 - exported symbols outside the attsvm_ namespace: $foreign"
fi
