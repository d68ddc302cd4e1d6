/* cmd_svm.c - `mdatt svm`: the oracle (libattsvm) on an instance, written as
 * the svm JSON of doc/formats.md.  This file is glue only: it converts the
 * instance into the oracle's plain view and prints the certified answer. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "attsvm.h"
#include "cli.h"
#include "mdatt_io.h"
#include "mdatt_check.h"

static int run(int argc, char **argv);

const cli_command cli_svm = {
    "svm", "solve the l_p-AttSVM (or v-SVM) with a certificate",
    "usage: mdatt svm INSTANCE --p P [--alpha i,j,..|--alpha global|--alpha-from MODEL]\n"
    "                 [--target W|v] [--exact] [--query-token K] -o SVM.json\n\n"
    "Solves W^mm = argmin ||W||_p s.t. <(x_ia - x_it) z_i^T, W> >= 1 for all i, t != a_i\n"
    "(or v^mm = argmin ||v||_p s.t. Y_i x_ia^T v >= 1 with --target v): LPs on GLPK for\n"
    "p = 1 and inf, Newton methods for other p (the feasibility LP on GLPK when rows\n"
    "conflict), and certifies the answer: objective (upper bound), lower bound from the\n"
    "multipliers, gap (relative), violation (relative to ||a||_q ||W||_p) and support.\n"
    "Exit 1 when infeasible (Farkas certificate written) or when the solver fails.\n\n"
    "  --p P          1, a real > 1, or inf\n"
    "  --alpha ...    token per sample (0-based, comma separated), or 'global'\n"
    "                 (argmax_t Y_i v^T x_it, ties to the lowest index; default)\n"
    "  --alpha-from M the tokens a trained model selects (its \"alpha\", or the\n"
    "                 argmax_t x_it^T W z_i of its W when it has none)\n"
    "  --target W|v   which SVM (default W)\n"
    "  --exact        p = 1 or inf: confirm the basis in rational arithmetic\n"
    "  --max-memory GB  refuse an instance whose oracle needs more than an\n"
    "                 estimated GB gigabytes (default 4; the estimate is in the README)\n"
    "  -o SVM.json    output (mdatt-svm/1), written atomically; - is stdout\n",
    run};

static int parse_alpha(const char *s, int n, int T, int *alpha)
{
    const char *c = s;
    for (int i = 0; i < n; i++) {
        char *end;
        long a = strtol(c, &end, 10);
        if (end == c || (*end != ',' && *end != '\0'))
            return cli_error("svm", CLI_BAD, "--alpha: '%s' is not a list of %d token indices", s, n);
        if (a < 0 || a >= T)
            return cli_error("svm", CLI_BAD, "--alpha: token %ld of sample %d is out of range [0, %d)",
                             a, i, T);
        if ((*end == '\0') != (i == n - 1))
            return cli_error("svm", CLI_BAD, "--alpha: expected %d indices, one per sample", n);
        alpha[i] = (int)a;
        c = end + 1;
    }
    return CLI_OK;
}

static void write_svm(FILE *f, const attsvm_data *D, const int *alpha, attsvm_target tg,
                      double p, const attsvm_result *r, const attsvm_tokens *tok, uint64_t hash)
{
    fputs("{\n  \"format\": \"mdatt-svm/1\",\n  \"p\": ", f);
    cli_json_num(f, p);
    fprintf(f, ",\n  \"instance_hash\": \"%s%016" PRIx64 "\"", MDATT_HASH_PREFIX, hash);
    fprintf(f, ",\n  \"target\": \"%s\",\n  \"alpha\": ", tg == ATTSVM_TARGET_W ? "W" : "v");
    cli_json_ints(f, alpha, D->n);
    fprintf(f, ",\n  \"status\": \"%s\"", attsvm_strerror(r->status));
    if (r->status != ATTSVM_OPTIMAL) {
        fputs(",\n  \"message\": ", f);
        cli_json_str(f, r->message);
    }
    if (r->status == ATTSVM_OPTIMAL && r->x) {
        const int d = D->d;
        fprintf(f, ",\n  \"%s\": [", tg == ATTSVM_TARGET_W ? "W" : "v");
        if (tg == ATTSVM_TARGET_W) {
            for (int j = 0; j < d; j++) {
                fprintf(f, "%s\n    [", j ? "," : "");
                for (int k = 0; k < d; k++) {
                    if (k)
                        fputc(',', f);
                    cli_json_num(f, r->x[j * d + k]);
                }
                fputc(']', f);
            }
            fputs("\n  ]", f);
        } else {
            for (int j = 0; j < d; j++) {
                if (j)
                    fputc(',', f);
                cli_json_num(f, r->x[j]);
            }
            fputc(']', f);
        }
        const char *names[] = {"objective", "lower_bound", "gap", "max_violation"};
        const double vals[] = {r->objective, r->lower_bound, r->gap, r->max_violation};
        for (int k = 0; k < 4; k++) {
            fprintf(f, ",\n  \"%s\": ", names[k]);
            cli_json_num(f, vals[k]);
        }
    }
    fprintf(f, ",\n  \"%s\": [", r->status == ATTSVM_INFEASIBLE ? "farkas" : "dual");
    for (int k = 0; k < r->ndual; k++) {
        int i, t;
        attsvm_row_pair(D, alpha, tg, r->dual[k].row, &i, &t);
        fprintf(f, "%s\n    {\"i\": %d, \"t\": %d, \"lambda\": %.17g}", k ? "," : "", i, t,
                r->dual[k].lambda);
    }
    fputs(r->ndual ? "\n  ]" : "]", f);
    if (r->status == ATTSVM_OPTIMAL) {
        fputs(",\n  \"support\": [", f);
        for (int k = 0; k < r->nsupport; k++) {
            int i, t;
            attsvm_row_pair(D, alpha, tg, r->support[k], &i, &t);
            fprintf(f, k ? ",[%d,%d]" : "[%d,%d]", i, t);
        }
        fputc(']', f);
    }
    if (tok) {
        fprintf(f, ",\n  \"tokens\": {\"globally_optimal\": %s, \"locally_optimal\": %s, \"ties\": ",
                tok->globally_optimal ? "true" : "false", tok->locally_optimal ? "true" : "false");
        cli_json_ints(f, tok->ties, tok->nties);
        fputc('}', f);
    }
    if (r->exact_checked)
        fprintf(f, ",\n  \"exact\": {\"checked\": true, \"optimal\": %s}",
                r->exact_optimal ? "true" : "false");
    fprintf(f, ",\n  \"solver\": {\"rounds\": %d, \"lp_solves\": %d, \"working_rows\": %d, "
               "\"seconds\": %.6g}\n}\n",
            r->rounds, r->lp_solves, r->working_rows, r->seconds);
}

/* Estimated bytes the oracle holds (oracle/README.md): the dense constraint
 * rows (m x nx: m = n (T - 1), nx = d^2 for the W-SVM; m = n, nx = d for the
 * v-SVM) twice (rows and solver copies), O(m + nx) vectors, and for
 * 1 < p < inf the Newton phase's k x k matrices on its k >= n seed rows
 * (H, the Gram matrix and its factor). */
static double oracle_memory(const mdatt_instance *in, attsvm_target tg, double p)
{
    const double m = tg == ATTSVM_TARGET_W ? (double)in->n * (in->T - 1) : in->n;
    const double nx = tg == ATTSVM_TARGET_W ? (double)in->d * in->d : in->d;
    const double k = tg == ATTSVM_TARGET_W ? in->n : fmin(in->n, 64);
    return 8.0 * (2 * m * nx + 16 * (m + nx) + (p > 1 && isfinite(p) ? 3 * k * k : 0));
}

/* The command line of one `mdatt svm`. */
typedef struct {
    const char *instance, *alpha_s, *alpha_from, *out;
    double p, max_gb;
    int exact;
    long query;
    attsvm_target tg;
} svm_args;

static int parse_args(int argc, char **argv, svm_args *a)
{
    const char *sub = "svm", *target = "W";
    const cli_opt opts[] = {
        {"--p", OPT_P, &a->p, 0, 0, NULL},
        {"--alpha", OPT_STR, &a->alpha_s, 0, 0, NULL},
        {"--alpha-from", OPT_STR, &a->alpha_from, 0, 0, NULL},
        {"--target", OPT_STR, &target, 0, 0, NULL},
        {"--exact", OPT_FLAG, &a->exact, 0, 0, NULL},
        {"--max-memory", OPT_DOUBLE, &a->max_gb, 0, 0, NULL},
        {"--query-token", OPT_LONG, &a->query, 0, 100000000, NULL},
        {"-o", OPT_STR, &a->out, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos, rc = cli_parse(&cli_svm, argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_error(sub, CLI_BAD, "missing INSTANCE (see --help)");
    a->instance = pos[0];
    if (isnan(a->p))
        return cli_error(sub, CLI_BAD, "--p is required (see --help)");
    if (!a->out)
        return cli_error(sub, CLI_BAD, "-o is required (see --help)");
    if (a->alpha_s && a->alpha_from)
        return cli_error(sub, CLI_BAD, "--alpha and --alpha-from exclude each other");
    const cli_path outs[] = {{"-o", a->out}};
    const cli_path ins[] = {{"INSTANCE", a->instance}, {"--alpha-from", a->alpha_from}};
    if ((rc = cli_distinct_outputs(sub, outs, 1, ins, 2)) != CLI_OK)
        return rc;
    if (strcmp(target, "W") == 0)
        a->tg = ATTSVM_TARGET_W;
    else if (strcmp(target, "v") == 0)
        a->tg = ATTSVM_TARGET_V;
    else
        return cli_error(sub, CLI_BAD, "--target: must be W or v (got '%s')", target);
    return CLI_OK;
}

/* --alpha-from: the model's alpha, or for a model without one the tokens
 * its W selects, as `check` computes them. */
static int alpha_from_model(const char *path, const mdatt_instance *in, int *alpha)
{
    const char *sub = "svm";
    char err[MDATT_ERRLEN] = "";
    mdatt_model m;
    mdatt_status st = mdatt_model_read(path, &m, err);
    int code = CLI_OK;
    if (st != MDATT_OK)
        return cli_status(sub, st, err);
    if (m.alpha && m.n != in->n)
        code = cli_error(sub, CLI_BAD, "--alpha-from: model's alpha has %d entries, instance has n=%d",
                         m.n, in->n);
    else if (!m.alpha && m.d != in->d)
        code = cli_error(sub, CLI_BAD, "--alpha-from: model's W is %dx%d, instance has d=%d",
                         m.d, m.d, in->d);
    for (int i = 0; m.alpha && i < in->n && code == CLI_OK; i++)
        if (m.alpha[i] >= in->T)
            code = cli_error(sub, CLI_BAD, "--alpha-from: alpha[%d] = %d is out of range [0, %d)",
                             i, m.alpha[i], in->T);
    if (code == CLI_OK && m.alpha)
        memcpy(alpha, m.alpha, sizeof(int) * in->n);
    else if (code == CLI_OK)
        mdatt_selected_tokens(in, m.W, alpha, NULL, NULL);
    mdatt_model_free(&m);
    return code;
}

/* The tokens to solve at: the globally optimal ones (tok gets their
 * verdicts), replaced by --alpha-from or --alpha when given. */
static int choose_tokens(const svm_args *a, const mdatt_instance *in, const attsvm_data *D,
                         int *alpha, attsvm_tokens *tok)
{
    attsvm_global_alpha(D, alpha, tok);
    if (a->alpha_from)
        return alpha_from_model(a->alpha_from, in, alpha);
    if (a->alpha_s && strcmp(a->alpha_s, "global") != 0)
        return parse_alpha(a->alpha_s, in->n, in->T, alpha);
    return CLI_OK;
}

/* The oracle's settings, refused beyond --max-memory. */
static int solver_settings(const svm_args *a, const mdatt_instance *in, attsvm_settings *s)
{
    const char *sub = "svm";
    attsvm_default_settings(s);
    s->p = a->p;
    s->exact = a->exact;
    const double need = oracle_memory(in, a->tg, a->p);
    if (!(need <= a->max_gb * 1e9))
        return cli_error(sub, CLI_BAD, "--max-memory: the oracle needs an estimated %.3g GB for "
                         "n=%d, T=%d, d=%d, more than the bound of %g GB (raise it with "
                         "--max-memory GB)", need / 1e9, in->n, in->T, in->d, a->max_gb);
    const char *bad = attsvm_check_settings(s);
    return bad ? cli_error(sub, CLI_BAD, "%s", bad) : CLI_OK;
}

/* Solve at alpha and write the answer (the output is opened before the
 * solve, so that a bad path fails at once); exit 1 after writing an
 * infeasible or failed answer. */
static int solve_and_write(const svm_args *a, const mdatt_instance *in, const attsvm_data *D,
                           const int *alpha, const attsvm_settings *s, attsvm_tokens *tok)
{
    const char *sub = "svm";
    char err[MDATT_ERRLEN] = "";
    mdatt_outfile o = {0};
    attsvm_result res = {0};
    int code = CLI_OK;
    mdatt_status st = mdatt_outfile_open(&o, a->out, err);
    if (st != MDATT_OK)
        return cli_status(sub, st, err);
    attsvm_status as = attsvm_solve(D, alpha, a->tg, s, &res);
    if (as == ATTSVM_EINVAL || as == ATTSVM_NOMEM) {
        code = cli_error(sub, as == ATTSVM_EINVAL ? CLI_BAD : CLI_FAIL, "%s", res.message);
        goto done;
    }
    if (a->tg == ATTSVM_TARGET_W) {
        attsvm_classify(D, alpha, &res, tok);
        if (tok->nties < 0) {   /* the list of ties could not be allocated (attsvm.h) */
            code = cli_error(sub, CLI_FAIL, "out of memory (the list of tied samples)");
            goto done;
        }
    }
    write_svm(o.f, D, alpha, a->tg, a->p, &res, a->tg == ATTSVM_TARGET_W ? tok : NULL,
              mdatt_instance_hash(in));
    if ((st = mdatt_outfile_commit(&o, err)) != MDATT_OK) {
        code = cli_error(sub, CLI_FAIL, "%s", err);
        goto done;
    }
    if (as == ATTSVM_INFEASIBLE)
        code = cli_error(sub, CLI_FAIL, "infeasible: %s (Farkas certificate written to %s)",
                         res.message, a->out);
    else if (as == ATTSVM_FAILED)
        code = cli_error(sub, CLI_FAIL, "solver failed: %s", res.message);
done:
    mdatt_outfile_abort(&o);
    attsvm_result_free(&res);
    return code;
}

static int run(int argc, char **argv)
{
    const char *sub = "svm";
    svm_args a = {.p = NAN, .max_gb = 4.0, .query = -1};
    int code = parse_args(argc, argv, &a);
    if (code != CLI_OK)
        return code;
    char err[MDATT_ERRLEN] = "";
    mdatt_instance in;
    mdatt_status st = mdatt_instance_read_query(a.instance, (int)a.query, &in, err);
    if (st != MDATT_OK)
        return cli_status(sub, st, err);
    const attsvm_data D = {in.n, in.T, in.d, in.X, in.Z, in.Y, in.v};
    attsvm_tokens tok = {0};
    attsvm_settings s;
    int *alpha = malloc(sizeof(int) * in.n);
    if (!alpha)
        code = cli_error(sub, CLI_FAIL, "out of memory");
    if (code == CLI_OK)
        code = choose_tokens(&a, &in, &D, alpha, &tok);
    if (code == CLI_OK)
        code = solver_settings(&a, &in, &s);
    if (code == CLI_OK)
        code = solve_and_write(&a, &in, &D, alpha, &s, &tok);
    attsvm_tokens_free(&tok);
    free(alpha);
    mdatt_instance_free(&in);
    return code;
}
