/* stage.h - one stage of an experiment's runs (one bench_parallel call):
 * its record set, the runs still to compute here, and the bookkeeping shared
 * by the threads of this process and, with MPI, the ranks (bench/mpi.c). */
#ifndef MDATT_BENCH_STAGE_H
#define MDATT_BENCH_STAGE_H

#include <pthread.h>
#include <stdint.h>
#include "bench.h"
#include "records.h"

typedef struct {
    bench_ctx *b;
    const char *label;
    char dir[1400];             /* <recdir>/<stage name> */
    uint64_t hash;
    long njobs;
    const bench_jobs *jobs;
    void *ctx;
    unsigned char *have;        /* [njobs] result in the slots (reused or computed) */
    long *todo, ntodo, next;    /* runs this process hands out */
    pthread_mutex_t mu;
    long done, reused, foreign, corrupt;
    int rc;                     /* first failure: a run's code, or 1 for a record not written */
    int tty;
    double t0;
} bench_stage;

/** Next run to compute here, or -1 (all handed out or a failure). */
long bench_stage_take(bench_stage *s);
/** Run k computed (rc 0) and its payload in r (saving mode): write its
 *  record and count it; rc != 0 marks the stage failed. */
void bench_stage_store(bench_stage *s, long k, int rc, const bench_rec *r);
/** Thread body: take, run, store until nothing is left. */
void *bench_stage_worker(void *vs);
/** Start n - 1 threads running bench_stage_worker, run one in the caller,
 *  join them. */
void bench_stage_threads(bench_stage *s, int n);
/** The progress line (a terminal only). */
void bench_stage_progress(bench_stage *s, int final);

/* --- MPI (bench/mpi.c); without MPI: one rank, and these do nothing --- */
/** MPI_Init when started by mpirun or srun (ranks > 1 only then). */
void bench_mpi_init(int *rank, int *nranks);
void bench_mpi_finalize(void);
/** The stage's todo over all ranks: a work queue served by rank 0. */
void bench_mpi_queue(bench_stage *s);
/** Rank 0's outcome (rc, halt) and every run's payload to every rank. */
int bench_mpi_share(bench_stage *s);

#endif
