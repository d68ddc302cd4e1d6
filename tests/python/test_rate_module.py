"""mdatt.rate (the library's rate analysis, mdatt_rate) against closed forms
and against `mdatt rate` on the same curves, bit for bit."""
import math

import numpy as np
import pytest

import mdatt
from conftest import load_json, num, same


def test_closed_form_power_curves():
    k = np.arange(10.0, 2001.0, 10.0)
    curves = [(k, 2.0 * k ** -0.75), (k, 8.0 * k ** -0.75)]
    r = mdatt.rate(curves, claim="3*k^(-0.75)", boot=200)
    assert r["chosen"] == "power"
    fam = [f for f in r["families"] if f["family"] == "power"][0]
    assert abs(fam["a"] - 4.0) < 1e-9 and abs(fam["b"] - 0.75) < 1e-12  # geometric mean
    assert [abs(s["a"] - a) < 1e-9 for s, a in zip(r["per_seed"], (2.0, 8.0))] == [True, True]
    assert r["window"]["from"] == 200.0 and r["window"]["to"] == 2000.0
    assert r["window"]["points"] == 181
    c = r["claim"]
    assert not c["holds"] and c["seeds_ok"] == 1 and c["holds_from"] == 200.0
    assert c["per_seed"][1]["violating"] == c["per_seed"][1]["points"]


def test_errors_name_the_cause():
    k = np.arange(1.0, 101.0)
    with pytest.raises(ValueError, match="usable points"):
        mdatt.rate([(k, k ** -1.0)], k0=99, k1=100)
    with pytest.raises(ValueError, match="families"):
        mdatt.rate([(k, k ** -1.0)], families=["power", "cubic"])
    with pytest.raises(ValueError, match="claim"):
        mdatt.rate([(k, k ** -1.0)], claim="1/")
    with pytest.raises(ValueError, match=r"curves\[0\]\.k\[1\]"):
        mdatt.rate([(np.array([5.0, 4.0, 6.0]), np.ones(3))])
    with pytest.raises(ValueError, match="curves"):
        mdatt.rate([])


def noisy_curves():
    """Three seeds of a power law with deterministic multiplicative noise."""
    k = np.arange(0, 3001, 10, dtype=np.float64)
    out = []
    for s in range(3):
        y = (1.5 + 0.3 * s) * np.maximum(k, 1.0) ** -(0.6 + 0.05 * s)
        y *= np.exp(0.05 * np.sin(0.37 * k + s))
        out.append((k, y))
    return out


def test_matches_cli(run, tmp_path):
    curves = noisy_curves()
    files = []
    for s, (k, y) in enumerate(curves):
        name = "s%d.csv" % s
        with open(tmp_path / name, "w") as f:
            f.write("k,bregman_dir\n")
            for kk, yy in zip(k, y):
                f.write("%d,%.17g\n" % (kk, yy))
        files.append(name)
    claim = "2*k^(-0.6)"
    rc, err = run("rate", *files, "--claim", claim, "--boot", 300, "--seed", 5, "-o", "r.json")
    assert rc in (0, 1), err
    j = load_json(tmp_path / "r.json")
    r = mdatt.rate(curves, claim=claim, boot=300, seed=5, names=files)
    assert r["chosen"] == j["chosen"]
    for key in ("from", "to", "last_common_k", "k_min_fit", "points", "dropped"):
        assert same(r["window"][key], num(j["window"][key])), key
    for mine, cli in zip(r["families"], j["families"]):
        assert mine["family"] == cli["family"] and mine["fitted"] == cli["fitted"]
        assert mine["admissible"] == cli["admissible"]
        for key in ("a", "b", "rmse"):
            assert same(num(mine[key]), num(cli[key])), (mine["family"], key)
        for key in ("a_ci", "b_ci"):
            assert same([num(x) for x in mine[key]], [num(x) for x in cli[key]]), key
    for mine, cli in zip(r["per_seed"], j["per_seed"]):
        assert mine["file"] == cli["file"]
        for key in ("a", "b", "rmse"):
            assert same(num(mine[key]), num(cli[key])), key
    c, jc = r["claim"], j["claim"]
    assert c["holds"] == jc["holds"] and c["seeds_ok"] == jc["seeds_ok"]
    assert same(num(c["holds_from"]), num(jc["holds_from"]))
    for mine, cli in zip(c["per_seed"], jc["per_seed"]):
        assert mine["points"] == cli["points"] and mine["violating"] == cli["violating"]
        assert same(num(mine["last_k"]), num(cli["last_k"]))
        assert same(num(mine["holds_from"]), num(cli["holds_from"]))
