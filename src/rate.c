/* rate.c - the rate analysis of `mdatt rate` as a library function
 * (doc/design.md §7): the window, the points common to every seed's curve,
 * the families (24) fitted to the mean log curve with bootstrap intervals
 * over seeds and the admissibility rule, the chosen family per seed, and a
 * stated bound checked along every curve. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mdatt_rate.h"

void mdatt_rate_default_settings(mdatt_rate_settings *s)
{
    memset(s, 0, sizeof *s);
    s->k0 = NAN;
    s->k1 = NAN;
    s->nfam = MDATT_NFAM;
    for (int f = 0; f < MDATT_NFAM; f++)
        s->fam[f] = (mdatt_family)f;
    s->boot = 1000;
    s->seed = 1;
}

const char *mdatt_rate_check_settings(const mdatt_rate_settings *s)
{
    if (!s) return "settings: NULL";
    if (!isnan(s->k0) && !(s->k0 >= 0 && s->k0 <= 9e15)) return "k0: must be in [0, 9e15] or NAN";
    if (!isnan(s->k1) && !(s->k1 >= 0 && s->k1 <= 9e15)) return "k1: must be in [0, 9e15] or NAN";
    if (!isnan(s->k0) && !isnan(s->k1) && s->k0 > s->k1) return "k0: must be <= k1";
    if (s->nfam < 1 || s->nfam > MDATT_NFAM) return "nfam: must be in [1, MDATT_NFAM]";
    for (int f = 0; f < s->nfam; f++) {
        if ((unsigned)s->fam[f] >= MDATT_NFAM) return "fam: unknown family";
        if (f > 0 && s->fam[f] <= s->fam[f - 1])
            return "fam: families must be distinct, in mdatt_family order";
    }
    if (s->boot < 1 || s->boot > 10000000) return "boot: must be in [1, 1e7]";
    return NULL;
}

/* Each curve non-empty with k non-negative integers, strictly increasing. */
static mdatt_status check_curves(const mdatt_rate_curve *c, int nc, char err[MDATT_ERRLEN])
{
    if (nc < 1 || !c)
        return mdatt__fail(err, MDATT_EINVAL, "curves: at least one is needed");
    for (int s = 0; s < nc; s++) {
        if (c[s].n < 1 || !c[s].k || !c[s].y)
            return mdatt__fail(err, MDATT_EINVAL, "curves[%d]: no points", s);
        for (long r = 0; r < c[s].n; r++)
            if (!(c[s].k[r] >= 0) || c[s].k[r] != floor(c[s].k[r]) || c[s].k[r] > 9e15 ||
                (r > 0 && !(c[s].k[r] > c[s].k[r - 1])))
                return mdatt__fail(err, MDATT_EINVAL, "curves[%d].k[%ld]: %g is not an "
                                   "iteration number above the previous one", s, r, c[s].k[r]);
    }
    return MDATT_OK;
}

/* Index of k in the increasing array ks[0..n), or -1. */
static long find_k(const double *ks, long n, double k)
{
    long lo = 0, hi = n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (ks[mid] == k)
            return mid;
        if (ks[mid] < k)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The window [K0, K1]: k1 clamped to the last k logged in every curve,
 * k0 by default K1/10 (at least 1). */
static mdatt_status set_window(const mdatt_rate_curve *c, int nc, const mdatt_rate_settings *s,
                               mdatt_rate_result *r, char err[MDATT_ERRLEN])
{
    r->kend = INFINITY;
    for (int j = 0; j < nc; j++)
        r->kend = fmin(r->kend, c[j].k[c[j].n - 1]);
    r->K1 = !isnan(s->k1) ? fmin(s->k1, r->kend) : r->kend;
    r->k1_clamped = s->k1 > r->kend;
    r->K0 = !isnan(s->k0) ? s->k0 : fmax(1.0, floor(r->K1 / 10));
    if (r->K0 > r->K1) {
        r->failure = MDATT_RATE_EMPTY_WINDOW;
        return mdatt__fail(err, MDATT_EINVAL, "window: from %g is after to %g (the last k "
                           "logged in every curve is %g)", r->K0, r->K1, r->kend);
    }
    return MDATT_OK;
}

/* y of curve c at row at, as fitted (negated when asked). */
static double fitted_y(const mdatt_rate_curve *c, long at, int negate)
{
    return negate ? -c->y[at] : c->y[at];
}

/* The common fit points (k of the first curve in the window, logged with a
 * positive finite value in every curve), their log values per seed and the
 * mean over seeds. */
static mdatt_status common_points(const mdatt_rate_curve *c, int nc,
                                  const mdatt_rate_settings *s, mdatt_rate_result *r,
                                  char err[MDATT_ERRLEN])
{
    r->kmin_fit = 1;
    for (int f = 0; f < s->nfam; f++)
        if (mdatt_family_kmin(s->fam[f]) > r->kmin_fit)
            r->kmin_fit = mdatt_family_kmin(s->fam[f]);
    r->kfit = malloc(sizeof(double) * c[0].n);
    r->logy = malloc(sizeof(double) * c[0].n * nc);
    r->mean = malloc(sizeof(double) * c[0].n);
    if (!r->kfit || !r->logy || !r->mean)
        return mdatt__fail(err, MDATT_ENOMEM, "out of memory");
    for (long row = 0; row < c[0].n; row++) {
        double k = c[0].k[row];
        if (k < r->K0 || k > r->K1 || k < (double)r->kmin_fit)
            continue;
        int ok = 1;
        for (int j = 0; j < nc && ok; j++) {
            long at = j ? find_k(c[j].k, c[j].n, k) : row;
            double y = at < 0 ? NAN : fitted_y(&c[j], at, s->negate);
            ok = at >= 0 && y > 0 && isfinite(y);
        }
        if (ok)
            r->kfit[r->m++] = k;
        else
            r->dropped++;
    }
    const int m = r->m;
    if (m < 3) {
        r->failure = MDATT_RATE_FEW_POINTS;
        return mdatt__fail(err, MDATT_EINVAL, "only %d usable points in the window [%g, %g]: "
                           "need at least 3", m, r->K0, r->K1);
    }
    for (int j = 0; j < m; j++) {   /* logy is seed-major: nc x m */
        r->mean[j] = 0;
        for (int q = 0; q < nc; q++) {
            const double y = fitted_y(&c[q], find_k(c[q].k, c[q].n, r->kfit[j]), s->negate);
            r->logy[(size_t)q * m + j] = log(y);
            r->mean[j] += r->logy[(size_t)q * m + j];
        }
        r->mean[j] /= nc;
    }
    return MDATT_OK;
}

/* Fit every family on the mean curve, bootstrap it, judge admissibility,
 * choose, and fit the chosen family per seed. */
static mdatt_status fit_families(int nc, const mdatt_rate_settings *s, mdatt_rate_result *r,
                                 char err[MDATT_ERRLEN])
{
    mdatt_fit_rule rule;
    mdatt_fit_default_rule(&rule);
    int nfit = 0;
    for (int f = 0; f < r->nfam; f++) {
        r->fitted[f] = mdatt_fit_family(r->fam[f], r->kfit, r->mean, r->m, &r->fit[f]) == MDATT_OK;
        if (!r->fitted[f]) {
            r->fit[f].rmse = NAN;
            for (int q = 0; q < 4; q++)
                r->ci[f][q] = NAN;
            continue;
        }
        nfit++;
        r->why[f] = mdatt_fit_inadmissible(&r->fit[f], &rule);
        r->boot_ok[f] = mdatt_fit_bootstrap(r->fam[f], r->kfit, r->logy, nc, r->m, (int)s->boot,
                                            s->seed, &r->ci[f][0], &r->ci[f][1], &r->ci[f][2],
                                            &r->ci[f][3]) == MDATT_OK;
    }
    if (nfit == 0) {
        r->failure = MDATT_RATE_NO_FIT;
        return mdatt__fail(err, MDATT_EINVAL, "no family can be fitted on the %d points", r->m);
    }
    r->best = mdatt_fit_select_admissible(r->fit, r->nfam, &rule);
    if (r->best < 0)
        return MDATT_OK;
    if (!(r->per = malloc(sizeof(mdatt_fit) * nc)))
        return mdatt__fail(err, MDATT_ENOMEM, "out of memory");
    for (int q = 0; q < nc; q++)
        mdatt_fit_family(r->fam[r->best], r->kfit, r->logy + (size_t)q * r->m, r->m, &r->per[q]);
    return MDATT_OK;
}

/* The bound checked along every curve within the window (raw values). */
static mdatt_status check_claim(const mdatt_rate_curve *c, int nc, const mdatt_expr *bound,
                                mdatt_rate_result *r, char err[MDATT_ERRLEN])
{
    if (!(r->claim = calloc(nc, sizeof *r->claim)))
        return mdatt__fail(err, MDATT_ENOMEM, "out of memory");
    for (int q = 0; q < nc; q++) {
        mdatt_claim_check(bound, c[q].k, c[q].y, c[q].n, r->K0, r->K1, &r->claim[q]);
        if (r->claim[q].checked == 0) {
            r->failure = MDATT_RATE_CLAIM_EMPTY;
            r->failed_curve = q;
            return mdatt__fail(err, MDATT_EINVAL, "curves[%d]: no logged k in [%g, %g] to check "
                               "the claim", q, r->K0, r->K1);
        }
        r->seeds_ok += r->claim[q].violations == 0;
    }
    return MDATT_OK;
}

mdatt_status mdatt_rate(const mdatt_rate_curve *curves, int ncurves, const mdatt_rate_settings *s,
                        mdatt_rate_result *r, char err[MDATT_ERRLEN])
{
    memset(r, 0, sizeof *r);
    r->best = -1;
    r->failed_curve = -1;
    const char *bad = mdatt_rate_check_settings(s);
    if (bad)
        return mdatt__fail(err, MDATT_EINVAL, "%s", bad);
    mdatt_status st = check_curves(curves, ncurves, err);
    if (st != MDATT_OK)
        return st;
    r->ncurves = ncurves;
    r->nfam = s->nfam;
    memcpy(r->fam, s->fam, sizeof r->fam);
    if ((st = set_window(curves, ncurves, s, r, err)) != MDATT_OK ||
        (st = common_points(curves, ncurves, s, r, err)) != MDATT_OK ||
        (st = fit_families(ncurves, s, r, err)) != MDATT_OK)
        return st;
    if (s->bound)
        st = check_claim(curves, ncurves, s->bound, r, err);
    return st;
}

double mdatt_rate_holds_from(const mdatt_rate_result *r, int *nholding)
{
    double K = -INFINITY;
    *nholding = 0;
    for (int q = 0; r->claim && q < r->ncurves; q++)
        if (!isnan(r->claim[q].holds_from)) {
            (*nholding)++;
            K = fmax(K, r->claim[q].holds_from);
        }
    return K;
}

void mdatt_rate_result_free(mdatt_rate_result *r)
{
    free(r->kfit);
    free(r->logy);
    free(r->mean);
    free(r->per);
    free(r->claim);
    memset(r, 0, sizeof *r);
    r->best = -1;
    r->failed_curve = -1;
}
