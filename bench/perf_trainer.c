/* perf_trainer.c - time per iteration of l_p-AttGD (normalized steps).
 *
 *   bench/perf_trainer OUTDIR [--quick]
 *
 * writes OUTDIR/perf_trainer.md and OUTDIR/perf_trainer.csv:
 *   - the paper size (n=6, T=8, d=10, mdatt_gen seed 1, W_0 ~ N(0,1) from
 *     mdatt_rng seed 1), p = 1.75, 2, 3, eta = 0.1, 200 000 iterations;
 *     targets on one core: <= 2 us/iteration (p = 2, 3), <= 4 us (p = 1.75);
 *   - a large size (n=2048, T=64, d=64): bytes of X read per step over the
 *     measured time, against a STREAM-like read bandwidth measured here
 *     (target: at least half of it);
 *   - one epoch of the real-data patch model (reports/realdata, experiment A:
 *     10 classes, d = 32, T = 49 patches of 4 x 4, batch 100, GD step 0.3)
 *     over the 60 000 Fashion-MNIST training images, patch extraction
 *     included (target <= 5 s); skipped with a note without the data set.
 * Times are wall clock of mdatt_train's loop and CPU time of this thread
 * (the latter is what the targets are judged on: it is not inflated by
 * other processes on a shared machine).  Best of several repetitions. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mdatt.h"
#include "mdatt_io.h"
#include "mdatt_fmnist.h"
#include "patchmodel.h"

typedef struct {
    const char *name;
    int n, T, d;
    double p;
    long iters;
    double wall_us, cpu_us;     /* per iteration */
    double target_us;           /* 0: none */
    double bytes;               /* bytes of X per step */
} row;

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One epoch of the patch model over the training split: wall seconds
 * (thread CPU seconds in *cpu), or NAN with err set when the data set is
 * missing or memory runs out. */
static double time_epoch(double *cpu, char err[MDATT_ERRLEN])
{
    enum { B = 100, T = 49, PD = 16, PATCH = 4 };
    mdatt_images tr;
    if (mdatt_fmnist_load(NULL, 0, &tr, err) != MDATT_OK)
        return NAN;
    mdatt_pm_model m;
    double secs = NAN;
    if (mdatt_pm_model_init(&m, T, PD, 32, 10, 1)) {
        mdatt_images_free(&tr);
        snprintf(err, MDATT_ERRLEN, "out of memory");
        return NAN;
    }
    mdatt_pm_work *w = mdatt_pm_work_new(&m, B);
    double *U = malloc(sizeof *U * B * T * PD), *g = malloc(sizeof *g * m.np);
    mdatt_pm_opt o;
    memset(&o, 0, sizeof o);
    int y[B];
    if (w && U && g && mdatt_pm_opt_init(&o, MDATT_PM_OPT_MD, 2.0, 0.3, &m) == 0) {
        const double t0 = wall_now(), c0 = cpu_now();
        for (int s = 0; s + B <= tr.n; s += B) {
            mdatt_pm_stats st;
            for (int i = 0; i < B; i++) {
                mdatt_image_patches(&tr, s + i, PATCH, U + (size_t)i * T * PD);
                y[i] = tr.labels[s + i];
            }
            mdatt_pm_forward(&m, w, U, y, B, g, NULL, &st);
            mdatt_pm_opt_step(&o, &m, g);
        }
        secs = wall_now() - t0;
        *cpu = cpu_now() - c0;
    } else
        snprintf(err, MDATT_ERRLEN, "out of memory");
    mdatt_pm_opt_free(&o);
    free(U);
    free(g);
    mdatt_pm_work_free(w);
    mdatt_pm_model_free(&m);
    mdatt_images_free(&tr);
    return secs;
}

static int time_train(const mdatt_instance *in, double p, long iters, int reps, row *r)
{
    const size_t dd = (size_t)in->d * in->d;
    double *W = malloc(dd * sizeof *W), *v = malloc((size_t)in->d * sizeof *v);
    mdatt_train_settings s;
    mdatt_train_info info;
    if (!W || !v) return -1;
    mdatt_train_default_settings(&s);
    s.p = p;
    s.lr = 0.1;
    s.iters = iters;
    s.normalized = 1;
    r->wall_us = r->cpu_us = INFINITY;
    for (int k = 0; k < reps; k++) {
        mdatt_rng g;
        double c0, c1;
        mdatt_rng_seed(&g, 1);
        for (size_t j = 0; j < dd; j++) W[j] = mdatt_rng_normal(&g);
        memcpy(v, in->v, (size_t)in->d * sizeof *v);
        c0 = cpu_now();
        if (mdatt_train(in, &s, W, v, NULL, &info) != MDATT_OK) return -1;
        c1 = cpu_now();
        r->wall_us = fmin(r->wall_us, 1e6 * info.seconds / (double)iters);
        r->cpu_us = fmin(r->cpu_us, 1e6 * (c1 - c0) / (double)iters);
    }
    free(W);
    free(v);
    return 0;
}

/* STREAM-like read bandwidth (bytes/s): sum of a 256 MiB array with eight
 * independent accumulators, and OpenBLAS's dasum on it; best of reps. */
static double read_bandwidth(int reps)
{
    const size_t m = (size_t)32 << 20;
    double *a = malloc(m * sizeof *a), best = 0, sink = 0;
    if (!a) return NAN;
    for (size_t j = 0; j < m; j++) a[j] = (double)(j & 1023);
    for (int k = 0; k < reps; k++) {
        double t0, s[8] = {0}, t;
        /* compiler barriers: the loop must stay between the two clock reads */
        __asm__ __volatile__("" : : "r"(a) : "memory");
        t0 = wall_now();
        __asm__ __volatile__("" : : : "memory");
        for (size_t j = 0; j < m; j += 8)
            for (int l = 0; l < 8; l++) s[l] += a[j + l];
        __asm__ __volatile__("" : : "r"(s) : "memory");
        t = wall_now() - t0;
        sink += s[0] + s[7];
        best = fmax(best, (double)(m * sizeof *a) / t);
        t0 = wall_now();
        sink += cblas_dasum((blasint)m, a, 1);
        t = wall_now() - t0;
        best = fmax(best, (double)(m * sizeof *a) / t);
    }
    free(a);
    if (sink == 42.0) fputs("", stderr);
    return best;
}

/* 1-minute load average (NAN if unknown): the machine may be shared. */
static double load_avg(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double l = NAN;
    if (!f) return NAN;
    if (fscanf(f, "%lf", &l) != 1) l = NAN;
    fclose(f);
    return l;
}

static void cpu_model(char *buf, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(buf, len, "unknown");
    if (!f) return;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c += 1 + (c[1] == ' ');
                c[strcspn(c, "\n")] = 0;
                snprintf(buf, len, "%s", c);
            }
            break;
        }
    fclose(f);
}

/* Everything measured, for the two reports. */
typedef struct {
    int quick, reps;
    long small_iters, big_iters;
    row rows[8];
    int nr;
    double bw, load0, load1;        /* read bandwidth (bytes/s), load averages */
    double ewall, ecpu;             /* the real-data epoch (NAN: skipped) */
    char eerr[MDATT_ERRLEN];        /* why it was skipped */
} perf_results;

/* Rows of case `name` ("paper": with the per-iteration targets of the file
 * header): the trainer timed on in at each p; 0 or -1. */
static int time_rows(perf_results *P, const mdatt_instance *in, const char *name,
                     const double *ps, int np, long iters)
{
    for (int k = 0; k < np; k++) {
        row *r = &P->rows[P->nr++];
        r->name = name;
        r->n = in->n; r->T = in->T; r->d = in->d;
        r->p = ps[k];
        r->iters = iters;
        r->target_us = strcmp(name, "paper") ? 0 : ps[k] == 1.75 ? 4.0 : 2.0;
        r->bytes = (double)in->n * in->T * in->d * sizeof(double);
        if (time_train(in, ps[k], iters, P->reps, r)) return -1;
    }
    return 0;
}

/* The paper size and the large size, the bandwidth and the epoch. */
static int measure(perf_results *P)
{
    const double paper_p[] = {1.75, 2.0, 3.0}, large_p[] = {2.0, 1.75};
    mdatt_instance in;
    mdatt_gen_settings gs;
    P->load0 = load_avg();
    mdatt_gen_default_settings(&gs);
    if (mdatt_gen(&gs, &in) != MDATT_OK) return -1;
    int rc = time_rows(P, &in, "paper", paper_p, 3, P->small_iters);
    mdatt_instance_free(&in);
    if (rc) return -1;
    gs.n = 2048; gs.T = 64; gs.d = 64;
    if (mdatt_gen(&gs, &in) != MDATT_OK) return -1;
    rc = time_rows(P, &in, "large", large_p, 2, P->big_iters);
    mdatt_instance_free(&in);
    if (rc) return -1;
    P->bw = read_bandwidth(P->quick ? 2 : 5);
    P->ecpu = NAN;
    P->ewall = time_epoch(&P->ecpu, P->eerr);
    P->load1 = load_avg();
    return 0;
}

static void write_csv(FILE *f, const perf_results *P)
{
    const double bw = P->bw;
    fprintf(f, "case,n,T,d,p,iters,us_per_iter_wall,us_per_iter_cpu,target_us,meets_target,"
               "bytes_X_per_step,GB_per_s_cpu,read_bandwidth_GB_per_s,bandwidth_fraction\n");
    for (int k = 0; k < P->nr; k++) {
        const row *r = &P->rows[k];
        const double gbs = r->bytes / (r->cpu_us * 1e-6) / 1e9;
        fprintf(f, "%s,%d,%d,%d,%g,%ld,%.4f,%.4f,%g,%s,%.0f,%.3f,%.3f,%.3f\n", r->name, r->n,
                r->T, r->d, r->p, r->iters, r->wall_us, r->cpu_us, r->target_us,
                r->target_us > 0 ? (r->cpu_us <= r->target_us ? "yes" : "no")
                                 : (gbs >= 0.5 * bw / 1e9 ? "yes" : "no"),
                r->bytes, gbs, bw / 1e9, gbs / (bw / 1e9));
    }
    if (!isnan(P->ewall))
        fprintf(f, "fmnist_epoch,60000,49,32,2,600,%.4f,%.4f,%.4f,%s,,,,\n", P->ewall * 1e6 / 600,
                P->ecpu * 1e6 / 600, 5e6 / 600, P->ecpu <= 5.0 ? "yes" : "no"); /* per step of 100 images */
}

/* The report's header: machine, compiler, libraries, load, repetitions. */
static void md_header(FILE *f, const perf_results *P)
{
    char cpu[256];
    const char *threads = getenv("OPENBLAS_NUM_THREADS");
    cpu_model(cpu, sizeof cpu);
    fprintf(f, "# Trainer performance (l_p-AttGD, normalized steps, eta = 0.1)\n\n");
    fprintf(f, "- machine: %s\n- compiler: %s\n- OpenBLAS: %s\n- OPENBLAS_NUM_THREADS: %s\n",
            cpu, __VERSION__, openblas_get_config(), threads ? threads : "(unset)");
    fprintf(f, "- load average (1 min) at start / end: %.2f / %.2f on %ld online CPUs\n",
            P->load0, P->load1, sysconf(_SC_NPROCESSORS_ONLN));
    fprintf(f, "- repetitions: best of %d; times per iteration in microseconds; targets are "
               "judged on thread CPU time%s\n\n", P->reps, P->quick ? " (quick run)" : "");
}

/* The tables of the two sizes and the epoch's line. */
static void md_body(FILE *f, const perf_results *P)
{
    const row *rows = P->rows;
    const int nr = P->nr;
    const double bw = P->bw;
    fprintf(f, "## Paper size (n=6, T=8, d=10; W_0 ~ N(0,1), seed 1; %ld iterations)\n\n",
            P->small_iters);
    fprintf(f, "| p | wall us/it | CPU us/it | target | met |\n|---|---|---|---|---|\n");
    for (int k = 0; k < nr; k++)
        if (rows[k].target_us > 0)
            fprintf(f, "| %g | %.3f | %.3f | <= %g | %s |\n", rows[k].p, rows[k].wall_us,
                    rows[k].cpu_us, rows[k].target_us,
                    rows[k].cpu_us <= rows[k].target_us ? "yes" : "**no**");
    fprintf(f, "\n## Large size (n=2048, T=64, d=64; %ld iterations)\n\n", P->big_iters);
    fprintf(f, "X is %.1f MiB, read once per step.  Measured read bandwidth: %.2f GB/s.\n\n",
            rows[nr - 1].bytes / 1048576.0, bw / 1e9);
    fprintf(f, "| p | wall ms/it | CPU ms/it | X GB/s (CPU time) | fraction of bandwidth | "
               ">= 1/2 |\n|---|---|---|---|---|---|\n");
    for (int k = 0; k < nr; k++)
        if (rows[k].target_us == 0) {
            const double gbs = rows[k].bytes / (rows[k].cpu_us * 1e-6) / 1e9;
            fprintf(f, "| %g | %.3f | %.3f | %.2f | %.2f | %s |\n", rows[k].p,
                    rows[k].wall_us / 1e3, rows[k].cpu_us / 1e3, gbs, gbs / (bw / 1e9),
                    gbs >= 0.5 * bw / 1e9 ? "yes" : "**no**");
        }
    fprintf(f, "\n## Real data: one epoch of the patch model (reports/realdata)\n\n");
    if (isnan(P->ewall))
        fprintf(f, "Skipped: %s\n", P->eerr);
    else
        fprintf(f, "10 classes, d = 32, T = 49 patches of 4 x 4, batch 100, GD (l2-MD) step 0.3, "
                   "all 60 000 Fashion-MNIST training images in 600 steps, patch extraction "
                   "included: **%.2f s** CPU (%.2f s wall); target <= 5 s: %s.\n",
                P->ecpu, P->ewall, P->ecpu <= 5.0 ? "met" : "**not met**");
}

/* OUTDIR/NAME written through the output-file contract; 0 or 1. */
static int write_report(const char *dir, const char *name, const perf_results *P, int md)
{
    char path[4096], err[MDATT_ERRLEN];
    mdatt_outfile of;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (mdatt_outfile_open(&of, path, err) != MDATT_OK) {
        fprintf(stderr, "perf_trainer: %s\n", err);
        return 1;
    }
    if (md) {
        md_header(of.f, P);
        md_body(of.f, P);
    } else {
        write_csv(of.f, P);
    }
    if (mdatt_outfile_commit(&of, err) != MDATT_OK) {
        fprintf(stderr, "perf_trainer: %s\n", err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: perf_trainer OUTDIR [--quick]\n");
        return argc < 2 ? 2 : 0;
    }
    perf_results *P = calloc(1, sizeof *P);
    if (!P) return 1;
    P->quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    P->small_iters = P->quick ? 20000 : 200000;
    P->big_iters = P->quick ? 3 : 10;
    P->reps = P->quick ? 1 : 3;
    int rc = measure(P) ? 1 : 0;
    if (rc == 0)
        rc = write_report(argv[1], "perf_trainer.csv", P, 0) ||
             write_report(argv[1], "perf_trainer.md", P, 1);
    free(P);
    return rc;
}
