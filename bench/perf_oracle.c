/* perf_oracle.c - time libattsvm against cvxopt on the same instances.
 *
 *   bench/perf_oracle OUTDIR [--sizes paper,mid,large|none] [--reps N] [--no-cvxopt]
 *                     [--ladder 1,2,3|none] [--full] [--ladder-p 1,1.5,2,3,inf]
 *                     [--no-infeasible | --infeasible-only] [--timeout CPU_SECONDS]
 *                     [--mem-gb GB]
 *
 * Default (what `make bench` runs): the paper and mid sizes, then rungs 1
 * and 2 of the size ladder (bench/perf_ladder.c: planted feasible and
 * infeasible instances, each solve in a forked child with its peak memory;
 * the largest rung, 129 024 x 4 096, only with --full).  The
 * "with LP phase" column (lp_phase = 1) is measured where a size is repeated
 * (paper, mid).
 *
 * For each size (paper n=6,T=8,d=10; mid n=50,T=20,d=20; large n=200,T=16,d=32)
 * a synthetic instance is drawn with the generator below (unit-sphere tokens,
 * queries and decoder, labels +-1; alpha = the global token choice) and the
 * W-SVM is solved for p in {1, 1.5, 1.75, 2, 3, inf}: median wall time over
 * the repetitions, and the certificate recomputed by attsvm_certify().  The
 * constraint matrix (and the data it is built from) is written to a temporary
 * file and bench/perf_oracle.py (run by /usr/bin/python3) solves the same
 * problems with cvxopt, timing the solver calls in-process and certifying
 * them with the same formula; in the same process it times the Python package
 * mdatt (mdatt.svm over libattsvm.so, from this source and build tree).
 * Writes OUTDIR/perf_oracle.md and OUTDIR/perf_oracle.csv, and the ladder's
 * rows into OUTDIR/perf_oracle_ladder.csv (temp + rename).
 *
 * Links libattsvm, GLPK, OpenBLAS and libm only (no trainer code).
 */
#include <glpk.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attsvm.h"
#include "perf_ladder.h"

#ifndef MDATT_SRCDIR
#define MDATT_SRCDIR "."
#endif
#ifndef MDATT_BUILDDIR
#define MDATT_BUILDDIR "."
#endif

/* splitmix64 + Box-Muller: the same instances on every machine. */
double perf_unif(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

void perf_unit(uint64_t *s, double *x, int d)
{
    double n2 = 0.0;
    for (int j = 0; j < d; j++) {
        x[j] = sqrt(-2.0 * log(perf_unif(s))) * cos(2.0 * M_PI * perf_unif(s));
        n2 += x[j] * x[j];
    }
    for (int j = 0; j < d; j++)
        x[j] /= sqrt(n2);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const char *name;
    int n, T, d, reps;
} size_spec;

typedef struct {
    double ms, ms_lp, cpu, gap, viol, obj;
    const char *status;
    double cv_ms, cv_cpu, cv_gap, cv_viol, cv_obj;
    char cv_status[64];
    int have_cv;
    double py_ms, py_cpu, py_gap;   /* mdatt.svm in cvxopt's process */
    char py_status[64];
    int have_py;
} row;

static const double PS[] = {1.0, 1.5, 1.75, 2.0, 3.0, INFINITY};
enum { NP = 6 };

/* Find `"key": value` after pos in s (within the object ending at end). */
static int json_num(const char *s, const char *end, const char *key, double *v)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *k = strstr(s, pat);
    if (!k || k > end)
        return 0;
    k += strlen(pat);
    if (strncmp(k, "Infinity", 8) == 0)
        *v = INFINITY;
    else if (strncmp(k, "null", 4) == 0)
        *v = NAN;
    else
        *v = strtod(k, NULL);
    return 1;
}

static void json_str(const char *s, const char *end, const char *key, char *out, size_t len)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *k = strstr(s, pat);
    out[0] = 0;
    if (!k || k > end)
        return;
    k += strlen(pat);
    size_t i = 0;
    while (k[i] && k[i] != '"' && i + 1 < len) {
        out[i] = k[i];
        i++;
    }
    out[i] = 0;
}

/* The fields PREstatus, PREseconds, PREcpu_seconds, PREgap of one result
 * object (o..e), times in ms; 0 when it has no timing. */
static int timed(const char *o, const char *e, const char *pre, char status[64], double *ms,
                 double *cpu, double *gap)
{
    char key[64];
    double s;
    snprintf(key, sizeof key, "%sstatus", pre);
    json_str(o, e, key, status, 64);
    snprintf(key, sizeof key, "%sseconds", pre);
    int have = json_num(o, e, key, &s);
    *ms = have ? 1e3 * s : NAN;
    snprintf(key, sizeof key, "%scpu_seconds", pre);
    *cpu = json_num(o, e, key, &s) ? 1e3 * s : NAN;
    snprintf(key, sizeof key, "%sgap", pre);
    if (!json_num(o, e, key, gap))
        *gap = NAN;
    return have;
}

static void put_doubles(FILE *f, const double *x, size_t m)
{
    for (size_t e = 0; e < m; e++)
        fprintf(f, "%.17g\n", x[e]);
}

/* Run the cvxopt side (and mdatt.svm in its process) on A, built from D at
 * alpha; fills rows[].cv_* and rows[].py_*; returns cvxopt's version or NULL. */
static char *run_cvxopt(const double *A, int m, int nx, int reps, const attsvm_data *D,
                        const int *alpha, row *rows)
{
    char path[] = "/tmp/perf_oracle_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    const int n = D->n, T = D->T, d = D->d;
    fprintf(f, "%d %d %d %d %d %d %d\n", m, nx, reps, NP, n, T, d);
    put_doubles(f, A, (size_t)m * nx);
    for (int k = 0; k < NP; k++)
        fprintf(f, isinf(PS[k]) ? "inf\n" : "%.17g\n", PS[k]);
    put_doubles(f, D->X, (size_t)n * T * d);
    put_doubles(f, D->Z, (size_t)n * d);
    put_doubles(f, D->Y, (size_t)n);
    put_doubles(f, D->v, (size_t)d);
    for (int i = 0; i < n; i++)
        fprintf(f, "%d\n", alpha[i]);
    fclose(f);
    const char *src = getenv("MDATT_SRCDIR") ? getenv("MDATT_SRCDIR") : MDATT_SRCDIR;
    const char *build = getenv("BUILDDIR") ? getenv("BUILDDIR") : MDATT_BUILDDIR;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONPATH='%s/python' "
             "MDATT_LIBDIR='%s/src/.libs:%s/oracle/.libs' PYTHONDONTWRITEBYTECODE=1 "
             "/usr/bin/python3 '%s/bench/perf_oracle.py' '%s' 2>/dev/null",
             src, build, build, src, path);
    FILE *pp = popen(cmd, "r");
    char *buf = NULL, *ver = NULL;
    size_t cap = 0, len = 0;
    if (pp) {
        char chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, pp)) > 0) {
            if (len + got + 1 > cap) {
                cap = 2 * (len + got + 1);
                buf = realloc(buf, cap);
            }
            memcpy(buf + len, chunk, got);
            len += got;
        }
        pclose(pp);
    }
    unlink(path);
    if (!buf)
        return NULL;
    buf[len] = 0;
    char vs[64];
    json_str(buf, buf + len, "cvxopt", vs, sizeof vs);
    if (vs[0])
        ver = strdup(vs);
    const char *cur = buf;
    for (int k = 0; k < NP && ver; k++) {
        const char *o = strstr(cur, "{\"p\": ");
        if (!o)
            break;
        const char *e = strchr(o, '}');
        if (!e)
            break;
        row *r = &rows[k];
        r->have_cv = timed(o, e, "", r->cv_status, &r->cv_ms, &r->cv_cpu, &r->cv_gap);
        if (!json_num(o, e, "max_violation", &r->cv_viol))
            r->cv_viol = NAN;
        if (!json_num(o, e, "objective", &r->cv_obj))
            r->cv_obj = NAN;
        r->have_py = timed(o, e, "mdatt_", r->py_status, &r->py_ms, &r->py_cpu, &r->py_gap);
        cur = e;
    }
    free(buf);
    return ver;
}

static void cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c += 1 + (c[1] == ' ');
                c[strcspn(c, "\n")] = 0;
                snprintf(out, len, "%s", c);
            }
            break;
        }
    fclose(f);
}

static void fmt(char *b, size_t n, double v, const char *f)
{
    if (isnan(v))
        b[0] = 0;
    else
        snprintf(b, n, f, v);
}

/* The command line. */
typedef struct {
    const char *outdir, *sizes;
    int reps_override, use_cv;
    double lps[16];
    perf_ladder_opts lo;
} perf_args;

/* Parse the options after OUTDIR into A: 0, or 2 after a message. */
static int parse_args(int argc, char **argv, perf_args *A)
{
    for (int a = 2; a < argc; a++) {
        if (strcmp(argv[a], "--sizes") == 0 && a + 1 < argc)
            A->sizes = argv[++a];
        else if (strcmp(argv[a], "--reps") == 0 && a + 1 < argc)
            A->reps_override = atoi(argv[++a]);
        else if (strcmp(argv[a], "--no-cvxopt") == 0)
            A->use_cv = A->lo.cvxopt = 0;
        else if (strcmp(argv[a], "--ladder") == 0 && a + 1 < argc)
            A->lo.rungs = argv[++a];
        else if (strcmp(argv[a], "--full") == 0)
            A->lo.rungs = "1,2,3";
        else if (strcmp(argv[a], "--no-infeasible") == 0)
            A->lo.infeasible = 0;
        else if (strcmp(argv[a], "--infeasible-only") == 0)
            A->lo.infeasible = 2;
        else if (strcmp(argv[a], "--timeout") == 0 && a + 1 < argc && atof(argv[a + 1]) > 0)
            A->lo.timeout = atof(argv[++a]);
        else if (strcmp(argv[a], "--mem-gb") == 0 && a + 1 < argc && atof(argv[a + 1]) > 0)
            A->lo.mem_gb = atof(argv[++a]);
        else if (strcmp(argv[a], "--ladder-p") == 0 && a + 1 < argc) {
            char *e, *c = argv[++a];
            for (A->lo.nps = 0; *c && A->lo.nps < 16; A->lo.nps++) {
                double *lp = &A->lps[A->lo.nps];
                *lp = strncmp(c, "inf", 3) == 0 ? (e = c + 3, INFINITY) : strtod(c, &e);
                if (e == c || !(*lp >= 1.0) || (*e && *e != ',')) {
                    fprintf(stderr, "perf_oracle: --ladder-p: '%s' is not a list of p >= 1\n", argv[a]);
                    return 2;
                }
                c = *e ? e + 1 : e;
            }
        } else {
            fprintf(stderr, "perf_oracle: unknown argument '%s'\n", argv[a]);
            return 2;
        }
    }
    return 0;
}

/* One size's synthetic instance (unit-sphere tokens, queries and decoder,
 * labels +-1) at the global token choice, and its dense rows for the
 * certificate and cvxopt. */
typedef struct {
    double *X, *Z, *Y, *v, *A;
    int *alpha, m, nx;
    attsvm_data D;
} size_inst;

static void size_inst_free(size_inst *I)
{
    free(I->A);
    free(I->X);
    free(I->Z);
    free(I->Y);
    free(I->v);
    free(I->alpha);
}

/* 0, or -1 when out of memory. */
static int size_inst_draw(const size_spec *S, uint64_t seed, size_inst *I)
{
    const int n = S->n, T = S->T, d = S->d;
    memset(I, 0, sizeof *I);
    I->X = malloc(sizeof *I->X * (size_t)n * T * d);
    I->Z = malloc(sizeof *I->Z * (size_t)n * d);
    I->Y = malloc(sizeof *I->Y * (size_t)n);
    I->v = malloc(sizeof *I->v * (size_t)d);
    I->alpha = malloc(sizeof *I->alpha * (size_t)n);
    if (!I->X || !I->Z || !I->Y || !I->v || !I->alpha)
        return -1;
    perf_unit(&seed, I->v, d);
    for (int i = 0; i < n; i++) {
        for (int t = 0; t < T; t++)
            perf_unit(&seed, I->X + ((size_t)i * T + t) * d, d);
        perf_unit(&seed, I->Z + (size_t)i * d, d);
        I->Y[i] = perf_unif(&seed) < 0.5 ? -1.0 : 1.0;
    }
    I->D = (attsvm_data){n, T, d, I->X, I->Z, I->Y, I->v};
    attsvm_global_alpha(&I->D, I->alpha, NULL);
    I->A = attsvm_build_rows(&I->D, I->alpha, ATTSVM_TARGET_W, &I->m, &I->nx);
    return I->A ? 0 : -1;
}

/* Time attsvm_solve at p = PS[k] (median of reps; with lp_phase = 1 beside
 * it where the size is repeated and 1 < p < inf, p != 2) and certify the
 * answer over the dense rows.  0, or -1 when out of memory. */
static int time_p(const size_spec *S, const size_inst *I, int reps, int k, row *out)
{
    double *t = malloc(sizeof *t * (size_t)reps), *t2 = malloc(sizeof *t2 * (size_t)reps);
    double *tc = malloc(sizeof *tc * (size_t)reps);
    attsvm_result r = {0};
    if (!t || !t2 || !tc) {
        free(t);
        free(t2);
        free(tc);
        return -1;
    }
    for (int rep = 0; rep < reps; rep++) {
        attsvm_settings s;
        attsvm_default_settings(&s);
        s.p = PS[k];
        attsvm_result_free(&r);
        double t0 = now(), c0 = cpu_now();
        attsvm_solve(&I->D, I->alpha, ATTSVM_TARGET_W, &s, &r);
        t[rep] = 1e3 * (now() - t0);
        tc[rep] = 1e3 * (cpu_now() - c0);
        t2[rep] = NAN;
        if (PS[k] > 1.0 && PS[k] != 2.0 && !isinf(PS[k]) && S->reps > 1) {
            attsvm_result r2;
            s.lp_phase = 1;
            t0 = now();
            attsvm_solve(&I->D, I->alpha, ATTSVM_TARGET_W, &s, &r2);
            t2[rep] = 1e3 * (now() - t0);
            attsvm_result_free(&r2);
        }
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    qsort(t2, (size_t)reps, sizeof *t2, cmp_d);
    qsort(tc, (size_t)reps, sizeof *tc, cmp_d);
    attsvm_cert c;
    attsvm_certify(I->A, I->m, I->nx, PS[k], r.x, r.dual, r.ndual, &c);
    out->ms = t[reps / 2];
    out->ms_lp = t2[reps / 2];
    out->cpu = tc[reps / 2];
    out->status = attsvm_strerror(r.status);
    out->obj = r.status == ATTSVM_OPTIMAL ? c.upper : NAN;
    out->gap = r.status == ATTSVM_OPTIMAL ? c.gap : NAN;
    out->viol = r.status == ATTSVM_OPTIMAL ? c.max_violation : NAN;
    out->cv_ms = out->cv_cpu = out->cv_gap = out->cv_viol = out->cv_obj = NAN;
    attsvm_result_free(&r);
    free(t);
    free(t2);
    free(tc);
    fprintf(stderr, "perf_oracle: %s p=%g: %.3f ms, cpu %.3f ms (%s, gap %.2g)\n", S->name, PS[k],
            out->ms, out->cpu, out->status, out->gap);
    return 0;
}

/* A growing text: the report's per-size tables, written after its header. */
typedef struct {
    char text[65536];
    size_t len;
} body_buf;

/* The table heading of one size. */
static void size_heading(body_buf *B, const size_spec *S, const size_inst *I, int reps)
{
    B->len += (size_t)snprintf(B->text + B->len, sizeof B->text - B->len,
                               "\n### %s: n=%d, T=%d, d=%d (%d rows x %d variables), %d rep%s\n\n"
                               "| p | attsvm ms | attsvm cpu ms | with LP phase ms | attsvm gap | attsvm viol | "
                               "cvxopt ms | cvxopt cpu ms | cvxopt gap | cvxopt viol | speedup | "
                               "cpu speedup | gap ratio | mdatt.svm ms | mdatt.svm speedup | "
                               "mdatt.svm cpu speedup |\n"
                               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
                               S->name, S->n, S->T, S->d, I->m, I->nx, reps, reps > 1 ? "s (median)" : "");
}

/* One p's row of the table (B) and of the csv. */
static void size_row(body_buf *B, FILE *csv, const size_spec *S, const size_inst *I, int k,
                     const row *r)
{
    double sp = r->have_cv ? r->cv_ms / r->ms : NAN;
    double spc = r->have_cv ? r->cv_cpu / r->cpu : NAN;
    double gr = r->have_cv ? r->cv_gap / fmax(fabs(r->gap), 1e-16) : NAN;
    double spy = r->have_cv && r->have_py ? r->cv_ms / r->py_ms : NAN;
    double spyc = r->have_cv && r->have_py ? r->cv_cpu / r->py_cpu : NAN;
    char c[15][48];
    fmt(c[0], 48, r->ms, "%.3f");
    fmt(c[1], 48, r->ms_lp, "%.3f");
    fmt(c[2], 48, r->gap, "%.1e");
    fmt(c[3], 48, r->viol, "%.1e");
    fmt(c[4], 48, r->have_cv ? r->cv_ms : NAN, "%.3f");
    fmt(c[5], 48, r->have_cv ? r->cv_gap : NAN, "%.1e");
    fmt(c[6], 48, r->have_cv ? r->cv_viol : NAN, "%.1e");
    fmt(c[7], 48, sp, "%.1fx");
    fmt(c[8], 48, gr, "%.0fx");
    fmt(c[9], 48, r->cpu, "%.3f");
    fmt(c[10], 48, r->have_cv ? r->cv_cpu : NAN, "%.3f");
    fmt(c[11], 48, spc, "%.1fx");
    fmt(c[12], 48, r->have_py ? r->py_ms : NAN, "%.3f");
    fmt(c[13], 48, spy, "%.1fx");
    fmt(c[14], 48, spyc, "%.1fx");
    char pn[16];
    snprintf(pn, sizeof pn, isinf(PS[k]) ? "inf" : "%g", PS[k]);
    B->len += (size_t)snprintf(B->text + B->len, sizeof B->text - B->len,
                               "| %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%s | %s | %s |\n",
                               pn, c[0], strcmp(r->status, "optimal") ? " (not optimal)" : "",
                               c[9], c[1], c[2], c[3], c[4], c[10], c[5], c[6], c[7], c[11],
                               c[8], c[12],
                               r->have_py && strcmp(r->py_status, "optimal") ? " (not optimal)" : "",
                               c[13], c[14]);
    fprintf(csv, "%s,%d,%d,%d,%d,%d,%s,%.6g,%.6g,%s,%.17g,%.3g,%.3g,", S->name, S->n, S->T, S->d,
            I->m, I->nx, pn, r->ms, r->ms_lp, r->status, r->obj, r->gap, r->viol);
    if (r->have_cv)
        fprintf(csv, "%.6g,%s,%.17g,%.3g,%.3g,%.4g,%.4g,%.6g,%.6g,%.4g,", r->cv_ms, r->cv_status,
                r->cv_obj, r->cv_gap, r->cv_viol, sp, gr, r->cpu, r->cv_cpu, spc);
    else
        fprintf(csv, ",,,,,,,%.6g,,,", r->cpu);
    if (r->have_py)
        fprintf(csv, "%.6g,%.6g,%s,%.3g,%.4g,%.4g\n", r->py_ms, r->py_cpu, r->py_status, r->py_gap,
                spy, spyc);
    else
        fprintf(csv, ",,,,,\n");
}

/* One size: draw, time every p, cvxopt beside it, its table and csv rows.
 * 0, or 1 after a message (out of memory). */
static int run_size(const perf_args *A, size_t si, const size_spec *S, body_buf *B, FILE *csv,
                    char cvver[64], int *any_cv)
{
    int reps = A->reps_override > 0 ? A->reps_override : S->reps;
    size_inst I;
    row rows[NP];
    memset(rows, 0, sizeof rows);
    int bad = size_inst_draw(S, 20241018 + si, &I);
    for (int k = 0; k < NP && !bad; k++)
        bad = time_p(S, &I, reps, k, &rows[k]);
    if (bad) {
        fprintf(stderr, "perf_oracle: %s: out of memory\n", S->name);
        size_inst_free(&I);
        return 1;
    }
    if (A->use_cv) {
        char *ver = run_cvxopt(I.A, I.m, I.nx, reps, &I.D, I.alpha, rows);
        if (ver) {
            snprintf(cvver, 64, "%s", ver);
            *any_cv = 1;
            free(ver);
        }
    }
    size_heading(B, S, &I, reps);
    for (int k = 0; k < NP; k++)
        size_row(B, csv, S, &I, k, &rows[k]);
    size_inst_free(&I);
    return 0;
}

/* The report's header: the machine, the versions and what the columns mean. */
static void report_header(FILE *md, const char *cpu, const char *cvver, int any_cv, int use_cv)
{
    fprintf(md, "# Oracle performance: libattsvm vs cvxopt\n\n"
                "- machine: %s\n- compiler: %s\n- GLPK: %s\n- cvxopt: %s\n\n",
            cpu,
#ifdef __VERSION__
            "gcc-compatible " __VERSION__,
#else
            "unknown",
#endif
            glp_version(),
            any_cv   ? cvver
            : use_cv ? "absent (/usr/bin/python3 cannot import cvxopt); its columns are empty"
                     : "not run (--no-cvxopt); its columns are empty");
    fprintf(md, "Problem: min ||W||_p s.t. <A_it, W> >= 1 at the global token choice, on the "
                "synthetic generator of bench/perf_oracle.c (seeded, unit-sphere data).  "
                "attsvm ms: attsvm_solve with default settings, wall time, median; cpu ms: the process's CPU time "
                "for the same solve (the machine is shared: CPU time is the fairer comparison, "
                "cpu speedup = cvxopt cpu ms / attsvm cpu ms).  "
                "with LP phase: the same with lp_phase = 1 (GLPK's piecewise-linear model LP identifies "
                "the starting working set, 1 < p < inf, p != 2; off by default).  cvxopt: solvers.lp (p = 1, inf), solvers.qp (p = 2), solvers.cp (other p), "
                "the solver call timed in-process with one BLAS thread.  Gaps and violations of both are recomputed "
                "with the same certificate formula (attsvm_certify; perf_oracle.py for cvxopt); "
                "speedup = cvxopt ms / attsvm ms, gap ratio = cvxopt gap / attsvm gap (attsvm "
                "gap floored at 1e-16, about the rounding level).  "
                "mdatt.svm ms: the Python package's mdatt.svm (ctypes over libattsvm.so) called in "
                "cvxopt's process on the same data and tokens, the whole call timed (argument "
                "checks, solve, token verdicts, result arrays), median of at least 21 calls; "
                "mdatt.svm speedup = cvxopt ms / mdatt.svm ms, both in-process (cpu: the same "
                "with CPU times); its answer is "
                "certified with the same formula (marked when not optimal).\n");
}

/* The size ladder into OUTDIR/perf_oracle_ladder.csv (temp + rename) and
 * its section of the report.  0, 1 when a file cannot be written; *lfail: a
 * ladder solve ended without an answer. */
static int run_ladder(const perf_args *A, FILE *md, int *lfail)
{
    char lcp[1024], lct[1100];
    snprintf(lcp, sizeof lcp, "%s/perf_oracle_ladder.csv", A->outdir);
    snprintf(lct, sizeof lct, "%s.tmp", lcp);
    if (strcmp(A->lo.rungs, "none") == 0)
        return 0;
    FILE *lcsv = fopen(lct, "w");
    if (!lcsv) {
        fprintf(stderr, "perf_oracle: cannot write %s\n", lct);
        return 1;
    }
    *lfail = perf_ladder_run(&A->lo, md, lcsv);
    fclose(lcsv);
    if (rename(lct, lcp)) {
        fprintf(stderr, "perf_oracle: cannot rename into %s\n", A->outdir);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: perf_oracle OUTDIR [--sizes paper,mid,large|none] [--reps N] "
                        "[--no-cvxopt] [--ladder 1,2,3|none] [--full] [--ladder-p 1,1.5,2,3,inf] "
                        "[--no-infeasible | --infeasible-only] [--timeout CPU_SECONDS] "
                        "[--mem-gb GB]\n"
                        "  --full: the ladder's three rungs (the largest, 129 024 x 4 096, "
                        "only with it)\n");
        return argc < 2 ? 2 : 0;
    }
    static perf_args A = {.sizes = "paper,mid", .use_cv = 1,
                          .lps = {1.0, 1.5, 2.0, 3.0, INFINITY}};
    A.outdir = argv[1];
    A.lo = (perf_ladder_opts){"1,2", A.lps, 5, 1, 1, 600.0, 8.0};
    if (parse_args(argc, argv, &A))
        return 2;
    const size_spec all[] = {{"paper", 6, 8, 10, 9}, {"mid", 50, 20, 20, 3},
                             {"large", 200, 16, 32, 1}};
    char cpu[256], cvver[64] = "";
    cpu_model(cpu, sizeof cpu);
    char mdp[1024], csvp[1024], mdt[1100], csvt[1100];
    snprintf(mdp, sizeof mdp, "%s/perf_oracle.md", A.outdir);
    snprintf(csvp, sizeof csvp, "%s/perf_oracle.csv", A.outdir);
    snprintf(mdt, sizeof mdt, "%s.tmp", mdp);
    snprintf(csvt, sizeof csvt, "%s.tmp", csvp);
    FILE *md = fopen(mdt, "w"), *csv = fopen(csvt, "w");
    if (!md || !csv) {
        fprintf(stderr, "perf_oracle: cannot write into %s\n", A.outdir);
        return 1;
    }
    fprintf(csv, "size,n,T,d,m,nx,p,attsvm_ms,attsvm_lp_phase_ms,attsvm_status,attsvm_objective,"
                 "attsvm_gap,attsvm_violation,cvxopt_ms,cvxopt_status,cvxopt_objective,cvxopt_gap,"
                 "cvxopt_violation,speedup,gap_ratio,attsvm_cpu_ms,cvxopt_cpu_ms,cpu_speedup,"
                 "mdatt_py_ms,mdatt_py_cpu_ms,mdatt_py_status,mdatt_py_gap,mdatt_py_speedup,"
                 "mdatt_py_cpu_speedup\n");
    static body_buf body;
    int any_cv = 0, lfail = 0;
    for (size_t si = 0; si < sizeof all / sizeof *all; si++)
        if (strstr(A.sizes, all[si].name) && run_size(&A, si, &all[si], &body, csv, cvver, &any_cv))
            return 1;
    report_header(md, cpu, cvver, any_cv, A.use_cv);
    fputs(body.text, md);
    if (run_ladder(&A, md, &lfail))
        return 1;
    fclose(md);
    fclose(csv);
    if (lfail)
        fprintf(stderr, "perf_oracle: a ladder solve ended without an answer (see the table)\n");
    if (rename(mdt, mdp) || rename(csvt, csvp)) {
        fprintf(stderr, "perf_oracle: cannot rename into %s\n", A.outdir);
        return 1;
    }
    return 0;
}
