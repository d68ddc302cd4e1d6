/* cmd_check.c - `mdatt check`: compare a trained model with the oracle's
 * certified SVM (doc/design.md §4: directional Bregman divergence, cosine,
 * normalized margin ratio, selected tokens and their optimality), optionally
 * along a logged trajectory, and give a verdict with reasons. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "mdatt_io.h"
#include "mdatt_check.h"

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
typedef mdatt_check_point point_metrics;

typedef struct {
    const mdatt_instance *in;
    const mdatt_svm *svm;
    double p_model;
    int *alpha;         /* scratch: tokens selected by W */
} check_ctx;

static void measure(const check_ctx *c, const double *W, const double *v, point_metrics *pm)
{
    mdatt_check_measure(c->in, c->svm, c->p_model, W, v, c->alpha, pm);
}

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
    mdatt_check_settings th;
    mdatt_check_default_settings(&th);
    const cli_opt opts[] = {
        {"--query-token", OPT_LONG, &query, 0, 100000000, NULL},
        {"--max-bregman", OPT_DOUBLE, &th.max_bregman, 0, 0, NULL},
        {"--min-cosine", OPT_DOUBLE, &th.min_cosine, 0, 0, NULL},
        {"--min-margin", OPT_DOUBLE, &th.min_margin, 0, 0, NULL},
        {"--max-gap", OPT_DOUBLE, &th.max_gap, 0, 0, NULL},
        {"--allow-token-mismatch", OPT_FLAG, &th.allow_token_mismatch, 0, 0, NULL},
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
    mdatt_check_result cr = {0};
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
    if ((code = check_identity(sub, pos, &in, &m, &s)) != CLI_OK)
        goto done;
    if ((st = mdatt_check_shapes(&in, &m, &s, err)) != MDATT_OK) {
        /* The library names the file by its role (MODEL: or SVM:); say which file. */
        int svm = strncmp(err, "SVM: ", 5) == 0, model = strncmp(err, "MODEL: ", 7) == 0;
        if (svm || model)
            code = cli_error(sub, CLI_BAD, "%s: %s", pos[svm ? 2 : 1], err + (svm ? 5 : 7));
        else
            code = cli_error(sub, CLI_BAD, "%s", err);
        goto done;
    }
    if (!(alpha = malloc(sizeof(int) * in.n))) {
        code = cli_error(sub, CLI_FAIL, "out of memory");
        goto done;
    }
    const check_ctx cx = {&in, &s, m.p, alpha};
    if (traj && (code = traj_compute(sub, traj, &cx, &tm)) != CLI_OK)
        goto done;

    /* the final model: metrics, token verdicts, recomputed certificate, verdict */
    if ((st = mdatt_check(&in, &m, &s, &th, &cr, err)) != MDATT_OK) {
        code = cli_status(sub, st, err);
        goto done;
    }
    memcpy(alpha, cr.alpha_model, sizeof(int) * in.n);
    const point_metrics pm = cr.point;
    const mdatt_token_verdict tv = cr.recomputed;
    const int model_alpha_agrees = cr.model_alpha_agrees, own_v = cr.own_v;
    const int cross_p = cr.cross_p, glob = cr.globally_optimal, loc = cr.locally_optimal;
    const double svm_min_margin = cr.svm_min_margin, re_gap = cr.figures.gap;
    const int pass = cr.pass;
    const struct { int n; char (*text)[200]; } R = {cr.nreasons, cr.reasons};

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
                th.allow_token_mismatch ? "false" : "true", th.require_global ? "true" : "false",
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
    mdatt_check_result_free(&cr);
    free(tout);
    free(tm.k);
    free(tm.pm);
    free(alpha);
    mdatt_svm_free(&s);
    mdatt_model_free(&m);
    mdatt_instance_free(&in);
    return code;
}
