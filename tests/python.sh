#!/bin/sh
# python.sh - TAP: the Python package's tests (tests/python/test_*.py, pytest)
# on the libraries just built.  pytest writes a JUnit report; each test case
# becomes one TAP line (skipped ones as "# SKIP" with pytest's reason).
# Built with AddressSanitizer, the shared libraries need its runtime loaded
# first into the (uninstrumented) interpreter: it is preloaded, leak
# detection is off (the interpreter's own allocations would be reported),
# and the test of memory growth, which the quarantine defeats, is skipped.
# Environment: MDATT_SRCDIR, MDATT_BUILDDIR, MDATT, PYTHON3 (the harness's).
srcdir=${MDATT_SRCDIR:-.}
builddir=${MDATT_BUILDDIR:-.}
py=${PYTHON3:-python3}
if ! "$py" -c 'import numpy, pytest' >/dev/null 2>&1; then
    echo "1..0 # SKIP $py with numpy and pytest not found (apt-get install python3-numpy python3-pytest)"
    exit 0
fi
MDATT_LIBDIR="$builddir/src/.libs:$builddir/oracle/.libs"
PYTHONPATH="$srcdir/python${PYTHONPATH:+:$PYTHONPATH}"
PYTHONDONTWRITEBYTECODE=1
export MDATT_LIBDIR PYTHONPATH PYTHONDONTWRITEBYTECODE
asan=$(ldd "$builddir/src/.libs/libmdatt.so" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*libasan[^ ]*\).*/\1/p' | head -n 1)
if [ -n "$asan" ]; then
    LD_PRELOAD="$asan${LD_PRELOAD:+:$LD_PRELOAD}"
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"   # the last setting wins
    MDATT_ASAN=1
    export LD_PRELOAD ASAN_OPTIONS MDATT_ASAN
fi
xml=$(mktemp "${TMPDIR:-/tmp}/mdatt-pytest.XXXXXX") || exit 1
trap 'rm -f "$xml"' EXIT
"$py" -m pytest -p no:cacheprovider -q -rs --junitxml="$xml" "$srcdir/tests/python" >&2
rc=$?
# LD_PRELOAD is not needed (nor wanted) by the converter
LD_PRELOAD= "$py" - "$xml" "$rc" <<'PY'
import sys
import xml.etree.ElementTree as ET
path, rc = sys.argv[1], int(sys.argv[2])
try:
    cases = list(ET.parse(path).getroot().iter("testcase"))
except (OSError, ET.ParseError) as e:
    print("1..1\nnot ok 1 - pytest wrote no report (exit %d): %s" % (rc, e))
    sys.exit(0)
print("1..%d" % max(len(cases), 1))
for k, c in enumerate(cases, 1):
    name = "%s::%s" % (c.get("classname", ""), c.get("name", ""))
    bad = c.find("failure") if c.find("failure") is not None else c.find("error")
    skip = c.find("skipped")
    if bad is not None:
        print("not ok %d - %s" % (k, name))
        for line in (bad.get("message") or "").splitlines()[:10]:
            print("# " + line)
    elif skip is not None:
        print("ok %d - %s # SKIP %s" % (k, name, (skip.get("message") or "").replace("\n", " ")))
    else:
        print("ok %d - %s" % (k, name))
if not cases:
    print("not ok 1 - no test ran (pytest exit %d)" % rc)
PY
