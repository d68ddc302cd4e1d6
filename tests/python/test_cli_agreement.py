"""The module against the command line on the same inputs, bit for bit:
gen, svm (every p, both targets, alpha given, alpha from W, infeasible),
train (plain and joint, with the trajectory) and check."""
import math

import numpy as np
import pytest

import mdatt
from conftest import load_json, num, same

PS = [1, 1.5, 2, 3, math.inf]


def write_instance(path, g):
    np.savez(path, X=g["X"], Y=g["Y"], Z=g["Z"], v=g["v"])


def test_gen_matches_cli(run, tmp_path):
    assert run("gen", "--n", 5, "--T", 4, "--d", 3, "--seed", 7, "-o", "g.json")[0] == 0
    j = load_json(tmp_path / "g.json")
    g = mdatt.gen(5, 4, 3, 7)
    for k in "XYZv":
        assert same(g[k], j[k]), k


def svm_matches(res, j):
    assert res.status == j["status"]
    assert res.target == j["target"]
    assert list(res.alpha) == j["alpha"]
    if res.status == "optimal":
        assert same(res.x, j[res.target])
        for k in ("objective", "lower_bound", "gap", "max_violation"):
            assert same(getattr(res, k), num(j[k])), k
        assert [list(map(int, s)) for s in res.support] == j["support"]
    key = "farkas" if res.status == "infeasible" else "dual"
    want = np.array([[e["i"], e["t"], e["lambda"]] for e in j[key]]).reshape(-1, 3)
    assert same(res.dual, want)
    lam = np.zeros_like(res.lam)
    for e in j[key]:
        lam[e["i"], e["t"]] = e["lambda"]
    assert same(res.lam, lam)
    if res.target == "W":
        t = j["tokens"]
        assert res.tokens["globally_optimal"] == t["globally_optimal"]
        assert res.tokens["locally_optimal"] == t["locally_optimal"]
        assert list(res.tokens["ties"]) == t["ties"]
    else:
        assert res.tokens is None and "tokens" not in j


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("target", ["W", "v"])
def test_svm_matches_cli(run, tmp_path, paper, p, target):
    write_instance(tmp_path / "i.npz", paper)
    rc, err = run("svm", "i.npz", "--p", "inf" if math.isinf(p) else p, "--target", target,
                  "-o", "s.json")
    assert rc == 0, err
    res = mdatt.svm(paper["X"], paper["Y"], paper["Z"], paper["v"], p, target=target)
    svm_matches(res, load_json(tmp_path / "s.json"))


def test_svm_given_alpha_and_exact_match_cli(run, tmp_path, paper):
    write_instance(tmp_path / "i.npz", paper)
    alpha = [1, 0, 3, 2, 5, 4]
    rc, _ = run("svm", "i.npz", "--p", 1, "--exact", "--alpha", ",".join(map(str, alpha)),
                "-o", "s.json")
    j = load_json(tmp_path / "s.json")
    res = mdatt.svm(paper["X"], paper["Y"], paper["Z"], paper["v"], 1, alpha=alpha, exact=True)
    assert rc == (0 if res.status == "optimal" else 1)
    svm_matches(res, j)
    assert res.exact == {"checked": j["exact"]["checked"], "optimal": j["exact"]["optimal"]}


def test_svm_alpha_from_w_only_model_matches_cli(run, tmp_path, paper):
    """A model of only W and p: svm --alpha-from takes the tokens W selects, as svm(W=...) does."""
    write_instance(tmp_path / "i.npz", paper)
    W = np.random.default_rng(3).normal(size=(10, 10))
    np.savez(tmp_path / "m.npz", W=W, p=2.0)
    rc, err = run("svm", "i.npz", "--p", 2, "--alpha-from", "m.npz", "-o", "s.json")
    j = load_json(tmp_path / "s.json")
    res = mdatt.svm(paper["X"], paper["Y"], paper["Z"], paper["v"], 2, W=W)
    assert list(res.alpha) == list(mdatt.selected_tokens(paper["X"], paper["Y"], paper["Z"],
                                                          paper["v"], W))
    # brute force: argmax_t x_it^T W z_i
    brute = np.argmax(np.einsum("itj,jk,ik->it", paper["X"], W, paper["Z"]), axis=1)
    assert list(res.alpha) == list(brute)
    assert rc == (0 if res.status == "optimal" else 1), err
    svm_matches(res, j)


def test_infeasible_is_a_status_with_farkas_multipliers(run, tmp_path):
    """Two equal tokens: the constraint 0 >= 1 cannot hold."""
    g = mdatt.gen(3, 3, 2, 5)
    g["X"][1, 2] = g["X"][1, 0]
    write_instance(tmp_path / "i.npz", g)
    rc, err = run("svm", "i.npz", "--p", 2, "--alpha", "0,0,0", "-o", "s.json")
    assert rc == 1 and "infeasible" in err
    res = mdatt.svm(g["X"], g["Y"], g["Z"], g["v"], 2, alpha=[0, 0, 0])
    assert res.status == "infeasible" and res.W is None and math.isnan(res.objective)
    assert res.lam[1, 2] > 0 and res.message
    svm_matches(res, load_json(tmp_path / "s.json"))


def read_csv(path):
    with open(path) as f:
        names = f.readline().strip().split(",")
    return names, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


@pytest.mark.parametrize("joint", [False, True])
def test_train_matches_cli(run, tmp_path, paper, joint):
    write_instance(tmp_path / "i.npz", paper)
    args = ["train", "i.npz", "--p", 1.75, "--lr", 0.05, "--iters", 300, "--normalized",
            "--init-std", 0.1, "--seed", 4, "--log", "t.csv", "--log-w", "--log-every", 7,
            "-o", "m.json"]
    if joint:
        args.append("--joint")
    rc, err = run(*args)
    assert rc == 0, err
    r = mdatt.train(paper["X"], paper["Y"], paper["Z"], paper["v"], 1.75, 0.05, 300,
                    normalized=True, init_std=0.1, seed=4, joint=joint, log_every=7)
    m = load_json(tmp_path / "m.json")
    assert same(r["W"], m["W"]) and same(r["v"], m["v"]) and list(r["alpha"]) == m["alpha"]
    assert same(r["final_loss"], m["final_loss"])
    names, data = read_csv(tmp_path / "t.csv")
    traj = r["trajectory"]
    for k, name in enumerate(names[:8]):
        assert same(traj[name], data[:, k]), name
    d = 10
    assert same(traj["W"].reshape(len(data), -1), data[:, 8:8 + d * d])
    if joint:
        assert same(traj["v"], data[:, 8 + d * d:])
    else:
        assert "v" not in traj


def test_check_matches_cli(run, tmp_path, paper):
    write_instance(tmp_path / "i.npz", paper)
    assert run("train", "i.npz", "--p", 3, "--lr", 0.1, "--iters", 400, "--normalized",
               "-o", "m.json")[0] == 0
    assert run("svm", "i.npz", "--p", 3, "-o", "s.json")[0] == 0
    rc, _ = run("check", "i.npz", "m.json", "s.json", "--max-bregman", 0.5, "--min-cosine", 0.2,
                "-o", "c.json")
    j = load_json(tmp_path / "c.json")
    m = load_json(tmp_path / "m.json")
    res = mdatt.svm(paper["X"], paper["Y"], paper["Z"], paper["v"], 3)
    c = mdatt.check(paper["X"], paper["Y"], paper["Z"], paper["v"], np.array(m["W"]), 3, res,
                    model_v=np.array(m["v"]), model_alpha=m["alpha"], max_bregman=0.5,
                    min_cosine=0.2)
    assert rc == (0 if c["verdict"]["pass"] else 1)
    compared = 0
    for k, v in j.items():
        if k not in ("instance", "model", "svm"):
            assert k in c, k
            assert agree(v, c[k]), (k, v, c[k])
            compared += 1
    assert compared >= 25


def agree(cli, mod):
    """A value of the CLI's JSON equals the module's (numbers exactly)."""
    if isinstance(cli, dict):
        return set(cli) == set(mod) and all(agree(cli[k], mod[k]) for k in cli)
    if isinstance(cli, list):
        return len(cli) == len(mod) and all(agree(a, b) for a, b in zip(cli, mod))
    if isinstance(cli, bool) or cli is None or isinstance(cli, str) and cli not in ("inf", "-inf"):
        return cli == mod or cli is None and mod is not None and math.isnan(mod)
    return same(num(cli), mod)


def test_bregman_dir_closed_forms():
    A = np.array([[1.0, -2.0], [0.5, 3.0]])
    assert mdatt.bregman_dir(A, 3 * A, 1.5) == pytest.approx(0.0, abs=1e-15)
    # p = 2: D = ||a - b||^2 / 2 of the unit vectors
    B = np.array([[0.0, 1.0], [2.0, -1.0]])
    a, b = A / np.linalg.norm(A), B / np.linalg.norm(B)
    assert mdatt.bregman_dir(A, B, 2) == pytest.approx(0.5 * np.sum((a - b) ** 2), rel=1e-13)
    assert mdatt.bregman_dir(A, -A, 2) == pytest.approx(2.0, rel=1e-13)
