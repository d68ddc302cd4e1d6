#!/bin/sh
# oracle_layers.sh - TAP: libattsvm's modules form layers (doc/design.md,
# "Module map"; oracle/prob.h lists them).
#   1. the archive oracle/libattsvm.a exists and holds the oracle's objects
#   2. the cycle finder below reports a cycle planted in a made-up listing
#      (and none in an acyclic one), so that test 3 can fail
#   3. the graph "object a uses a global symbol that object b defines"
#      (nm of the archive) has no cycle; a cycle is printed
#   4. only rows.c and rows.h read the row matrix (->A): every method goes
#      through rows.h (a provider that generates rows can replace it)
# Environment: MDATT_SRCDIR, MDATT_BUILDDIR (set by the test harness).
srcdir=${MDATT_SRCDIR:-.}
builddir=${MDATT_BUILDDIR:-.}
lib="$builddir/oracle/.libs/libattsvm.a"

echo "1..4"

# Reads `nm` output of an archive (member lines "name.o:", then symbols);
# prints "edge a b" for every use and, if the graph has a cycle,
# "cycle a -> b -> ... -> a" (depth-first search, one cycle).
find_cycle() {
    awk '
    /:$/ { obj = substr($0, 1, length($0) - 1); sub(/^libattsvm_la-/, "", obj);
           sub(/\.o$/, "", obj); nobj++; name[nobj] = obj; next }
    NF == 2 && $1 == "U" { nu++; uobj[nu] = obj; usym[nu] = $2; next }
    NF == 3 && $2 ~ /^[TDBRCGSV]$/ { def[$3] = obj }
    END {
        for (k = 1; k <= nu; k++) {
            b = def[usym[k]]
            if (b != "" && b != uobj[k] && !((uobj[k], b) in e)) {
                e[uobj[k], b] = 1; nadj[uobj[k]]++; adj[uobj[k], nadj[uobj[k]]] = b
                print "edge " uobj[k] " " b
            }
        }
        for (i = 1; i <= nobj; i++)
            if (!color[name[i]] && dfs(name[i], 0)) exit 0
    }
    function dfs(v, depth,    k, w, s, j) {
        color[v] = 1; stack[depth] = v
        for (k = 1; k <= nadj[v]; k++) {
            w = adj[v, k]
            if (color[w] == 1) {
                s = ""
                for (j = 0; j <= depth; j++) if (stack[j] == w) break
                for (; j <= depth; j++) s = s stack[j] " -> "
                print "cycle " s w
                return 1
            }
            if (!color[w] && dfs(w, depth + 1)) return 1
        }
        color[v] = 2
        return 0
    }'
}

if [ -f "$lib" ] && command -v nm >/dev/null 2>&1; then
    listing=$(nm "$lib" 2>/dev/null)
    nobj=$(printf '%s\n' "$listing" | grep -c '\.o:$')
    if [ "$nobj" -ge 2 ]; then
        echo "ok 1 - $lib holds $nobj objects"
    else
        echo "not ok 1 - $lib holds $nobj objects"
    fi
else
    echo "not ok 1 - $lib or nm not found (build it first)"
    listing=""
fi

planted=$(printf '%s\n' "x.o:" "0 T f" "  U g" "y.o:" "0 T g" "  U h" "z.o:" "0 T h" "  U f" \
    | find_cycle | grep '^cycle')
acyclic=$(printf '%s\n' "x.o:" "0 T f" "  U g" "y.o:" "0 T g" "  U h" "z.o:" "0 T h" \
    | find_cycle | grep '^cycle')
if [ -n "$planted" ] && [ -z "$acyclic" ]; then
    echo "ok 2 - the cycle finder reports a planted cycle ($planted) and none without it"
else
    echo "not ok 2 - the cycle finder: planted '$planted', acyclic '$acyclic'"
fi

if [ -n "$listing" ]; then
    graph=$(printf '%s\n' "$listing" | find_cycle)
    cycle=$(printf '%s\n' "$graph" | grep '^cycle')
    if [ -z "$cycle" ]; then
        echo "ok 3 - no cycle between the oracle's objects"
    else
        echo "not ok 3 - the oracle's objects use each other in a $cycle"
    fi
    printf '%s\n' "$graph" | grep '^edge' | sed 's/^edge \([^ ]*\) \(.*\)/# \1 uses \2/'
else
    echo "not ok 3 - no archive to inspect"
fi

bad=""
for f in "$srcdir"/oracle/*.c "$srcdir"/oracle/*.h; do
    case "$(basename "$f")" in rows.c|rows.h) continue ;; esac
    if grep -n -- '->A\b' "$f" >/dev/null 2>&1; then
        bad="$bad $(basename "$f"):$(grep -n -- '->A\b' "$f" | cut -d: -f1 | tr '\n' ',')"
    fi
done
if [ -z "$bad" ]; then
    echo "ok 4 - only rows.c and rows.h read the row matrix"
else
    echo "not ok 4 - the row matrix is read outside rows.c/rows.h:$bad"
fi
