"""Shared fixtures of the Python package's tests: the mdatt program, a
scratch folder, the paper's instance and a runner of the command line."""
import json
import os
import subprocess

import numpy as np
import pytest

import mdatt


@pytest.fixture(scope="session")
def exe():
    path = os.environ.get("MDATT")
    if not path or not os.path.exists(path):
        pytest.skip("MDATT (the built mdatt program) not set")
    return path


@pytest.fixture
def run(exe, tmp_path):
    """run(args...) -> (exit code, stderr); files are relative to tmp_path."""
    def go(*args):
        p = subprocess.run([exe] + [str(a) for a in args], cwd=tmp_path, capture_output=True,
                           text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        return p.returncode, p.stderr
    return go


@pytest.fixture(scope="session")
def paper():
    return mdatt.gen()


def load_json(path):
    with open(path) as f:
        return json.load(f, parse_constant=lambda c: {"NaN": float("nan")}[c])


def num(x):
    """A JSON number of the CLI as a float ("inf" strings and null too)."""
    if x is None:
        return float("nan")
    if isinstance(x, str):
        return float(x)
    return float(x)


def same(a, b):
    """Exact equality of floats or arrays (NaN equals NaN)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
