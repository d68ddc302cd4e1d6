#!/usr/bin/python3
"""Independent reference for tests/data/fig4_small.json (run offline:
/usr/bin/python3 tests/data/reference_fig4.py > tests/data/fig4_small_expected.csv).

Re-implements, from the formulas of doc/design.md and without any mdatt code:
the seeded generator (SplitMix64 -> xoshiro256**, polar normals), normalized
l_p mirror descent with the cancellation-free gradient, and the l_p-AttSVM by
its smooth dual max sum(lam) - ||A^T lam||_q^q / q (lam >= 0) with L-BFGS-B,
W = sign(u)|u|^(q-1), u = A^T lam, rescaled to feasibility.  Prints the table
p_alg,p_svm,mean,std,seeds of the final directional Bregman divergence, plus
the selected tokens of every run as comments.
"""
import math
import sys
import numpy as np
from scipy.optimize import minimize

M = (1 << 64) - 1


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


class Rng:
    def __init__(self, seed):
        x, self.s = seed, []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
            self.s.append(z ^ (z >> 31))
        self.spare = None

    def next(self):
        s = self.s
        r = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
        return r

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def normal(self):
        if self.spare is not None:
            z, self.spare = self.spare, None
            return z
        while True:
            u, v = 2 * self.uniform() - 1, 2 * self.uniform() - 1
            s = u * u + v * v
            if 0 < s < 1:
                break
        f = math.sqrt(-2 * math.log(s) / s)
        self.spare = v * f
        return u * f


def unit(r, d):
    x = np.array([r.normal() for _ in range(d)])
    return x / math.sqrt(float(np.sum(x * x)))


def gen(n, T, d, seed):
    r = Rng(seed)
    v = unit(r, d)
    X, Z, Y = np.zeros((n, T, d)), np.zeros((n, d)), np.zeros(n)
    for i in range(n):
        for t in range(T):
            X[i, t] = unit(r, d)
        Z[i] = unit(r, d)
        Y[i] = 1.0 if r.uniform() < 0.5 else -1.0
    return X, Y, Z, v


def grad_direction(X, Y, Z, v, W):
    """grad_W L up to a positive factor, logistic loss, cancellation-free:
    sum_{t != a} s_t (h_t - f)(x_t - x_a), h_a - f = sum_{u != a} s_u (h_a - h_u)."""
    n = X.shape[0]
    terms, logs = [], []
    for i in range(n):
        a_sc = X[i] @ (W @ Z[i])
        h = X[i] @ v
        a = int(np.argmax(a_sc))
        others = [t for t in range(X.shape[1]) if t != a]
        l = a_sc[others] - a_sc[a]
        lse = np.logaddexp.reduce(np.concatenate(([0.0], l)))
        logs_t = l - lse                      # log s_t, t != a
        m = logs_t.max()
        w = np.exp(logs_t - m)                # s_t / max s
        ha_minus_f = np.sum(np.exp(logs_t) * (h[a] - h[others]))
        f = h[a] - ha_minus_f
        u = Y[i] * f
        log_abs_c = -np.logaddexp(0.0, u)     # |l'(u)| = sigmoid(-u)
        g = np.zeros(X.shape[2])
        for j, t in enumerate(others):
            g += w[j] * ((h[t] - h[a]) + ha_minus_f) * (X[i, t] - X[i, a])
        terms.append(-Y[i] * np.outer(g, Z[i]))   # c_i = -sigmoid(-u) Y_i / n
        logs.append(log_abs_c + m)
    M0 = max(logs)
    return sum(np.exp(L - M0) * G for L, G in zip(logs, terms))


def train(X, Y, Z, v, W, p, lr, iters):
    q = p / (p - 1)
    theta = np.sign(W) * np.abs(W) ** (p - 1)
    for _ in range(iters):
        G = grad_direction(X, Y, Z, v, W)
        theta = theta - lr * G / np.sum(np.abs(G) ** q) ** (1 / q)
        W = np.sign(theta) * np.abs(theta) ** (1 / (p - 1))
    return W


def svm(X, Z, alpha, p):
    n, T, d = X.shape
    rows = [np.outer(X[i, alpha[i]] - X[i, t], Z[i]).ravel()
            for i in range(n) for t in range(T) if t != alpha[i]]
    A = np.array(rows)
    q = p / (p - 1)

    def negdual(lam):
        u = A.T @ lam
        val = lam.sum() - np.sum(np.abs(u) ** q) / q
        grad = 1.0 - A @ (np.sign(u) * np.abs(u) ** (q - 1))
        return -val, -grad

    res = minimize(negdual, np.full(A.shape[0], 0.01), jac=True, method="L-BFGS-B",
                   bounds=[(0, None)] * A.shape[0],
                   options={"maxiter": 100000, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 50})
    u = A.T @ res.x
    w = np.sign(u) * np.abs(u) ** (q - 1)
    w = w / np.min(A @ w)                     # feasible: min margin 1
    return w.reshape(d, d)


def bregman_dir(A, B, p):
    A = A / np.sum(np.abs(A) ** p) ** (1 / p)
    B = B / np.sum(np.abs(B) ** p) ** (1 / p)
    psi = lambda W: np.sum(np.abs(W) ** p) / p
    gB = np.sign(B) * np.abs(B) ** (p - 1)
    return psi(A) - psi(B) - np.sum(gB * (A - B))


def main():
    n, T, d, seeds = 6, 8, 10, [1, 2, 3]
    ps, iters, lr = [1.75, 2.0, 3.0], [150, 200, 2000], 0.1
    div = {}
    print("p_alg,p_svm,mean,std,seeds")
    notes = []
    for pa, K in zip(ps, iters):
        for seed in seeds:
            X, Y, Z, v = gen(n, T, d, seed)
            r = Rng(seed)
            W0 = np.array([r.normal() for _ in range(d * d)]).reshape(d, d)
            W = train(X, Y, Z, v, W0, pa, lr, K)
            alpha = [int(np.argmax(X[i] @ (W @ Z[i]))) for i in range(n)]
            notes.append("# p=%g seed=%d alpha=%s" % (pa, seed, alpha))
            for ps_ in ps:
                div.setdefault((pa, ps_), []).append(bregman_dir(svm(X, Z, alpha, ps_), W, pa))
    for pa in ps:
        for ps_ in ps:
            x = np.array(div[(pa, ps_)])
            print("%g,%g,%.10g,%.10g,%d" % (pa, ps_, x.mean(), x.std(ddof=1), len(x)))
    print("\n".join(notes), file=sys.stderr)


if __name__ == "__main__":
    main()
