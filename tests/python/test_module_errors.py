"""Every error path of the module: bad arrays, shapes, dtypes, indices, p,
target and settings raise TypeError / ValueError naming the argument, and
what the libraries refuse carries their message; nothing crashes."""
import math

import numpy as np
import pytest

import mdatt


@pytest.fixture
def g():
    return mdatt.gen(4, 3, 2, 11)


def args(g, **kw):
    a = dict(X=g["X"], Y=g["Y"], Z=g["Z"], v=g["v"])
    a.update(kw)
    return a


@pytest.mark.parametrize("kw,exc,msg", [
    ({"X": np.zeros((4, 3))}, ValueError, "X: shape (4, 3), expected (?, ?, ?)"),
    ({"Y": np.ones(3)}, ValueError, "Y: shape (3,), expected (4,)"),
    ({"Z": np.ones((4, 3))}, ValueError, "Z: shape (4, 3), expected (4, 2)"),
    ({"v": np.ones(3)}, ValueError, "v: shape (3,), expected (2,)"),
    ({"X": np.array([["a"]])}, TypeError, "X: expected a real array"),
    ({"Y": np.array([1, -1, 1, 0])}, ValueError, "Y[3]"),
    ({"Z": None}, ValueError, "Z: missing"),
    ({"v": np.array([np.nan, 1.0])}, ValueError, "v[0]"),
    ({"X": np.zeros((0, 3, 2)), "Y": np.zeros(0), "Z": np.zeros((0, 2))}, ValueError, "n, T and d"),
])
def test_bad_instance_arrays(g, kw, exc, msg):
    for call in (lambda a: mdatt.svm(p=2, **a), lambda a: mdatt.train(p=2, lr=0.1, iters=1, **a)):
        with pytest.raises(exc) as e:
            call(args(g, **kw))
        assert msg in str(e.value)


def test_conversions_accepted(g):
    """float32, int and Fortran-ordered inputs are converted, not refused."""
    a = mdatt.svm(p=2, **args(g))
    b = mdatt.svm(p=2, **args(g, Z=np.asfortranarray(g["Z"]), Y=g["Y"].astype(np.int8)))
    assert np.array_equal(a.W, b.W)
    c = mdatt.svm(p=2, **args(g, X=g["X"].astype(np.float32)))
    assert c.status == "optimal" and c.W.dtype == np.float64 and c.W.flags.c_contiguous


@pytest.mark.parametrize("kw,exc,msg", [
    ({"p": 0.5}, ValueError, "p: must be 1, a real > 1 or math.inf"),
    ({"p": math.nan}, ValueError, "p: must be"),
    ({"p": 2, "target": "x"}, ValueError, "target: must be 'W' or 'v'"),
    ({"p": 2, "alpha": "local"}, ValueError, "alpha: 'global' or an array"),
    ({"p": 2, "alpha": [0, 1, 3, 0]}, ValueError, "alpha: token indices must be in [0, 3)"),
    ({"p": 2, "alpha": [0, 1, -1, 0]}, ValueError, "alpha: token indices must be in [0, 3)"),
    ({"p": 2, "alpha": [0, 1.5, 0, 0]}, ValueError, "alpha: token indices must be integers"),
    ({"p": 2, "alpha": [0, 1]}, ValueError, "alpha: shape (2,), expected (4,)"),
    ({"p": 2, "alpha": ["a"] * 4}, TypeError, "alpha: expected integer token indices"),
    ({"p": 2, "alpha": [0, 0, 0, 0], "W": np.eye(2)}, ValueError, "alpha and W exclude"),
    ({"p": 2, "W": np.eye(3)}, ValueError, "W: shape (3, 3), expected (2, 2)"),
    ({"p": 2, "query_token": 3}, ValueError, "query_token: must be an integer in [0, 3)"),
])
def test_bad_svm_arguments(g, kw, exc, msg):
    with pytest.raises(exc) as e:
        mdatt.svm(**args(g), **kw)
    assert msg in str(e.value)


def test_integral_float_alpha_accepted(g):
    a = mdatt.svm(p=2, alpha=np.array([0.0, 1.0, 2.0, 0.0]), **args(g))
    assert list(a.alpha) == [0, 1, 2, 0]


@pytest.mark.parametrize("kw,msg", [
    ({"p": 1}, "p: must be a real > 1"),
    ({"p": math.inf}, "p: must be a finite real > 1"),
    ({"lr": 0}, "lr: must be > 0"),
    ({"iters": -1}, "iters: must be a non-negative integer"),
    ({"iters": 2.5}, "iters: must be a non-negative integer"),
    ({"loss": "hinge"}, "loss: unknown loss 'hinge'"),
    ({"log_every": 0}, "log_every: must be a positive integer"),
    ({"init_std": -1.0}, "init_std: must be >= 0"),
    ({"W0": np.eye(3)}, "W0: shape (3, 3), expected (2, 2)"),
    ({"W0": np.eye(2), "init_std": 1.0}, "W0 excludes init_std"),
])
def test_bad_train_arguments(g, kw, msg):
    a = dict(p=2, lr=0.1, iters=3)
    a.update(kw)
    with pytest.raises(ValueError) as e:
        mdatt.train(**args(g), **a)
    assert msg in str(e.value)


def test_bad_check_arguments(g):
    res = mdatt.svm(p=2, **args(g))
    W = np.eye(2)
    with pytest.raises(TypeError, match="svm_result: expected an SvmResult"):
        mdatt.check(W=W, p_model=2, svm_result={"status": "optimal"}, **args(g))
    with pytest.raises(ValueError, match="max_bregman: must be >= 0"):
        mdatt.check(W=W, p_model=2, svm_result=res, max_bregman=-1, **args(g))
    with pytest.raises(ValueError, match="max_gap: must be >= 0"):
        mdatt.check(W=W, p_model=2, svm_result=res, max_gap=math.nan, **args(g))
    with pytest.raises(ValueError, match="W: shape"):
        mdatt.check(W=np.eye(3), p_model=2, svm_result=res, **args(g))
    other = mdatt.gen(5, 3, 2, 1)
    with pytest.raises(ValueError, match=r"svm_result.alpha: shape \(4,\), expected \(5,\)"):
        mdatt.check(other["X"], other["Y"], other["Z"], other["v"], W, 2, res)
    with pytest.raises(ValueError, match="model_alpha: token indices"):
        mdatt.check(W=W, p_model=2, svm_result=res, model_alpha=[0, 0, 0, 9], **args(g))


def test_bad_gen_and_bregman_arguments():
    for kw, msg in (({"n": 0}, "n: must be an integer in [1"), ({"T": 1}, "T: must be"),
                    ({"d": 2.5}, "d: must be"), ({"seed": -1}, "seed: must be")):
        with pytest.raises(ValueError, match=msg.replace("[", r"\[")):
            mdatt.gen(**kw)
    with pytest.raises(ValueError, match="shapes"):
        mdatt.bregman_dir(np.eye(2), np.eye(3), 2)
    with pytest.raises(ValueError, match="p: must be a real > 1"):
        mdatt.bregman_dir(np.eye(2), np.eye(2), 1)


def test_library_message_carried(g):
    """What the oracle refuses reaches Python with the oracle's own message."""
    import mdatt._lib as L
    s = L.AttsvmSettings()
    L.attsvm.attsvm_default_settings(s)
    s.p = 0.5
    bad = L.attsvm.attsvm_check_settings(s).decode()
    with pytest.raises(ValueError) as e:
        mdatt.svm(p=0.5, **args(g))
    assert "p" in str(e.value) and bad.split(":")[0] == "p"


def test_help_is_useful():
    for f in (mdatt.gen, mdatt.svm, mdatt.train, mdatt.check, mdatt.bregman_dir):
        assert f.__doc__ and len(f.__doc__) > 100
    assert "status" in mdatt.SvmResult.__doc__ and "lam" in mdatt.SvmResult.__doc__
