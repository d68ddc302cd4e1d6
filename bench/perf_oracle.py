#!/usr/bin/python3
"""perf_oracle.py - the cvxopt side of bench/perf_oracle (run by it, not by hand).

Reads one instance written by bench/perf_oracle (text: "m nx reps np n T d",
then the m x nx matrix A row by row, the np exponents 1, 1.5, ..., inf, and
the attention data the rows come from: X, Z, Y, v and the token choice alpha)
and solves min ||x||_p s.t. A x >= 1 with cvxopt for every exponent:
  p = 1, inf : solvers.lp on the usual epigraph LPs,
  p = 2      : solvers.qp (min x'x/2),
  other p    : solvers.cp on min sum t_j^p / p s.t. -t <= x <= t, A x >= 1.
Each solve is timed in-process (median over reps, the solver call only; wall
time and the process's CPU time, which a loaded machine inflates less) and
certified with the oracle's formula: UB = ||x||_p / min(1, min_r a_r.x),
LB = sum(lambda) / ||A^T lambda||_q with lambda the multipliers of A x >= 1
(clipped at 0), gap = (UB - LB) / UB, violation = max_r (1 - a_r.x)+ / (||a_r||_q ||x||_p).
The same problems are then solved in this process by the package mdatt
(python/mdatt: mdatt.svm over libattsvm.so, found through PYTHONPATH and
MDATT_LIBDIR), the whole call timed (argument checks, the solve, the result
arrays) and its answer certified with the same formula.
Prints one JSON object: {"cvxopt": version, "mdatt": version or null,
"results": [{p, seconds, cpu_seconds, objective, gap, max_violation, status,
mdatt_seconds, mdatt_cpu_seconds, mdatt_gap, mdatt_status}]}.  Without cvxopt
it prints {"cvxopt": null}.
With --ladder FILE P it solves one rung of the size ladder (see ladder()).
"""
import json
import math
import sys
import time

try:
    import numpy as np
    import cvxopt
    from cvxopt import matrix, solvers, spmatrix
except ImportError:
    print(json.dumps({"cvxopt": None, "results": []}))
    sys.exit(0)

solvers.options["show_progress"] = False


def norm(v, p):
    v = np.abs(v)
    mx = v.max() if v.size else 0.0
    if mx == 0.0 or math.isinf(p):
        return float(mx)
    return float(mx * np.sum((v / mx) ** p) ** (1.0 / p))


def certify(A, p, x, lam):
    q = math.inf if p == 1 else (1.0 if math.isinf(p) else p / (p - 1))
    ax = A @ x
    nq = np.array([norm(a, q) for a in A])
    xn = norm(x, p)
    viol = float(np.max(np.maximum(0.0, 1.0 - ax) / (nq * xn)))
    mn = float(ax.min())
    ub = math.inf if mn <= 0 else xn / min(1.0, mn)
    lam = np.maximum(lam, 0.0)
    un = norm(A.T @ lam, q)
    lb = float(lam.sum() / un) if un > 0 else 0.0
    return ub, lb, (ub - lb) / ub, viol


def solve(A, p):
    m, nx = A.shape
    Am = matrix(A)
    I = spmatrix(1.0, range(nx), range(nx))
    if p == 1 or math.isinf(p):
        if p == 1:  # z = (x, t): min 1't, x - t <= 0, -x - t <= 0, -A x <= -1
            c = matrix(np.concatenate([np.zeros(nx), np.ones(nx)]))
            G = sparse_blocks(nx, A, epi_cols=nx)
        else:       # z = (x, s): min s, x - s <= 0, -x - s <= 0, -A x <= -1
            c = matrix(np.concatenate([np.zeros(nx), [1.0]]))
            G = sparse_blocks(nx, A, epi_cols=1)
        h = matrix(np.concatenate([np.zeros(2 * nx), -np.ones(m)]))
        t0, c0 = time.perf_counter(), time.process_time()
        sol = solvers.lp(c, G, h)
        t, ct = time.perf_counter() - t0, time.process_time() - c0
        x = np.array(sol["x"]).ravel()[:nx]
        lam = np.array(sol["z"]).ravel()[2 * nx:]
        return t, ct, x, lam, sol["status"]
    if p == 2:
        t0, c0 = time.perf_counter(), time.process_time()
        sol = solvers.qp(matrix(I), matrix(0.0, (nx, 1)), -Am, matrix(-1.0, (m, 1)))
        t, ct = time.perf_counter() - t0, time.process_time() - c0
        return t, ct, np.array(sol["x"]).ravel(), np.array(sol["z"]).ravel(), sol["status"]
    # z = (x, t), f0 = sum t^p / p on t > 0.
    def F(z=None, zz=None):
        if z is None:
            return 0, matrix(np.concatenate([np.zeros(nx), np.ones(nx)]))
        tt = np.array(z[nx:]).ravel()
        if np.any(tt <= 0):
            return None
        f = matrix(np.sum(tt ** p) / p)
        Df = matrix(np.concatenate([np.zeros(nx), tt ** (p - 1)]), (1, 2 * nx))
        if zz is None:
            return f, Df
        H = spmatrix(zz[0] * (p - 1) * tt ** (p - 2), range(nx, 2 * nx), range(nx, 2 * nx))
        return f, Df, H
    G = sparse_blocks(nx, A, epi_cols=nx)
    h = matrix(np.concatenate([np.zeros(2 * nx), -np.ones(m)]))
    t0, c0 = time.perf_counter(), time.process_time()
    sol = solvers.cp(F, G=G, h=h)
    t, ct = time.perf_counter() - t0, time.process_time() - c0
    x = np.array(sol["x"]).ravel()[:nx]
    lam = np.array(sol["zl"]).ravel()[2 * nx:]
    return t, ct, x, lam, sol["status"]


def sparse_blocks(nx, A, epi_cols):
    """Rows [I, -E; -I, -E; -A, 0] with E = I (epi_cols = nx) or ones (epi_cols = 1)."""
    m = A.shape[0]
    G = np.zeros((2 * nx + m, nx + epi_cols))
    G[:nx, :nx] = np.eye(nx)
    G[nx:2 * nx, :nx] = -np.eye(nx)
    if epi_cols == nx:
        G[:nx, nx:] = -np.eye(nx)
        G[nx:2 * nx, nx:] = -np.eye(nx)
    else:
        G[:2 * nx, nx] = -1.0
    G[2 * nx:, :nx] = -A
    return matrix(G)


def median(v):
    return sorted(v)[len(v) // 2]


def mdatt_column(res, A, p, data, reps):
    """Time mdatt.svm in-process on the data A was built from; certify its answer."""
    try:
        import mdatt
    except ImportError:
        return None
    X, Z, Y, v, alpha = data
    times, cpus = [], []
    # At least reps calls, and up to 21 while they add up to less than a second:
    # a stable median at the paper size without repeating minute-long solves.
    while len(times) < reps or (len(times) < 21 and sum(times) < 1.0):
        t0, c0 = time.perf_counter(), time.process_time()
        r = mdatt.svm(X, Y, Z, v, p, alpha=alpha)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    res["mdatt_status"] = r.status
    res["mdatt_seconds"], res["mdatt_cpu_seconds"] = median(times), median(cpus)
    if r.status == "optimal":
        rows = np.ones(r.lam.shape, dtype=bool)     # the rows of A: (i, t != alpha_i), i major
        rows[np.arange(len(alpha)), alpha] = False
        res["mdatt_gap"] = certify(A, p, r.W.ravel(), r.lam[rows])[2]
    return mdatt.__version__


def ladder(path, p):
    """--ladder FILE P: one rung of bench/perf_ladder.c (raw int32 n, T, d, then
    float64 X (n x T x d), Z (n x d), int32 alpha), rows built here with numpy;
    prints the solve's time, certificate and this process's peak memory."""
    import resource
    with open(path, "rb") as f:
        n, T, d = (int(v) for v in np.fromfile(f, dtype=np.int32, count=3))
        X = np.fromfile(f, dtype=np.float64, count=n * T * d).reshape(n, T, d)
        Z = np.fromfile(f, dtype=np.float64, count=n * d).reshape(n, d)
        alpha = np.fromfile(f, dtype=np.int32, count=n)
    keep = np.ones((n, T), dtype=bool)
    keep[np.arange(n), alpha] = False
    B = (X[np.arange(n), alpha][:, None, :] - X)[keep].reshape(n, T - 1, d)
    A = np.einsum("itj,ik->itjk", B, Z).reshape(n * (T - 1), d * d)
    res = {"p": p}
    try:
        t, ct, x, lam, st = solve(A, p)
        ub, lb, gap, viol = certify(A, p, x, lam)
        res.update(seconds=t, cpu_seconds=ct, status=st, objective=ub, gap=gap,
                   max_violation=viol)
    except Exception as e:  # cvxopt raises on singular KKT systems
        res["status"] = "error: %s" % e
    res["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(res, default=lambda v: None if v != v else v))


def main():
    if sys.argv[1] == "--ladder":
        ladder(sys.argv[2], float(sys.argv[3]))
        return
    with open(sys.argv[1]) as f:
        tok = f.read().split()
    m, nx, reps, nps, n, T, d = (int(t) for t in tok[:7])
    k = 7
    A = np.array([float(v) for v in tok[k:k + m * nx]]).reshape(m, nx)
    k += m * nx
    ps = [float(v) for v in tok[k:k + nps]]
    k += nps
    arrays = []
    for size in (n * T * d, n * d, n, d):
        arrays.append(np.array([float(v) for v in tok[k:k + size]]))
        k += size
    data = (arrays[0].reshape(n, T, d), arrays[1].reshape(n, d), arrays[2], arrays[3],
            np.array([int(v) for v in tok[k:k + n]]))
    out, version = [], None
    for p in ps:
        times, cpus, res = [], [], None
        for _ in range(reps):
            try:
                t, ct, x, lam, st = solve(A, p)
            except Exception as e:  # cvxopt raises on singular KKT systems
                res = {"p": p, "status": "error: %s" % e}
                break
            times.append(t)
            cpus.append(ct)
            ub, lb, gap, viol = certify(A, p, x, lam)
            res = {"p": p, "status": st, "objective": ub, "lower_bound": lb, "gap": gap,
                   "max_violation": viol}
        if times:
            res["seconds"] = median(times)
            res["cpu_seconds"] = median(cpus)
        version = mdatt_column(res, A, p, data, reps)
        out.append(res)
    print(json.dumps({"cvxopt": cvxopt.__version__, "mdatt": version, "results": out},
                     default=lambda v: None if v != v else v))


if __name__ == "__main__":
    main()
