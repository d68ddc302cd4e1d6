/* mdatt_rate.h - libmdatt's rate tools (doc/design.md §7): curve families
 * fitted in log space, their selection and bootstrap intervals, bound
 * expressions in k, the check of a stated bound along a curve, and the
 * whole analysis of `mdatt rate` (mdatt_rate). */
#ifndef MDATT_RATE_H
#define MDATT_RATE_H

#include <stdint.h>
#include "mdatt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Curve families fitted to a metric y(k) (design.md (24)), all linear in
 *  log space: log y = log a + (regressor) with at most one slope. */
typedef enum {
    MDATT_FAM_POWER = 0,    /**< a k^-b           (2 parameters, k >= 1) */
    MDATT_FAM_LOGPOWER,     /**< a (log k)^-b     (2 parameters, k >= 2) */
    MDATT_FAM_LOGLOG,       /**< a log log k / log k (1 parameter, k >= 3) */
    MDATT_FAM_LINEAR,       /**< a k              (1 parameter, k >= 1) */
    MDATT_FAM_LOG,          /**< a log k          (1 parameter, k >= 2) */
    MDATT_FAM_EXP,          /**< a e^{-b k}       (2 parameters, k >= 1): linear convergence */
    MDATT_NFAM
} mdatt_family;
/** "power", "logpower", "loglog", "linear", "log", "exp". */
const char *mdatt_family_name(mdatt_family f);
/** Parse a family name; MDATT_EINVAL if unknown. */
mdatt_status mdatt_family_parse(const char *name, mdatt_family *out);
/** Number of free parameters (1 or 2). */
int mdatt_family_nparam(mdatt_family f);
/** Smallest integer k at which the family is defined and positive. */
long mdatt_family_kmin(mdatt_family f);

/** A least-squares fit of one family in log space. */
typedef struct {
    mdatt_family family; /**< which curve */
    double a;           /**< scale */
    double b;           /**< exponent (NAN for one-parameter families) */
    double rmse;        /**< root mean square of the log-space residuals */
    int m;              /**< points used */
} mdatt_fit;
/** Fit family f to the m points (k_j, logy_j) (logy = log of the metric)
 *  by least squares on log y; every k_j must be >= mdatt_family_kmin(f).
 *  MDATT_EINVAL if m < nparam + 1 or the design is degenerate. */
mdatt_status mdatt_fit_family(mdatt_family f, const double *k, const double *logy, int m,
                              mdatt_fit *out);
/** Value a * g(k) of a fitted curve. */
double mdatt_fit_eval(const mdatt_fit *fit, double k);
/** The selection rule of `mdatt rate`: the lowest rmse wins; fits within
 *  1e-6 relative + 1e-12 absolute of it are ties, resolved to fewer
 *  parameters, then to the earlier family in mdatt_family order.
 *  Returns the index into fits (nf > 0). */
int mdatt_fit_select(const mdatt_fit *fits, int nf);

/** When a fit counts as an answer: a fit whose parameters are not finite, whose
 *  scale or exponent is beyond these bounds, or whose log-space RMSE is above
 *  max_rmse explains nothing and is never selected (`mdatt rate` then says
 *  "no admissible fit"). */
typedef struct {
    double max_rmse;    /**< largest RMSE of log y (default 1: a typical error of a factor e) */
    double max_log10_a; /**< largest |log10 a| (default 30) */
    double max_abs_b;   /**< largest |b| of a two-parameter family (default 100) */
} mdatt_fit_rule;
/** Fill r with the defaults above. */
void mdatt_fit_default_rule(mdatt_fit_rule *r);
/** NULL if fit is admissible under r, else a static reason ("rmse above the
 *  bound", ...). */
const char *mdatt_fit_inadmissible(const mdatt_fit *fit, const mdatt_fit_rule *r);
/** mdatt_fit_select among the fits admissible under r; -1 if there is none. */
int mdatt_fit_select_admissible(const mdatt_fit *fits, int nf, const mdatt_fit_rule *r);

/** Bootstrap over seeds: B times, draw S seeds with replacement (mdatt_rng
 *  seeded with seed), average their log y at each point (geometric mean
 *  curve) and fit family f; a_lo/a_hi and b_lo/b_hi receive the 2.5 and 97.5
 *  percentiles (linear interpolation between order statistics).  logy is
 *  S x m row-major; b_lo/b_hi are NAN for one-parameter families. */
mdatt_status mdatt_fit_bootstrap(mdatt_family f, const double *k, const double *logy, int S,
                                 int m, int B, uint64_t seed, double *a_lo, double *a_hi,
                                 double *b_lo, double *b_hi);

/** A parsed bound expression in k: numbers, k, + - * / ^ (right
 *  associative, above unary minus: -2^2 = -4), parentheses and the
 *  functions log, exp, sqrt, abs, pow(x, y). */
typedef struct mdatt_expr mdatt_expr;
/** Parse s; NULL on error with err naming the 1-based position. */
mdatt_expr *mdatt_expr_parse(const char *s, char err[MDATT_ERRLEN]);
/** Value at k (IEEE semantics: log of a negative number is NAN). */
double mdatt_expr_eval(const mdatt_expr *e, double k);
/** Release a parsed expression (NULL is allowed). */
void mdatt_expr_free(mdatt_expr *e);

/** A bound y(k) <= bound(k) checked along one curve within a window. */
typedef struct {
    long checked;       /**< logged points in the window */
    long violations;    /**< points where y > bound, or either is NaN */
    double first_k;     /**< first violating k (NAN if none) */
    double first_value, first_bound; /**< y and the bound there */
    double last_k;      /**< last violating k (NAN if none) */
    double last_value, last_bound;   /**< y and the bound there */
    double holds_from;  /**< smallest logged k of the window from which every later
                             point holds: the first checked k without violations,
                             the point after last_k otherwise, NAN if last_k is
                             the last checked point */
} mdatt_claim_curve;
/** Check y_i <= bound(k_i) for the n points (k increasing) with k0 <= k_i <= k1. */
void mdatt_claim_check(const mdatt_expr *bound, const double *k, const double *y, long n,
                       double k0, double k1, mdatt_claim_curve *out);


/* ------------------------------------------------------------ rate analysis */

/** One seed's curve of a metric: logged iterations and values. */
typedef struct {
    long n;             /**< points (>= 1) */
    const double *k;    /**< n iterations: non-negative integers, strictly increasing */
    const double *y;    /**< n raw metric values */
} mdatt_rate_curve;

/** Settings of a rate analysis (`mdatt rate` flags of the same meaning). */
typedef struct {
    double k0;          /**< window start (default NAN: K1/10, at least 1) */
    double k1;          /**< window end (default NAN: the last k logged in every curve;
                             a larger value is clamped to it) */
    int negate;         /**< fit -y instead of y, e.g. -log L = log(1/L) (default 0) */
    int nfam;           /**< families to fit (default MDATT_NFAM) */
    mdatt_family fam[MDATT_NFAM]; /**< which, distinct, in mdatt_family order (default all) */
    long boot;          /**< bootstrap resamples (default 1000) */
    uint64_t seed;      /**< bootstrap seed (default 1) */
    const mdatt_expr *bound; /**< a claim y(k) <= bound(k) to check on every curve
                                  (raw values; default NULL: none) */
} mdatt_rate_settings;
void mdatt_rate_default_settings(mdatt_rate_settings *s);
/** NULL if valid, else a static message naming the field. */
const char *mdatt_rate_check_settings(const mdatt_rate_settings *s);

/** Why an analysis has no answer (MDATT_EINVAL from mdatt_rate). */
typedef enum {
    MDATT_RATE_OK = 0,
    MDATT_RATE_EMPTY_WINDOW,    /**< K0 > K1 */
    MDATT_RATE_FEW_POINTS,      /**< fewer than 3 common points in the window */
    MDATT_RATE_NO_FIT,          /**< no family could be fitted */
    MDATT_RATE_CLAIM_EMPTY      /**< curve failed_curve has no logged k in the window */
} mdatt_rate_failure;

/** What mdatt_rate found (free with mdatt_rate_result_free). */
typedef struct {
    int ncurves;        /**< seeds analysed */
    double K0, K1;      /**< the window used */
    double kend;        /**< the last k logged in every curve */
    int k1_clamped;     /**< the k1 asked for was beyond kend */
    long kmin_fit;      /**< smallest k at which every family fitted is defined */
    int m;              /**< common fit points */
    long dropped;       /**< window points of the first curve left out (missing or not a
                             positive finite value in some curve) */
    double *kfit;       /**< m common points */
    double *logy;       /**< ncurves x m log values (of -y with negate), seed-major */
    double *mean;       /**< m means over seeds of logy: the fitted curve */
    int nfam;           /**< families fitted, as in the settings */
    mdatt_family fam[MDATT_NFAM];
    mdatt_fit fit[MDATT_NFAM];      /**< fits of the mean curve (rmse NAN: not fitted) */
    int fitted[MDATT_NFAM];         /**< mdatt_fit_family succeeded (else degenerate) */
    const char *why[MDATT_NFAM];    /**< why a fitted family is not admissible, or NULL */
    int boot_ok[MDATT_NFAM];        /**< the bootstrap gave an interval */
    double ci[MDATT_NFAM][4];       /**< a_lo, a_hi, b_lo, b_hi (mdatt_fit_bootstrap) */
    int best;           /**< index of the chosen (admissible) fit; -1: none */
    mdatt_fit *per;     /**< ncurves fits of the chosen family per seed (NULL if best < 0) */
    mdatt_claim_curve *claim; /**< ncurves checks of the bound (NULL without one) */
    int seeds_ok;       /**< curves on which the bound holds at every point of the window */
    mdatt_rate_failure failure; /**< why MDATT_EINVAL, for the caller's message */
    int failed_curve;   /**< MDATT_RATE_CLAIM_EMPTY: which curve (else -1) */
} mdatt_rate_result;

/** The rate analysis of doc/design.md §7 on ncurves seeds' curves: the
 *  window, the points logged in every curve with positive finite values
 *  (k >= kmin_fit), the families fitted to the mean log curve with
 *  bootstrap intervals over seeds, the admissible fit of lowest RMSE
 *  (mdatt_fit_select_admissible) refitted per seed, and the bound checked
 *  on every curve.  MDATT_EINVAL (err says why, r->failure the case) for bad
 *  settings or curves or no answer, MDATT_ENOMEM; r holds what was computed
 *  up to there either way. */
mdatt_status mdatt_rate(const mdatt_rate_curve *curves, int ncurves, const mdatt_rate_settings *s,
                        mdatt_rate_result *r, char err[MDATT_ERRLEN]);
/** "holds from k >= K on H of the seeds": K (returned) is the largest
 *  per-curve holds_from, H (*nholding) the curves where the bound holds at
 *  the end of the window; -INFINITY and 0 when there are none. */
double mdatt_rate_holds_from(const mdatt_rate_result *r, int *nholding);
/** Release the arrays of r (safe on a zeroed struct). */
void mdatt_rate_result_free(mdatt_rate_result *r);

#ifdef __cplusplus
}
#endif
#endif
