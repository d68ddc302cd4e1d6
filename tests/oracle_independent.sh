#!/bin/sh
# oracle_independent.sh - TAP: libattsvm stays independent of the trainer.
#   1. no oracle source includes mdatt.h or any header of src/
#   2. the archive oracle/libattsvm.a exists
#   3. nm of the archive shows no mdatt_ symbol, defined or undefined
#   4. every global symbol the archive defines carries the attsvm_ prefix
#   5. the shared library neither needs nor exports an mdatt_ symbol
#   6. every symbol the shared library exports carries the attsvm_ prefix
# Environment: MDATT_SRCDIR, MDATT_BUILDDIR (set by the test harness).
srcdir=${MDATT_SRCDIR:-.}
builddir=${MDATT_BUILDDIR:-.}
# libtool keeps both built libraries in .libs/.
lib="$builddir/oracle/.libs/libattsvm.a"
so="$builddir/oracle/.libs/libattsvm.so"

echo "1..6"

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
    echo "ok 5 # SKIP nm not available"
    echo "ok 6 # SKIP nm not available"
    exit 0
fi
if [ ! -f "$lib" ]; then
    echo "not ok 3 - no archive to inspect"
    echo "not ok 4 - no archive to inspect"
else
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
fi

# The shared library: dynamic symbols only (nm -D); defined exports must be
# attsvm_, and nothing (defined or needed) may be an mdatt_ symbol.
if [ ! -f "$so" ]; then
    echo "not ok 5 - $so not found"
    echo "not ok 6 - $so not found"
    exit 0
fi
dsyms=$(nm -D "$so" 2>/dev/null)
leak=$(printf '%s\n' "$dsyms" | awk '$NF ~ /^_?mdatt_/ {print $NF}' | sort -u | tr '\n' ' ')
if [ -z "$leak" ]; then
    echo "ok 5 - libattsvm.so references no mdatt_ symbol"
else
    echo "not ok 5 - libattsvm.so references trainer symbols: $leak"
fi
foreign=$(printf '%s\n' "$dsyms" | awk 'NF == 3 && $2 ~ /^[TDBRC]$/ && $3 !~ /^attsvm_/ && $3 !~ /^_(init|fini|edata|end|_bss_start)$/ {print $3}' | sort -u | tr '\n' ' ')
if [ -z "$foreign" ]; then
    echo "ok 6 - every symbol libattsvm.so exports has the attsvm_ prefix"
else
    echo "not ok 6 - libattsvm.so exports symbols outside the attsvm_ namespace: $foreign"
fi
