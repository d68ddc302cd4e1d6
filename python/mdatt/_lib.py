"""ctypes declarations of libmdatt (mdatt.h and its tool headers mdatt_io.h,
mdatt_check.h, mdatt_rate.h) and libattsvm (attsvm.h).

The structures mirror the C headers field by field; keep them in step.  Array
pointers are declared void * (the same ABI): numpy arrays pass their address
(arr.ctypes.data), several times cheaper per call than typed pointers.  The
libraries are found, in this order, in the directories of the environment
variable MDATT_LIBDIR (separated by ':'), in the build tree this package sits
in (src/.libs and oracle/.libs beside python/), in the directory `make
install` put them in, and on the system's library path.
"""
import ctypes
import ctypes.util
import os

c_int, c_long, c_double, c_char_p = ctypes.c_int, ctypes.c_long, ctypes.c_double, ctypes.c_char_p
c_uint64, c_void_p = ctypes.c_uint64, ctypes.c_void_p
P = ctypes.POINTER
ERRLEN = 256


def _candidates(name):
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [d for d in os.environ.get("MDATT_LIBDIR", "").split(":") if d]
    top = os.path.dirname(os.path.dirname(here))     # python/mdatt -> the source tree
    dirs += [os.path.join(top, "src", ".libs"), os.path.join(top, "oracle", ".libs")]
    try:
        from . import _config
        dirs.append(_config.LIBDIR)
    except ImportError:
        pass
    for d in dirs:
        yield os.path.join(d, "lib%s.so" % name)
    found = ctypes.util.find_library(name)
    if found:
        yield found
    yield "lib%s.so.0" % name


def _load(name):
    tried = []
    for path in _candidates(name):
        if os.path.sep in path and not os.path.exists(path):
            tried.append(path)
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("mdatt: cannot load lib%s.so; build mdatt (make) or set MDATT_LIBDIR to "
                      "the directory holding it; tried: %s" % (name, "; ".join(tried)))


mdatt = _load("mdatt")
attsvm = _load("attsvm")


# ------------------------------------------------------------------ mdatt.h
class Instance(ctypes.Structure):
    _fields_ = [("n", c_int), ("T", c_int), ("d", c_int),
                ("X", c_void_p), ("Y", c_void_p), ("Z", c_void_p), ("v", c_void_p),
                ("query_token", c_int)]


class GenSettings(ctypes.Structure):
    _fields_ = [("n", c_int), ("T", c_int), ("d", c_int), ("seed", c_uint64)]


class Model(ctypes.Structure):
    _fields_ = [("d", c_int), ("n", c_int), ("p", c_double),
                ("W", c_void_p), ("v", c_void_p), ("alpha", c_void_p),
                ("iters", c_long), ("loss", c_int), ("lr", c_double),
                ("normalized", c_int), ("joint", c_int),
                ("final_loss", c_double), ("final_log_loss", c_double),
                ("instance_hash", c_uint64)]


class Rng(ctypes.Structure):
    _fields_ = [("s", c_uint64 * 4), ("spare", c_double), ("has_spare", c_int)]


class Eval(ctypes.Structure):
    _fields_ = [("loss", c_double), ("log_loss", c_double), ("smax_mean", c_double),
                ("smax_min", c_double), ("log1m_smax_max", c_double)]


class TrainPoint(ctypes.Structure):
    _fields_ = [("k", c_long), ("ev", Eval), ("norm_p", c_double), ("step_dual", c_double),
                ("W", c_void_p), ("v", c_void_p), ("step_dual_v", c_double),
                ("theta", c_void_p), ("theta_lo", c_void_p)]


TrainHook = ctypes.CFUNCTYPE(c_int, P(TrainPoint), c_void_p)


class TrainSettings(ctypes.Structure):
    _fields_ = [("p", c_double), ("lr", c_double), ("iters", c_long),
                ("normalized", c_int), ("joint", c_int), ("loss", c_int), ("grad_mode", c_int),
                ("eps", c_double), ("log_every", c_long), ("hook", TrainHook),
                ("hook_ctx", c_void_p)]


class TrainInfo(ctypes.Structure):
    _fields_ = [("iters", c_long), ("ev", Eval), ("seconds", c_double), ("stalled", c_int)]


# --------------------------------------------------------------- mdatt_io.h
class SvmMult(ctypes.Structure):
    _fields_ = [("i", c_int), ("t", c_int), ("lam", c_double)]


class Svm(ctypes.Structure):
    _fields_ = [("p", c_double), ("target_v", c_int), ("n", c_int), ("d", c_int),
                ("alpha", c_void_p), ("status", c_int), ("x", c_void_p),
                ("objective", c_double), ("lower_bound", c_double), ("gap", c_double),
                ("max_violation", c_double), ("ndual", c_int), ("dual", c_void_p),
                ("nsupport", c_int), ("support", c_void_p), ("has_tokens", c_int),
                ("globally_optimal", c_int), ("locally_optimal", c_int), ("nties", c_int),
                ("instance_hash", c_uint64)]


# ------------------------------------------------------------ mdatt_check.h
class TokenVerdict(ctypes.Structure):
    _fields_ = [("globally_optimal", c_int), ("locally_optimal", c_int), ("nties", c_int)]


class SvmFigures(ctypes.Structure):
    _fields_ = [("upper", c_double), ("lower", c_double), ("gap", c_double),
                ("max_violation", c_double), ("bad_support", c_int)]


class CheckSettings(ctypes.Structure):
    _fields_ = [("max_bregman", c_double), ("min_cosine", c_double), ("min_margin", c_double),
                ("max_gap", c_double), ("allow_token_mismatch", c_int),
                ("require_global", c_int), ("require_local", c_int)]


class CheckPoint(ctypes.Structure):
    _fields_ = [("bregman_dir", c_double), ("cosine", c_double), ("one_minus_cosine", c_double),
                ("margin_ratio", c_double), ("smax_min", c_double), ("log1m_smax", c_double),
                ("tokens_match", c_int)]


CHECK_MAX_REASONS = 16


class CheckResult(ctypes.Structure):
    _fields_ = [("point", CheckPoint), ("alpha_model", c_void_p), ("model_alpha_agrees", c_int),
                ("svm_min_margin", c_double), ("figures", SvmFigures), ("cross_p", c_int),
                ("own_v", c_int), ("recomputed", TokenVerdict), ("globally_optimal", c_int),
                ("locally_optimal", c_int), ("pass_", c_int), ("nreasons", c_int),
                ("reasons", (ctypes.c_char * 200) * CHECK_MAX_REASONS)]


# ------------------------------------------------------------- mdatt_rate.h
NFAM = 6  # MDATT_NFAM


class Fit(ctypes.Structure):
    _fields_ = [("family", c_int), ("a", c_double), ("b", c_double), ("rmse", c_double),
                ("m", c_int)]


class ClaimCurve(ctypes.Structure):
    _fields_ = [("checked", c_long), ("violations", c_long), ("first_k", c_double),
                ("first_value", c_double), ("first_bound", c_double), ("last_k", c_double),
                ("last_value", c_double), ("last_bound", c_double), ("holds_from", c_double)]


class RateCurve(ctypes.Structure):
    _fields_ = [("n", c_long), ("k", c_void_p), ("y", c_void_p)]


class RateSettings(ctypes.Structure):
    _fields_ = [("k0", c_double), ("k1", c_double), ("negate", c_int), ("nfam", c_int),
                ("fam", c_int * NFAM), ("boot", c_long), ("seed", c_uint64),
                ("bound", c_void_p)]


class RateResult(ctypes.Structure):
    _fields_ = [("ncurves", c_int), ("K0", c_double), ("K1", c_double), ("kend", c_double),
                ("k1_clamped", c_int), ("kmin_fit", c_long), ("m", c_int), ("dropped", c_long),
                ("kfit", c_void_p), ("logy", c_void_p), ("mean", c_void_p), ("nfam", c_int),
                ("fam", c_int * NFAM), ("fit", Fit * NFAM), ("fitted", c_int * NFAM),
                ("why", c_char_p * NFAM), ("boot_ok", c_int * NFAM),
                ("ci", (c_double * 4) * NFAM), ("best", c_int), ("per", c_void_p),
                ("claim", c_void_p), ("seeds_ok", c_int), ("failure", c_int),
                ("failed_curve", c_int)]


def _fn(lib, name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


ERRBUF = ctypes.c_char * ERRLEN
_fn(mdatt, "mdatt_strerror", c_char_p, c_int)
_fn(mdatt, "mdatt_instance_validate", c_int, P(Instance), ERRBUF)
_fn(mdatt, "mdatt_gen_default_settings", None, P(GenSettings))
_fn(mdatt, "mdatt_gen", c_int, P(GenSettings), P(Instance))
_fn(mdatt, "mdatt_gen_toy_joint", c_int, P(Instance))
_fn(mdatt, "mdatt_instance_free", None, P(Instance))
_fn(mdatt, "mdatt_instance_hash", c_uint64, P(Instance))
_fn(mdatt, "mdatt_rng_seed", None, P(Rng), c_uint64)
_fn(mdatt, "mdatt_rng_normal", c_double, P(Rng))
_fn(mdatt, "mdatt_loss_parse", c_int, c_char_p, c_void_p)
_fn(mdatt, "mdatt_train_default_settings", None, P(TrainSettings))
_fn(mdatt, "mdatt_train_check_settings", c_char_p, P(TrainSettings))
_fn(mdatt, "mdatt_train", c_int, P(Instance), P(TrainSettings), c_void_p, c_void_p,
    c_void_p, P(TrainInfo))
_fn(mdatt, "mdatt_bregman_dir", c_double, c_void_p, c_void_p, ctypes.c_size_t, c_double)
_fn(mdatt, "mdatt_selected_tokens", None, P(Instance), c_void_p, c_void_p, c_void_p,
    c_void_p)
_fn(mdatt, "mdatt_check_default_settings", None, P(CheckSettings))
_fn(mdatt, "mdatt_check", c_int, P(Instance), P(Model), P(Svm), P(CheckSettings),
    P(CheckResult), ERRBUF)
_fn(mdatt, "mdatt_check_result_free", None, P(CheckResult))
_fn(mdatt, "mdatt_family_name", c_char_p, c_int)
_fn(mdatt, "mdatt_family_parse", c_int, c_char_p, c_void_p)
_fn(mdatt, "mdatt_expr_parse", c_void_p, c_char_p, ERRBUF)
_fn(mdatt, "mdatt_expr_free", None, c_void_p)
_fn(mdatt, "mdatt_rate_default_settings", None, P(RateSettings))
_fn(mdatt, "mdatt_rate", c_int, P(RateCurve), c_int, P(RateSettings), P(RateResult), ERRBUF)
_fn(mdatt, "mdatt_rate_holds_from", c_double, P(RateResult), P(c_int))
_fn(mdatt, "mdatt_rate_result_free", None, P(RateResult))


# ---------------------------------------------------------------- attsvm.h
class AttsvmSettings(ctypes.Structure):
    _fields_ = [("p", c_double), ("exact", c_int), ("gap_tol", c_double), ("feas_tol", c_double),
                ("max_rounds", c_int), ("lp_it_lim", c_int), ("verbose", c_int),
                ("row_generation", c_int), ("lp_phase", c_int)]


class AttsvmMult(ctypes.Structure):
    _fields_ = [("row", c_int), ("lam", c_double)]


class AttsvmResult(ctypes.Structure):
    _fields_ = [("status", c_int), ("message", ctypes.c_char * 256), ("nx", c_int),
                ("x", c_void_p), ("objective", c_double), ("lower_bound", c_double),
                ("gap", c_double), ("max_violation", c_double), ("ndual", c_int),
                ("dual", c_void_p), ("nsupport", c_int), ("support", c_void_p),
                ("exact_checked", c_int), ("exact_optimal", c_int), ("rounds", c_int),
                ("lp_solves", c_int), ("working_rows", c_int), ("seconds", c_double),
                ("farkas_residual", c_double), ("lp_iterations", c_int),
                ("newton_iterations", c_int)]


class AttsvmData(ctypes.Structure):
    _fields_ = [("n", c_int), ("T", c_int), ("d", c_int), ("X", c_void_p),
                ("Z", c_void_p), ("Y", c_void_p), ("v", c_void_p)]


class AttsvmTokens(ctypes.Structure):
    _fields_ = [("globally_optimal", c_int), ("locally_optimal", c_int), ("nties", c_int),
                ("ties", c_void_p)]


ATTSVM_OPTIMAL, ATTSVM_INFEASIBLE, ATTSVM_FAILED, ATTSVM_EINVAL, ATTSVM_NOMEM = range(5)
_fn(attsvm, "attsvm_strerror", c_char_p, c_int)
_fn(attsvm, "attsvm_default_settings", None, P(AttsvmSettings))
_fn(attsvm, "attsvm_check_settings", c_char_p, P(AttsvmSettings))
_fn(attsvm, "attsvm_result_free", None, P(AttsvmResult))
_fn(attsvm, "attsvm_solve", c_int, P(AttsvmData), c_void_p, c_int, P(AttsvmSettings),
    P(AttsvmResult))
_fn(attsvm, "attsvm_row_pair", None, P(AttsvmData), c_void_p, c_int, c_int, c_void_p, c_void_p)
_fn(attsvm, "attsvm_global_alpha", None, P(AttsvmData), c_void_p, P(AttsvmTokens))
_fn(attsvm, "attsvm_classify", None, P(AttsvmData), c_void_p, P(AttsvmResult), P(AttsvmTokens))
_fn(attsvm, "attsvm_tokens_free", None, P(AttsvmTokens))
