"""mdatt from Python: the l_p mirror-descent trainer (libmdatt) and the certified
l_p attention-SVM oracle (libattsvm) called in-process through ctypes.

Arrays go in and come out as numpy arrays of float64 in C order (other float
or integer arrays are converted; anything else raises TypeError or
ValueError naming the argument).  Shapes: X (n, T, d) tokens, Y (n,) labels
+-1, Z (n, d) queries, v (d,) decoder, W (d, d) with W[j, k] multiplying
x_j z_k.  Errors of the libraries raise MdattError with the library's
message.  The numbers are those of the command line (`mdatt gen`, `svm`,
`train`, `check`) on the same inputs, bit for bit.

Functions: gen, svm, train, check, rate, bregman_dir, selected_tokens.
"""
import ctypes
import math

import numpy as np

from . import _lib

__all__ = ["MdattError", "SvmResult", "gen", "svm", "train", "check", "rate", "bregman_dir",
           "selected_tokens"]
__version__ = "0.1.0"



class MdattError(Exception):
    """An error reported by libmdatt or libattsvm (the message is the library's)."""


# ------------------------------------------------------------------ helpers
def _f64(name, a, shape=None):
    """a as a float64 C-ordered array of the given shape (None entries: any)."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiub":
        raise TypeError("%s: expected a real array, got dtype %s" % (name, arr.dtype))
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if shape is not None:
        ok = arr.ndim == len(shape) and all(s is None or s == e for s, e in zip(shape, arr.shape))
        if not ok:
            want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + \
                ("," if len(shape) == 1 else "") + ")"
            raise ValueError("%s: shape %s, expected %s" % (name, arr.shape, want))
    return arr


def _ptr(arr):
    """The address of a C-contiguous array (the libraries' void * array arguments)."""
    return arr.ctypes.data


def _copy(ptr, count, dtype=np.float64):
    """A numpy copy of count elements at the library's pointer ptr."""
    dtype = np.dtype(dtype)
    if not count:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(ctypes.string_at(ptr, count * dtype.itemsize), dtype=dtype).copy()


def _indices(name, a, n, T):
    """Token indices: n integers in [0, T) (integral floats accepted)."""
    arr = np.asarray(a)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr)):
            raise ValueError("%s: token indices must be integers" % name)
    elif arr.dtype.kind not in "iu":
        raise TypeError("%s: expected integer token indices, got dtype %s" % (name, arr.dtype))
    if arr.shape != (n,):
        raise ValueError("%s: shape %s, expected (%d,)" % (name, arr.shape, n))
    if n and (arr.min() < 0 or arr.max() >= T):
        raise ValueError("%s: token indices must be in [0, %d)" % (name, T))
    return np.ascontiguousarray(arr, dtype=np.intc)


class _Data:
    """An instance held as numpy arrays, with its C views (no copies made by C)."""

    def __init__(self, X, Y, Z, v, query_token=None):
        self.X = _f64("X", X, (None, None, None))
        n, T, d = self.X.shape
        self.Y = _f64("Y", Y, (n,))
        self.v = _f64("v", v, (d,))
        if query_token is not None:
            k = int(query_token)
            if k != query_token or not 0 <= k < T:
                raise ValueError("query_token: must be an integer in [0, %d)" % T)
            self.Z = np.ascontiguousarray(self.X[:, k, :])
            qt = k
        else:
            if Z is None:
                raise ValueError("Z: missing (or give query_token for self-attention)")
            self.Z = _f64("Z", Z, (n, d))
            qt = -1
        self.n, self.T, self.d = n, T, d
        self.inst = _lib.Instance(n, T, d, _ptr(self.X), _ptr(self.Y), _ptr(self.Z),
                                  _ptr(self.v), qt)
        err = _lib.ERRBUF()
        if n == 0 or T == 0 or d == 0 or _lib.mdatt.mdatt_instance_validate(ctypes.byref(self.inst), err):
            raise ValueError(err.value.decode() or "X: n, T and d must be positive")
        self.data = _lib.AttsvmData(n, T, d, _ptr(self.X), _ptr(self.Z), _ptr(self.Y),
                                    _ptr(self.v))


def _p_value(p, allow_one=True):
    p = float(p)
    if not (p >= 1.0 if allow_one else p > 1.0) or math.isnan(p):
        raise ValueError("p: must be %s (got %r)" % ("1, a real > 1 or math.inf" if allow_one
                                                     else "a real > 1", p))
    return p


# ---------------------------------------------------------------------- gen
def gen(n=6, T=8, d=10, seed=1):
    """The paper's synthetic instance, the same numbers as `mdatt gen`.

    v, every token and every query are drawn N(0, I) and normalized to the
    unit sphere; labels are +1 or -1 with probability 1/2 (mdatt's portable
    seeded RNG).  Defaults: the paper's Fig. 4 (n=6, T=8, d=10, seed=1).

    Returns a dict with X (n, T, d), Y (n,), Z (n, d) and v (d,).
    """
    s = _lib.GenSettings()
    _lib.mdatt.mdatt_gen_default_settings(ctypes.byref(s))
    for name, val, lo in (("n", n, 1), ("T", T, 2), ("d", d, 1)):
        if int(val) != val or val < lo or val > 100000000:
            raise ValueError("%s: must be an integer in [%d, 100000000] (got %r)" % (name, lo, val))
    if int(seed) != seed or not 0 <= seed < 2 ** 63:
        raise ValueError("seed: must be an integer in [0, 2^63) (got %r)" % (seed,))
    s.n, s.T, s.d, s.seed = int(n), int(T), int(d), int(seed)
    inst = _lib.Instance()
    st = _lib.mdatt.mdatt_gen(ctypes.byref(s), ctypes.byref(inst))
    if st:
        raise MdattError("gen: " + _lib.mdatt.mdatt_strerror(st).decode())
    try:
        return _instance_arrays(inst)
    finally:
        _lib.mdatt.mdatt_instance_free(ctypes.byref(inst))


def _instance_arrays(inst):
    n, T, d = inst.n, inst.T, inst.d
    return {"X": _copy(inst.X, n * T * d).reshape(n, T, d), "Y": _copy(inst.Y, n),
            "Z": _copy(inst.Z, n * d).reshape(n, d), "v": _copy(inst.v, d)}


# ------------------------------------------------------------------ tokens
def selected_tokens(X, Y, Z, v, W, query_token=None):
    """The tokens W selects, alpha_i = argmax_t x_it^T W z_i (ties to the lowest
    index), as `mdatt check` and `svm --alpha-from` compute them.  Returns an
    int array (n,)."""
    D = _Data(X, Y, Z, v, query_token)
    Wa = _f64("W", W, (D.d, D.d))
    alpha = np.zeros(D.n, dtype=np.intc)
    _lib.mdatt.mdatt_selected_tokens(ctypes.byref(D.inst), _ptr(Wa), _ptr(alpha),
                                     None, None)
    return alpha


# ---------------------------------------------------------------------- svm
class SvmResult:
    """The oracle's certified answer (the fields of `mdatt svm`'s JSON).

    status         "optimal", "infeasible" or "failed"
    message        the solver's reason when not optimal ("" otherwise)
    p, target      the norm exponent and "W" or "v"
    alpha          the token choice (n,) the SVM was solved at
    W or v         the solution W^mm (d, d) or v^mm (d,); None unless optimal
    x              the same array, whichever the target
    objective      ||x||_p, the certified upper bound (nan unless optimal)
    lower_bound    the certified lower bound sum(lam) / ||A^T lam||_q
    gap            (objective - lower_bound) / objective
    max_violation  the largest relative constraint violation
    lam            multipliers as an (n, T) array, 0 where there is no
                   constraint; Farkas multipliers when infeasible
    dual           the multipliers in the solver's order, an (m, 3) array
                   of rows (i, t, lambda)
    support        the active constraints with positive multiplier, (k, 2)
                   int array of (i, t); empty unless optimal
    tokens         W target: dict globally_optimal, locally_optimal, ties
                   (array of samples with a tied best token); None for v
    exact          dict checked, optimal when exact=True was asked (p = 1, inf)
    solver         dict rounds, lp_solves, working_rows, seconds
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        return ("SvmResult(status=%r, p=%r, target=%r, objective=%r, gap=%r)"
                % (self.status, self.p, self.target, self.objective, self.gap))


# attsvm_mult and mdatt_svm_mult as numpy records (C alignment)
_MULT = np.dtype([("row", np.intc), ("lam", np.float64)], align=True)
_SVM_MULT = np.dtype([("i", np.intc), ("t", np.intc), ("lam", np.float64)], align=True)
assert _MULT.itemsize == ctypes.sizeof(_lib.AttsvmMult)
assert _SVM_MULT.itemsize == ctypes.sizeof(_lib.SvmMult)

_STATUS = {_lib.ATTSVM_OPTIMAL: "optimal", _lib.ATTSVM_INFEASIBLE: "infeasible",
           _lib.ATTSVM_FAILED: "failed"}


def _row_pairs(rows, alpha, T, target_v):
    """(i, t) of constraint rows: for W rows are (i, t != alpha_i), i major; for v row i is (i, alpha_i)."""
    rows = np.asarray(rows, dtype=np.intp)
    if target_v:
        return rows, alpha[rows].astype(np.intp)
    i = rows // (T - 1)
    j = rows - i * (T - 1)
    return i, j + (j >= alpha[i])


def svm(X, Y, Z, v, p, alpha="global", W=None, target="W", exact=False, query_token=None):
    """Solve the l_p attention SVM with a certificate (`mdatt svm` in-process).

    W target: W^mm = argmin ||W||_p s.t. <(x_ia - x_it) z_i^T, W> >= 1 for all
    i and t != a_i; v target: v^mm = argmin ||v||_p s.t. Y_i x_ia^T v >= 1.

    p        1, a real > 1, or math.inf
    alpha    "global" (argmax_t Y_i v^T x_it, ties to the lowest index) or n
             token indices
    W        instead of alpha: the tokens this W selects (argmax_t x_it^T W z_i)
    target   "W" or "v"
    exact    p = 1 or inf: confirm the optimal basis in rational arithmetic
    query_token  self-attention: z_i = x_{i,k} (Z may then be None)

    Returns an SvmResult.  An infeasible problem is a result with status
    "infeasible" and Farkas multipliers in lam, not an exception; bad input
    raises ValueError/TypeError, and MdattError reports what the oracle refused.
    """
    D = _Data(X, Y, Z, v, query_token)
    p = _p_value(p)
    if target not in ("W", "v"):
        raise ValueError("target: must be 'W' or 'v' (got %r)" % (target,))
    tg = 1 if target == "v" else 0
    tok = _lib.AttsvmTokens()
    try:
        return _svm_solve(D, p, alpha, W, tg, exact, tok)
    finally:
        _lib.attsvm.attsvm_tokens_free(ctypes.byref(tok))


def _svm_alpha(D, alpha, W, tok):
    a = np.zeros(D.n, dtype=np.intc)
    _lib.attsvm.attsvm_global_alpha(ctypes.byref(D.data), _ptr(a), ctypes.byref(tok))
    if W is not None:
        if not (isinstance(alpha, str) and alpha == "global"):
            raise ValueError("alpha and W exclude each other (W selects the tokens)")
        Wa = _f64("W", W, (D.d, D.d))
        _lib.mdatt.mdatt_selected_tokens(ctypes.byref(D.inst), _ptr(Wa), _ptr(a),
                                         None, None)
    elif isinstance(alpha, str):
        if alpha != "global":
            raise ValueError("alpha: 'global' or an array of token indices (got %r)" % (alpha,))
    else:
        a = _indices("alpha", alpha, D.n, D.T)
    return a


def _svm_solve(D, p, alpha, W, tg, exact, tok):
    a = _svm_alpha(D, alpha, W, tok)
    s = _lib.AttsvmSettings()
    _lib.attsvm.attsvm_default_settings(ctypes.byref(s))
    s.p, s.exact = p, 1 if exact else 0
    bad = _lib.attsvm.attsvm_check_settings(ctypes.byref(s))
    if bad:
        raise ValueError(bad.decode())
    r = _lib.AttsvmResult()
    try:
        st = _lib.attsvm.attsvm_solve(ctypes.byref(D.data), _ptr(a), tg,
                                      ctypes.byref(s), ctypes.byref(r))
        if st == _lib.ATTSVM_EINVAL:
            raise ValueError(r.message.decode())
        if st == _lib.ATTSVM_NOMEM:
            raise MemoryError(r.message.decode())
        if tg == 0:
            _lib.attsvm.attsvm_classify(ctypes.byref(D.data), _ptr(a),
                                        ctypes.byref(r), ctypes.byref(tok))
        return _svm_result(D, a, tg, p, st, r, tok)
    finally:
        _lib.attsvm.attsvm_result_free(ctypes.byref(r))


def _svm_result(D, a, tg, p, st, r, tok):
    n, T, d = D.n, D.T, D.d
    optimal = st == _lib.ATTSVM_OPTIMAL
    x = None
    if optimal and r.x:
        x = _copy(r.x, d if tg else d * d)
        if not tg:
            x = x.reshape(d, d)
    # the rows of the multipliers, then of the support, mapped to (i, t) at once
    nd, ns = r.ndual, r.nsupport if optimal else 0
    rows, lamv = np.empty(nd + ns, dtype=np.intp), np.empty(nd)
    if nd:
        dl = np.frombuffer(ctypes.string_at(r.dual, nd * _MULT.itemsize), dtype=_MULT)
        rows[:nd], lamv[:] = dl["row"], dl["lam"]
    if ns:
        rows[nd:] = np.frombuffer(ctypes.string_at(r.support, ns * 4), dtype=np.intc)
    i, t = _row_pairs(rows, a, T, tg)
    lam = np.zeros((n, T))
    lam[i[:nd], t[:nd]] = lamv
    dual = np.empty((nd, 3))
    dual[:, 0], dual[:, 1], dual[:, 2] = i[:nd], t[:nd], lamv
    support = np.empty((ns, 2), dtype=np.int64)
    support[:, 0], support[:, 1] = i[nd:], t[nd:]
    nan = float("nan")
    tokens = None
    if not tg:
        tokens = {"globally_optimal": bool(tok.globally_optimal),
                  "locally_optimal": bool(tok.locally_optimal),
                  "ties": _copy(tok.ties, tok.nties, np.intc).astype(np.int64)}
    return SvmResult(
        status=_STATUS.get(st, "failed"), message="" if optimal else r.message.decode(),
        p=p, target="v" if tg else "W", alpha=a.astype(np.int64), x=x,
        W=None if tg else x, v=x if tg else None,
        objective=r.objective if optimal else nan, lower_bound=r.lower_bound if optimal else nan,
        gap=r.gap if optimal else nan, max_violation=r.max_violation if optimal else nan,
        lam=lam, dual=dual, support=support, tokens=tokens,
        exact={"checked": bool(r.exact_checked), "optimal": bool(r.exact_optimal)}
        if r.exact_checked else None,
        solver={"rounds": r.rounds, "lp_solves": r.lp_solves, "working_rows": r.working_rows,
                "seconds": r.seconds})


# -------------------------------------------------------------------- train
_TRAJ_COLUMNS = ("k", "loss", "log_loss", "norm_p", "smax_mean", "smax_min", "log1m_smax_max",
                 "step_dual")


def train(X, Y, Z, v, p, lr, iters, normalized=True, W0=None, init_std=None, seed=1,
          loss="logistic", joint=False, log_every=None, query_token=None):
    """l_p mirror descent on the attention model (`mdatt train` in-process).

    theta <- grad psi(W) - lr G,  W <- (grad psi)^{-1}(theta), psi = ||W||_p^p / p.

    p          potential exponent, a real > 1 (2 is gradient descent)
    lr, iters  step size > 0 and number of iterations
    normalized steps G / ||G||_q (the paper's experiments; `--normalized`)
    W0         start (d, d); default zeros, or N(0, init_std^2) entries drawn
               with mdatt's RNG from seed (as `--init-std S --seed N`)
    loss       "logistic", "exponential" or "correlation"
    joint      l_p-JointGD: train v too
    log_every  trajectory period (default iters/1000, at least 1; the first
               and last iterations are always logged)

    Returns a dict: W (d, d), v (d,), alpha (n,) the final selected tokens,
    iters, final_loss, final_log_loss, and trajectory, a dict of arrays named
    like the columns of `mdatt train --log --log-w` (k, loss, log_loss,
    norm_p, smax_mean, smax_min, log1m_smax_max, step_dual) plus W (K, d, d)
    and, when joint, v (K, d).
    """
    D = _Data(X, Y, Z, v, query_token)
    ts = _lib.TrainSettings()
    _lib.mdatt.mdatt_train_default_settings(ctypes.byref(ts))
    ts.p = _p_value(p, allow_one=False)
    if math.isinf(ts.p):
        raise ValueError("p: must be a finite real > 1 for training (got inf)")
    if not float(lr) > 0:
        raise ValueError("lr: must be > 0 (got %r)" % (lr,))
    if int(iters) != iters or iters < 0:
        raise ValueError("iters: must be a non-negative integer (got %r)" % (iters,))
    code = ctypes.c_int()
    if _lib.mdatt.mdatt_loss_parse(str(loss).encode(), ctypes.byref(code)):
        raise ValueError("loss: unknown loss %r (logistic, exponential, correlation)" % (loss,))
    ts.lr, ts.iters, ts.loss = float(lr), int(iters), code.value
    ts.normalized, ts.joint = int(bool(normalized)), int(bool(joint))
    if log_every is None:
        log_every = max(ts.iters // 1000, 1)
    if int(log_every) != log_every or log_every < 1:
        raise ValueError("log_every: must be a positive integer (got %r)" % (log_every,))
    ts.log_every = int(log_every)
    W = _train_start(D.d, W0, init_std, seed)
    vv = D.v.copy()
    rows, Ws, vs = [], [], []
    d = D.d

    def hook(pt, _ctx):
        q = pt.contents
        rows.append((q.k, q.ev.loss, q.ev.log_loss, q.norm_p, q.ev.smax_mean, q.ev.smax_min,
                     q.ev.log1m_smax_max, q.step_dual))
        Ws.append(_copy(q.W, d * d))
        if joint:
            vs.append(_copy(q.v, d))
        return 0

    ts.hook = _lib.TrainHook(hook)
    bad = _lib.mdatt.mdatt_train_check_settings(ctypes.byref(ts))
    if bad:
        raise ValueError(bad.decode())
    alpha = np.zeros(D.n, dtype=np.intc)
    info = _lib.TrainInfo()
    st = _lib.mdatt.mdatt_train(ctypes.byref(D.inst), ctypes.byref(ts), _ptr(W), _ptr(vv),
                                _ptr(alpha), ctypes.byref(info))
    if st:
        raise MdattError("training failed: " + _lib.mdatt.mdatt_strerror(st).decode())
    cols = np.array(rows, dtype=np.float64).reshape(-1, len(_TRAJ_COLUMNS))
    traj = {name: cols[:, k] for k, name in enumerate(_TRAJ_COLUMNS)}
    traj["k"] = traj["k"].astype(np.int64)
    traj["W"] = np.array(Ws).reshape(-1, d, d)
    if joint:
        traj["v"] = np.array(vs).reshape(-1, d)
    return {"W": W.reshape(d, d), "v": vv, "alpha": alpha.astype(np.int64), "p": ts.p,
            "iters": info.iters, "final_loss": info.ev.loss,
            "final_log_loss": info.ev.log_loss, "trajectory": traj}


def _train_start(d, W0, init_std, seed):
    if W0 is not None:
        if init_std is not None:
            raise ValueError("W0 excludes init_std")
        return _f64("W0", W0, (d, d)).reshape(-1).copy()
    W = np.zeros(d * d)
    if init_std is not None:
        if not float(init_std) >= 0:
            raise ValueError("init_std: must be >= 0 (got %r)" % (init_std,))
        r = _lib.Rng()
        _lib.mdatt.mdatt_rng_seed(ctypes.byref(r), int(seed))
        for k in range(d * d):
            W[k] = init_std * _lib.mdatt.mdatt_rng_normal(ctypes.byref(r))
    return W


# -------------------------------------------------------------------- check
def check(X, Y, Z, v, W, p_model, svm_result, model_v=None, model_alpha=None, joint=False,
          max_bregman=1e-2, min_cosine=None, min_margin=None, max_gap=1e-8,
          allow_token_mismatch=False, require_global=False, require_local=False,
          query_token=None):
    """Compare a model (W, and v for a v-SVM) with the SVM (`mdatt check` in-process).

    W, p_model   the model's weights (d, d) and the p it was trained with
    svm_result   an SvmResult from svm() on the same instance
    model_v      the model's v (default: the instance's v)
    model_alpha  the tokens the model recorded, if any (model_alpha_agrees)
    joint        the model trained v too (gamma then uses model_v)
    the thresholds are those of `mdatt check` (--max-bregman, ...).

    Returns a dict with the fields of `mdatt check -o`'s JSON (without the
    file names): bregman_dir, cosine, one_minus_cosine, margin_ratio,
    smax_min, log1m_smax, gap, gap_recomputed, svm_objective, svm_min_margin,
    tokens_match, alpha_model, alpha_svm, globally_optimal, locally_optimal,
    tokens_recomputed, thresholds, verdict {"pass", "reasons"}, ...
    """
    D = _Data(X, Y, Z, v, query_token)
    d = D.d
    Wa = _f64("W", W, (d, d))
    mv = _f64("model_v", model_v if model_v is not None else D.v, (d,))
    p_model = _p_value(p_model, allow_one=False)
    keep = [Wa, mv]
    m = _lib.Model(d=d, n=0, p=p_model, W=_ptr(Wa), v=_ptr(mv), joint=int(bool(joint)))
    if model_alpha is not None:
        ma = _indices("model_alpha", model_alpha, D.n, D.T)
        keep.append(ma)
        m.n, m.alpha = D.n, _ptr(ma)
    s, keep_s = _svm_struct(svm_result, D)
    th = _lib.CheckSettings()
    _lib.mdatt.mdatt_check_default_settings(ctypes.byref(th))
    th.max_bregman, th.max_gap = float(max_bregman), float(max_gap)
    th.min_cosine = float("nan") if min_cosine is None else float(min_cosine)
    th.min_margin = float("nan") if min_margin is None else float(min_margin)
    th.allow_token_mismatch = int(bool(allow_token_mismatch))
    th.require_global, th.require_local = int(bool(require_global)), int(bool(require_local))
    r, err = _lib.CheckResult(), _lib.ERRBUF()
    st = _lib.mdatt.mdatt_check(ctypes.byref(D.inst), ctypes.byref(m), ctypes.byref(s),
                                ctypes.byref(th), ctypes.byref(r), err)
    try:
        if st:
            raise ValueError(err.value.decode())
        return _check_fields(D, m, s, th, r)
    finally:
        _lib.mdatt.mdatt_check_result_free(ctypes.byref(r))


def _svm_struct(res, D):
    """The C view (mdatt_svm) of an SvmResult; the arrays it points to are returned too."""
    if not isinstance(res, SvmResult):
        raise TypeError("svm_result: expected an SvmResult from mdatt.svm()")
    status = {"optimal": 0, "infeasible": 1, "failed": 2}[res.status]
    a = _indices("svm_result.alpha", res.alpha, D.n, D.T)
    dual = np.zeros(len(res.dual), dtype=_SVM_MULT)
    if len(res.dual):
        dual["i"], dual["t"], dual["lam"] = res.dual[:, 0], res.dual[:, 1], res.dual[:, 2]
    sup = np.ascontiguousarray(res.support, dtype=np.intc).reshape(-1)
    x = None if res.x is None else np.ascontiguousarray(res.x, dtype=np.float64).reshape(-1)
    tok = res.tokens
    s = _lib.Svm(p=res.p, target_v=int(res.target == "v"), n=D.n,
                 d=0 if x is None else D.d, alpha=_ptr(a), status=status,
                 x=None if x is None else _ptr(x), objective=res.objective,
                 lower_bound=res.lower_bound, gap=res.gap, max_violation=res.max_violation,
                 ndual=len(dual), dual=_ptr(dual),
                 nsupport=len(sup) // 2, support=_ptr(sup),
                 has_tokens=int(tok is not None),
                 globally_optimal=int(bool(tok and tok["globally_optimal"])),
                 locally_optimal=int(bool(tok and tok["locally_optimal"])),
                 nties=len(tok["ties"]) if tok else 0)
    return s, (a, dual, sup, x)


def _check_fields(D, m, s, th, r):
    nan_none = lambda x: None if math.isnan(x) else x
    loc = r.locally_optimal
    alpha_model = _copy(r.alpha_model, D.n, np.intc).astype(np.int64)
    out = {"format": "mdatt-check/1", "p_model": m.p, "p_svm": s.p, "cross_p": bool(r.cross_p),
           "target": "v" if s.target_v else "W", "n": D.n, "T": D.T, "d": D.d,
           "svm_status": {0: "optimal", 1: "infeasible", 2: "failed"}[s.status]}
    pt = r.point
    for name, val in (("bregman_dir", pt.bregman_dir), ("cosine", pt.cosine),
                      ("one_minus_cosine", pt.one_minus_cosine), ("margin_ratio", pt.margin_ratio),
                      ("smax_min", pt.smax_min), ("log1m_smax", pt.log1m_smax), ("gap", s.gap),
                      ("gap_recomputed", r.figures.gap), ("svm_objective", s.objective),
                      ("svm_min_margin", r.svm_min_margin)):
        out[name] = nan_none(val)
    out["tokens_match"] = bool(pt.tokens_match)
    out["alpha_model"] = alpha_model
    out["alpha_svm"] = _copy(s.alpha, D.n, np.intc).astype(np.int64)
    if r.model_alpha_agrees >= 0:
        out["model_alpha_agrees"] = bool(r.model_alpha_agrees)
    out["globally_optimal"] = bool(r.globally_optimal)
    out["locally_optimal"] = None if loc < 0 else bool(loc)
    tv = r.recomputed
    out["tokens_recomputed"] = {
        "globally_optimal": bool(tv.globally_optimal),
        "locally_optimal": None if s.target_v else bool(tv.locally_optimal),
        "ties": tv.nties, "v": "model" if r.own_v else "instance"}
    out["thresholds"] = {"max_bregman": th.max_bregman, "min_cosine": nan_none(th.min_cosine),
                         "min_margin": nan_none(th.min_margin), "max_gap": th.max_gap,
                         "require_tokens_match": not th.allow_token_mismatch,
                         "require_global": bool(th.require_global),
                         "require_local": bool(th.require_local)}
    out["verdict"] = {"pass": bool(r.pass_),
                      "reasons": [r.reasons[k].value.decode() for k in range(r.nreasons)]}
    return out


# ------------------------------------------------------------------ metrics
# --------------------------------------------------------------------- rate
_FAMILIES = ("power", "logpower", "loglog", "linear", "log", "exp")
_RATE_FAILURES = {1: "empty window", 2: "too few points", 3: "no fit", 4: "claim without points"}


def _rate_curves(curves):
    """The C view of [(k, y), ...] (the arrays are kept alive by the caller)."""
    if isinstance(curves, (str, bytes)) or not len(curves):
        raise ValueError("curves: expected a non-empty list of (k, y) pairs")
    keep, c = [], (_lib.RateCurve * len(curves))()
    for s, pair in enumerate(curves):
        if len(pair) != 2:
            raise ValueError("curves[%d]: expected a (k, y) pair" % s)
        k = _f64("curves[%d] k" % s, pair[0], (None,))
        y = _f64("curves[%d] y" % s, pair[1], (len(k),))
        keep += [k, y]
        c[s] = _lib.RateCurve(n=len(k), k=_ptr(k), y=_ptr(y))
    return c, keep


def _rate_settings(families, k0, k1, negate, boot, seed):
    st = _lib.RateSettings()
    _lib.mdatt.mdatt_rate_default_settings(ctypes.byref(st))
    if families is not None:
        if isinstance(families, str):
            families = families.split(",")
        fam = sorted({_FAMILIES.index(f) if f in _FAMILIES else -1 for f in families})
        if not fam or fam[0] < 0 or len(fam) != len(list(families)):
            raise ValueError("families: distinct names among %s" % ", ".join(_FAMILIES))
        st.nfam = len(fam)
        for j, f in enumerate(fam):
            st.fam[j] = f
    st.k0 = float("nan") if k0 is None else float(k0)
    st.k1 = float("nan") if k1 is None else float(k1)
    st.negate, st.boot, st.seed = int(bool(negate)), int(boot), int(seed)
    return st


def _rate_fields(r, paths):
    nan_none = lambda x: None if math.isnan(x) else x
    out = {"seeds": r.ncurves,
           "window": {"from": r.K0, "to": r.K1, "last_common_k": r.kend,
                      "k_min_fit": r.kmin_fit, "points": r.m, "dropped": r.dropped},
           "families": []}
    for j in range(r.nfam):
        f, ci = r.fit[j], [nan_none(x) for x in r.ci[j]]
        out["families"].append({
            "family": _FAMILIES[r.fam[j]], "nparam": 2 if r.fam[j] in (0, 1, 5) else 1,
            "a": nan_none(f.a), "b": nan_none(f.b), "a_ci": ci[:2], "b_ci": ci[2:],
            "rmse": nan_none(f.rmse), "fitted": bool(r.fitted[j]),
            "admissible": bool(r.fitted[j]) and r.why[j] is None,
            "why_not": r.why[j].decode() if r.fitted[j] and r.why[j] else None})
    out["chosen"] = None if r.best < 0 else _FAMILIES[r.fam[r.best]]
    if r.best >= 0:
        per = ctypes.cast(r.per, ctypes.POINTER(_lib.Fit))
        out["per_seed"] = [{"file": paths[s], "a": per[s].a, "b": nan_none(per[s].b),
                            "rmse": per[s].rmse} for s in range(r.ncurves)]
    if r.claim:
        cl = ctypes.cast(r.claim, ctypes.POINTER(_lib.ClaimCurve))
        nh = ctypes.c_int()
        K = _lib.mdatt.mdatt_rate_holds_from(ctypes.byref(r), ctypes.byref(nh))
        out["claim"] = {"holds": r.seeds_ok == r.ncurves, "seeds_ok": r.seeds_ok,
                        "holds_from": K if nh.value else None, "seeds_holding_from": nh.value,
                        "per_seed": [{"points": cl[s].checked, "violating": cl[s].violations,
                                      "first_k": nan_none(cl[s].first_k),
                                      "last_k": nan_none(cl[s].last_k),
                                      "holds_from": nan_none(cl[s].holds_from)}
                                     for s in range(r.ncurves)]}
    return out


def rate(curves, families=None, k0=None, k1=None, negate=False, boot=1000, seed=1,
         claim=None, names=None):
    """The analysis of `mdatt rate` (doc/design.md section 7) on the seeds'
    curves [(k, y), ...]: k the logged iterations (strictly increasing
    integers), y the metric.  families: names (or "a,b") among power,
    logpower, loglog, linear, log, exp (default all); k0, k1: the window
    (default K1/10 and the last k logged in every curve); negate: fit -y
    (log_loss); boot, seed: the bootstrap; claim: a bound expression in k
    checked on every curve; names: labels of the curves (default their
    indices).  Returns a dict with the fields of mdatt-rate/1: seeds,
    window, families (a, b, a_ci, b_ci, rmse, fitted, admissible, why_not),
    chosen, per_seed and claim.  Raises ValueError when there is no answer
    (the library's message)."""
    c, keep = _rate_curves(curves)
    st = _rate_settings(families, k0, k1, negate, boot, seed)
    err, bound = _lib.ERRBUF(), None
    if claim is not None:
        bound = _lib.mdatt.mdatt_expr_parse(str(claim).encode(), err)
        if not bound:
            raise ValueError("claim: %s in '%s'" % (err.value.decode(), claim))
    st.bound = bound
    r = _lib.RateResult()
    try:
        rc = _lib.mdatt.mdatt_rate(c, len(curves), ctypes.byref(st), ctypes.byref(r), err)
        if rc == 4:     # MDATT_ENOMEM
            raise MemoryError(err.value.decode())
        if rc:
            raise ValueError(err.value.decode())
        return _rate_fields(r, list(names) if names is not None else list(range(len(curves))))
    finally:
        _lib.mdatt.mdatt_rate_result_free(ctypes.byref(r))
        _lib.mdatt.mdatt_expr_free(bound)
        del keep


def bregman_dir(A, B, p):
    """Directional Bregman divergence D_psi(A/||A||_p, B/||B||_p) in [0, 2],
    psi = ||.||_p^p / p (p > 1): 0 when B points where A does.  A and B are
    arrays of the same shape (W matrices or v vectors)."""
    Aa = _f64("A", A)
    Ba = _f64("B", B)
    if Aa.shape != Ba.shape:
        raise ValueError("A and B: shapes %s and %s differ" % (Aa.shape, Ba.shape))
    p = _p_value(p, allow_one=False)
    return _lib.mdatt.mdatt_bregman_dir(_ptr(Aa), _ptr(Ba), Aa.size, p)
