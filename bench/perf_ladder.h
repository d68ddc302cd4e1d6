/* perf_ladder.h - the oracle's size ladder in bench/perf_oracle (planted
 * feasible and planted infeasible W-SVM instances from 3 000 x 1 024 to
 * 129 024 x 4 096 rows x variables, each solve in its own child process).
 */
#ifndef PERF_LADDER_H
#define PERF_LADDER_H

#include <stdint.h>
#include <stdio.h>

/* splitmix64 uniform on (0, 1) and a uniform unit vector (perf_oracle.c). */
double perf_unif(uint64_t *s);
void perf_unit(uint64_t *s, double *x, int d);

/** What to run: rungs (a subset of "1,2,3"), exponents, limits. */
typedef struct {
    const char *rungs;      /**< e.g. "1,2" */
    const double *ps;       /**< exponents (INFINITY for p = inf) */
    int nps;
    int infeasible;         /**< 0 feasible instances only, 1 both, 2 infeasible only */
    int cvxopt;             /**< cvxopt beside attsvm where it fits (rung 1) */
    double timeout;         /**< CPU seconds per solve (child killed after) */
    double mem_gb;          /**< address-space limit per child */
} perf_ladder_opts;

/** Run the ladder; appends its section to md (markdown) and writes its rows
 *  into csv (header included).  Returns 0, or 1 when a child could not run. */
int perf_ladder_run(const perf_ladder_opts *o, FILE *md, FILE *csv);

#endif
