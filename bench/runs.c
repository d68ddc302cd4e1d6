/* runs.c - training snapshots and oracle calls shared by the experiments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runs.h"

int bench_snaps_init(bench_snaps *s, int d, int cap, const long *want, int nwant)
{
    memset(s, 0, sizeof *s);
    s->d = d;
    s->cap = cap;
    s->want = want;
    s->nwant = nwant;
    s->k = malloc(sizeof(long) * cap);
    s->W = malloc(sizeof(double) * cap * d * d);
    s->v = malloc(sizeof(double) * cap * d);
    s->smax_min = malloc(sizeof(double) * cap);
    s->log1m = malloc(sizeof(double) * cap);
    return s->k && s->W && s->v && s->smax_min && s->log1m ? 0 : -1;
}

void bench_snaps_free(bench_snaps *s)
{
    free(s->k);
    free(s->W);
    free(s->v);
    free(s->smax_min);
    free(s->log1m);
    memset(s, 0, sizeof *s);
}

int bench_snap_hook(const mdatt_train_point *pt, void *ctx)
{
    bench_snaps *s = ctx;
    if (s->count >= s->cap)
        return 0;
    if (s->want) {
        int hit = 0;
        for (int j = 0; j < s->nwant; j++)
            hit |= s->want[j] == pt->k;
        if (!hit)
            return 0;
    }
    if (s->count > 0 && s->k[s->count - 1] == pt->k)
        return 0;                   /* the final call may repeat the last point */
    const int d = s->d;
    s->k[s->count] = pt->k;
    memcpy(s->W + (size_t)s->count * d * d, pt->W, sizeof(double) * d * d);
    memcpy(s->v + (size_t)s->count * d, pt->v, sizeof(double) * d);
    s->smax_min[s->count] = pt->ev.smax_min;
    s->log1m[s->count] = pt->ev.log1m_smax_max;
    s->count++;
    return 0;
}

attsvm_data bench_svm_data(const mdatt_instance *in)
{
    attsvm_data D = {in->n, in->T, in->d, in->X, in->Z, in->Y, in->v};
    return D;
}

int bench_svm(const mdatt_instance *in, const int *alpha, double p, attsvm_target tg,
              attsvm_result *r)
{
    return bench_svm_gap(in, alpha, p, tg, 0.0, r);
}

int bench_svm_gap(const mdatt_instance *in, const int *alpha, double p, attsvm_target tg,
                  double gap_tol, attsvm_result *r)
{
    attsvm_settings s;
    attsvm_default_settings(&s);
    s.p = p;
    if (gap_tol > 0)
        s.gap_tol = gap_tol;
    attsvm_data D = bench_svm_data(in);
    memset(r, 0, sizeof *r);
    return attsvm_solve(&D, alpha, tg, &s, r) == ATTSVM_OPTIMAL ? 0 : -1;
}

/* gamma_it = Y_i v^T x_it, the score that decides token optimality. */
static double gamma_of(const mdatt_instance *in, int i, int t)
{
    const double *x = in->X + ((size_t)in->T * i + t) * in->d;
    long double s = 0.0L;
    for (int j = 0; j < in->d; j++)
        s += (long double)in->v[j] * x[j];
    return in->Y[i] * (double)s;
}

/* The token of sample i scoring highest (the lowest such index), or -1 when
 * alpha_i already scores highest (within the tie rule). */
static int top_token(const mdatt_instance *in, int i, int a)
{
    const double ga = gamma_of(in, i, a), tol = 1e-12 * fmax(1.0, fabs(ga));
    int top = -1;
    for (int t = 0; t < in->T; t++) {
        const double g = gamma_of(in, i, t);
        if (g > ga + tol && (top < 0 || g > gamma_of(in, i, top)))
            top = t;
    }
    return top;
}

/* Samples that break local optimality at alpha (a support token t with
 * gamma_it >= gamma_ia, the oracle's tie rule: 1e-12 relative); when move is
 * not NULL, move[i] receives the best-scoring such t if it scores strictly
 * higher, else (only ties) the sample's highest-scoring token (top_token),
 * else -1. */
static int not_local(const mdatt_instance *in, const int *alpha, const attsvm_result *r, int *move)
{
    attsvm_data D = bench_svm_data(in);
    double *best = malloc(sizeof(double) * in->n);
    int bad = 0;
    if (!best)
        return in->n;
    for (int i = 0; i < in->n; i++) {
        best[i] = -INFINITY;
        if (move)
            move[i] = -1;
    }
    for (int k = 0; k < r->nsupport; k++) {
        int i, t;
        attsvm_row_pair(&D, alpha, ATTSVM_TARGET_W, r->support[k], &i, &t);
        const double ga = gamma_of(in, i, alpha[i]), gt = gamma_of(in, i, t), tol = 1e-12 * fmax(1.0, fabs(ga));
        if (ga > gt + tol)
            continue;
        bad += best[i] == -INFINITY;
        if (gt > best[i]) {
            best[i] = gt;
            if (move)
                move[i] = gt > ga + tol ? t : -1;
        }
    }
    for (int i = 0; move && i < in->n; i++)
        if (best[i] > -INFINITY && move[i] < 0)
            move[i] = top_token(in, i, alpha[i]);
    free(best);
    return bad;
}

/* Certified relative gap asked of the SVM solves of bench_local_alpha: the
 * default 1e-10 is missed by a few times on some real-token selections. */
#define LOCAL_GAP 1e-8

/* The samples moved this round (cur differs from prev) whose rows carry the
 * Farkas certificate of w (an infeasible selection) go back to prev; the
 * count of those moved back. */
static int take_back(const mdatt_instance *in, int *cur, const int *prev, const attsvm_result *w)
{
    attsvm_data D = bench_svm_data(in);
    int back = 0, t, *smp = malloc(sizeof(int) * (w->ndual + 1));
    if (!smp)
        return 0;
    for (int k = 0; k < w->ndual; k++) /* every row's sample at cur, before any change */
        attsvm_row_pair(&D, cur, ATTSVM_TARGET_W, w->dual[k].row, &smp[k], &t);
    for (int k = 0; k < w->ndual; k++)
        if (cur[smp[k]] != prev[smp[k]]) {
            cur[smp[k]] = prev[smp[k]];
            back++;
        }
    free(smp);
    return back;
}

int bench_local_alpha(const mdatt_instance *in, int *alpha, double p, int max_rounds,
                      attsvm_result *r, int *moved, int *left)
{
    const int n = in->n;
    int *cur = malloc(sizeof(int) * n), *move = malloc(sizeof(int) * n),
        *prev = malloc(sizeof(int) * n), rounds = 0;
    attsvm_result w;                    /* the SVM at cur when cur is not the best */
    memset(&w, 0, sizeof w);
    *moved = 0;
    if (!cur || !move || !prev || bench_svm_gap(in, alpha, p, ATTSVM_TARGET_W, LOCAL_GAP, r) != 0) {
        attsvm_result_free(r);
        free(cur);
        free(move);
        free(prev);
        return -1;
    }
    *left = not_local(in, alpha, r, NULL);
    memcpy(cur, alpha, sizeof(int) * n);
    const attsvm_result *wr = r;
    for (int round = 1; round <= max_rounds && *left > 0; round++) {
        int m = 0, solved = 0;
        not_local(in, cur, wr, move);
        memcpy(prev, cur, sizeof(int) * n);
        for (int i = 0; i < n; i++)
            if (move[i] >= 0) {
                cur[i] = move[i];
                m++;
            }
        attsvm_result_free(&w);
        /* A selection without a W-SVM: the moved samples that its Farkas
         * certificate names go back, and the rest is solved again. */
        while (m > 0 && !(solved = bench_svm_gap(in, cur, p, ATTSVM_TARGET_W, LOCAL_GAP, &w) == 0) &&
               w.status == ATTSVM_INFEASIBLE) {
            const int back = take_back(in, cur, prev, &w);
            attsvm_result_free(&w);
            if (back == 0)
                break;
            m -= back;
        }
        if (!solved)
            break;                      /* only ties left, or the oracle gave no verdict */
        wr = &w;
        *moved += m;
        const int l = not_local(in, cur, &w, NULL);
        if (l < *left) {                /* alpha keeps the best selection seen */
            *left = l;
            rounds = round;
            memcpy(alpha, cur, sizeof(int) * n);
            attsvm_result_free(r);
            *r = w;
            memset(&w, 0, sizeof w);
            wr = r;
        }
    }
    attsvm_result_free(&w);
    free(cur);
    free(move);
    free(prev);
    return rounds;
}

double bench_max_row_norm(const mdatt_instance *in, const int *alpha, double q)
{
    const int d = in->d, T = in->T;
    double *b = malloc(sizeof(double) * d), best = 0.0;
    if (!b)
        return NAN;
    for (int i = 0; i < in->n; i++) {
        const double *xa = in->X + ((size_t)i * T + alpha[i]) * d;
        double bmax = 0.0;
        for (int t = 0; t < T; t++) {
            const double *xt = in->X + ((size_t)i * T + t) * d;
            for (int j = 0; j < d; j++)
                b[j] = xa[j] - xt[j];
            bmax = fmax(bmax, mdatt_norm_p(b, (size_t)d, q));
        }
        best = fmax(best, bmax * mdatt_norm_p(in->Z + (size_t)i * d, (size_t)d, q));
    }
    free(b);
    return best;
}

double bench_cone_width(const mdatt_instance *in, const int *alpha, const double *Wmm, double p)
{
    return 1.0 / (mdatt_norm_p(Wmm, (size_t)in->d * in->d, p) * bench_max_row_norm(in, alpha, p / (p - 1.0)));
}

double bench_cone_start(const mdatt_instance *in, const int *alpha, const double *Wmm, double p,
                        double R, double theta, uint64_t seed, double *W)
{
    const int dd = in->d * in->d;
    const double nm = mdatt_norm_p(Wmm, (size_t)dd, p),
                 delta = theta > 0 ? theta * bench_cone_width(in, alpha, Wmm, p) : 0.0;
    mdatt_rng g;
    mdatt_rng_seed(&g, seed);
    for (int k = 0; k < dd; k++)
        W[k] = mdatt_rng_normal(&g);
    const double ng = mdatt_norm_p(W, (size_t)dd, p);
    for (int k = 0; k < dd; k++)
        W[k] = R * (Wmm[k] / nm + delta * W[k] / ng);
    return delta;
}
