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
    attsvm_settings s;
    attsvm_default_settings(&s);
    s.p = p;
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

/* Move every sample that has a support token scoring at least as high as its
 * selected one (the oracle's tie rule, 1e-12 relative) to its best-scoring
 * token; the number of samples moved. */
static int repair_alpha(const mdatt_instance *in, int *alpha, const attsvm_result *r)
{
    attsvm_data D = bench_svm_data(in);
    int moved = 0;
    for (int k = 0; k < r->nsupport; k++) {
        int i, t, best = 0;
        attsvm_row_pair(&D, alpha, ATTSVM_TARGET_W, r->support[k], &i, &t);
        const double ga = gamma_of(in, i, alpha[i]);
        if (ga > gamma_of(in, i, t) + 1e-12 * fmax(1.0, fabs(ga)))
            continue;
        for (int s = 1; s < in->T; s++)
            best = gamma_of(in, i, s) > gamma_of(in, i, best) ? s : best;
        if (best != alpha[i]) {
            alpha[i] = best;
            moved++;
        }
    }
    return moved;
}

int bench_local_alpha(const mdatt_instance *in, int *alpha, double p, int max_rounds,
                      attsvm_result *r, int *moved)
{
    attsvm_data D = bench_svm_data(in);
    *moved = 0;
    for (int round = 0;; round++) {
        const int solved = bench_svm(in, alpha, p, ATTSVM_TARGET_W, r) == 0;
        attsvm_tokens tok = {0};
        if (solved)
            attsvm_classify(&D, alpha, r, &tok);
        attsvm_tokens_free(&tok);
        if (solved && tok.locally_optimal)
            return round;
        const int m = solved && round < max_rounds ? repair_alpha(in, alpha, r) : 0;
        attsvm_result_free(r);
        if (m == 0)
            return -1;
        *moved += m;
    }
}
