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

/* The command line of one `mdatt check`. */
typedef struct {
    const char *pos[3];     /* INSTANCE MODEL.json SVM.json */
    const char *traj, *traj_out, *out;
    long query;
    mdatt_check_settings th;
    char *tout;             /* owned: the default --traj-out */
} check_args;

/* Everything read and computed (released by free_state). */
typedef struct {
    mdatt_instance in;
    mdatt_model m;
    mdatt_svm s;
    traj_metrics tm;
    mdatt_check_result cr;
} check_state;

static void free_state(check_state *c)
{
    mdatt_check_result_free(&c->cr);
    free(c->tm.k);
    free(c->tm.pm);
    mdatt_svm_free(&c->s);
    mdatt_model_free(&c->m);
    mdatt_instance_free(&c->in);
}

static int parse_args(int argc, char **argv, check_args *a)
{
    const char *sub = "check";
    mdatt_check_default_settings(&a->th);
    const cli_opt opts[] = {
        {"--query-token", OPT_LONG, &a->query, 0, 100000000, NULL},
        {"--max-bregman", OPT_DOUBLE, &a->th.max_bregman, 0, 0, NULL},
        {"--min-cosine", OPT_DOUBLE, &a->th.min_cosine, 0, 0, NULL},
        {"--min-margin", OPT_DOUBLE, &a->th.min_margin, 0, 0, NULL},
        {"--max-gap", OPT_DOUBLE, &a->th.max_gap, 0, 0, NULL},
        {"--allow-token-mismatch", OPT_FLAG, &a->th.allow_token_mismatch, 0, 0, NULL},
        {"--require-global", OPT_FLAG, &a->th.require_global, 0, 0, NULL},
        {"--require-local", OPT_FLAG, &a->th.require_local, 0, 0, NULL},
        {"--traj", OPT_STR, &a->traj, 0, 0, NULL},
        {"--traj-out", OPT_STR, &a->traj_out, 0, 0, NULL},
        {"-o", OPT_STR, &a->out, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    int npos, rc = cli_parse(&cli_check, argc, argv, opts, a->pos, 3, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 3)
        return cli_error(sub, CLI_BAD, "expected INSTANCE MODEL.json SVM.json (see --help)");
    if (a->traj_out && !a->traj)
        return cli_error(sub, CLI_BAD, "--traj-out needs --traj");
    if (a->traj && !a->traj_out && (!a->out || strcmp(a->out, "-") == 0))
        return cli_error(sub, CLI_BAD, "--traj needs --traj-out or -o FILE");
    if (!(a->th.max_bregman >= 0))
        return cli_error(sub, CLI_BAD, "--max-bregman: must be >= 0 (got %g)", a->th.max_bregman);
    if (!(a->th.max_gap >= 0))
        return cli_error(sub, CLI_BAD, "--max-gap: must be >= 0 (got %g)", a->th.max_gap);
    a->tout = a->traj && !a->traj_out ? default_traj_out(a->out) : NULL;
    if (a->traj && !a->traj_out && !(a->traj_out = a->tout))
        return cli_error(sub, CLI_FAIL, "out of memory");
    const cli_path outs[] = {{"-o", a->out}, {"--traj-out", a->traj_out}};
    const cli_path ins[] = {{"INSTANCE", a->pos[0]}, {"MODEL", a->pos[1]}, {"SVM", a->pos[2]},
                            {"--traj", a->traj}};
    return cli_distinct_outputs(sub, outs, 2, ins, 4);
}

/* Instance, model and svm read, of the same instance and matching shapes. */
static int load_inputs(const check_args *a, check_state *c)
{
    const char *sub = "check";
    char err[MDATT_ERRLEN] = "";
    mdatt_status st;
    if ((st = mdatt_instance_read_query(a->pos[0], (int)a->query, &c->in, err)) != MDATT_OK ||
        (st = mdatt_model_read(a->pos[1], &c->m, err)) != MDATT_OK ||
        (st = mdatt_svm_read(a->pos[2], &c->s, err)) != MDATT_OK)
        return cli_status(sub, st, err);
    int code = check_identity(sub, a->pos, &c->in, &c->m, &c->s);
    if (code != CLI_OK)
        return code;
    if ((st = mdatt_check_shapes(&c->in, &c->m, &c->s, err)) != MDATT_OK) {
        /* The library names the file by its role (MODEL: or SVM:); say which file. */
        int svm = strncmp(err, "SVM: ", 5) == 0, model = strncmp(err, "MODEL: ", 7) == 0;
        if (svm || model)
            return cli_error(sub, CLI_BAD, "%s: %s", a->pos[svm ? 2 : 1], err + (svm ? 5 : 7));
        return cli_error(sub, CLI_BAD, "%s", err);
    }
    return CLI_OK;
}

/* The trajectory's metrics (--traj), then the final model's check. */
static int compute(const check_args *a, check_state *c)
{
    const char *sub = "check";
    char err[MDATT_ERRLEN] = "";
    if (a->traj) {
        int *alpha = malloc(sizeof(int) * c->in.n), code;
        if (!alpha)
            return cli_error(sub, CLI_FAIL, "out of memory");
        const check_ctx cx = {&c->in, &c->s, c->m.p, alpha};
        code = traj_compute(sub, a->traj, &cx, &c->tm);
        free(alpha);
        if (code != CLI_OK)
            return code;
    }
    mdatt_status st = mdatt_check(&c->in, &c->m, &c->s, &a->th, &c->cr, err);
    return st == MDATT_OK ? CLI_OK : cli_status(sub, st, err);
}

/* The human-readable table. */
static void print_table(FILE *tab, const check_args *a, const check_state *c)
{
    const mdatt_check_result *cr = &c->cr;
    const point_metrics *pm = &cr->point;
    const mdatt_token_verdict *tv = &cr->recomputed;
    const mdatt_svm *s = &c->s;
    fprintf(tab, "check: model p=%g, svm p=%g%s, target %s, n=%d T=%d d=%d\n", c->m.p, s->p,
           cr->cross_p ? " (cross-p)" : "", s->target_v ? "v" : "W", c->in.n, c->in.T, c->in.d);
    fprintf(tab, "  %-18s %-14.6g (<= %g)\n", "bregman_dir", pm->bregman_dir, a->th.max_bregman);
    fprintf(tab, "  %-18s %-14.12g\n", "cosine", pm->cosine);
    fprintf(tab, "  %-18s %-14.6g\n", "one_minus_cosine", pm->one_minus_cosine);
    fprintf(tab, "  %-18s %-14.12g\n", "margin_ratio", pm->margin_ratio);
    fprintf(tab, "  %-18s %-14s\n", "tokens_match", yes_no(pm->tokens_match));
    fprintf(tab, "  %-18s %-14.12g log(1-smax) = %.6g\n", "smax_min", pm->smax_min,
            pm->log1m_smax);
    fprintf(tab, "  %-18s %-14s gap %.3g, recomputed %.3g (<= %g)\n", "svm status",
           mdatt_svm_status_name(s->status), s->gap, cr->figures.gap, a->th.max_gap);
    fprintf(tab, "  %-18s %-14s recomputed %s (%s v)%s\n", "globally_optimal",
           s->has_tokens ? yes_no(s->globally_optimal) : "-", yes_no(tv->globally_optimal),
           cr->own_v ? "model" : "instance", tv->nties ? ", ties" : "");
    fprintf(tab, "  %-18s %-14s recomputed %s\n", "locally_optimal",
           s->has_tokens ? yes_no(s->locally_optimal) : "-",
           s->target_v ? "-" : yes_no(tv->locally_optimal));
    if (a->traj)
        fprintf(tab, "  %-18s %ld rows\n", "trajectory", c->tm.nrow);
    fprintf(tab, "verdict: %s\n", cr->pass ? "PASS" : "FAIL");
    for (int k = 0; k < cr->nreasons; k++)
        fprintf(tab, "  - %s\n", cr->reasons[k]);
}

static const char *json_bool(int b) { return b ? "true" : "false"; }

/* The JSON's figures and token fields. */
static void json_figures(FILE *f, const check_state *c)
{
    const mdatt_check_result *cr = &c->cr;
    const point_metrics *pm = &cr->point;
    const mdatt_token_verdict *tv = &cr->recomputed;
    const mdatt_svm *s = &c->s;
    const char *names[] = {"bregman_dir", "cosine", "one_minus_cosine", "margin_ratio",
                           "smax_min", "log1m_smax", "gap", "gap_recomputed",
                           "svm_objective", "svm_min_margin"};
    const double vals[] = {pm->bregman_dir, pm->cosine, pm->one_minus_cosine, pm->margin_ratio,
                           pm->smax_min, pm->log1m_smax, s->gap, cr->figures.gap, s->objective,
                           cr->svm_min_margin};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        fprintf(f, ",\n  \"%s\": ", names[k]);
        cli_json_num(f, vals[k]);
    }
    fprintf(f, ",\n  \"tokens_match\": %s,\n  \"alpha_model\": ", json_bool(pm->tokens_match));
    cli_json_ints(f, cr->alpha_model, c->in.n);
    fputs(",\n  \"alpha_svm\": ", f);
    cli_json_ints(f, s->alpha, c->in.n);
    if (cr->model_alpha_agrees >= 0)
        fprintf(f, ",\n  \"model_alpha_agrees\": %s", json_bool(cr->model_alpha_agrees));
    fprintf(f, ",\n  \"globally_optimal\": %s,\n  \"locally_optimal\": %s",
            json_bool(cr->globally_optimal),
            cr->locally_optimal < 0 ? "null" : json_bool(cr->locally_optimal));
    fprintf(f, ",\n  \"tokens_recomputed\": {\"globally_optimal\": %s, \"locally_optimal\": %s, "
               "\"ties\": %d, \"v\": \"%s\"}",
            json_bool(tv->globally_optimal), s->target_v ? "null" : json_bool(tv->locally_optimal),
            tv->nties, cr->own_v ? "model" : "instance");
}

/* The results and verdict as JSON (mdatt-check/1, doc/formats.md). */
static void write_json(FILE *f, const check_args *a, const check_state *c)
{
    const mdatt_check_settings *th = &a->th;
    fputs("{\n  \"format\": \"mdatt-check/1\",\n  \"instance\": ", f);
    cli_json_str(f, a->pos[0]);
    fputs(",\n  \"model\": ", f);
    cli_json_str(f, a->pos[1]);
    fputs(",\n  \"svm\": ", f);
    cli_json_str(f, a->pos[2]);
    fputs(",\n  \"p_model\": ", f);
    cli_json_num(f, c->m.p);
    fputs(",\n  \"p_svm\": ", f);
    cli_json_num(f, c->s.p);
    fprintf(f, ",\n  \"cross_p\": %s,\n  \"target\": \"%s\",\n  \"n\": %d,\n  \"T\": %d,\n"
               "  \"d\": %d,\n  \"svm_status\": \"%s\"",
            json_bool(c->cr.cross_p), c->s.target_v ? "v" : "W", c->in.n, c->in.T, c->in.d,
            mdatt_svm_status_name(c->s.status));
    json_figures(f, c);
    fputs(",\n  \"thresholds\": {\"max_bregman\": ", f);
    cli_json_num(f, th->max_bregman);
    fputs(", \"min_cosine\": ", f);
    cli_json_num(f, th->min_cosine);
    fputs(", \"min_margin\": ", f);
    cli_json_num(f, th->min_margin);
    fputs(", \"max_gap\": ", f);
    cli_json_num(f, th->max_gap);
    fprintf(f, ", \"require_tokens_match\": %s, \"require_global\": %s, \"require_local\": %s}",
            json_bool(!th->allow_token_mismatch), json_bool(th->require_global),
            json_bool(th->require_local));
    if (a->traj) {
        fputs(",\n  \"trajectory\": {\"input\": ", f);
        cli_json_str(f, a->traj);
        fputs(", \"output\": ", f);
        cli_json_str(f, a->traj_out);
        fprintf(f, ", \"rows\": %ld}", c->tm.nrow);
    }
    fprintf(f, ",\n  \"verdict\": {\"pass\": %s, \"reasons\": [", json_bool(c->cr.pass));
    for (int k = 0; k < c->cr.nreasons; k++) {
        fputs(k ? ", " : "", f);
        cli_json_str(f, c->cr.reasons[k]);
    }
    fputs("]}\n}\n", f);
}

/* The trajectory CSV and the JSON: both temporary files are written before
 * either is renamed. */
static int write_outputs(const check_args *a, const check_state *c)
{
    const char *sub = "check";
    char err[MDATT_ERRLEN] = "";
    mdatt_outfile oj = {0}, ot = {0};
    if (a->traj) {
        if (mdatt_outfile_open(&ot, a->traj_out, err) != MDATT_OK)
            return cli_error(sub, CLI_FAIL, "%s", err);
        traj_write(ot.f, &c->tm);
    }
    if (a->out) {
        if (mdatt_outfile_open(&oj, a->out, err) != MDATT_OK) {
            if (a->traj)
                mdatt_outfile_abort(&ot);
            return cli_error(sub, CLI_FAIL, "%s", err);
        }
        write_json(oj.f, a, c);
    }
    if (a->traj && mdatt_outfile_commit(&ot, err) != MDATT_OK) {
        if (a->out)
            mdatt_outfile_abort(&oj);
        return cli_error(sub, CLI_FAIL, "%s", err);
    }
    if (a->out && mdatt_outfile_commit(&oj, err) != MDATT_OK)
        return cli_error(sub, CLI_FAIL, "%s", err);
    return CLI_OK;
}

static int run(int argc, char **argv)
{
    check_args a = {.query = -1};
    check_state c = {0};
    int code = parse_args(argc, argv, &a);
    if (code == CLI_OK)
        code = load_inputs(&a, &c);
    if (code == CLI_OK)
        code = compute(&a, &c);
    if (code == CLI_OK) {
        /* the table goes to stderr when an output is standard output */
        const int to_stdout = (a.out && strcmp(a.out, "-") == 0) ||
                              (a.traj_out && strcmp(a.traj_out, "-") == 0);
        print_table(to_stdout ? stderr : stdout, &a, &c);
        code = write_outputs(&a, &c);
        if (code == CLI_OK && !c.cr.pass)
            code = CLI_FAIL;
    }
    free(a.tout);
    free_state(&c);
    return code;
}
