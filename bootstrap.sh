#!/bin/sh
# bootstrap.sh - set up mdatt on a Debian machine: install the packages it
# needs (when missing), generate the build system, configure and build.
# Idempotent: a second run only rebuilds what changed.
set -eu
cd "$(dirname "$0")"

# Build and run-time dependencies (Debian package names).
PACKAGES="build-essential autoconf automake libtool pkg-config
libglpk-dev libopenblas-dev libjansson-dev libcriterion-dev zlib1g-dev
gnuplot-nox python3-numpy python3-cvxopt python3-pytest
dataset-fashion-mnist
openmpi-bin libopenmpi-dev slurm-wlm munge"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "bootstrap.sh: missing Debian packages; run:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
        exit 1
    fi
    echo "bootstrap.sh: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
    autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt config.status ]; then
    ./configure
fi
make -j"$(nproc 2>/dev/null || echo 2)"
