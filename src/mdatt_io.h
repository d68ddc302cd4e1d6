/* mdatt_io.h - libmdatt's files (doc/formats.md): instances and models as JSON
 * or .npz, the output-file contract every command writes through, svm files
 * as `mdatt svm` writes them, and numeric CSV files (trajectories). */
#ifndef MDATT_IO_H
#define MDATT_IO_H

#include <stdio.h>
#include "mdatt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Read an instance JSON (doc/formats.md).  On failure err names the field. */
mdatt_status mdatt_instance_read(const char *path, mdatt_instance *in, char err[MDATT_ERRLEN]);
/** Read an instance; query_token >= 0 makes it self-attention with
 *  z_i = x_{i,query_token} (overriding Z), -1 keeps the file's queries. */
mdatt_status mdatt_instance_read_query(const char *path, int query_token, mdatt_instance *in,
                                       char err[MDATT_ERRLEN]);
/** Write an instance JSON as an output file (mdatt_outfile; "-" is stdout). */
mdatt_status mdatt_instance_write(const char *path, const mdatt_instance *in, char err[MDATT_ERRLEN]);
/** Read / write a model JSON. */
mdatt_status mdatt_model_read(const char *path, mdatt_model *m, char err[MDATT_ERRLEN]);
mdatt_status mdatt_model_write(const char *path, const mdatt_model *m, char err[MDATT_ERRLEN]);
/** The model JSON that mdatt_model_write writes, printed to a stream. */
void mdatt_model_print(FILE *f, const mdatt_model *m);
/** The same as numpy's .npz (keys W, p, v and alpha when present) when name
 *  ends in .npz, else as mdatt_model_print; err names the file on failure. */
mdatt_status mdatt_model_print_as(FILE *f, const char *name, const mdatt_model *m,
                                  char err[MDATT_ERRLEN]);

/** An output file, as every command writes them (README, "Outputs"):
 *  "-" is standard output; an existing file that is not a regular one (a
 *  device, FIFO, socket) is written in place; otherwise a temporary file
 *  beside the target (symbolic links followed, the link kept) is renamed
 *  over it on commit.  New files get mode 0666 minus the umask, replaced
 *  ones keep their mode.  Temporary files are removed on SIGINT, SIGTERM and
 *  SIGHUP (when those signals have their default action). */
typedef struct {
    FILE *f;            /**< stream to write to */
    char *path;         /**< final path (a link's target); NULL for stdout */
    char *tmp;          /**< temporary path; NULL when direct */
    int direct;         /**< 0 temp + rename, 1 written in place, 2 stdout */
} mdatt_outfile;
mdatt_status mdatt_outfile_open(mdatt_outfile *o, const char *path, char err[MDATT_ERRLEN]);
/** Flush, close and rename; on failure the temp file is removed. */
mdatt_status mdatt_outfile_commit(mdatt_outfile *o, char err[MDATT_ERRLEN]);
/** Discard the temp file (no output). */
void mdatt_outfile_abort(mdatt_outfile *o);
/** 1 when the two paths name the same file: the same device and inode when
 *  both exist, else the same canonical path (links and ".." resolved);
 *  "-" equals only "-". */
int mdatt_same_file(const char *a, const char *b);

/* --------------------------------------------------------------- svm files */

/** Outcome recorded in an svm JSON ("status"). */
typedef enum {
    MDATT_SVM_OPTIMAL = 0,  /**< "optimal": W (or v), bounds and gap present */
    MDATT_SVM_INFEASIBLE,   /**< "infeasible": Farkas multipliers instead of a dual */
    MDATT_SVM_FAILED        /**< "failed": no answer */
} mdatt_svm_status;

/** One multiplier of the svm JSON's "dual" (or "farkas") list. */
typedef struct {
    int i, t;           /**< sample and token of the constraint (t = alpha_i for v) */
    double lambda;      /**< multiplier >= 0 */
} mdatt_svm_mult;

/** An svm JSON (formats.md, "svm"), as written by `mdatt svm`. */
typedef struct {
    double p;           /**< norm exponent: 1, a real > 1 or INFINITY ("inf") */
    int target_v;       /**< 0: the W-SVM, 1: the v-SVM */
    int n;              /**< samples (entries of alpha) */
    int d;              /**< dimension (rows of W, entries of v); 0 if not optimal */
    int *alpha;         /**< n token choices */
    mdatt_svm_status status; /**< solve outcome */
    double *x;          /**< optimal: W^mm (d*d, row-major) or v^mm (d); else NULL */
    double objective;   /**< ||x||_p, the certified upper bound (NAN if not optimal) */
    double lower_bound; /**< certified lower bound (NAN if not optimal) */
    double gap;         /**< relative gap (objective - lower_bound) / objective */
    double max_violation; /**< largest relative constraint violation */
    int ndual;          /**< entries of dual */
    mdatt_svm_mult *dual; /**< multipliers (Farkas ones when infeasible) */
    int nsupport;       /**< support constraints */
    int *support;       /**< 2*nsupport ints: (i, t) pairs */
    int has_tokens;     /**< the "tokens" object was present (W target) */
    int globally_optimal; /**< tokens.globally_optimal */
    int locally_optimal;  /**< tokens.locally_optimal */
    int nties;          /**< tokens.ties: number of samples with a tied argmax */
    uint64_t instance_hash; /**< mdatt_instance_hash of the data solved (0: not recorded) */
} mdatt_svm;

/** Read an svm JSON strictly; on failure err names the field (MDATT_EFORMAT
 *  for structure, MDATT_EINVAL for values). */
mdatt_status mdatt_svm_read(const char *path, mdatt_svm *s, char err[MDATT_ERRLEN]);
/** Release the arrays of s (safe on a zeroed struct). */
void mdatt_svm_free(mdatt_svm *s);
/** "optimal", "infeasible", "failed". */
const char *mdatt_svm_status_name(mdatt_svm_status st);

/* --------------------------------------------------------------- CSV files */

/** A numeric CSV file with a header line (trajectories, metrics). */
typedef struct {
    int ncol;           /**< columns */
    long nrow;          /**< data rows */
    char **names;       /**< ncol column names */
    double *data;       /**< nrow*ncol values, row-major */
} mdatt_csv;
/** Read a CSV whose fields are all numbers (strtod syntax, inf/nan allowed);
 *  errors name the line and column. */
mdatt_status mdatt_csv_read(const char *path, mdatt_csv *c, char err[MDATT_ERRLEN]);
/** Release the arrays of c (safe on a zeroed struct). */
void mdatt_csv_free(mdatt_csv *c);
/** Index of the named column, or -1. */
int mdatt_csv_col(const mdatt_csv *c, const char *name);

#ifdef __cplusplus
}
#endif
#endif
