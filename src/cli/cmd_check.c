/* cmd_check.c - `mdatt check`: compare a trained model with the oracle's
 * certified SVM (doc/design.md §4: directional Bregman divergence, cosine,
 * normalized margin ratio, selected tokens and their optimality), optionally
 * along a logged trajectory, and give a verdict with reasons. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int run(int argc, char **argv);

const cli_command cli_check = {
    "check", "compare a model (and its trajectory) with the certified SVM",
    "usage: mdatt check INSTANCE MODEL.json SVM.json [options]\n\n"
    "Measures how close the model's W (or v, for a v-SVM file) is to the SVM's\n"
    "W^mm (man mdatt; doc/design.md §4 in the source tree), with psi of the\n"
    "MODEL's p and the norms of the SVM's p\n"
    "(they may differ: the cross-p experiment):\n"
    "  bregman_dir   D_psi(W^mm/||W^mm||_p, W/||W||_p), in [0, 2]\n"
    "  cosine        <W^mm, W> / (||W^mm||_2 ||W||_2), and one_minus_cosine\n"
    "  margin_ratio  min_{i,t != a_i} <(x_ia - x_it) z_i^T, W> * ||W^mm||_p / ||W||_p\n"
    "                (p and ||W^mm||_p = objective of the SVM; <= 1, = 1 at W^mm)\n"
    "  tokens_match  the tokens argmax_t s_it selected by W equal the SVM's alpha\n"
    "  smax_min      smallest softmax probability of a selected token, with\n"
    "                log1m_smax = log(1 - smax_min) from log-domain sums\n"
    "  globally/locally_optimal  from the svm file, cross-checked against\n"
    "                gamma_it = Y_i v^T x_it and the svm's support (v: the instance's,\n"
    "                as the oracle uses; a joint model's own v instead, and then no\n"
    "                cross-check)\n\n"
    "The verdict passes when the svm status is optimal, its gap <= --max-gap (both\n"
    "the file's and the one recomputed here from the instance, W^mm and the\n"
    "multipliers), the recomputed token verdicts agree with the file's (unless\n"
    "tied), tokens match and every threshold given holds.  Exit 0 pass, 1 fail, 2 bad input\n"
    "(unreadable or malformed files, shapes that disagree).\n\n"
    "  --query-token K    self-attention: z_i = x_{i,K} (as given to train / svm)\n"
    "  --max-bregman B    bregman_dir <= B (default 1e-2)\n"
    "  --min-cosine C     cosine >= C (default: not checked)\n"
    "  --min-margin R     margin_ratio >= R (default: not checked)\n"
    "  --max-gap G        the svm's certified relative gap <= G (default 1e-8)\n"
    "  --allow-token-mismatch  do not require tokens_match\n"
    "  --require-global   require the svm's alpha to be globally optimal\n"
    "  --require-local    require the svm's alpha to be locally optimal\n"
    "  --traj TRAJ.csv    a trajectory logged by `mdatt train --log-w` (W_j_k\n"
    "                     columns; v_j too for a v-SVM): the same metrics per row\n"
    "  --traj-out FILE    where they go as CSV (k, bregman_dir, cosine,\n"
    "                     one_minus_cosine, margin_ratio, one_minus_margin,\n"
    "                     smax_min, log1m_smax, tokens_match); default: the -o\n"
    "                     path with .json replaced by .traj.csv\n"
    "  -o CHECK.json      the results and verdict as JSON, written atomically; with\n"
    "                     - (standard output) the table goes to stderr\n",
    run};

/* Metrics of one W (and v) against the SVM. */
typedef struct {
    double bregman_dir, cosine, one_minus_cosine, margin_ratio, smax_min, log1m_smax;
    int tokens_match;
} point_metrics;

typedef struct {
    const mdatt_instance *in;
    const mdatt_svm *svm;
    double p_model;
    int *alpha;         /* scratch: tokens selected by W */
} check_ctx;

static void measure(const check_ctx *c, const double *W, const double *v, point_metrics *pm)
{
    const mdatt_instance *in = c->in;
    const mdatt_svm *s = c->svm;
    const int d = in->d;
    mdatt_selected_tokens(in, W, c->alpha, &pm->smax_min, &pm->log1m_smax);
    pm->tokens_match = 1;
    for (int i = 0; i < in->n; i++)
        pm->tokens_match &= c->alpha[i] == s->alpha[i];
    pm->bregman_dir = pm->cosine = pm->one_minus_cosine = pm->margin_ratio = NAN;
    if (s->status != MDATT_SVM_OPTIMAL)
        return;
    const double *x = s->target_v ? v : W;
    size_t m = s->target_v ? (size_t)d : (size_t)d * d;
    pm->bregman_dir = mdatt_bregman_dir(s->x, x, m, c->p_model);
    pm->cosine = mdatt_cosine(s->x, x, m);
    pm->one_minus_cosine = mdatt_one_minus_cosine(s->x, x, m);
    pm->margin_ratio = s->target_v ? mdatt_margin_ratio_v(in, s->alpha, v, s->p, s->objective)
                                   : mdatt_margin_ratio(in, s->alpha, W, s->p, s->objective);
}

/* ------------------------------------------------------------- verdict */

#define MAX_REASONS 16

typedef struct {
    int n;
    char text[MAX_REASONS][200];
} reasons;

static void reason(reasons *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reason(reasons *r, const char *fmt, ...)
{
    if (r->n >= MAX_REASONS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text[r->n++], sizeof r->text[0], fmt, ap);
    va_end(ap);
}

typedef struct {
    double max_bregman, min_cosine, min_margin, max_gap;
    int allow_mismatch, require_global, require_local;
} thresholds;

/* ------------------------------------------------------------ trajectory */

typedef struct {
    long nrow;
    double *k;
    point_metrics *pm;
} traj_metrics;

/* Column index of W_j_k / v_j: first where the train log puts them, else a search. */
static int find_col(const mdatt_csv *c, const char *name, int guess)
{
    if (guess >= 0 && guess < c->ncol && strcmp(c->names[guess], name) == 0)
        return guess;
    return mdatt_csv_col(c, name);
}

/* Row r of a trajectory (line r + 2 of a file without blank lines): k a
 * non-negative integer above the previous row's, every W (and v) entry finite,
 * as `mdatt rate` requires of its inputs. */
static int traj_row_ok(const char *sub, const char *path, const mdatt_csv *c, long r, int kc,
                       const int *wc, const int *vc, int d)
{
    const double *row = c->data + (size_t)r * c->ncol, k = row[kc];
    if (!(k >= 0) || k != floor(k) || k > 9e15)
        return cli_error(sub, CLI_BAD, "%s: line %ld: k = %g must be a non-negative integer", path,
                         r + 2, k);
    if (r > 0 && !(k > row[kc - c->ncol]))
        return cli_error(sub, CLI_BAD, "%s: line %ld: k = %g is not above the previous row's "
                         "%g (repeated or decreasing)", path, r + 2, k, row[kc - c->ncol]);
    for (int j = 0; j < d * d + d; j++) {
        const int col = j < d * d ? wc[j] : vc[j - d * d];
        if (col >= 0 && !isfinite(row[col]))
            return cli_error(sub, CLI_BAD, "%s: line %ld, column %s: %g is not finite", path,
                             r + 2, c->names[col], row[col]);
    }
    return CLI_OK;
}

static int traj_compute(const char *sub, const char *path, const check_ctx *cx, traj_metrics *tm)
{
    char err[MDATT_ERRLEN] = "";
    mdatt_csv c;
    mdatt_status st = mdatt_csv_read(path, &c, err);
    if (st != MDATT_OK)
        return cli_status(sub, st, err);
    const int d = cx->in->d, need_v = cx->svm->target_v;
    int code = CLI_OK, kc = mdatt_csv_col(&c, "k");
    int *wc = malloc(sizeof(int) * d * d), *vc = malloc(sizeof(int) * d);
    double *W = malloc(sizeof(double) * d * d), *v = malloc(sizeof(double) * d);
    tm->k = malloc(sizeof(double) * (c.nrow ? c.nrow : 1));
    tm->pm = malloc(sizeof(point_metrics) * (c.nrow ? c.nrow : 1));
    tm->nrow = c.nrow;
    if (!wc || !vc || !W || !v || !tm->k || !tm->pm) {
        code = cli_error(sub, CLI_FAIL, "out of memory");
        goto done;
    }
    if (kc < 0) {
        code = cli_error(sub, CLI_BAD, "%s: column k missing", path);
        goto done;
    }
    if (c.nrow == 0) {
        code = cli_error(sub, CLI_BAD, "%s: no data rows", path);
        goto done;
    }
    char name[64];
    int w0 = mdatt_csv_col(&c, "W_0_0"), v0 = mdatt_csv_col(&c, "v_0");
    for (int j = 0; j < d; j++)
        for (int k = 0; k < d; k++) {
            snprintf(name, sizeof name, "W_%d_%d", j, k);
            if ((wc[j * d + k] = find_col(&c, name, w0 < 0 ? -1 : w0 + j * d + k)) < 0) {
                code = cli_error(sub, CLI_BAD, "%s: column %s missing (d = %d; log with "
                                 "`mdatt train --log-w`)", path, name, d);
                goto done;
            }
        }
    if (d * d < c.ncol) {
        snprintf(name, sizeof name, "W_%d_%d", d, 0);
        if (mdatt_csv_col(&c, name) >= 0) {
            code = cli_error(sub, CLI_BAD, "%s: column %s present: trajectory has d > %d", path,
                             name, d);
            goto done;
        }
    }
    for (int j = 0; j < d; j++) {
        snprintf(name, sizeof name, "v_%d", j);
        vc[j] = find_col(&c, name, v0 < 0 ? -1 : v0 + j);
        if (need_v && vc[j] < 0) {
            code = cli_error(sub, CLI_BAD, "%s: column %s missing (a v-SVM needs a joint "
                             "trajectory logged with --log-w)", path, name);
            goto done;
        }
    }
    for (long r = 0; r < c.nrow; r++) {
        const double *row = c.data + (size_t)r * c.ncol;
        if ((code = traj_row_ok(sub, path, &c, r, kc, wc, vc, d)) != CLI_OK)
            goto done;
        for (int j = 0; j < d * d; j++)
            W[j] = row[wc[j]];
        for (int j = 0; j < d; j++)
            v[j] = vc[j] >= 0 ? row[vc[j]] : cx->in->v[j];
        tm->k[r] = row[kc];
        measure(cx, W, v, &tm->pm[r]);
    }
done:
    free(wc);
    free(vc);
    free(W);
    free(v);
    mdatt_csv_free(&c);
    return code;
}

static void traj_write(FILE *f, const traj_metrics *tm)
{
    fputs("k,bregman_dir,cosine,one_minus_cosine,margin_ratio,one_minus_margin,smax_min,"
          "log1m_smax,tokens_match\n", f);
    for (long r = 0; r < tm->nrow; r++) {
        const point_metrics *p = &tm->pm[r];
        fprintf(f, "%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%d\n", tm->k[r],
                p->bregman_dir, p->cosine, p->one_minus_cosine, p->margin_ratio,
                1.0 - p->margin_ratio, p->smax_min, p->log1m_smax, p->tokens_match);
    }
}

/* ---------------------------------------------------------------- inputs */

/* Shapes of instance, model and svm must agree (exit 2 otherwise). */
static int check_shapes(const char *sub, const mdatt_instance *in, const mdatt_model *m,
                        const mdatt_svm *s)
{
    if (m->d != in->d)
        return cli_error(sub, CLI_BAD, "MODEL: W is %dx%d, instance has d=%d", m->d, m->d, in->d);
    if (m->alpha && m->n != in->n)
        return cli_error(sub, CLI_BAD, "MODEL: alpha has %d entries, instance has n=%d", m->n,
                         in->n);
    if (s->n != in->n)
        return cli_error(sub, CLI_BAD, "SVM: alpha has %d entries, instance has n=%d", s->n, in->n);
    for (int i = 0; i < s->n; i++)
        if (s->alpha[i] >= in->T)
            return cli_error(sub, CLI_BAD, "SVM: alpha[%d] = %d is out of range [0, %d)", i,
                             s->alpha[i], in->T);
    if (s->status == MDATT_SVM_OPTIMAL && s->d != in->d)
        return cli_error(sub, CLI_BAD, "SVM: %s has dimension %d, instance has d=%d",
                         s->target_v ? "v" : "W", s->d, in->d);
    for (int k = 0; k < s->nsupport; k++) {
        int i = s->support[2 * k], t = s->support[2 * k + 1];
        if (t >= in->T || (t == s->alpha[i]) != s->target_v)
            return cli_error(sub, CLI_BAD, "SVM: support[%d] = [%d,%d]: token must be in "
                             "[0, %d) and %s alpha[%d]", k, i, t, in->T,
                             s->target_v ? "equal" : "differ from", i);
    }
    for (int k = 0; k < s->ndual; k++)
        if (s->dual[k].t >= in->T)
            return cli_error(sub, CLI_BAD, "SVM: %s[%d].t = %d is out of range [0, %d)",
                             s->status == MDATT_SVM_INFEASIBLE ? "farkas" : "dual", k,
                             s->dual[k].t, in->T);
    return CLI_OK;
}

/* The model and svm files name the instance they were computed for
 * (instance_hash, README "Files"): another instance is bad input (exit 2);
 * older files without the field are accepted, with one note. */
static int check_identity(const char *sub, const char *const pos[3], const mdatt_instance *in,
                          const mdatt_model *m, const mdatt_svm *s)
{
    const uint64_t h = mdatt_instance_hash(in);
    const uint64_t got[2] = {m->instance_hash, s->instance_hash};
    const char *what[2] = {"was trained on", "was computed for"};
    for (int k = 0; k < 2; k++)
        if (got[k] && got[k] != h)
            return cli_error(sub, CLI_BAD, "%s %s another instance (its instance_hash is "
                             "%s%016" PRIx64 ", %s has %s%016" PRIx64 ")", pos[k + 1], what[k],
                             MDATT_HASH_PREFIX, got[k], pos[0], MDATT_HASH_PREFIX, h);
    if (!got[0] || !got[1])
        fprintf(stderr, "mdatt: %s: note: %s%s%s record%s no instance_hash (older files): not "
                        "checked to belong to %s\n", sub, got[0] ? "" : pos[1],
                !got[0] && !got[1] ? " and " : "", got[1] ? "" : pos[2],
                !got[0] && !got[1] ? "" : "s", pos[0]);
    return CLI_OK;
}

/* Figures of an svm file agree with their recomputation from the instance
 * when within FIG_TOL (relative for the bounds, absolute for the gap and the
 * violation, which are differences of nearly equal numbers).  The two
 * computations differ only in summation order and in the oracle's rescaling
 * of x onto the feasible set (below its feas_tol of 1e-12): by rounding of
 * order 1e-16 times the number of terms, far below 1e-9; an edited figure
 * differs by far more. */
#define FIG_TOL 1e-9

static void compare_figures(reasons *R, const mdatt_svm *s, const mdatt_svm_figures *f)
{
    const char *name[4] = {"objective", "lower_bound", "gap", "max_violation"};
    const double file[4] = {s->objective, s->lower_bound, s->gap, s->max_violation};
    const double re[4] = {f->upper, f->lower, f->gap, f->max_violation};
    for (int k = 0; k < 4; k++) {
        const double tol = FIG_TOL * (k < 2 ? fabs(re[k]) : 1.0);
        if (!(fabs(file[k] - re[k]) <= tol))
            reason(R, "svm %s %.17g disagrees with the value recomputed from the instance, "
                      "%.17g (tolerance %.0e%s)", name[k], file[k], re[k], FIG_TOL,
                   k < 2 ? " relative" : "");
    }
    if (f->bad_support >= 0)
        reason(R, "svm support[%d] = [%d,%d] is not an active constraint with a positive "
                  "multiplier", f->bad_support, s->support[2 * f->bad_support],
               s->support[2 * f->bad_support + 1]);
}

/* "samples 0 (model 2, svm 1), 4 (...), ..." for the first few that differ. */
static void token_mismatch(reasons *R, int n, const int *model, const int *svm)
{
    char list[160] = "";
    int len = 0, count = 0;
    for (int i = 0; i < n; i++) {
        if (model[i] == svm[i])
            continue;
        if (++count <= 4)
            len += snprintf(list + len, sizeof list - len, "%s%d (model %d, svm %d)",
                            count > 1 ? ", " : "", i, model[i], svm[i]);
    }
    reason(R, "tokens do not match in %d sample%s: %s%s", count, count == 1 ? "" : "s", list,
           count > 4 ? ", ..." : "");
}

static char *default_traj_out(const char *out)
{
    size_t len = strlen(out);
    char *s = malloc(len + 16);
    if (!s)
        return NULL;
    memcpy(s, out, len + 1);
    if (len > 5 && strcmp(out + len - 5, ".json") == 0)
        s[len - 5] = '\0';
    strcat(s, ".traj.csv");
    return s;
}

static const char *yes_no(int b) { return b ? "yes" : "no"; }

static int run(int argc, char **argv)
{
    const char *sub = "check";
    const char *traj = NULL, *traj_out = NULL, *out = NULL;
    long query = -1;
    thresholds th = {1e-2, NAN, NAN, 1e-8, 0, 0, 0};
    const cli_opt opts[] = {
        {"--query-token", OPT_LONG, &query, 0, 100000000, NULL},
        {"--max-bregman", OPT_DOUBLE, &th.max_bregman, 0, 0, NULL},
        {"--min-cosine", OPT_DOUBLE, &th.min_cosine, 0, 0, NULL},
        {"--min-margin", OPT_DOUBLE, &th.min_margin, 0, 0, NULL},
        {"--max-gap", OPT_DOUBLE, &th.max_gap, 0, 0, NULL},
        {"--allow-token-mismatch", OPT_FLAG, &th.allow_mismatch, 0, 0, NULL},
        {"--require-global", OPT_FLAG, &th.require_global, 0, 0, NULL},
        {"--require-local", OPT_FLAG, &th.require_local, 0, 0, NULL},
        {"--traj", OPT_STR, &traj, 0, 0, NULL},
        {"--traj-out", OPT_STR, &traj_out, 0, 0, NULL},
        {"-o", OPT_STR, &out, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    const char *pos[3];
    int npos, rc = cli_parse(&cli_check, argc, argv, opts, pos, 3, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 3)
        return cli_error(sub, CLI_BAD, "expected INSTANCE MODEL.json SVM.json (see --help)");
    if (traj_out && !traj)
        return cli_error(sub, CLI_BAD, "--traj-out needs --traj");
    if (traj && !traj_out && (!out || strcmp(out, "-") == 0))
        return cli_error(sub, CLI_BAD, "--traj needs --traj-out or -o FILE");
    if (!(th.max_bregman >= 0))
        return cli_error(sub, CLI_BAD, "--max-bregman: must be >= 0 (got %g)", th.max_bregman);
    if (!(th.max_gap >= 0))
        return cli_error(sub, CLI_BAD, "--max-gap: must be >= 0 (got %g)", th.max_gap);

    char *tout = traj && !traj_out ? default_traj_out(out) : NULL;
    if (traj && !traj_out && !(traj_out = tout))
        return cli_error(sub, CLI_FAIL, "out of memory");
    const cli_path outs[] = {{"-o", out}, {"--traj-out", traj_out}};
    const cli_path ins[] = {{"INSTANCE", pos[0]}, {"MODEL", pos[1]}, {"SVM", pos[2]}, {"--traj", traj}};
    if ((rc = cli_distinct_outputs(sub, outs, 2, ins, 4)) != CLI_OK) {
        free(tout);
        return rc;
    }
    /* the table goes to stderr when an output is standard output */
    FILE *tab = (out && strcmp(out, "-") == 0) || (traj_out && strcmp(traj_out, "-") == 0)
                    ? stderr : stdout;
    char err[MDATT_ERRLEN] = "";
    mdatt_instance in = {0};
    mdatt_model m = {0};
    mdatt_svm s = {0};
    traj_metrics tm = {0};
    int code = CLI_OK, *alpha = NULL;
    mdatt_status st;
    if ((st = mdatt_instance_read_query(pos[0], (int)query, &in, err)) != MDATT_OK) {
        free(tout);
        return cli_status(sub, st, err);
    }
    if ((st = mdatt_model_read(pos[1], &m, err)) != MDATT_OK ||
        (st = mdatt_svm_read(pos[2], &s, err)) != MDATT_OK) {
        code = cli_status(sub, st, err);
        goto done;
    }
    if ((code = check_identity(sub, pos, &in, &m, &s)) != CLI_OK ||
        (code = check_shapes(sub, &in, &m, &s)) != CLI_OK)
        goto done;
    if (!(alpha = malloc(sizeof(int) * in.n))) {
        code = cli_error(sub, CLI_FAIL, "out of memory");
        goto done;
    }
    const check_ctx cx = {&in, &s, m.p, alpha};
    if (traj && (code = traj_compute(sub, traj, &cx, &tm)) != CLI_OK)
        goto done;

    /* the final model */
    point_metrics pm;
    measure(&cx, m.W, m.v, &pm);
    int model_alpha_agrees = -1;
    if (m.alpha) {
        model_alpha_agrees = 1;
        for (int i = 0; i < in.n; i++)
            model_alpha_agrees &= m.alpha[i] == alpha[i];
    }
    double svm_min_margin = NAN;
    mdatt_token_verdict tv;
    const int own_v = m.joint;   /* gamma from the trained v of a joint model */
    mdatt_token_check(&in, own_v ? m.v : in.v, s.alpha, s.status == MDATT_SVM_OPTIMAL && !s.target_v ? s.support : NULL,
                      s.status == MDATT_SVM_OPTIMAL && !s.target_v ? s.nsupport : 0, &tv);
    if (s.status == MDATT_SVM_OPTIMAL) {
        size_t mm = s.target_v ? (size_t)in.d : (size_t)in.d * in.d;
        double nx = mdatt_norm_p(s.x, mm, s.p);
        svm_min_margin = s.target_v ? mdatt_margin_ratio_v(&in, s.alpha, s.x, s.p, nx)
                                    : mdatt_margin_ratio(&in, s.alpha, s.x, s.p, nx);
    }
    const int cross_p = !(m.p == s.p);
    /* the certificate recomputed from the instance, x and the multipliers */
    mdatt_svm_figures fig;
    mdatt_svm_recompute(&in, &s, &fig);
    const double re_ub = fig.upper, re_lb = fig.lower, re_gap = fig.gap;

    reasons R = {0};
    if (s.status != MDATT_SVM_OPTIMAL) {
        reason(&R, "svm status is %s, not optimal", mdatt_svm_status_name(s.status));
    } else {
        if (!(s.gap <= th.max_gap))
            reason(&R, "svm gap %.3g > %.3g", s.gap, th.max_gap);
        if (!(re_gap <= th.max_gap))
            reason(&R, "svm certificate recomputed from the instance: gap %.3g > %.3g "
                       "(upper %.17g, lower %.17g)", re_gap, th.max_gap, re_ub, re_lb);
        compare_figures(&R, &s, &fig);
        if (!(pm.bregman_dir <= th.max_bregman))
            reason(&R, "bregman_dir %.3g > %.3g", pm.bregman_dir, th.max_bregman);
        if (!isnan(th.min_cosine) && !(pm.cosine >= th.min_cosine))
            reason(&R, "cosine %.9g < %.9g", pm.cosine, th.min_cosine);
        if (!isnan(th.min_margin) && !(pm.margin_ratio >= th.min_margin))
            reason(&R, "margin_ratio %.9g < %.9g", pm.margin_ratio, th.min_margin);
    }
    if (!pm.tokens_match && !th.allow_mismatch)
        token_mismatch(&R, in.n, alpha, s.alpha);
    if (s.has_tokens && !own_v && s.nties != tv.nties)
        reason(&R, "svm tokens.ties lists %d sample%s, recomputed %d", s.nties,
               s.nties == 1 ? "" : "s", tv.nties);
    if (s.has_tokens && !own_v && tv.nties == 0 && s.globally_optimal != tv.globally_optimal)
        reason(&R, "svm tokens.globally_optimal = %s but gamma gives %s",
               s.globally_optimal ? "true" : "false", tv.globally_optimal ? "true" : "false");
    if (s.has_tokens && !own_v && s.status == MDATT_SVM_OPTIMAL && s.locally_optimal != tv.locally_optimal)
        reason(&R, "svm tokens.locally_optimal = %s but gamma on the support gives %s",
               s.locally_optimal ? "true" : "false", tv.locally_optimal ? "true" : "false");
    int glob = s.has_tokens && !own_v ? s.globally_optimal : tv.globally_optimal;
    /* -1: undefined (a v-SVM has no W support to judge the tokens by) */
    int loc = s.has_tokens && !own_v ? s.locally_optimal
              : s.target_v           ? -1
                                     : (s.status == MDATT_SVM_OPTIMAL && tv.locally_optimal);
    if (th.require_global && !glob)
        reason(&R, "alpha is not globally optimal");
    if (th.require_local && loc != 1)
        reason(&R, "alpha is not locally optimal");
    const int pass = R.n == 0;

    /* human table */
    fprintf(tab, "check: model p=%g, svm p=%g%s, target %s, n=%d T=%d d=%d\n", m.p, s.p,
           cross_p ? " (cross-p)" : "", s.target_v ? "v" : "W", in.n, in.T, in.d);
    fprintf(tab, "  %-18s %-14.6g (<= %g)\n", "bregman_dir", pm.bregman_dir, th.max_bregman);
    fprintf(tab, "  %-18s %-14.12g\n", "cosine", pm.cosine);
    fprintf(tab, "  %-18s %-14.6g\n", "one_minus_cosine", pm.one_minus_cosine);
    fprintf(tab, "  %-18s %-14.12g\n", "margin_ratio", pm.margin_ratio);
    fprintf(tab, "  %-18s %-14s\n", "tokens_match", yes_no(pm.tokens_match));
    fprintf(tab, "  %-18s %-14.12g log(1-smax) = %.6g\n", "smax_min", pm.smax_min, pm.log1m_smax);
    fprintf(tab, "  %-18s %-14s gap %.3g, recomputed %.3g (<= %g)\n", "svm status",
           mdatt_svm_status_name(s.status), s.gap, re_gap, th.max_gap);
    fprintf(tab, "  %-18s %-14s recomputed %s (%s v)%s\n", "globally_optimal",
           s.has_tokens ? yes_no(s.globally_optimal) : "-", yes_no(tv.globally_optimal),
           own_v ? "model" : "instance", tv.nties ? ", ties" : "");
    fprintf(tab, "  %-18s %-14s recomputed %s\n", "locally_optimal",
           s.has_tokens ? yes_no(s.locally_optimal) : "-",
           s.target_v ? "-" : yes_no(tv.locally_optimal));
    if (traj)
        fprintf(tab, "  %-18s %ld rows\n", "trajectory", tm.nrow);
    fprintf(tab, "verdict: %s\n", pass ? "PASS" : "FAIL");
    for (int k = 0; k < R.n; k++)
        fprintf(tab, "  - %s\n", R.text[k]);

    /* outputs: both temp files written before either is renamed */
    mdatt_outfile oj = {0}, ot = {0};
    if (traj) {
        if ((st = mdatt_outfile_open(&ot, traj_out, err)) != MDATT_OK) {
            code = cli_error(sub, CLI_FAIL, "%s", err);
            goto done;
        }
        traj_write(ot.f, &tm);
    }
    if (out) {
        if ((st = mdatt_outfile_open(&oj, out, err)) != MDATT_OK) {
            code = cli_error(sub, CLI_FAIL, "%s", err);
            if (traj)
                mdatt_outfile_abort(&ot);
            goto done;
        }
        FILE *f = oj.f;
        fputs("{\n  \"format\": \"mdatt-check/1\",\n  \"instance\": ", f);
        cli_json_str(f, pos[0]);
        fputs(",\n  \"model\": ", f);
        cli_json_str(f, pos[1]);
        fputs(",\n  \"svm\": ", f);
        cli_json_str(f, pos[2]);
        fputs(",\n  \"p_model\": ", f);
        cli_json_num(f, m.p);
        fputs(",\n  \"p_svm\": ", f);
        cli_json_num(f, s.p);
        fprintf(f, ",\n  \"cross_p\": %s,\n  \"target\": \"%s\",\n  \"n\": %d,\n  \"T\": %d,\n"
                   "  \"d\": %d,\n  \"svm_status\": \"%s\"",
                cross_p ? "true" : "false", s.target_v ? "v" : "W", in.n, in.T, in.d,
                mdatt_svm_status_name(s.status));
        const char *names[] = {"bregman_dir", "cosine", "one_minus_cosine", "margin_ratio",
                               "smax_min", "log1m_smax", "gap", "gap_recomputed",
                               "svm_objective", "svm_min_margin"};
        const double vals[] = {pm.bregman_dir, pm.cosine, pm.one_minus_cosine, pm.margin_ratio,
                               pm.smax_min, pm.log1m_smax, s.gap, re_gap, s.objective,
                               svm_min_margin};
        for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
            fprintf(f, ",\n  \"%s\": ", names[k]);
            cli_json_num(f, vals[k]);
        }
        fprintf(f, ",\n  \"tokens_match\": %s,\n  \"alpha_model\": ", pm.tokens_match ? "true" : "false");
        cli_json_ints(f, alpha, in.n);
        fputs(",\n  \"alpha_svm\": ", f);
        cli_json_ints(f, s.alpha, in.n);
        if (model_alpha_agrees >= 0)
            fprintf(f, ",\n  \"model_alpha_agrees\": %s", model_alpha_agrees ? "true" : "false");
        fprintf(f, ",\n  \"globally_optimal\": %s,\n  \"locally_optimal\": %s",
                glob ? "true" : "false", loc < 0 ? "null" : loc ? "true" : "false");
        fprintf(f, ",\n  \"tokens_recomputed\": {\"globally_optimal\": %s, \"locally_optimal\": %s, "
                   "\"ties\": %d, \"v\": \"%s\"}",
                tv.globally_optimal ? "true" : "false",
                s.target_v ? "null" : tv.locally_optimal ? "true" : "false", tv.nties,
                own_v ? "model" : "instance");
        fputs(",\n  \"thresholds\": {\"max_bregman\": ", f);
        cli_json_num(f, th.max_bregman);
        fputs(", \"min_cosine\": ", f);
        cli_json_num(f, th.min_cosine);
        fputs(", \"min_margin\": ", f);
        cli_json_num(f, th.min_margin);
        fputs(", \"max_gap\": ", f);
        cli_json_num(f, th.max_gap);
        fprintf(f, ", \"require_tokens_match\": %s, \"require_global\": %s, \"require_local\": %s}",
                th.allow_mismatch ? "false" : "true", th.require_global ? "true" : "false",
                th.require_local ? "true" : "false");
        if (traj) {
            fputs(",\n  \"trajectory\": {\"input\": ", f);
            cli_json_str(f, traj);
            fputs(", \"output\": ", f);
            cli_json_str(f, traj_out);
            fprintf(f, ", \"rows\": %ld}", tm.nrow);
        }
        fprintf(f, ",\n  \"verdict\": {\"pass\": %s, \"reasons\": [", pass ? "true" : "false");
        for (int k = 0; k < R.n; k++) {
            fputs(k ? ", " : "", f);
            cli_json_str(f, R.text[k]);
        }
        fputs("]}\n}\n", f);
    }
    if (traj && (st = mdatt_outfile_commit(&ot, err)) != MDATT_OK) {
        code = cli_error(sub, CLI_FAIL, "%s", err);
        if (out)
            mdatt_outfile_abort(&oj);
        goto done;
    }
    if (out && (st = mdatt_outfile_commit(&oj, err)) != MDATT_OK) {
        code = cli_error(sub, CLI_FAIL, "%s", err);
        goto done;
    }
    code = pass ? CLI_OK : CLI_FAIL;
done:
    free(tout);
    free(tm.k);
    free(tm.pm);
    free(alpha);
    mdatt_svm_free(&s);
    mdatt_model_free(&m);
    mdatt_instance_free(&in);
    return code;
}
