/* stage.c - bench_parallel: an experiment stage's runs with durable records.
 * Valid records are loaded first; the missing runs (of this shard) are
 * computed on threads, or over the MPI ranks, each written as a record when
 * done.  Tables are built from the slots only after every run is in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "stage.h"

long bench_stage_take(bench_stage *s)
{
    pthread_mutex_lock(&s->mu);
    long k = s->rc || s->next >= s->ntodo ? -1 : s->todo[s->next++];
    pthread_mutex_unlock(&s->mu);
    return k;
}

void bench_stage_progress(bench_stage *s, int final)
{
    if (!s->tty)
        return;
    const long fresh = s->done - s->reused;
    const double el = bench_now() - s->t0;
    const double left = fresh > 0 ? el * (s->njobs - s->done) / fresh : 0.0;
    fprintf(stderr, "\r  %-20s %6ld/%-6ld runs (%ld reused)  %7.1f s elapsed  ~%6.1f s left%s",
            s->label, s->done, s->njobs, s->reused, el, left, final ? "\n" : "");
    fflush(stderr);
}

void bench_stage_store(bench_stage *s, long k, int rc, const bench_rec *r)
{
    char err[BENCH_REC_ERRLEN];
    if (rc == 0 && (r->bad || bench_rec_write(s->dir, s->hash, k, r, err) != BENCH_REC_OK)) {
        if (!r->bad)
            fprintf(stderr, "mdatt bench: %s\n", err);
        rc = 1;
    }
    pthread_mutex_lock(&s->mu);
    if (rc == 0) {
        s->have[k] = 1;
        s->done++;
    } else if (!s->rc)
        s->rc = rc;
    bench_stage_progress(s, 0);
    pthread_mutex_unlock(&s->mu);
}

void *bench_stage_worker(void *vs)
{
    bench_stage *s = vs;
    long k;
    while ((k = bench_stage_take(s)) >= 0) {
        int rc = s->jobs->run((int)k, s->ctx);
        bench_rec r;
        bench_rec_init(&r);
        if (rc == 0)
            s->jobs->slots((int)k, s->ctx, &r);
        bench_stage_store(s, k, rc, &r);
        bench_rec_free(&r);
    }
    return NULL;
}

void bench_stage_threads(bench_stage *s, int n)
{
    pthread_t th[64];
    if (n > 64)
        n = 64;
    int started = 0;
    for (; started < n - 1; started++)
        if (pthread_create(&th[started], NULL, bench_stage_worker, s) != 0)
            break;
    bench_stage_worker(s);
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
}

/* A stage's label as a folder name: letters, digits, '-' and '.'; the rest '_'. */
static void stage_dir(bench_stage *s)
{
    char name[200];
    size_t k = 0;
    for (const char *c = s->label; *c && k < sizeof name - 1; c++)
        name[k++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                    *c == '-' || *c == '.' ? *c : '_';
    name[k] = '\0';
    snprintf(s->dir, sizeof s->dir, "%s/%s", s->b->recdir, name);
}

/* Load every valid record of the stage into the slots; count the others.
 * The first record of another configuration is named in *foreign_path. */
static void load_records(bench_stage *s, char *foreign_path, size_t len)
{
    foreign_path[0] = '\0';
    for (long k = 0; k < s->njobs; k++) {
        bench_rec r;
        bench_rec_status st = bench_rec_read(s->dir, s->hash, k, &r);
        if (st == BENCH_REC_OK) {
            s->jobs->slots((int)k, s->ctx, &r);
            if (bench_rec_finish(&r) == 0) {
                s->have[k] = 1;
                s->reused++;
            } else
                s->corrupt++;   /* right checksum, wrong payload length for these slots */
        } else if (st == BENCH_REC_FOREIGN) {
            if (!s->foreign++)
                bench_rec_path(foreign_path, len, s->dir, k);
        } else if (st != BENCH_REC_MISSING)
            s->corrupt++;
        bench_rec_free(&r);
    }
    s->done = s->reused;
}

/* "N of M runs ... (first: a, b, c, ...)" for the runs without a result. */
static void missing_list(const bench_stage *s, char *out, size_t len, long *count)
{
    long m = 0;
    int l = 0;
    for (long k = 0; k < s->njobs; k++)
        if (!s->have[k]) {
            if (m < 8)
                l += snprintf(out + l, len - l, "%s%ld", m ? ", " : "", k);
            else if (m == 8)
                l += snprintf(out + l, len - l, ", ...");
            m++;
        }
    *count = m;
}

/* The runs this process computes: missing, and of its shard. */
static int plan(bench_stage *s)
{
    bench_ctx *b = s->b;
    int *owner = NULL;
    if (b->shard_n > 0) {
        double *cost = malloc(sizeof(double) * (s->njobs ? s->njobs : 1));
        owner = malloc(sizeof(int) * (s->njobs ? s->njobs : 1));
        if (!cost || !owner) {
            free(cost);
            free(owner);
            return -1;
        }
        for (long k = 0; k < s->njobs; k++)
            cost[k] = s->jobs->cost ? s->jobs->cost((int)k, s->ctx) : 1.0;
        int rc = bench_shard_assign(s->njobs, cost, b->shard_n, owner);
        free(cost);
        if (rc) {
            free(owner);
            return -1;
        }
    }
    for (long k = 0; k < s->njobs; k++)
        if (!s->have[k] && !b->merge && (!owner || owner[k] == b->shard_k))
            s->todo[s->ntodo++] = k;
    free(owner);
    return 0;
}

/* Rank 0 (or the only process): records in, checks of --merge, the plan. */
static int prepare(bench_stage *s)
{
    bench_ctx *b = s->b;
    char fpath[1300];
    if (!b->merge && bench_mkdir_p(s->dir) != 0) {
        snprintf(b->err, sizeof b->err, "%.400s: cannot create: %s", s->dir, strerror(errno));
        return 1;
    }
    load_records(s, fpath, sizeof fpath);
    if (s->foreign && b->merge) {
        b->halt = BENCH_HALT_FOREIGN;
        snprintf(b->halt_msg, sizeof b->halt_msg, "%.300s: a record of another configuration (%ld in "
                 "stage '%s'); run the shards again with this configuration, or with --fresh",
                 fpath, s->foreign, s->label);
        return 2;
    }
    if (s->foreign && !b->quiet)
        fprintf(stderr, "mdatt bench: %s: %ld record(s) of another configuration are not used "
                        "and are recomputed (first: %s; --fresh starts over)\n", s->label, s->foreign, fpath);
    if (s->corrupt && !b->quiet)
        fprintf(stderr, "mdatt bench: %s: %ld truncated or corrupted record(s) are recomputed\n",
                s->label, s->corrupt);
    return plan(s) ? 1 : 0;
}

/* After the runs: a shard or a merge stops where runs are still missing. */
static void check_complete(bench_stage *s)
{
    bench_ctx *b = s->b;
    if (s->rc || !(b->merge || b->shard_n > 0))
        return;
    if (b->shard_n > 0)         /* other shards may have finished meanwhile */
        for (long k = 0; k < s->njobs; k++)
            if (!s->have[k]) {
                bench_rec r;
                if (bench_rec_read(s->dir, s->hash, k, &r) == BENCH_REC_OK) {
                    s->jobs->slots((int)k, s->ctx, &r);
                    s->have[k] = bench_rec_finish(&r) == 0;
                }
                bench_rec_free(&r);
            }
    char list[160];
    long m;
    missing_list(s, list, sizeof list, &m);
    if (m == 0)
        return;
    b->halt = b->merge ? BENCH_HALT_MISSING : BENCH_HALT_SHARD;
    if (b->merge)
        snprintf(b->halt_msg, sizeof b->halt_msg, "%.300s: %ld of %ld runs of stage '%.100s' have no record "
                 "(first: %s); nothing written", s->dir, m, s->njobs, s->label, list);
    else
        snprintf(b->halt_msg, sizeof b->halt_msg, "shard %d/%d: its runs of stage '%s' are done; %ld "
                 "of %ld runs of that stage belong to other shards or are not done yet",
                 b->shard_k, b->shard_n, s->label, m, s->njobs);
}

int bench_parallel(bench_ctx *b, const char *label, int njobs, const bench_jobs *jobs, void *ctx)
{
    bench_stage s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    s.b = b;
    s.label = label;
    s.njobs = njobs;
    s.jobs = jobs;
    s.ctx = ctx;
    s.hash = bench_rec_hash(b->cfg, label, njobs);
    s.tty = !b->quiet && b->rank == 0 && isatty(2);
    s.t0 = bench_now();
    stage_dir(&s);
    s.have = calloc(njobs ? njobs : 1, 1);
    s.todo = malloc(sizeof(long) * (njobs ? njobs : 1));
    int rc = !s.have || !s.todo;
    if (!rc && b->rank == 0)
        rc = prepare(&s);
    s.rc = rc;
    if (b->nranks > 1)
        bench_mpi_queue(&s);
    else if (!rc)
        bench_stage_threads(&s, b->threads < s.ntodo ? b->threads : (int)s.ntodo);
    if (b->rank == 0)
        check_complete(&s);
    rc = b->nranks > 1 ? bench_mpi_share(&s) : s.rc;
    if (b->rank == 0 && !b->quiet && b->halt != BENCH_HALT_MISSING && b->halt != BENCH_HALT_FOREIGN) {
        bench_stage_progress(&s, 1);
        fprintf(stderr, "  %s: %ld runs, %ld reused from records, %ld computed\n", label, s.njobs,
                s.reused, s.done - s.reused);
    }
    free(s.have);
    free(s.todo);
    pthread_mutex_destroy(&s.mu);
    return rc ? rc : b->halt ? 1 : 0;
}
