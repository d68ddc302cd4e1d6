/* perf_ladder.c - the oracle's size ladder (bench/perf_oracle --ladder, --full).
 *
 * Rungs (rows x variables of the W-SVM, n(T - 1) x d^2):
 *   1: n =  200, T = 16, d = 32     3 000 x 1 024
 *   2: n = 1000, T = 16, d = 64    15 000 x 4 096
 *   3: n = 2048, T = 64, d = 64   129 024 x 4 096  (the trainer's size)
 *
 * Feasible by construction (planted): tokens x_it and queries z_i uniform on
 * the unit sphere, W* with iid N(0, 1) entries, alpha_i = argmax_t x_it^T W* z_i.
 * A sample whose best score beats the second best by less than MARGIN is
 * drawn again (tokens and query), so W* / MARGIN satisfies every row:
 * (x_ia - x_it)^T W* z_i >= MARGIN.
 *
 * Infeasible by construction (with overwhelming probability): the same
 * shapes, alpha_i uniform in [0, T), and the queries z_i taken from a pool of
 * K unit vectors (K = 2, 4, 8 on rungs 1, 2, 3).  The samples sharing a query
 * need one functional u = W z on R^d to pick a uniformly random token for each
 * of them; the N = (n/K)(T - 1) hyperplanes of a group cut R^d into at most
 * sum_{k <= d} C(N, k) < 2^{N H(d/N)} cells, one token pattern per cell, out
 * of T^{n/K} equally likely patterns: 2^224 of 2^400 (rung 1), 2^468 of
 * 2^1000 (rung 2), 2^605 of 2^1536 (rung 3) per group.  Each run checks it:
 * the oracle must answer with a Farkas certificate.
 *
 * Every solve runs in a forked child (address space capped, killed after the
 * timeout), which generates its instance, calls attsvm_solve, recomputes the
 * certificate from rows generated one at a time (below: this file's own
 * arithmetic, not the oracle's), and reports time, CPU time and ru_maxrss
 * through a pipe.  The parent stays small, so ru_maxrss is the solve's.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attsvm.h"
#include "perf_ladder.h"

#ifndef MDATT_SRCDIR
#define MDATT_SRCDIR "."
#endif

enum { NRUNG = 3 };
static const struct {
    int n, T, d, pool;
} RUNG[NRUNG] = {{200, 16, 32, 2}, {1000, 16, 64, 4}, {2048, 64, 64, 8}};

#define MARGIN 0.05

/* Targets (rungs 2 and 3): certified gap, seconds, peak memory. */
#define TARGET_GAP 1e-9
#define TARGET_GB 2.0
static const double TARGET_S[NRUNG] = {0.0, 30.0, 300.0};

typedef struct {
    int n, T, d;
    double *X, *Z;
    int *alpha;
    double min_margin;      /* planted: smallest best-minus-second score */
    int redraws;            /* planted: samples drawn again */
} inst;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double gauss(uint64_t *s)
{
    return sqrt(-2.0 * log(perf_unif(s))) * cos(2.0 * M_PI * perf_unif(s));
}

/* Draw sample i's tokens and query until W* picks its best token by MARGIN. */
static void planted_sample(uint64_t *s, const double *Ws, inst *I, int i, double *u)
{
    const int T = I->T, d = I->d;
    double *x = I->X + (size_t)i * T * d, *z = I->Z + (size_t)i * d;
    for (;;) {
        for (int t = 0; t < T; t++)
            perf_unit(s, x + (size_t)t * d, d);
        perf_unit(s, z, d);
        for (int j = 0; j < d; j++) {
            double a = 0.0;
            for (int k = 0; k < d; k++)
                a += Ws[(size_t)j * d + k] * z[k];
            u[j] = a;
        }
        double best = -INFINITY, second = -INFINITY;
        int arg = 0;
        for (int t = 0; t < T; t++) {
            double g = 0.0;
            for (int j = 0; j < d; j++)
                g += x[(size_t)t * d + j] * u[j];
            if (g > best) {
                second = best;
                best = g;
                arg = t;
            } else if (g > second) {
                second = g;
            }
        }
        if (best - second >= MARGIN) {
            I->alpha[i] = arg;
            I->min_margin = fmin(I->min_margin, best - second);
            return;
        }
        I->redraws++;
    }
}

static int inst_make(int rung, int infeasible, inst *I)
{
    const int n = RUNG[rung].n, T = RUNG[rung].T, d = RUNG[rung].d;
    *I = (inst){n, T, d, malloc(sizeof(double) * (size_t)n * T * d),
                malloc(sizeof(double) * (size_t)n * d), malloc(sizeof(int) * (size_t)n),
                INFINITY, 0};
    double *Ws = malloc(sizeof *Ws * (size_t)d * d), *u = malloc(sizeof *u * (size_t)d);
    if (!I->X || !I->Z || !I->alpha || !Ws || !u) {
        free(Ws);
        free(u);
        return -1;
    }
    uint64_t s = 20261207ull + 1000ull * (uint64_t)rung + (uint64_t)infeasible;
    if (!infeasible) {
        for (int k = 0; k < d * d; k++)
            Ws[k] = gauss(&s);
        for (int i = 0; i < n; i++)
            planted_sample(&s, Ws, I, i, u);
    } else {
        const int K = RUNG[rung].pool;
        for (int c = 0; c < K; c++)
            perf_unit(&s, I->Z + (size_t)c * d, d);
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < T; t++)
                perf_unit(&s, I->X + ((size_t)i * T + t) * d, d);
            memcpy(I->Z + (size_t)i * d, I->Z + (size_t)(i % K) * d, sizeof(double) * d);
            I->alpha[i] = (int)(perf_unif(&s) * T);
        }
    }
    free(Ws);
    free(u);
    return 0;
}

static void inst_free(inst *I)
{
    free(I->X);
    free(I->Z);
    free(I->alpha);
}

/* ---------------------------------------------------------------- certificate */

/* Row r = i (T - 1) + k of the W-SVM, t = k or k + 1 past alpha_i, written
 * out as vec((x_ia - x_it) z_i^T) (doc/design.md (14)). */
static void gen_row(const inst *I, long r, double *a, double *b)
{
    const int T = I->T, d = I->d, i = (int)(r / (T - 1)), k = (int)(r % (T - 1));
    const int t = k < I->alpha[i] ? k : k + 1;
    const double *xa = I->X + ((size_t)i * T + I->alpha[i]) * d, *xt = I->X + ((size_t)i * T + t) * d;
    const double *z = I->Z + (size_t)i * d;
    for (int j = 0; j < d; j++)
        b[j] = xa[j] - xt[j];
    for (int j = 0; j < d; j++)
        for (int c = 0; c < d; c++)
            a[(size_t)j * d + c] = b[j] * z[c];
}

static double vnorm(const double *x, int n, double p)
{
    double mx = 0.0, s = 0.0;
    for (int j = 0; j < n; j++)
        mx = fmax(mx, fabs(x[j]));
    if (isinf(p) || mx == 0.0)
        return mx;
    for (int j = 0; j < n; j++)
        s += pow(fabs(x[j]) / mx, p);
    return mx * pow(s, 1.0 / p);
}

typedef struct {
    double upper, lower, gap, viol, farkas;
} cert;

/* The certificate of doc/design.md (16)-(17) over all rows, one generated row
 * at a time: the same formula as attsvm_certify on the dense rows. */
static int certify(const inst *I, double p, const attsvm_result *r, cert *c)
{
    const int nx = I->d * I->d;
    const long m = (long)I->n * (I->T - 1);
    const double q = p == 1.0 ? INFINITY : isinf(p) ? 1.0 : p / (p - 1.0);
    double *a = malloc(sizeof *a * (size_t)nx), *b = malloc(sizeof *b * (size_t)I->d);
    double *u = calloc((size_t)nx, sizeof *u);
    if (!a || !b || !u) {
        free(a);
        free(b);
        free(u);
        return -1;
    }
    *c = (cert){NAN, NAN, NAN, NAN, NAN};
    double sl = 0.0, den = 0.0;
    for (int k = 0; k < r->ndual; k++) {
        gen_row(I, r->dual[k].row, a, b);
        sl += r->dual[k].lambda;
        den += r->dual[k].lambda * vnorm(a, nx, 1.0);
        for (int j = 0; j < nx; j++)
            u[j] += r->dual[k].lambda * a[j];
    }
    if (r->status == ATTSVM_INFEASIBLE) {
        c->farkas = den > 0.0 ? vnorm(u, nx, 1.0) / den : INFINITY;
    } else if (r->status == ATTSVM_OPTIMAL) {
        const double xn = vnorm(r->x, nx, p);
        double mn = INFINITY, viol = 0.0;
        for (long row = 0; row < m; row++) {
            gen_row(I, row, a, b);
            double ax = 0.0;
            for (int j = 0; j < nx; j++)
                ax += a[j] * r->x[j];
            mn = fmin(mn, ax);
            if (ax < 1.0)
                viol = fmax(viol, (1.0 - ax) / (vnorm(a, nx, q) * xn));
        }
        c->upper = mn <= 0.0 ? INFINITY : xn / fmin(1.0, mn);
        double un = vnorm(u, nx, q);
        c->lower = un > 0.0 ? sl / un : 0.0;
        c->gap = (c->upper - c->lower) / c->upper;
        c->viol = viol;
    }
    free(a);
    free(b);
    free(u);
    return 0;
}

/* ---------------------------------------------------------------- one solve */

typedef struct {
    int ok;                 /* the child reached the end */
    attsvm_status status;
    double seconds, cpu_seconds, peak_mb, data_mb;
    cert c;
    int working_rows, rounds, newton, lp_iterations, ndual;
    double min_margin;
    int redraws;
    char message[256];
} outcome;

static double maxrss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

static void child(int rung, int infeasible, double p, int fd)
{
    outcome out;
    memset(&out, 0, sizeof out);
    inst I;
    if (inst_make(rung, infeasible, &I) == 0) {
        out.data_mb = maxrss_mb();
        out.min_margin = I.min_margin;
        out.redraws = I.redraws;
        attsvm_data D = {I.n, I.T, I.d, I.X, I.Z, NULL, NULL};
        attsvm_settings s;
        attsvm_default_settings(&s);
        s.p = p;
        attsvm_result r = {0};
        double t0 = wall(), c0 = cpu();
        attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r);
        out.seconds = wall() - t0;
        out.cpu_seconds = cpu() - c0;
        out.peak_mb = maxrss_mb();
        out.status = r.status;
        out.working_rows = r.working_rows;
        out.rounds = r.rounds;
        out.newton = r.newton_iterations;
        out.lp_iterations = r.lp_iterations;
        out.ndual = r.ndual;
        snprintf(out.message, sizeof out.message, "%s", r.message);
        out.ok = certify(&I, p, &r, &out.c) == 0;
        attsvm_result_free(&r);
    }
    inst_free(&I);
    ssize_t w = write(fd, &out, sizeof out);
    _exit(w == (ssize_t)sizeof out ? 0 : 1);
}

/* Fork, solve in the child, collect its outcome; "timeout" or "killed" when
 * the child did not finish. */
static void run_one(const perf_ladder_opts *o, int rung, int infeasible, double p, outcome *out,
                    const char **why)
{
    memset(out, 0, sizeof *out);
    *why = NULL;
    int fd[2];
    if (pipe(fd) != 0) {
        *why = "pipe failed";
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        /* The timeout counts CPU seconds (a shared machine stretches wall
         * time); wall time is capped at ten times that. */
        struct rlimit rl = {(rlim_t)(o->mem_gb * 1073741824.0), (rlim_t)(o->mem_gb * 1073741824.0)};
        struct rlimit cl = {(rlim_t)ceil(o->timeout), (rlim_t)ceil(o->timeout) + 5};
        setrlimit(RLIMIT_AS, &rl);
        setrlimit(RLIMIT_CPU, &cl);
        alarm((unsigned)ceil(10.0 * o->timeout));
        child(rung, infeasible, p, fd[1]);
    }
    close(fd[1]);
    if (pid < 0) {
        close(fd[0]);
        *why = "fork failed";
        return;
    }
    ssize_t got = read(fd[0], out, sizeof *out);
    close(fd[0]);
    int wst = 0;
    waitpid(pid, &wst, 0);
    if (got != (ssize_t)sizeof *out || !out->ok) {
        out->ok = 0;
        const int sig = WIFSIGNALED(wst) ? WTERMSIG(wst) : 0;
        *why = sig == SIGXCPU || sig == SIGALRM ? "timeout" : "killed";
    }
}

/* ---------------------------------------------------------------- cvxopt */

typedef struct {
    int have;
    double seconds, cpu_seconds, peak_mb, gap, viol;
    char status[64];
} cv_outcome;

static int json_num(const char *s, const char *key, double *v)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *k = strstr(s, pat);
    if (!k)
        return 0;
    k += strlen(pat);
    *v = strncmp(k, "null", 4) == 0 ? NAN : strtod(k, NULL);
    return 1;
}

/* bench/perf_oracle.py --ladder FILE P in its own process (its ru_maxrss is
 * its peak), on the instance written as raw numbers by this process. */
static void run_cvxopt(const perf_ladder_opts *o, int rung, double p, cv_outcome *cv)
{
    memset(cv, 0, sizeof *cv);
    inst I;
    if (inst_make(rung, 0, &I) != 0) {
        inst_free(&I);
        return;
    }
    char path[] = "/tmp/perf_ladder_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        inst_free(&I);
        return;
    }
    int hdr[3] = {I.n, I.T, I.d};
    fwrite(hdr, sizeof *hdr, 3, f);
    fwrite(I.X, sizeof *I.X, (size_t)I.n * I.T * I.d, f);
    fwrite(I.Z, sizeof *I.Z, (size_t)I.n * I.d, f);
    fwrite(I.alpha, sizeof *I.alpha, (size_t)I.n, f);
    fclose(f);
    inst_free(&I);
    const char *src = getenv("MDATT_SRCDIR") ? getenv("MDATT_SRCDIR") : MDATT_SRCDIR;
    char cmd[2048], pn[32];
    snprintf(pn, sizeof pn, isinf(p) ? "inf" : "%.17g", p);
    snprintf(cmd, sizeof cmd,
             "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1 timeout %.0f "
             "/usr/bin/python3 '%s/bench/perf_oracle.py' --ladder '%s' %s 2>/dev/null",
             o->timeout, src, path, pn);
    FILE *pp = popen(cmd, "r");
    char buf[4096] = "";
    size_t len = pp ? fread(buf, 1, sizeof buf - 1, pp) : 0;
    buf[len] = 0;
    if (pp)
        pclose(pp);
    unlink(path);
    double v;
    if (json_num(buf, "seconds", &cv->seconds)) {
        cv->have = 1;
        json_num(buf, "cpu_seconds", &cv->cpu_seconds);
        cv->peak_mb = json_num(buf, "maxrss_kb", &v) ? v / 1024.0 : NAN;
        if (!json_num(buf, "gap", &cv->gap))
            cv->gap = NAN;
        if (!json_num(buf, "max_violation", &cv->viol))
            cv->viol = NAN;
        const char *st = strstr(buf, "\"status\": \"");
        if (st)
            sscanf(st + 11, "%63[^\"]", cv->status);
    }
}

/* ---------------------------------------------------------------- tables */

static void pname(char *b, size_t n, double p)
{
    snprintf(b, n, isinf(p) ? "inf" : "%g", p);
}

static const char *verdict(int rung, int infeasible, const outcome *out)
{
    if (TARGET_S[rung] <= 0.0)
        return "";
    int ok = out->ok && out->cpu_seconds <= TARGET_S[rung] && out->peak_mb <= 1024.0 * TARGET_GB &&
             (infeasible ? out->status == ATTSVM_INFEASIBLE && out->c.farkas <= 1e-9
                         : out->status == ATTSVM_OPTIMAL && out->c.gap <= TARGET_GAP);
    return ok ? "met" : "missed";
}

static void md_header(FILE *md)
{
    fprintf(md,
            "\n## Size ladder\n\n"
            "Planted instances of bench/perf_ladder.c (its file comment says how they are drawn): "
            "*feasible* — alpha_i = argmax_t x_it^T W* z_i with a margin of %g between the best "
            "and the second token, so W* / %g satisfies every row; *infeasible* — alpha_i uniform "
            "at random with queries shared by groups of samples (an answer other than "
            "`infeasible` would be a bug).  Each solve runs alone in a forked child "
            "(attsvm_solve, default settings): wall and CPU seconds of the call, peak resident "
            "memory of the child (ru_maxrss: instance data + solver), and the certificate "
            "recomputed over **all** rows generated one at a time by the benchmark's own "
            "arithmetic (gap and relative violation; for infeasible answers the Farkas residual "
            "||A^T lambda||_1 / sum_r lambda_r ||a_r||_1).  cvxopt (perf_oracle.py --ladder, its "
            "own process, dense rows) runs on rung 1 only: at rung 2 its dense inequality "
            "matrices alone exceed 1.5 GB.  Targets (rungs 2 and 3): certified gap <= 1e-9 "
            "(Farkas residual <= 1e-9), CPU time <= 30 s (rung 2) / 300 s (rung 3), peak <= 2 GB.\n\n"
            "| rung | rows x vars | instance | p | status | wall s | cpu s | peak MB | data MB | "
            "gap | violation / Farkas | working rows | cvxopt cpu s | cvxopt peak MB | cvxopt gap | "
            "target |\n"
            "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
            MARGIN, MARGIN);
}

static void fmtd(char *b, size_t n, double v, const char *f)
{
    if (isnan(v))
        snprintf(b, n, "-");
    else
        snprintf(b, n, f, v);
}

static void emit(FILE *md, FILE *csv, int rung, int infeasible, double p, const outcome *out,
                 const char *why, const cv_outcome *cv)
{
    const int n = RUNG[rung].n, T = RUNG[rung].T, d = RUNG[rung].d;
    char pn[16], c[8][32];
    pname(pn, sizeof pn, p);
    const char *st = why ? why : attsvm_strerror(out->status);
    fmtd(c[0], 32, why ? NAN : out->seconds, "%.2f");
    fmtd(c[1], 32, why ? NAN : out->cpu_seconds, "%.2f");
    fmtd(c[2], 32, why ? NAN : out->peak_mb, "%.0f");
    fmtd(c[3], 32, why ? NAN : infeasible ? NAN : out->c.gap, "%.1e");
    fmtd(c[4], 32, why ? NAN : infeasible ? out->c.farkas : out->c.viol, "%.1e");
    fmtd(c[5], 32, cv->have ? cv->cpu_seconds : NAN, "%.2f");
    fmtd(c[6], 32, cv->have ? cv->peak_mb : NAN, "%.0f");
    fmtd(c[7], 32, cv->have ? cv->gap : NAN, "%.1e");
    fprintf(md, "| %d | %d x %d | %s | %s | %s | %s | %s | %s | %.0f | %s | %s | %d | %s | %s | %s | %s |\n",
            rung + 1, n * (T - 1), d * d, infeasible ? "infeasible" : "feasible", pn, st, c[0],
            c[1], c[2], out->data_mb, c[3], c[4], out->working_rows, c[5], c[6], c[7],
            verdict(rung, infeasible, out));
    fprintf(csv, "%d,%d,%d,%d,%d,%d,%s,%s,%s,%.6g,%.6g,%.6g,%.6g,%.3g,%.3g,%.3g,%d,%d,%d,%d,",
            rung + 1, n, T, d, n * (T - 1), d * d, infeasible ? "infeasible" : "feasible", pn, st,
            out->seconds, out->cpu_seconds, out->peak_mb, out->data_mb, out->c.gap, out->c.viol,
            out->c.farkas, out->working_rows, out->rounds, out->newton, out->lp_iterations);
    if (cv->have)
        fprintf(csv, "%s,%.6g,%.6g,%.6g,%.3g,%.3g,%s\n", cv->status, cv->seconds, cv->cpu_seconds,
                cv->peak_mb, cv->gap, cv->viol, verdict(rung, infeasible, out));
    else
        fprintf(csv, ",,,,,,%s\n", verdict(rung, infeasible, out));
    fflush(csv);
}

int perf_ladder_run(const perf_ladder_opts *o, FILE *md, FILE *csv)
{
    fprintf(csv, "rung,n,T,d,m,nx,instance,p,status,seconds,cpu_seconds,peak_mb,data_mb,gap,"
                 "violation,farkas_residual,working_rows,rounds,newton_iterations,lp_iterations,"
                 "cvxopt_status,cvxopt_seconds,cvxopt_cpu_seconds,cvxopt_peak_mb,cvxopt_gap,"
                 "cvxopt_violation,target\n");
    md_header(md);
    int fails = 0;
    double margin = NAN;
    for (int rung = 0; rung < NRUNG; rung++) {
        char id[2] = {(char)('1' + rung), 0};
        if (!strstr(o->rungs, id))
            continue;
        for (int inf = o->infeasible == 2; inf <= (o->infeasible > 0); inf++)
            for (int k = 0; k < o->nps; k++) {
                outcome out;
                cv_outcome cv = {0};
                const char *why;
                run_one(o, rung, inf, o->ps[k], &out, &why);
                if (!inf && o->cvxopt && rung == 0)
                    run_cvxopt(o, rung, o->ps[k], &cv);
                fails += why != NULL && strcmp(why, "timeout") != 0;
                if (!inf && !why)
                    margin = out.min_margin;
                fprintf(stderr, "perf_oracle: rung %d %s p=%g: %s, %.2f s (cpu %.2f), peak %.0f MB, "
                                "gap %.2g, viol/farkas %.2g%s%s\n",
                        rung + 1, inf ? "infeasible" : "feasible", o->ps[k],
                        why ? why : attsvm_strerror(out.status), out.seconds, out.cpu_seconds,
                        out.peak_mb, out.c.gap, inf ? out.c.farkas : out.c.viol,
                        out.message[0] ? ": " : "", out.message);
                emit(md, csv, rung, inf, o->ps[k], &out, why, &cv);
            }
    }
    if (!isnan(margin))
        fprintf(md, "\nSmallest planted margin of the last feasible rung: %.3g (>= %g by "
                    "construction).\n", margin, MARGIN);
    return fails ? 1 : 0;
}
