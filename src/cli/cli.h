/* cli.h - shared pieces of the `mdatt` command line: option tables, strict
 * number parsing and the error convention of doc/formats.md
 * ("mdatt: <subcommand>: <what>" on stderr; exit 2 bad input, 1 failure). */
#ifndef MDATT_CLI_H
#define MDATT_CLI_H

#include <stdio.h>
#include "mdatt.h"

/** Exit codes (doc/formats.md). */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_BAD = 2, CLI_HELP = -1 };

/** Kind of value an option takes. */
typedef enum {
    OPT_FLAG,       /**< no value; sets *(int *)dst = 1 */
    OPT_STR,        /**< const char * */
    OPT_DOUBLE,     /**< finite double */
    OPT_P,          /**< norm exponent: finite double or "inf" */
    OPT_LONG,       /**< integer in [lo, hi] */
    OPT_LIST        /**< repeatable string: appends to a cli_list */
} cli_opt_kind;

typedef struct {
    const char **items;
    int count;
} cli_list;

/** One option of a subcommand's table (terminated by name == NULL). */
typedef struct {
    const char *name;   /**< "--iters" or "-o" */
    cli_opt_kind kind;
    void *dst;          /**< where the value goes */
    long lo, hi;        /**< range for OPT_LONG */
    int *seen;          /**< optional: set to 1 when given */
} cli_opt;

/** A subcommand. */
typedef struct {
    const char *name;
    const char *summary;
    const char *usage;  /**< full --help text */
    int (*run)(int argc, char **argv);
} cli_command;

/** Print "mdatt: sub: <msg>" to stderr and return code. */
int cli_error(const char *sub, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Parse argv[1..] against opts; positional arguments go to pos (at most
 *  maxpos).  Returns CLI_OK, CLI_BAD (message printed) or CLI_HELP (usage
 *  printed to stdout). */
int cli_parse(const cli_command *cmd, int argc, char **argv, const cli_opt *opts,
              const char **pos, int maxpos, int *npos);
/** Strict conversions: the whole string, finite; message names the flag. */
int cli_double(const char *sub, const char *flag, const char *s, double *out);
int cli_long(const char *sub, const char *flag, const char *s, long lo, long hi, long *out);
/** "1", "1.5", "inf": p >= 1 (or > 1 when strict_gt1). */
int cli_p(const char *sub, const char *flag, const char *s, int strict_gt1, double *out);
/** A file named on the command line, with the flag (or argument name) that named it. */
typedef struct {
    const char *flag;
    const char *path;   /**< NULL: not given (skipped) */
} cli_path;
/** Exit 2 (message naming both flags) when an output names an input or
 *  another output (mdatt_same_file); CLI_OK otherwise. */
int cli_distinct_outputs(const char *sub, const cli_path *outs, int nout, const cli_path *ins,
                         int nin);
/** Report an mdatt_status with its message and return the exit code. */
int cli_status(const char *sub, mdatt_status st, const char *err);
/** JSON writers shared by the subcommands: a number with %.17g (NaN as null,
 *  infinities as the strings "inf"/"-inf"), a list of ints, a string. */
void cli_json_num(FILE *f, double x);
void cli_json_ints(FILE *f, const int *a, int n);
void cli_json_str(FILE *f, const char *s);

extern const cli_command cli_gen, cli_train, cli_svm, cli_check, cli_rate;
extern const cli_command cli_bench;
extern const cli_command cli_fmnist;

#endif
