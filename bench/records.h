/* records.h - durable run records of `mdatt bench` and the split of a stage's
 * runs into shards.  One record per run: a 40-byte header (magic, format
 * version, CRC-32, configuration hash, run index, payload length; README.md
 * "Run records") and the bytes of the run's result slots, written to a temp
 * file and renamed into place, so a record is either whole or absent. */
#ifndef MDATT_BENCH_RECORDS_H
#define MDATT_BENCH_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define BENCH_REC_MAGIC "MDATTRUN"
#define BENCH_REC_VERSION 1u
#define BENCH_REC_HEADER 40
#define BENCH_REC_ERRLEN 512

/** What reading a record found. */
typedef enum {
    BENCH_REC_OK = 0,       /**< valid and of this configuration */
    BENCH_REC_MISSING,      /**< no such file */
    BENCH_REC_CORRUPT,      /**< truncated, bad magic/version/checksum, wrong index or length */
    BENCH_REC_FOREIGN,      /**< valid, but of another configuration */
    BENCH_REC_EIO           /**< cannot read or write */
} bench_rec_status;

const char *bench_rec_strerror(bench_rec_status s);

/** A run's payload: filled slot by slot when saving, consumed when loading. */
typedef struct bench_rec {
    unsigned char *data;
    size_t len, cap, pos;
    int loading;            /**< 1: bench_rec_slot copies out of data */
    int bad;                /**< out of memory, or a slot ran past the payload */
} bench_rec;

/** Empty payload in saving mode. */
void bench_rec_init(bench_rec *r);
/** Switch r to loading mode over its own bytes (from the start). */
void bench_rec_rewind(bench_rec *r);
void bench_rec_free(bench_rec *r);
/** One slot of a run's result: appended when saving, filled when loading. */
void bench_rec_slot(bench_rec *r, void *p, size_t bytes);
/** Loading: 0 when every byte was consumed and nothing was short. */
int bench_rec_finish(const bench_rec *r);

/** Hash of a stage's record set: the configuration as canonical JSON (sorted
 *  keys, full precision, without the free-text "about"), the stage's name,
 *  its number of runs, the package version and this machine's data layout. */
uint64_t bench_rec_hash(const json_t *cfg, const char *stage, long njobs);

/** <dir>/<k>.rec */
void bench_rec_path(char *buf, size_t len, const char *dir, long k);
/** Write run k's record atomically into dir (temp file + rename). */
bench_rec_status bench_rec_write(const char *dir, uint64_t hash, long k, const bench_rec *r,
                                 char err[BENCH_REC_ERRLEN]);
/** Read run k's record from dir into r (loading mode) when it is valid and of hash. */
bench_rec_status bench_rec_read(const char *dir, uint64_t hash, long k, bench_rec *r);

/** "K/N" with 0 <= K < N <= 100000; 0 on success, -1 with a message in err. */
int bench_shard_parse(const char *s, int *k, int *n, char err[BENCH_REC_ERRLEN]);
/** Owner shard of each run, balanced by expected cost: runs by decreasing
 *  cost (ties: lower index) go to the shard with the least cost so far
 *  (ties: lower shard).  cost NULL: every run costs 1.  Returns 0, or -1
 *  when out of memory. */
int bench_shard_assign(long njobs, const double *cost, int nshards, int *owner);

#endif
