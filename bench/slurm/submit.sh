#!/bin/sh
# submit.sh CONFIG REPORTS N [sbatch options...] - an `mdatt bench` sweep as a
# Slurm array job of N shards and a merge job that runs after all of them
# succeeded.  Prints the two job ids.  Extra arguments go to both sbatch calls
# (e.g. --partition=long --account=me, or --wait to return when the merge ended).
set -eu
if [ $# -lt 3 ]; then
    echo "usage: submit.sh CONFIG REPORTS N [sbatch options...]" >&2
    exit 2
fi
CONFIG=$1 REPORTS=$2 N=$3
shift 3
case $N in ''|*[!0-9]*|0) echo "submit.sh: N: a positive number of shards, not '$N'" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
export CONFIG REPORTS
# the array's tasks may run anywhere: without --wait on it, only the merge waits
opts=""
for a in "$@"; do [ "$a" = "--wait" ] || opts="$opts $a"; done
# shellcheck disable=SC2086
array=$(sbatch --parsable --export=ALL --array=0-$((N - 1)) $opts "$here/shard.sbatch")
array=${array%%;*}
echo "array job $array: $N shards"
merge=$(sbatch --parsable --export=ALL --dependency=afterok:"$array" --kill-on-invalid-dep=yes "$@" \
    "$here/merge.sbatch")
echo "merge job ${merge%%;*}"
