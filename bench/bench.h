/* bench.h - `mdatt bench`: experiments that regenerate reports/ (doc/design.md §8,
 * "bench/").  One JSON configuration file per experiment; runs are spread over
 * threads and their results stored by index, so the reports are identical
 * whatever the thread count. */
#ifndef MDATT_BENCH_H
#define MDATT_BENCH_H

#include <stdio.h>
#include <jansson.h>
#include "mdatt.h"
#include "mdatt_io.h"

/** Outcome of the entry points below (the exit codes of doc/formats.md):
 *  success, failure, bad input (the message names the file and the field). */
enum { BENCH_OK = 0, BENCH_FAIL = 1, BENCH_BAD = 2 };
/** Size of the buffers that receive the entry points' messages. */
#define BENCH_ERRLEN 2048

/* --- entry points (src/cli/cmd_bench.c is the command line above them) --- */
/** Settings of one `mdatt bench` invocation. */
typedef struct {
    const char *root;       /**< reports folder (-o) */
    int threads;            /**< worker threads per rank (--threads) */
    int quiet;              /**< no progress lines (--quiet) */
    int fresh;              /**< remove the experiment's records first (--fresh) */
    int merge;              /**< tables from records only (--merge) */
    int shard_k, shard_n;   /**< --shard K/N (shard_n 0: every run) */
    int rank, nranks;       /**< MPI rank and size (0 and 1 without MPI) */
    double max_memory;      /**< bytes an experiment may plan to hold (--max-memory) */
} bench_opts;
/** Run the experiment of the configuration file at path into op->root/<its
 *  output folder>, adding its line to op->root/.timings.  BENCH_OK, or
 *  BENCH_FAIL / BENCH_BAD with the message in err (empty on an MPI rank
 *  other than 0: rank 0 says it). */
int bench_run_config(const char *path, const bench_opts *op, char err[BENCH_ERRLEN]);
/** Read and validate the configuration at path without running it (each
 *  experiment stops after its configuration when b->check_only is set), with
 *  the memory bound max_memory (bytes): BENCH_OK, or BENCH_BAD with a message
 *  naming the file and the field in err. */
int bench_check_config(const char *path, double max_memory, char err[BENCH_ERRLEN]);
/** Write root/README.md, the index of every experiment's outputs with their
 *  wall times and the provenance block (command: the command line it names).
 *  BENCH_OK, or BENCH_FAIL with the message in err. */
int bench_write_index(const char *root, const char *command, char err[BENCH_ERRLEN]);
/** Seconds from a monotonic clock. */
double bench_now(void);

/** Why an experiment stopped before its tables (bench_parallel returned non-zero). */
typedef enum {
    BENCH_GO = 0,
    BENCH_HALT_SHARD,       /**< --shard: its share is done, other shards' runs are missing */
    BENCH_HALT_MISSING,     /**< --merge: runs have no record */
    BENCH_HALT_FOREIGN      /**< --merge: a record of another configuration */
} bench_halt;

/** One experiment's configuration and output place. */
typedef struct {
    const char *path;       /**< configuration file */
    json_t *cfg;            /**< its JSON object */
    const char *name;       /**< "experiment" field, e.g. "paper_fig4" */
    char outdir[1024];      /**< reports/<output or name>/ (created) */
    char reldir[256];       /**< same, relative to the reports root */
    int threads;            /**< worker threads */
    int quiet;              /**< no progress line */
    int check_only;         /**< read and validate the configuration, run nothing */
    double max_memory;      /**< bytes an experiment may plan to hold (--max-memory) */
    char *index;            /**< index.md lines so far (written when the run succeeds) */
    size_t index_len;
    char err[512];          /**< message naming the offending field */
    char recdir[1100];      /**< run records: <reports>/<output>/runs */
    int shard_k, shard_n;   /**< --shard K/N (shard_n 0: every run) */
    int merge;              /**< --merge: tables from records only */
    int rank, nranks;       /**< MPI rank and size (0 and 1 without MPI) */
    int scratch;            /**< outdir is a scratch folder (a shard, an MPI rank > 0) */
    bench_halt halt;        /**< set by bench_parallel when it stops the experiment */
    char halt_msg[700];
} bench_ctx;

/** Experiment entry point: 0 success, 1 failure, 2 bad configuration. */
typedef int (*bench_fn)(bench_ctx *b);

/* --- configuration accessors: on error they fill b->err and return -1 --- */
int bench_cfg_int(bench_ctx *b, const char *key, long dflt, long lo, long hi, long *out);
int bench_cfg_double(bench_ctx *b, const char *key, double dflt, double *out);
int bench_cfg_bool(bench_ctx *b, const char *key, int dflt, int *out);
/** A list of finite numbers (at most max); *count receives its length. */
int bench_cfg_doubles(bench_ctx *b, const char *key, double *out, int max, int *count);
/** Seeds as {"from": a, "to": b}; *count = b - a + 1. */
int bench_cfg_seeds(bench_ctx *b, const char *key, long *from, int *count);
/** Refuse a configuration whose estimated memory (bytes) exceeds b->max_memory,
 *  naming the fields that set it and the bound. */
int bench_cfg_memory(bench_ctx *b, const char *fields, double bytes);
/** Estimated memory of runs on n x T x d instances, `runs` of them at once
 *  (capped at the thread count), each keeping `snaps` snapshots of (W, v):
 *  the instance and its evaluation scratch (3 n T d), the W-SVM rows
 *  (n (T-1) d^2) and the snapshots (snaps (d^2 + d + 4)), in doubles. */
double bench_runs_memory(const bench_ctx *b, long runs, long n, long T, long d, double snaps);


/* --- parallel runs and their records --- */
typedef struct bench_rec bench_rec;
/** Hand one slot of a run's result to its record: stored when the record is
 *  written, filled when it is read back (doubles travel as their bytes). */
void bench_rec_slot(bench_rec *r, void *p, size_t bytes);

/** An experiment's runs of one stage. */
typedef struct {
    /** Compute run k into its result slots; 0 on success. */
    int (*run)(int k, void *ctx);
    /** Name run k's slots, always in the same order: one bench_rec_slot
     *  call per slot (saving and loading use this one function). */
    void (*slots)(int k, void *ctx, bench_rec *r);
    /** Expected relative cost of run k (for --shard), or NULL: all equal. */
    double (*cost)(int k, const void *ctx);
} bench_jobs;

/** Run the stage `label` (its record set: <recdir>/<label as a file name>/)
 *  of njobs runs: valid records of this configuration are loaded into the
 *  slots, the other runs computed on b->threads threads (and over the MPI
 *  ranks), each written as a record as soon as it is done.  --shard computes
 *  its share only, --merge nothing.  Returns 0 when every run's result is in
 *  the slots; otherwise non-zero (a run failed, or b->halt says why the
 *  experiment must stop here) and the experiment returns without output. */
int bench_parallel(bench_ctx *b, const char *label, int njobs, const bench_jobs *jobs, void *ctx);

/* --- output --- */
/** A table written as .md, .csv and .tex. */
typedef struct {
    int ncols, nrows, cap;
    const char **head;      /**< ncols column names */
    char **cells;           /**< nrows*ncols strings (owned) */
} bench_table;

void bench_table_init(bench_table *t, int ncols, const char **head);
/** Append a row of ncols cells given printf-style, separated by '|'. */
void bench_table_row(bench_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Write <outdir>/<name>.md/.csv/.tex; caption goes above the markdown. */
int bench_table_write(bench_ctx *b, const bench_table *t, const char *name,
                      const char *caption);
void bench_table_free(bench_table *t);

/** mkdir -p: path and its missing parents (mode 0755); 0 or -1 with errno. */
int bench_mkdir_p(const char *path);
/** Open <outdir>/<name> for writing (atomic via mdatt_outfile). */
FILE *bench_open(bench_ctx *b, const char *name, mdatt_outfile *o);
int bench_close(bench_ctx *b, mdatt_outfile *o);

/** Write <name>.gp (the given gnuplot body, after a header that sets the SVG
 *  terminal) and render <name>.svg and <name>.png with gnuplot when present. */
int bench_figure(bench_ctx *b, const char *name, const char *size, const char *body);

/** Add a line to <outdir>/index.md (what the experiment produced); the file
 *  replaces the old one only once the experiment has succeeded. */
void bench_index_line(bench_ctx *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --- shared run helpers --- */
/** W_0 entries N(0, std^2) from mdatt_rng seeded with seed, as `mdatt train
 *  --init-std std --seed seed` does. */
void bench_init_w(double *W, int d, double std, long seed);
/** "%g" of p into buf (16 bytes), for file names and titles. */
const char *bench_pname(double p, char buf[16]);
/** qsort comparison of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);
/** Mean and standard deviation (n-1 denominator; 0 for n < 2). */
void bench_mean_std(const double *x, int n, double *mean, double *std);
/** Lower quartile, median and upper quartile of x[0..n) (linear interpolation
 *  between order statistics; NAN for n = 0). */
void bench_quartiles(const double *x, int n, double q[3]);

/* --- experiments --- */
int bench_paper_fig4(bench_ctx *b);
int bench_paper_paths(bench_ctx *b);
int bench_paper_joint(bench_ctx *b);
int bench_beyond_saturation(bench_ctx *b);
int bench_rates(bench_ctx *b);
int bench_realdata(bench_ctx *b);
int bench_sweep_scale(bench_ctx *b);

#endif
