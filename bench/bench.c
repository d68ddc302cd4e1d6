/* bench.c - `mdatt bench` below its command line (src/cli/cmd_bench.c):
 * configuration, tables, figures, running one configuration and the reports
 * index with its provenance block. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cblas.h>
#include <glpk.h>
#include "config.h"
#include "bench.h"
#include "figure.h"
#include "records.h"
#include "stage.h"

/* Write a message into err and return code (the driver's convention, bench.h). */
static int fail(char err[BENCH_ERRLEN], int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, BENCH_ERRLEN, fmt, ap);
    va_end(ap);
    return code;
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* ------------------------------------------------------------ configuration */

static int cfg_fail(bench_ctx *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(b->err, sizeof b->err, "%s: ", b->path);
    vsnprintf(b->err + k, sizeof b->err - k, fmt, ap);
    va_end(ap);
    return -1;
}

int bench_cfg_int(bench_ctx *b, const char *key, long dflt, long lo, long hi, long *out)
{
    json_t *x = json_object_get(b->cfg, key);
    if (!x) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(x))
        return cfg_fail(b, "%s: must be an integer", key);
    *out = (long)json_integer_value(x);
    if (*out < lo || *out > hi)
        return cfg_fail(b, "%s: %ld is out of range [%ld, %ld]", key, *out, lo, hi);
    return 0;
}

int bench_cfg_double(bench_ctx *b, const char *key, double dflt, double *out)
{
    json_t *x = json_object_get(b->cfg, key);
    if (!x) {
        *out = dflt;
        return 0;
    }
    if (!json_is_number(x) || !isfinite(json_number_value(x)))
        return cfg_fail(b, "%s: must be a finite number", key);
    *out = json_number_value(x);
    return 0;
}

int bench_cfg_bool(bench_ctx *b, const char *key, int dflt, int *out)
{
    json_t *x = json_object_get(b->cfg, key);
    if (!x) {
        *out = dflt;
        return 0;
    }
    if (!json_is_boolean(x))
        return cfg_fail(b, "%s: must be true or false", key);
    *out = json_is_true(x);
    return 0;
}

int bench_cfg_doubles(bench_ctx *b, const char *key, double *out, int max, int *count)
{
    json_t *x = json_object_get(b->cfg, key);
    if (!json_is_array(x) || json_array_size(x) == 0)
        return cfg_fail(b, "%s: must be a non-empty list of numbers", key);
    if ((int)json_array_size(x) > max)
        return cfg_fail(b, "%s: at most %d entries", key, max);
    *count = (int)json_array_size(x);
    for (int k = 0; k < *count; k++) {
        json_t *e = json_array_get(x, k);
        if (!json_is_number(e) || !isfinite(json_number_value(e)))
            return cfg_fail(b, "%s[%d]: must be a finite number", key, k);
        out[k] = json_number_value(e);
    }
    return 0;
}

int bench_cfg_seeds(bench_ctx *b, const char *key, long *from, int *count)
{
    json_t *x = json_object_get(b->cfg, key), *f, *t;
    if (!json_is_object(x) || !json_is_integer(f = json_object_get(x, "from")) ||
        !json_is_integer(t = json_object_get(x, "to")))
        return cfg_fail(b, "%s: must be {\"from\": integer, \"to\": integer}", key);
    long a = (long)json_integer_value(f), z = (long)json_integer_value(t);
    if (a < 0 || z < a || z - a >= 100000)
        return cfg_fail(b, "%s: need 0 <= from <= to and at most 100000 seeds", key);
    *from = a;
    *count = (int)(z - a + 1);
    return 0;
}

int bench_cfg_memory(bench_ctx *b, const char *fields, double bytes)
{
    if (bytes <= b->max_memory)
        return 0;
    return cfg_fail(b, "%s: the runs need an estimated %.3g GB of memory, more than the bound "
                       "of %.3g GB (raise it with --max-memory GB)", fields, bytes / 1e9,
                    b->max_memory / 1e9);
}

double bench_runs_memory(const bench_ctx *b, long runs, long n, long T, long d, double snaps)
{
    const double at_once = runs < b->threads ? (double)runs : (double)b->threads;
    const double dd = (double)d * d;
    return 8.0 * at_once * (3.0 * n * T * d + (double)n * (T - 1) * dd + snaps * (dd + d + 4));
}

/* ------------------------------------------------------------------ output */

FILE *bench_open(bench_ctx *b, const char *name, mdatt_outfile *o)
{
    char path[1400], err[MDATT_ERRLEN];
    snprintf(path, sizeof path, "%s/%s", b->outdir, name);
    if (mdatt_outfile_open(o, path, err) != MDATT_OK) {
        snprintf(b->err, sizeof b->err, "%.*s", (int)sizeof b->err - 1, err);
        return NULL;
    }
    return o->f;
}

int bench_close(bench_ctx *b, mdatt_outfile *o)
{
    char err[MDATT_ERRLEN];
    if (mdatt_outfile_commit(o, err) != MDATT_OK) {
        snprintf(b->err, sizeof b->err, "%s", err);
        return -1;
    }
    return 0;
}

void bench_table_init(bench_table *t, int ncols, const char **head)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->head = head;
}

void bench_table_row(bench_table *t, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (t->nrows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->cells = realloc(t->cells, sizeof(char *) * t->cap * t->ncols);
    }
    char *s = line;
    for (int c = 0; c < t->ncols; c++) {
        char *bar = c < t->ncols - 1 ? strchr(s, '|') : NULL;
        if (bar)
            *bar = '\0';
        t->cells[t->nrows * t->ncols + c] = strdup(s);
        s = bar ? bar + 1 : s + strlen(s);
    }
    t->nrows++;
}

void bench_table_free(bench_table *t)
{
    for (int k = 0; k < t->nrows * t->ncols; k++)
        free(t->cells[k]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* LaTeX-safe copy of s. */
static void put_tex(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (strchr("_%&#$", *s))
            fputc('\\', f);
        if (*s == '~' || *s == '^')
            fputs(*s == '~' ? "$\\sim$" : "\\^{}", f);
        else
            fputc(*s, f);
    }
}

int bench_table_write(bench_ctx *b, const bench_table *t, const char *name, const char *caption)
{
    static const char *ext[] = {"md", "csv", "tex"};
    for (int e = 0; e < 3; e++) {
        char fname[300];
        mdatt_outfile o;
        snprintf(fname, sizeof fname, "%s.%s", name, ext[e]);
        FILE *f = bench_open(b, fname, &o);
        if (!f)
            return -1;
        if (e == 0) {
            if (caption)
                fprintf(f, "%s\n\n", caption);
            for (int c = 0; c < t->ncols; c++)
                fprintf(f, "| %s ", t->head[c]);
            fputs("|\n", f);
            for (int c = 0; c < t->ncols; c++)
                fputs("|---", f);
            fputs("|\n", f);
        } else if (e == 1) {
            for (int c = 0; c < t->ncols; c++)
                fprintf(f, c ? ",%s" : "%s", t->head[c]);
            fputc('\n', f);
        } else {
            fprintf(f, "%% %s\n\\begin{tabular}{", caption ? "" : name);
            for (int c = 0; c < t->ncols; c++)
                fputc(c ? 'r' : 'l', f);
            fputs("}\n\\hline\n", f);
            for (int c = 0; c < t->ncols; c++) {
                fputs(c ? " & " : "", f);
                put_tex(f, t->head[c]);
            }
            fputs(" \\\\\n\\hline\n", f);
        }
        for (int r = 0; r < t->nrows; r++) {
            for (int c = 0; c < t->ncols; c++) {
                const char *s = t->cells[r * t->ncols + c];
                if (e == 0)
                    fprintf(f, "| %s ", s);
                else if (e == 1)
                    fprintf(f, c ? ",%s" : "%s", s);
                else {
                    fputs(c ? " & " : "", f);
                    put_tex(f, s);
                }
            }
            fputs(e == 0 ? "|\n" : e == 1 ? "\n" : " \\\\\n", f);
        }
        if (e == 2)
            fputs("\\hline\n\\end{tabular}\n", f);
        if (bench_close(b, &o))
            return -1;
    }
    return 0;
}

int bench_figure(bench_ctx *b, const char *name, const char *size, const char *body)
{
    char fname[300];
    mdatt_outfile o;
    snprintf(fname, sizeof fname, "%s.gp", name);
    FILE *f = bench_open(b, fname, &o);
    if (!f)
        return -1;
    bench_gnuplot_script(f, name, size, body);
    if (bench_close(b, &o))
        return -1;
    if (b->scratch)
        return 0;               /* nobody looks at a scratch folder's figures */
    int rc = bench_gnuplot_render(b->outdir, fname);
    if (rc < 0) {
        snprintf(b->err, sizeof b->err, "gnuplot failed on %s (messages in the .err file beside it)", fname);
        return -1;
    }
    static int said;
    if (rc > 0 && !said++)
        fprintf(stderr, "mdatt bench: gnuplot was not found at configure time: figures are "
                        "written as .tsv + .gp sources, not rendered (apt-get install gnuplot-nox)\n");
    return 0;
}

void bench_index_line(bench_ctx *b, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    if ((size_t)len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    char *grown = realloc(b->index, b->index_len + len + 1);
    if (!grown)
        return;
    memcpy(grown + b->index_len, line, len);
    b->index = grown;
    b->index_len += len;
    b->index[b->index_len] = '\0';
}

/* Replace <outdir>/index.md with the lines gathered during a successful run. */
static int write_fragment(bench_ctx *b)
{
    mdatt_outfile o;
    FILE *f = bench_open(b, "index.md", &o);
    if (!f)
        return -1;
    if (b->index_len)
        fwrite(b->index, 1, b->index_len, f);
    return bench_close(b, &o);
}

void bench_init_w(double *W, int d, double std, long seed)
{
    mdatt_rng r;
    mdatt_rng_seed(&r, (uint64_t)seed);
    for (int k = 0; k < d * d; k++)
        W[k] = std * mdatt_rng_normal(&r);
}

const char *bench_pname(double p, char buf[16])
{
    snprintf(buf, 16, "%g", p);
    return buf;
}

int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_mean_std(const double *x, int n, double *mean, double *std)
{
    double s = 0.0, s2 = 0.0;
    for (int k = 0; k < n; k++)
        s += x[k];
    *mean = n ? s / n : NAN;
    for (int k = 0; k < n; k++)
        s2 += (x[k] - *mean) * (x[k] - *mean);
    *std = n > 1 ? sqrt(s2 / (n - 1)) : 0.0;
}

void bench_quartiles(const double *x, int n, double q[3])
{
    double *s = n > 0 ? malloc(sizeof(double) * n) : NULL;
    if (!s) {
        q[0] = q[1] = q[2] = NAN;
        return;
    }
    memcpy(s, x, sizeof(double) * n);
    qsort(s, n, sizeof(double), bench_cmp_double);
    for (int k = 0; k < 3; k++) {
        const double h = (n - 1) * 0.25 * (k + 1);
        const int lo = (int)floor(h), hi = lo + 1 < n ? lo + 1 : lo;
        q[k] = s[lo] + (h - lo) * (s[hi] - s[lo]);
    }
    free(s);
}

/* -------------------------------------------------------------- subcommand */

static const struct {
    const char *name;
    bench_fn fn;
} experiments[] = {
    {"paper_fig4", bench_paper_fig4},
    {"paper_paths", bench_paper_paths},
    {"paper_joint", bench_paper_joint},
    {"beyond_saturation", bench_beyond_saturation},
    {"rates", bench_rates},
    {"realdata", bench_realdata},
    {"sweep_scale", bench_sweep_scale},
};

int bench_mkdir_p(const char *path)
{
    char tmp[1400];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *c = tmp + 1; *c; c++)
        if (*c == '/') {
            *c = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *c = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove a folder and everything in it (missing: nothing to do). */
static int rm_tree(const char *path)
{
    if (access(path, F_OK) != 0)
        return 0;
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The experiment's output folder; a shard and MPI ranks other than 0 write
 * their tables into a scratch folder that is removed afterwards. */
static int output_place(bench_ctx *b, const bench_opts *op, char err[BENCH_ERRLEN])
{
    snprintf(b->outdir, sizeof b->outdir, "%s/%s", op->root, b->reldir);
    snprintf(b->recdir, sizeof b->recdir, "%s/runs", b->outdir);
    if (bench_mkdir_p(b->outdir) != 0)
        return fail(err, BENCH_FAIL, "%s: cannot create: %s", b->outdir, strerror(errno));
    if (op->fresh && op->rank == 0 && rm_tree(b->recdir) != 0)
        return fail(err, BENCH_FAIL, "%s: cannot remove: %s", b->recdir, strerror(errno));
    if (op->shard_n > 0 || op->rank > 0) {
        const char *t = getenv("TMPDIR");
        snprintf(b->outdir, sizeof b->outdir, "%s/mdatt-scratch-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(b->outdir))
            return fail(err, BENCH_FAIL, "%s: cannot create: %s", b->outdir, strerror(errno));
        b->scratch = 1;
    }
    return BENCH_OK;
}

/* Exit code and message of an experiment that returned rc. */
static int outcome(bench_ctx *b, int rc, const bench_opts *op, char err[BENCH_ERRLEN])
{
    if (b->halt == BENCH_HALT_SHARD) {
        if (!op->quiet && op->rank == 0)
            fprintf(stderr, "mdatt bench: %s: %s\n", b->name, b->halt_msg);
        return BENCH_OK;
    }
    if (op->rank > 0)           /* rank 0 says it */
        return rc == 0 ? BENCH_OK : b->halt == BENCH_HALT_FOREIGN || rc == 2 ? BENCH_BAD : BENCH_FAIL;
    if (b->halt == BENCH_HALT_MISSING)
        return fail(err, BENCH_FAIL, "--merge: %s", b->halt_msg);
    if (b->halt == BENCH_HALT_FOREIGN)
        return fail(err, BENCH_BAD, "--merge: %s", b->halt_msg);
    if (rc != 0)
        return fail(err, rc == 2 ? BENCH_BAD : BENCH_FAIL, "%s: %s", b->name,
                         b->err[0] ? b->err : "failed");
    return BENCH_OK;
}

/* The configuration file: parsed, its experiment found. */
static int load_config(bench_ctx *b, const char *path, bench_fn *fn, char err[BENCH_ERRLEN])
{
    json_error_t je;
    b->cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!b->cfg)
        return fail(err, BENCH_BAD, "%s: malformed JSON at line %d: %s", path, je.line, je.text);
    json_t *e = json_object_get(b->cfg, "experiment"), *o = json_object_get(b->cfg, "output");
    if (!json_is_string(e))
        return fail(err, BENCH_BAD, "%s: experiment: missing (one of paper_fig4, paper_paths, "
                                           "paper_joint, beyond_saturation, rates, realdata, sweep_scale)", path);
    b->name = json_string_value(e);
    *fn = NULL;
    for (size_t k = 0; k < sizeof experiments / sizeof experiments[0]; k++)
        if (strcmp(b->name, experiments[k].name) == 0)
            *fn = experiments[k].fn;
    if (!*fn)
        return fail(err, BENCH_BAD, "%s: experiment: unknown '%s'", path, b->name);
    snprintf(b->reldir, sizeof b->reldir, "%s", json_is_string(o) ? json_string_value(o) : b->name);
    if (strstr(b->reldir, "..") || b->reldir[0] == '/')
        return fail(err, BENCH_BAD, "%s: output: must be a folder name inside the reports", path);
    return BENCH_OK;
}

int bench_check_config(const char *path, double max_memory, char err[BENCH_ERRLEN])
{
    err[0] = '\0';
    bench_ctx b = {0};
    b.path = path;
    b.threads = 1;
    b.quiet = 1;
    b.nranks = 1;
    b.max_memory = max_memory;
    b.check_only = 1;
    bench_fn fn = NULL;
    int code = load_config(&b, path, &fn, err);
    if (code == BENCH_OK && fn(&b) != 0)
        code = fail(err, BENCH_BAD, "%s: %s", b.name, b.err[0] ? b.err : "invalid");
    json_decref(b.cfg);
    return code;
}

int bench_run_config(const char *path, const bench_opts *op, char err[BENCH_ERRLEN])
{
    err[0] = '\0';
    bench_ctx b = {0};
    b.path = path;
    b.threads = op->threads;
    b.quiet = op->quiet || op->rank > 0;
    b.shard_k = op->shard_k;
    b.shard_n = op->shard_n;
    b.merge = op->merge;
    b.rank = op->rank;
    b.nranks = op->nranks;
    b.max_memory = op->max_memory;
    bench_fn fn = NULL;
    int code = load_config(&b, path, &fn, err);
    if (code == BENCH_OK)
        code = output_place(&b, op, err);
    if (code != BENCH_OK) {
        json_decref(b.cfg);
        return code;
    }
    double t0 = bench_now();
    int rc = fn(&b);
    double secs = bench_now() - t0;
    if (rc == 0 && write_fragment(&b) != 0)
        rc = 1;
    code = outcome(&b, rc, op, err);
    if (b.scratch)
        rm_tree(b.outdir);
    else if (code == BENCH_OK) {
        char tpath[1100];
        snprintf(tpath, sizeof tpath, "%s/.timings", op->root);
        FILE *tf = fopen(tpath, "a");
        if (tf) {
            char *conf = json_dumps(b.cfg, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
            fprintf(tf, "%s\t%s\t%.2f\t%d\t%s\n", b.reldir, path, secs, op->threads * op->nranks,
                    conf ? conf : "{}");
            free(conf);
            fclose(tf);
        }
        if (!op->quiet)
            fprintf(stderr, "mdatt bench: %s done in %.1f s -> %s\n", b.name, secs, b.outdir);
    }
    free(b.index);
    json_decref(b.cfg);
    return code;
}

/* First line of a command's output, or "unknown". */
static void first_line(const char *cmd, char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(out, (int)len, p))
        out[strcspn(out, "\n")] = '\0';
    else
        snprintf(out, len, "unknown");
    pclose(p);
}

/* The index's opening paragraph. */
static void index_intro(FILE *f)
{
    fprintf(f, "# mdatt reports\n\nGenerated by `make bench` (see the provenance block below). "
               "Every table is given as `.md`, `.csv` and `.tex`; every figure as `.svg` and "
               "`.png`, rendered by gnuplot from the `.tsv` + `.gp` pair beside it (edit the "
               "`.gp` and run `gnuplot NAME.gp` in its folder to restyle).\n\n");
}

/* The experiments in the order they ran (root/.timings), each with its
 * index.md fragment; returns their total wall time. */
static double index_experiments(FILE *f, const char *root)
{
    char path[1100], line[4096];
    snprintf(path, sizeof path, "%s/.timings", root);
    FILE *tf = fopen(path, "r");
    double total = 0.0;
    if (!tf)
        return total;
    fprintf(f, "## Experiments\n\n");
    while (fgets(line, sizeof line, tf)) {
        char dir[256], cfg[1024], conf[2048] = "";
        double secs;
        int th;
        if (sscanf(line, "%255[^\t]\t%1023[^\t]\t%lf\t%d\t%2047[^\n]", dir, cfg, &secs, &th,
                   conf) < 4)
            continue;
        total += secs;
        fprintf(f, "### [%s](%s/)\n\nWall time: %.1f s on %d thread%s. Configuration `%s`:\n\n"
                   "    %s\n\n", dir, dir, secs, th, th == 1 ? "" : "s", cfg, conf);
        char frag[1400];
        snprintf(frag, sizeof frag, "%s/%s/index.md", root, dir);
        FILE *ff = fopen(frag, "r");
        if (ff) {
            while (fgets(line, sizeof line, ff))
                fputs(line, f);
            fclose(ff);
            fputc('\n', f);
        }
    }
    fclose(tf);
    fprintf(f, "Wall time of the experiments above: %.1f s.\n\n", total);
    return total;
}

/* Wall time of a performance benchmark as bench/run.sh wrote it into
 * root/.perf_timings, or -1. */
static long perf_seconds(const char *root, const char *name)
{
    char path[1100], got[64];
    snprintf(path, sizeof path, "%s/.perf_timings", root);
    FILE *pf = fopen(path, "r");
    long secs = -1, s;
    while (pf && fscanf(pf, "%63s %ld", got, &s) == 2)
        if (strcmp(got, name) == 0)
            secs = s;
    if (pf)
        fclose(pf);
    return secs;
}

/* The performance benchmarks' reports present in root; returns their wall time. */
static double index_perf(FILE *f, const char *root)
{
    const char *perf[] = {"perf_trainer", "perf_oracle"};
    double total = 0.0;
    for (int k = 0; k < 2; k++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s.md", root, perf[k]);
        if (access(path, R_OK) != 0)
            continue;
        long secs = perf_seconds(root, perf[k]);
        fprintf(f, "### [%s](%s.md)\n\n%s ([csv](%s.csv)).", perf[k], perf[k],
                k == 0 ? "Trainer time per iteration at the paper size and a large size, "
                         "against memory bandwidth, and one epoch of the real-data model"
                       : "Oracle time and certified gap per p and size, beside cvxopt",
                perf[k]);
        if (secs >= 0)
            fprintf(f, " Wall time: %ld s.", secs);
        fputs("\n\n", f);
        total += secs > 0 ? (double)secs : 0.0;
    }
    return total;
}

/* The provenance block: version, command, compiler, libraries, machine, date. */
static void index_provenance(FILE *f, const char *root, const char *command)
{
    char cpu[256], rev[64], date[64];
    first_line("grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'", cpu, sizeof cpu);
    char gitcmd[1200];                  /* the revision of the tree holding the reports */
    snprintf(gitcmd, sizeof gitcmd, "git -C '%s' rev-parse --short HEAD 2>/dev/null", root);
    first_line(gitcmd, rev, sizeof rev);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    const char *nt = getenv("OPENBLAS_NUM_THREADS");
    fprintf(f, "## Provenance\n\n"
               "| | |\n|---|---|\n"
               "| mdatt | %s (git %s; configured at %s) |\n"
               "| command | `%s` |\n"
               "| compiler | %s |\n"
               "| GLPK | %s |\n"
               "| OpenBLAS | %s (OPENBLAS_NUM_THREADS=%s) |\n"
               "| machine | %s, %ld online CPUs |\n"
               "| date | %s |\n\n"
               "Seeds, sizes, p values and iterations of each experiment are in its configuration, "
               "shown above with the file it came from. Tables and figures do not depend on the "
               "date or the thread count; two runs give byte-identical tables and SVG figures.\n",
            MDATT_VERSION_STRING, rev, MDATT_GIT_REV, command, __VERSION__, glp_version(),
            openblas_get_config(), nt ? nt : "unset", cpu, sysconf(_SC_NPROCESSORS_ONLN), date);
}

int bench_write_index(const char *root, const char *command, char err[BENCH_ERRLEN])
{
    char path[1100];
    snprintf(path, sizeof path, "%s/README.md", root);
    mdatt_outfile o;
    err[0] = '\0';
    if (mdatt_outfile_open(&o, path, err) != MDATT_OK)
        return BENCH_FAIL;
    index_intro(o.f);
    double total = index_experiments(o.f, root);
    total += index_perf(o.f, root);
    fprintf(o.f, "Total wall time of `make bench`'s runs: %.0f s.\n\n", total);
    index_provenance(o.f, root, command);
    return mdatt_outfile_commit(&o, err) != MDATT_OK ? BENCH_FAIL : BENCH_OK;
}
