"""numpy .npz files on the command line: what `mdatt gen/train -o X.npz` writes
is what np.load reads; what np.savez / np.savez_compressed write (float64,
float32, int64, int32, C or Fortran order, self-attention) is read as the
same instance as its JSON; every malformed file is refused naming file and
key, with exit 2 and no output."""
import os
import zipfile

import numpy as np
import pytest

import mdatt
from conftest import load_json, same


def test_gen_npz_is_what_numpy_reads(run, tmp_path):
    assert run("gen", "--n", 4, "--T", 5, "--d", 3, "--seed", 9, "-o", "g.json")[0] == 0
    assert run("gen", "--n", 4, "--T", 5, "--d", 3, "--seed", 9, "-o", "g.npz")[0] == 0
    j = load_json(tmp_path / "g.json")
    with np.load(tmp_path / "g.npz") as z:
        assert sorted(z.files) == ["X", "Y", "Z", "v"]
        for k in "XYZv":
            assert z[k].dtype == np.float64 and same(z[k], j[k]), k
    with zipfile.ZipFile(tmp_path / "g.npz") as zf:
        assert zf.testzip() is None


def test_toy_self_attention_npz_has_query_token(run, tmp_path):
    assert run("gen", "--toy", "joint", "-o", "t.npz")[0] == 0
    with np.load(tmp_path / "t.npz") as z:
        assert "Z" not in z.files and int(z["query_token"]) == 0
        assert z["query_token"].dtype == np.int64 and z["query_token"].shape == ()


def test_train_model_npz_round_trip(run, tmp_path, paper):
    np.savez(tmp_path / "i.npz", **paper)
    assert run("train", "i.npz", "--p", 2, "--lr", 0.1, "--iters", 50, "-o", "m.json")[0] == 0
    assert run("train", "i.npz", "--p", 2, "--lr", 0.1, "--iters", 50, "-o", "m.npz")[0] == 0
    j = load_json(tmp_path / "m.json")
    with np.load(tmp_path / "m.npz") as m:
        assert same(m["W"], j["W"]) and same(m["v"], j["v"]) and float(m["p"]) == 2.0
        assert list(m["alpha"]) == j["alpha"] and m["alpha"].dtype == np.int64


def svm_json(run, tmp_path, inst, *extra):
    out = tmp_path / ("s_%s.json" % os.path.basename(inst))
    rc, err = run("svm", inst, "--p", 1.5, *extra, "-o", out)
    assert rc == 0, err
    j = load_json(out)
    j.pop("solver")
    return j


@pytest.mark.parametrize("writer", ["savez", "savez_compressed"])
def test_numpy_written_files_read_as_json(run, tmp_path, paper, writer):
    assert run("gen", "-o", "i.json")[0] == 0
    want = svm_json(run, tmp_path, "i.json")
    save = getattr(np, writer)
    save(tmp_path / "a.npz", **paper)
    save(tmp_path / "b.npz", X=paper["X"].astype(np.float32).astype(np.float64), Y=paper["Y"],
         Z=np.asfortranarray(paper["Z"]), v=paper["v"])
    assert svm_json(run, tmp_path, "a.npz") == want
    # Fortran order and int32 labels read as the C-order float64 numbers
    save(tmp_path / "c.npz", X=paper["X"], Y=paper["Y"].astype(np.int32),
         Z=np.asfortranarray(paper["Z"]), v=paper["v"])
    assert svm_json(run, tmp_path, "c.npz") == want
    # float32 storage converted exactly: the same as the float64 of the float32 values
    save(tmp_path / "d.npz", X=paper["X"].astype(np.float32), Y=paper["Y"], Z=paper["Z"],
         v=paper["v"])
    assert svm_json(run, tmp_path, "d.npz") == svm_json(run, tmp_path, "b.npz")
    # recognized by content: a .npz under another name
    os.rename(tmp_path / "a.npz", tmp_path / "a.json")
    assert svm_json(run, tmp_path, "a.json") == want


def test_self_attention_npz(run, tmp_path, paper):
    X = paper["X"]
    np.savez(tmp_path / "q.npz", X=X, Y=paper["Y"], query_token=np.int32(3), v=paper["v"])
    np.savez(tmp_path / "z.npz", X=X, Y=paper["Y"], Z=X[:, 3, :], v=paper["v"])
    np.savez(tmp_path / "f.npz", X=X, Y=paper["Y"], query_token=3.0, v=paper["v"])
    a = svm_json(run, tmp_path, "q.npz")
    assert a == svm_json(run, tmp_path, "z.npz") == svm_json(run, tmp_path, "f.npz")


def test_model_of_only_w_and_p_in_check(run, tmp_path, paper):
    np.savez(tmp_path / "i.npz", **paper)
    r = mdatt.train(paper["X"], paper["Y"], paper["Z"], paper["v"], 2, 0.1, 2000)
    np.savez(tmp_path / "m.npz", W=r["W"], p=2)
    assert run("svm", "i.npz", "--p", 2, "--alpha-from", "m.npz", "-o", "s.json")[0] == 0
    rc, err = run("check", "i.npz", "m.npz", "s.json", "--max-bregman", 1, "-o", "c.json")
    c = load_json(tmp_path / "c.json")
    assert c["tokens_match"] is True and "model_alpha_agrees" not in c


BAD = {
    "missing_v": (lambda g: {k: g[k] for k in "XYZ"}, "v: missing"),
    "short_Y": (lambda g: dict(g, Y=g["Y"][:5]), "Y: shape (5,), expected (6,)"),
    "rank_X": (lambda g: dict(g, X=g["X"][0]), "X: shape (8, 10), expected (?"),
    "big_endian": (lambda g: dict(g, X=g["X"].astype(">f8")), "X: dtype '>f8' is not supported"),
    "complex": (lambda g: dict(g, v=g["v"].astype(np.complex128)), "v: dtype '<c16'"),
    "both_queries": (lambda g: dict(g, query_token=1), "Z and query_token: give one"),
    "no_queries": (lambda g: {k: g[k] for k in "XYv"}, "Z: missing"),
    "fractional_query": (lambda g: dict({k: g[k] for k in "XYv"}, query_token=1.5),
                         "query_token = 1.5: must be an integer"),
    "query_range": (lambda g: dict({k: g[k] for k in "XYv"}, query_token=8),
                    "query_token = 8: must be an integer in [0, 8)"),
    "label": (lambda g: dict(g, Y=np.where(np.arange(6) == 2, 0.5, g["Y"])), "Y[2]"),
    "nan": (lambda g: dict(g, Z=np.where(np.arange(10) == 4, np.nan, g["Z"])), "Z[4]: is not finite"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_instance_npz_refused(run, tmp_path, paper, case):
    make, msg = BAD[case]
    np.savez(tmp_path / "b.npz", **make(dict(paper)))
    rc, err = run("svm", "b.npz", "--p", 2, "-o", "s.json")
    assert rc == 2 and "b.npz: " in err and msg.split("(?")[0] in err, err
    assert not (tmp_path / "s.json").exists()


def corrupt(tmp_path, paper, how):
    np.savez(tmp_path / "g.npz", **paper)
    b = bytearray((tmp_path / "g.npz").read_bytes())
    if how == "truncated":
        b = b[:len(b) // 2]
    elif how == "crc":
        b[300] ^= 0xFF
    elif how == "method":      # compression method 12 (bzip2) in every header
        for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
            k = b.find(sig)
            while k >= 0:
                b[k + off] = 12
                k = b.find(sig, k + 4)
    (tmp_path / "g.npz").write_bytes(bytes(b))
    if how == "npy_magic":     # a valid zip whose X.npy is not an array
        with zipfile.ZipFile(tmp_path / "g.npz", "w") as zf:
            zf.writestr("X.npy", b"not numpy")


@pytest.mark.parametrize("how,msg", [("truncated", "no zip end record"), ("crc", "CRC-32 mismatch"),
                                     ("method", "compression method 12"),
                                     ("npy_magic", "not a .npy array")])
def test_corrupt_zip_refused(run, tmp_path, paper, how, msg):
    corrupt(tmp_path, paper, how)
    rc, err = run("train", "g.npz", "--p", 2, "--lr", 0.1, "--iters", 5, "-o", "m.json")
    assert rc == 2 and "g.npz" in err and msg in err, err
    assert not (tmp_path / "m.json").exists()


MODEL_BAD = {
    "no_p": (lambda W: {"W": W}, "p: missing"),
    "p_vector": (lambda W: {"W": W, "p": [2.0]}, "p: shape (1,), expected () (a scalar)"),
    "p_one": (lambda W: {"W": W, "p": 1.0}, "p: must be a finite real > 1"),
    "not_square": (lambda W: {"W": W[:, :9], "p": 2}, "W: shape (10, 9): must be square"),
    "alpha_float": (lambda W: {"W": W, "p": 2, "alpha": [0, 1.5, 0, 0, 0, 0]}, "alpha[1] = 1.5"),
    "alpha_negative": (lambda W: {"W": W, "p": 2, "alpha": [0, 1, -1, 0, 0, 0]}, "alpha[2] = -1"),
    "v_shape": (lambda W: {"W": W, "p": 2, "v": np.ones(3)}, "v: shape (3,), expected (10,)"),
}


@pytest.mark.parametrize("case", sorted(MODEL_BAD))
def test_bad_model_npz_refused(run, tmp_path, paper, case):
    np.savez(tmp_path / "i.npz", **paper)
    make, msg = MODEL_BAD[case]
    np.savez(tmp_path / "m.npz", **make(np.eye(10)))
    rc, err = run("svm", "i.npz", "--p", 2, "--alpha-from", "m.npz", "-o", "s.json")
    assert rc == 2 and "m.npz: " in err and msg in err, err
    assert not (tmp_path / "s.json").exists()


def test_integral_float_alpha_in_json_model(run, tmp_path, paper):
    """numpy writes 2.0: accepted as a token index like labels 1.0; 2.5 is refused."""
    np.savez(tmp_path / "i.npz", **paper)
    import json
    m = {"format": "mdatt-model/1", "p": 2, "W": np.eye(10).tolist(), "alpha": [2.0] * 6}
    (tmp_path / "m.json").write_text(json.dumps(m))
    assert run("svm", "i.npz", "--p", 2, "--alpha-from", "m.json", "-o", "s.json")[0] == 0
    assert load_json(tmp_path / "s.json")["alpha"] == [2] * 6
    m["alpha"][3] = 2.5
    (tmp_path / "m.json").write_text(json.dumps(m))
    rc, err = run("svm", "i.npz", "--p", 2, "--alpha-from", "m.json", "-o", "t.json")
    assert rc == 2 and "m.json: alpha[3]" in err


def test_json_reader_errors_name_the_file(run, tmp_path, paper):
    import json
    inst = {"format": "mdatt-instance/1", "n": 6, "T": 8, "d": 10, "X": paper["X"].tolist(),
            "Y": paper["Y"].tolist(), "Z": paper["Z"].tolist(), "v": 5}
    (tmp_path / "i.json").write_text(json.dumps(inst))
    rc, err = run("svm", "i.json", "--p", 2, "-o", "s.json")
    assert rc == 2 and "i.json: v: must be an array" in err, err
