/* attsvm.h - public interface of libattsvm, mdatt's independent oracle for the
 * l_p hard-margin attention SVM (l_p-AttSVM) and the v-SVM (doc/design.md).
 *
 * This library links GLPK, OpenBLAS (dense products and factors) and libm;
 * it never includes or links trainer code.  Every answer carries a certificate that a few lines can verify:
 * a feasible x gives the upper bound ||x||_p, multipliers lambda >= 0 give the
 * lower bound sum(lambda) / ||A^T lambda||_q, and gap = (UB - LB) / UB.
 *
 * Data are dense and row-major; W is d x d with W[j*d + k] multiplying x_j z_k.
 * Token and sample indices are 0-based.
 */
#ifndef ATTSVM_H
#define ATTSVM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Outcome of a solve. */
typedef enum {
    ATTSVM_OPTIMAL = 0,     /**< solved; certificate within the tolerances */
    ATTSVM_INFEASIBLE,      /**< no x satisfies Ax >= 1; Farkas certificate in dual */
    ATTSVM_FAILED,          /**< the LP engine or the method failed; no answer */
    ATTSVM_EINVAL,          /**< invalid input (message names the field) */
    ATTSVM_NOMEM            /**< memory ran out (message says for what); no answer */
} attsvm_status;

/** "optimal", "infeasible", "failed", "invalid", "out of memory". */
const char *attsvm_strerror(attsvm_status st);

/** Solver settings; fill with attsvm_default_settings() and then adjust. */
typedef struct {
    double p;           /**< norm exponent: 1, any real > 1, or INFINITY (default 2) */
    int exact;          /**< p = 1 or inf: re-solve with glp_exact and report
                             whether the floating-point basis is exactly optimal */
    double gap_tol;     /**< target relative gap (default 1e-10) */
    double feas_tol;    /**< target relative violation (default 1e-12) */
    int max_rounds;     /**< working-set rounds at most (default 200) */
    int lp_it_lim;      /**< GLPK simplex iteration limit per LP (default: none = 0) */
    int verbose;        /**< diagnostics on stderr (default 0) */
    int row_generation; /**< 1: working set of rows grown by the most violated
                             ones (default); 0: all rows from the start */
    int lp_phase;       /**< 1 < p < inf, p != 2: identify the working set and
                             starting multipliers with a piecewise-linear LP on
                             GLPK before the Newton phase (default 0: it
                             does not pay, see oracle/README.md) */
} attsvm_settings;

void attsvm_default_settings(attsvm_settings *s);
/** NULL if valid, else a static message naming the field. */
const char *attsvm_check_settings(const attsvm_settings *s);

/** One multiplier of the dual (or of the Farkas certificate). */
typedef struct {
    int row;            /**< constraint index in the problem's row order */
    double lambda;      /**< value >= 0 */
} attsvm_mult;

/** Answer of a solve, with its certificate. */
typedef struct {
    attsvm_status status;
    char message[256];  /**< reason for infeasible / failed / invalid */
    int nx;             /**< number of variables */
    double *x;          /**< solution (NULL unless optimal) */
    double objective;   /**< upper bound ||x||_p */
    double lower_bound; /**< sum(lambda) / ||A^T lambda||_q */
    double gap;         /**< (objective - lower_bound) / objective */
    double max_violation; /**< max_r (1 - a_r.x) / (||a_r||_q ||x||_p), clipped at 0 */
    int ndual;          /**< multipliers with lambda > 0 */
    attsvm_mult *dual;  /**< all positive multipliers (Farkas ones if infeasible) */
    int nsupport;       /**< active constraints with positive multiplier */
    int *support;       /**< their row indices */
    int exact_checked;  /**< glp_exact was run */
    int exact_optimal;  /**< ... and confirmed the floating-point basis */
    int rounds;         /**< working-set rounds */
    int lp_solves;      /**< GLPK simplex calls */
    int working_rows;   /**< rows in the final working set */
    double seconds;     /**< wall time */
    double farkas_residual; /**< infeasible: ||A^T lambda||_1 / sum_r lambda_r ||a_r||_1
                                 (0 for an exact certificate); else 0 */
    int lp_iterations;  /**< GLPK simplex iterations, all LPs together */
    int newton_iterations; /**< Newton steps (1 < p < inf) */
} attsvm_result;

/** Release r's arrays (x, dual, support); r may be zeroed or filled. */
void attsvm_result_free(attsvm_result *r);

/** Generic problem: min ||x||_p s.t. A x >= 1, A dense m x nx row-major.
 *  The result's row indices refer to the rows of A. */
attsvm_status attsvm_solve_rows(const double *A, int m, int nx,
                                const attsvm_settings *s, attsvm_result *r);

/** Attention data as the oracle sees it (a plain view, no ownership). */
typedef struct {
    int n, T, d;
    const double *X;    /**< n*T*d tokens */
    const double *Z;    /**< n*d queries (already x_{i,k} for self-attention) */
    const double *Y;    /**< n labels +-1 */
    const double *v;    /**< d decoder */
} attsvm_data;

/** Which SVM. */
typedef enum {
    ATTSVM_TARGET_W = 0,    /**< min ||W||_p s.t. <A_it, W> >= 1, A_it = (x_ia - x_it) z_i^T */
    ATTSVM_TARGET_V         /**< min ||v||_p s.t. Y_i x_ia^T v >= 1 */
} attsvm_target;

/** Solve the W-SVM or v-SVM at token choice alpha (n ints).  Rows are ordered
 *  (i, t) for t != alpha_i, i major (W target), or i (v target);
 *  attsvm_row_pair() maps a row back to (i, t). */
attsvm_status attsvm_solve(const attsvm_data *D, const int *alpha, attsvm_target target,
                           const attsvm_settings *s, attsvm_result *r);
/** (i, t) of row `row` of the W-SVM at alpha (t = alpha_i for the v target). */
void attsvm_row_pair(const attsvm_data *D, const int *alpha, attsvm_target target,
                     int row, int *i, int *t);

/** Token verdicts (design.md §6). */
typedef struct {
    int globally_optimal;   /**< alpha_i = argmax_t gamma_it for every i */
    int locally_optimal;    /**< W^mm exists and gamma_ia > gamma_it on support */
    int nties;              /**< samples whose argmax of gamma is not unique
                                 (-1: their list could not be allocated) */
    int *ties;              /**< their indices (n entries allocated) */
} attsvm_tokens;

/** alpha_i = argmax_t gamma_it, gamma_it = Y_i v^T x_it, ties to the lowest
 *  index; tok (may be NULL) receives the ties. */
void attsvm_global_alpha(const attsvm_data *D, int *alpha, attsvm_tokens *tok);
/** Classify alpha given a W-SVM result r at alpha (r may be infeasible).
 *  tok must be zeroed or filled by an earlier call (its ties array is reused). */
void attsvm_classify(const attsvm_data *D, const int *alpha, const attsvm_result *r,
                     attsvm_tokens *tok);
void attsvm_tokens_free(attsvm_tokens *tok);

/** Independent certificate check: from A, x and lambda alone recompute
 *  UB = ||x||_p / min(1, min_r a_r.x) (x rescaled to feasibility),
 *  LB = sum(lambda) / ||A^T lambda||_q, gap and relative violation (all NaN
 *  when its nx doubles of scratch cannot be allocated). */
typedef struct {
    double upper, lower, gap, max_violation;
} attsvm_cert;
void attsvm_certify(const double *A, int m, int nx, double p, const double *x,
                    const attsvm_mult *dual, int ndual, attsvm_cert *c);

/** Build the dense constraint matrix of the W- or v-SVM (malloc'ed, m x nx);
 *  NULL when it cannot be allocated (or m, nx overflow an int). */
double *attsvm_build_rows(const attsvm_data *D, const int *alpha, attsvm_target target,
                          int *m, int *nx);

/** Release the calling thread's GLPK environment (glp_free_env).  GLPK keeps
 *  one per thread in thread-local storage; a thread that has called the solver
 *  and is about to exit may call this to return it (about 5 KB).  Optional;
 *  never call it while another attsvm call runs in the same thread. */
void attsvm_thread_cleanup(void);

#ifdef __cplusplus
}
#endif
#endif
