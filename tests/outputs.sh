#!/bin/sh
# outputs.sh - TAP: the output contract of every command (README, "Outputs"):
# "-" is standard output, devices and FIFOs are written in place, symbolic
# links are followed, new files get 0666 minus the umask, an output that is
# an input is refused, and a failed or killed command leaves no output and
# no temporary file.
# Environment: MDATT (the binary, set by the test harness).
mdatt=${MDATT:-./mdatt}
dir=$(mktemp -d /tmp/mdatt-outputs-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; [ -n "$2" ] && echo "# $2"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1" "$3"; fi; }
no_temps() { [ -z "$(find . -name '*.tmp.*' | head -1)" ]; }

echo "1..24"
"$mdatt" gen --n 4 --T 3 --d 3 --seed 2 -o inst.json 2>err || echo "# gen failed: $(cat err)"

# 1-4: "-" is standard output for gen, train, svm and check
"$mdatt" gen --n 4 --T 3 --d 3 --seed 2 -o - > gen.out 2>err
check "gen -o - writes the instance to stdout" 'cmp -s gen.out inst.json && [ ! -e ./- ]' "$(cat err)"
"$mdatt" train inst.json --p 2 --lr 0.1 --iters 20 --normalized -o - > model.out 2>err
check "train -o - writes the model to stdout" \
    'grep -q "\"format\": \"mdatt-model/1\"" model.out && [ ! -e ./- ]' "$(cat err)"
cp model.out model.json
"$mdatt" svm inst.json --p 2 -o - > svm.out 2>err
check "svm -o - writes the svm file to stdout" \
    'grep -q "\"format\": \"mdatt-svm/1\"" svm.out && [ ! -e ./- ]' "$(cat err)"
cp svm.out svm.json
"$mdatt" check inst.json model.json svm.json --allow-token-mismatch --max-bregman 2 -o - \
    > check.out 2>err
check "check -o - writes JSON to stdout, the table to stderr" \
    'grep -q "mdatt-check/1" check.out && grep -q "verdict" err && ! grep -q "verdict:" check.out' \
    "$(cat err)"

# 5-6: a device is written in place and stays a device (as root the old
# temporary-and-rename replaced /dev/null with a regular file)
"$mdatt" gen --n 4 --T 3 --d 3 -o /dev/null 2>err
rc=$?
check "gen -o /dev/null succeeds" '[ $rc -eq 0 ] && [ -c /dev/null ]' "rc=$rc $(cat err)"
"$mdatt" train inst.json --p 2 --lr 0.1 --iters 5 -o /dev/null --log /dev/null 2>err
rc=$?
check "train -o /dev/null --log /dev/null succeeds, /dev/null stays a device" \
    '[ $rc -eq 0 ] && [ -c /dev/null ] && [ ! -s /dev/null ]' "rc=$rc $(cat err)"

# 7: a FIFO is written into, not replaced
mkfifo pipe
cat pipe > piped &
reader=$!
"$mdatt" gen --n 4 --T 3 --d 3 --seed 2 -o pipe 2>err
wait $reader
check "gen -o FIFO writes into the FIFO" '[ -p pipe ] && cmp -s piped inst.json' "$(cat err)"

# 8-9: a symbolic link is followed: the target replaced, the link kept
echo old > target.json
ln -s target.json link.json
"$mdatt" gen --n 4 --T 3 --d 3 --seed 2 -o link.json 2>err
check "-o LINK replaces the link's target" 'cmp -s target.json inst.json' "$(cat err)"
check "-o LINK keeps the link" '[ -L link.json ] && [ "$(readlink link.json)" = target.json ]'

# 10-12: modes: 0666 minus the umask for new files, an existing file keeps its mode
(umask 022 && "$mdatt" gen -o m022.json)
(umask 077 && "$mdatt" gen -o m077.json)
(umask 022 && "$mdatt" train inst.json --p 2 --lr 0.1 --iters 5 -o m_model.json --log m_log.csv)
check "umask 022: new files are 0644" \
    '[ "$(stat -c %a m022.json)" = 644 ] && [ "$(stat -c %a m_model.json)" = 644 ] &&
     [ "$(stat -c %a m_log.csv)" = 644 ]' \
    "modes $(stat -c %a m022.json m_model.json m_log.csv | tr '\n' ' ')"
check "umask 077: new files are 0600" '[ "$(stat -c %a m077.json)" = 600 ]'
chmod 640 m022.json
(umask 077 && "$mdatt" gen --seed 3 -o m022.json)
check "a replaced file keeps its mode" '[ "$(stat -c %a m022.json)" = 640 ]'

# 13-17: an output that is an input is refused (exit 2) and the input kept
cp inst.json keep.json
"$mdatt" train keep.json --p 2 --lr 0.1 --iters 5 -o keep.json 2>err
rc=$?
check "train -o INSTANCE is refused with exit 2" \
    '[ $rc -eq 2 ] && grep -q "is the input" err && cmp -s keep.json inst.json' "rc=$rc $(cat err)"
ln -s keep.json alias.json
"$mdatt" svm alias.json --p 2 -o keep.json 2>err
rc=$?
check "svm -o INSTANCE through a link is refused" '[ $rc -eq 2 ] && cmp -s keep.json inst.json' \
    "rc=$rc $(cat err)"
mkdir sub
"$mdatt" train inst.json --p 2 --lr 0.1 --iters 5 -o ./sub/../inst.json 2>err
rc=$?
check "train -o DIR/../INSTANCE is refused" '[ $rc -eq 2 ] && grep -q "is the input" err' \
    "rc=$rc $(cat err)"
"$mdatt" train inst.json --p 2 --lr 0.1 --iters 20 --log traj.csv --log-w -o m2.json 2>err
cp traj.csv traj_keep.csv
"$mdatt" check inst.json m2.json svm.json --allow-token-mismatch --max-bregman 2 --traj traj.csv \
    --traj-out traj.csv 2>err
rc=$?
check "check --traj-out equal to --traj is refused" \
    '[ $rc -eq 2 ] && grep -q "traj-out" err && cmp -s traj.csv traj_keep.csv' "rc=$rc $(cat err)"
"$mdatt" train inst.json --p 2 --lr 0.1 --iters 5 -o same.csv --log same.csv 2>err
rc=$?
check "train --log equal to -o is refused" '[ $rc -eq 2 ] && [ ! -e same.csv ]' "rc=$rc $(cat err)"

# 18-19: a failed command leaves none of its outputs
mkdir outdir
"$mdatt" train inst.json --p 2 --lr 0.1 --iters 5 -o outdir --log t.csv 2>err
rc=$?
check "train -o DIR --log t.csv fails and leaves no t.csv" \
    '[ $rc -ne 0 ] && [ ! -e t.csv ] && no_temps' "rc=$rc $(cat err)"
"$mdatt" train inst.json --p 2 --lr -1 --iters 5 -o bad.json --log bad.csv 2>err
check "a refused train leaves no file" '[ ! -e bad.json ] && [ ! -e bad.csv ] && no_temps'

# 20-21: a killed command leaves no temporary file (SIGTERM, and SIGINT,
# which a background job inherits as ignored unless reset with env)
killed_run() {
    sig=$1
    env --default-signal=INT "$mdatt" train inst.json --p 2 --lr 0.1 --iters 100000000000 --yes -o k.json \
        --log k.csv --log-every 1000000 2>/dev/null &
    pid=$!
    i=0
    while [ $i -lt 50 ] && [ -z "$(find . -name 'k.*.tmp.*' | head -1)" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -s "$sig" $pid
    wait $pid
    echo $?
}
rc=$(killed_run TERM)
check "SIGTERM: train dies of the signal and leaves no temporary file" \
    '[ "$rc" -gt 128 ] && no_temps && [ ! -e k.json ] && [ ! -e k.csv ]' "rc=$rc"
rc=$(killed_run INT)
check "SIGINT: train leaves no temporary file" \
    '[ "$rc" -gt 128 ] && no_temps && [ ! -e k.json ] && [ ! -e k.csv ]' "rc=$rc"

# 22: runaway requests are refused up front, naming the flag and the bound
"$mdatt" train inst.json --p 2 --lr 0.1 --iters 1000000000000 -o big.json 2>err
rc=$?
check "train --iters 1e12 is refused naming --iters and --yes" \
    '[ $rc -eq 2 ] && grep -q -- "--iters" err && grep -q -- "--yes" err && [ ! -e big.json ]' \
    "rc=$rc $(cat err)"

# 23: rate -o equal to one of its trajectories is refused
cp traj.csv r1.csv
"$mdatt" rate traj.csv r1.csv -o r1.csv 2>err
rc=$?
check "rate -o TRAJ is refused" '[ $rc -eq 2 ] && grep -q "is the input" err && cmp -s r1.csv traj.csv' \
    "rc=$rc $(cat err)"

# 24: a device that cannot take the output: exit 1, and it stays a device
"$mdatt" gen -o /dev/full 2>err
rc=$?
check "gen -o /dev/full fails with exit 1 naming the device" \
    '[ $rc -eq 1 ] && grep -q "/dev/full: cannot write" err && [ -c /dev/full ]' "rc=$rc $(cat err)"
