/* workset.c - seed rows, pricing and extending working sets (workset.h). */
#include <stdlib.h>

#include "rows.h"
#include "workset.h"

int attsvm__seed_rows(const attsvm__prob *P, int *rows)
{
    if (!P->s->row_generation) {
        for (int r = 0; r < P->m; r++)
            rows[r] = r;
        return P->m;
    }
    int k = 0;
    if (P->group > 0) {
        /* Per sample the row that is hardest to satisfy alone (smallest
         * ||a_r||_q: its single-row optimum 1/||a_r||_q is the largest). */
        for (int b = 0; b * P->group < P->m; b++) {
            int best = b * P->group;
            for (int r = best + 1; r < (b + 1) * P->group && r < P->m; r++)
                if (P->nq[r] < P->nq[best])
                    best = r;
            rows[k++] = best;
        }
        return k;
    }
    int want = P->m < 16 ? P->m : 16;
    char *used = calloc((size_t)P->m, 1);
    if (!used)
        return -1;
    for (; k < want; k++) {
        int best = -1;
        for (int r = 0; r < P->m; r++)
            if (!used[r] && (best < 0 || P->nq[r] < P->nq[best]))
                best = r;
        used[best] = 1;
        rows[k] = best;
    }
    free(used);
    return k;
}

int attsvm__seed_add_support(const attsvm__prob *P, int *rows, int k, const double *lam)
{
    char *in = calloc((size_t)P->m, 1);
    if (!in)
        return -1;
    for (int t = 0; t < k; t++)
        in[rows[t]] = 1;
    for (int r = 0; r < P->m; r++)
        if (lam[r] > 0.0 && !in[r])
            rows[k++] = r;
    free(in);
    return k;
}

typedef struct {
    double v;
    int r;
} vrow;

static int vrow_cmp(const void *a, const void *b)
{
    const vrow *x = a, *y = b;
    return x->v > y->v ? -1 : x->v < y->v ? 1 : (x->r > y->r) - (x->r < y->r);
}

int attsvm__violated_rows(const attsvm__prob *P, const double *ax, const char *inws,
                          double tol, int *add)
{
    const int m = P->m;
    vrow *c = malloc(sizeof *c * (size_t)(m + 1));
    int k = 0;
    if (!c)
        return -1;
    for (int r = 0; r < m; r++) {
        double v = (1.0 - ax[r]) / P->nq[r];
        if (!inws[r] && v > tol)
            c[k++] = (vrow){v, r};
    }
    qsort(c, (size_t)k, sizeof *c, vrow_cmp);
    int out = 0;
    if (P->group > 0) {
        /* At most per_block rows of each sample, the most violated. */
        const int nb = (m + P->group - 1) / P->group;
        int *cnt = calloc((size_t)nb, sizeof *cnt);
        const int per_block = 2;
        if (!cnt) {
            free(c);
            return -1;
        }
        for (int i = 0; i < k; i++)
            if (cnt[c[i].r / P->group]++ < per_block)
                add[out++] = c[i].r;
        free(cnt);
    } else {
        int cap = P->nx / 10 > 16 ? P->nx / 10 : 16;
        for (int i = 0; i < k && i < cap; i++)
            add[out++] = c[i].r;
    }
    free(c);
    return out;
}

int attsvm__price(const attsvm__prob *P, const double *x, double *ax, const char *inws,
                  double tol, int *add)
{
    attsvm__rows_ax(P, x, ax);
    return attsvm__violated_rows(P, ax, inws, tol, add);
}

void attsvm__workset_extend(int *S, int *nS, char *inws, double *nu, const int *add, int k)
{
    for (int t = 0; t < k; t++) {
        S[*nS] = add[t];
        if (nu)
            nu[*nS] = 0.0;
        (*nS)++;
        inws[add[t]] = 1;
    }
}
