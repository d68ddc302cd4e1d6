/* mpi.c - a stage's runs over MPI ranks: rank 0 serves a work queue of run
 * indices (a worker thread asks for the next run when it has finished one and
 * sends that run's payload along), writes every record and, at the end of the
 * stage, sends all results to every rank, so that each rank can go on with the
 * experiment's next stage.  Only rank 0 writes tables.  Without MPI (or when
 * not started by mpirun/srun) there is one rank and nothing here runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "stage.h"

#ifndef HAVE_MPI

void bench_mpi_init(int *rank, int *nranks)
{
    *rank = 0;
    *nranks = 1;
}

void bench_mpi_finalize(void) {}
void bench_mpi_queue(bench_stage *s) { (void)s; }
int bench_mpi_share(bench_stage *s) { return s->rc; }

#else

#include <time.h>
#include <mpi.h>

enum { TAG_REQ = 1, TAG_REPLY = 100 };

static int mpi_on, mpi_threaded;
static pthread_mutex_t mpi_mu = PTHREAD_MUTEX_INITIALIZER;

/* A message buffer that cannot be allocated: say so and end the whole job
 * (the records written so far stay, and a rerun resumes from them). */
static void *msg_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "mdatt: bench: out of memory for an MPI message of %zu bytes\n", n);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return p;
}

void bench_mpi_init(int *rank, int *nranks)
{
    *rank = 0;
    *nranks = 1;
    /* only when a launcher started this process: a plain `mdatt bench` never
     * touches MPI */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_RANK"))
        return;
    int provided;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        return;
    mpi_on = 1;
    mpi_threaded = provided >= MPI_THREAD_SERIALIZED;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, nranks);
}

void bench_mpi_finalize(void)
{
    if (mpi_on)
        MPI_Finalize();
    mpi_on = 0;
}

/* A short sleep between polls: blocking MPI calls spin on a CPU that the
 * runs need. */
static void nap(void)
{
    struct timespec t = {0, 50000};
    nanosleep(&t, NULL);
}

static void wait_req(MPI_Request *rq, int locked)
{
    int flag = 0;
    for (;;) {
        if (locked)
            pthread_mutex_lock(&mpi_mu);
        MPI_Test(rq, &flag, MPI_STATUS_IGNORE);
        if (locked)
            pthread_mutex_unlock(&mpi_mu);
        if (flag)
            return;
        nap();
    }
}

/* Request header: thread, the finished run's code, its index (-1: none). */
typedef struct {
    int32_t tid, rc;
    int64_t k;
} req_head;

typedef struct {
    bench_stage *s;
    int tid;
} remote_t;

/* A worker rank's thread: report the run just finished, get the next. */
static void *remote_worker(void *va)
{
    remote_t *a = va;
    bench_stage *s = a->s;
    req_head h = {a->tid, 0, -1};
    bench_rec r;
    bench_rec_init(&r);
    for (;;) {
        size_t n = sizeof h + (h.k >= 0 && h.rc == 0 ? r.len : 0);
        unsigned char *msg = msg_alloc(n);
        memcpy(msg, &h, sizeof h);
        if (n > sizeof h)
            memcpy(msg + sizeof h, r.data, r.len);
        int64_t next = -1;
        MPI_Request rq;
        pthread_mutex_lock(&mpi_mu);
        MPI_Send(msg, (int)n, MPI_BYTE, 0, TAG_REQ, MPI_COMM_WORLD);
        MPI_Irecv(&next, 1, MPI_INT64_T, 0, TAG_REPLY + a->tid, MPI_COMM_WORLD, &rq);
        pthread_mutex_unlock(&mpi_mu);
        free(msg);
        wait_req(&rq, 1);
        bench_rec_free(&r);
        if (next < 0)
            break;
        h.k = next;
        h.rc = s->jobs->run((int)next, s->ctx);
        if (h.rc == 0)
            s->jobs->slots((int)next, s->ctx, &r);
        if (r.bad)
            h.rc = 1;
    }
    return NULL;
}

/* Rank 0: a worker's message in, the next run out.  Returns 1 when that
 * worker thread was told to stop. */
static int serve_one(bench_stage *s, const MPI_Status *st)
{
    int n;
    MPI_Get_count(st, MPI_BYTE, &n);
    unsigned char *msg = msg_alloc(n > 0 ? (size_t)n : 0);
    MPI_Recv(msg, n, MPI_BYTE, st->MPI_SOURCE, TAG_REQ, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    req_head h;
    memcpy(&h, msg, sizeof h);
    if (h.k >= 0 && h.k < s->njobs) {
        bench_rec r;            /* the payload into rank 0's slots, then the record */
        bench_rec_init(&r);
        r.data = msg + sizeof h;
        r.len = (size_t)n - sizeof h;
        int rc = h.rc;
        if (rc == 0) {
            bench_rec_rewind(&r);
            s->jobs->slots((int)h.k, s->ctx, &r);
            rc = bench_rec_finish(&r) ? 1 : 0;
            r.loading = 0;
        }
        bench_stage_store(s, (long)h.k, rc, &r);
    }
    free(msg);
    int64_t next = bench_stage_take(s);
    MPI_Send(&next, 1, MPI_INT64_T, st->MPI_SOURCE, TAG_REPLY + h.tid, MPI_COMM_WORLD);
    return next < 0;
}

void bench_mpi_queue(bench_stage *s)
{
    bench_ctx *b = s->b;
    int mine = b->rank == 0 ? 0 : mpi_threaded ? b->threads : 1, remote = 0;
    if (mine > 64)
        mine = 64;
    MPI_Allreduce(&mine, &remote, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    pthread_t th[64];
    int started = 0;
    if (b->rank == 0) {
        /* rank 0 computes on its threads too; its main thread serves */
        int nt = b->threads < s->ntodo ? b->threads : (int)s->ntodo;
        for (; started < nt && started < 64; started++)
            if (pthread_create(&th[started], NULL, bench_stage_worker, s) != 0)
                break;
        while (remote > 0) {
            int flag;
            MPI_Status st;
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQ, MPI_COMM_WORLD, &flag, &st);
            if (flag)
                remote -= serve_one(s, &st);
            else
                nap();
        }
        for (int k = 0; k < started; k++)
            pthread_join(th[k], NULL);
        return;
    }
    remote_t a[64];
    for (int k = 0; k < mine; k++)
        a[k] = (remote_t){s, k};
    for (; started < mine - 1; started++)
        if (pthread_create(&th[started], NULL, remote_worker, &a[started + 1]) != 0)
            break;
    remote_worker(&a[0]);
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    /* threads that could not start never asked: ask in their name */
    for (int k = started + 1; k < mine; k++)
        remote_worker(&a[k]);
}

int bench_mpi_share(bench_stage *s)
{
    bench_ctx *b = s->b;
    int64_t head[3] = {s->rc, b->halt, 0};
    bench_rec all;
    bench_rec_init(&all);
    if (b->rank == 0 && !s->rc && !b->halt) {
        for (long k = 0; k < s->njobs; k++)
            s->jobs->slots((int)k, s->ctx, &all);
        head[0] = all.bad;
        head[2] = (int64_t)all.len;
    }
    MPI_Request rq;
    MPI_Ibcast(head, 3, MPI_INT64_T, 0, MPI_COMM_WORLD, &rq);
    wait_req(&rq, 0);
    if (!head[0] && !head[1] && head[2] > 0) {
        if (b->rank != 0) {
            all.data = msg_alloc((size_t)head[2]);
            all.len = all.cap = (size_t)head[2];
        }
        for (int64_t at = 0; at < head[2];) {     /* in pieces of at most 1 GB */
            int n = head[2] - at > (1 << 30) ? (1 << 30) : (int)(head[2] - at);
            MPI_Ibcast(all.data + at, n, MPI_BYTE, 0, MPI_COMM_WORLD, &rq);
            wait_req(&rq, 0);
            at += n;
        }
        if (b->rank != 0) {
            bench_rec_rewind(&all);
            for (long k = 0; k < s->njobs; k++)
                s->jobs->slots((int)k, s->ctx, &all);
            head[0] = bench_rec_finish(&all) ? 1 : 0;
        }
    }
    bench_rec_free(&all);
    b->halt = (bench_halt)head[1];
    return (int)head[0];
}

#endif
