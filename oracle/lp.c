/* lp.c - the linear programs on GLPK (p = 1, p = inf, the piecewise-linear
 * model used by the general-p solver), vertex polishing and dense solves.
 *
 * Every LP is solved on a working set of rows (row generation): start from
 * one row per sample, solve, add the most violated rows of the full set,
 * re-solve with the dual simplex from the previous basis (adding rows keeps
 * the basis dual feasible; the presolver is never used so the basis is
 * reused).  At the end the optimal vertex is polished: its basis (nonbasic
 * rows S, basic columns B) defines a square system M_SB y_B = b_S - M_SN y_N
 * for the primal and M_SB^T lambda = c_B for the duals, solved by LU with
 * iterative refinement in long double; so the objective and the certificate
 * are exact to rounding instead of to GLPK's tolerances (1e-7).
 *
 * From m * nx >= IPM_MIN_SIZE on, the first working LP of p = 1 and p = inf
 * comes from the interior-point method (ipm.c) by a crossover; below, the
 * dispatcher's seeder (lp.h) adds the support of the p = 2 optimum.
 *
 * Every LP runs guarded (lp_guarded): GLPK's error hook returns here by
 * longjmp instead of letting GLPK abort the process (its allocator reports
 * failures that way too), and so does a failed allocation of this file's
 * own workspace, which holds every block the LP allocates; both end in a
 * clean status (ATTSVM_NOMEM "out of memory", or FAILED with GLPK's
 * message).  After a GLPK error its environment is released
 * (glp_free_env), as GLPK's documentation asks.
 */
#include <glpk.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipm.h"
#include "linalg.h"
#include "lp.h"
#include "rows.h"
#include "workset.h"

/* The p = 1 and p = inf LPs go through the interior-point method (ipm.c)
 * from this many matrix entries m * nx on (the simplex is faster below). */
#define IPM_MIN_SIZE 1e5

/* --------------------------------------------------------------- GLPK LPs */

enum { LP_INF, LP_PWL };

/* A working-set LP: columns map to variables x_j with a sign (or to gamma). */
typedef struct {
    const attsvm__prob *P;
    glp_prob *lp;
    glp_smcp parm;
    int kind, ncol, nr, maxim;
    int *cvar;          /* column (0-based) -> variable j, or -1 for gamma */
    double *csgn;       /* coefficient sign of the column */
    double rhs;         /* row lower bound */
    int *row;           /* LP row (0-based) -> original row */
    char *inws;         /* original row is in the working set */
    int *ind;           /* 1-based scratch for glp_set_mat_row */
    double *val;
    double *y, *lamr;   /* polished column values / row multipliers */
    attsvm__lp_seeder *seed; /* the answering LP's seed rows (NULL: the default) */
    attsvm__out *o;
    /* scratch: pricing (m), A^T lambda (nx), the vertex polish (its square
     * system M of capM entries), glp_exact's statuses, the crossover */
    int *add, *pS, *pB, *st;
    double *ax, *u, *pM, *pb, *pz;
    long double *ul;
    char *isb;
    size_t capM;
    double *xrr, *xc1, *xc2;
    void *xord;
    /* the guard */
    jmp_buf jb;         /* GLPK errors (LP_JMP_GLPK), allocation failures (LP_JMP_NOMEM) */
    char out[512];      /* GLPK's last terminal output (its error message) */
} lpw;

enum { LP_JMP_GLPK = 1, LP_JMP_NOMEM = 2 };

/* Allocation inside a guarded LP: a failure returns to the guard. */
static void *lp_alloc(lpw *L, size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        longjmp(L->jb, LP_JMP_NOMEM);
    return p;
}

static void *lp_zalloc(lpw *L, size_t n)
{
    void *p = calloc(n ? n : 1, 1);
    if (!p)
        longjmp(L->jb, LP_JMP_NOMEM);
    return p;
}

static const char *glp_ret_str(int ret)
{
    switch (ret) {
    case GLP_EBADB: return "invalid initial basis";
    case GLP_ESING: return "singular basis matrix";
    case GLP_ECOND: return "ill-conditioned basis matrix";
    case GLP_EBOUND: return "invalid bounds";
    case GLP_EFAIL: return "solver failure (numerical trouble)";
    case GLP_EOBJLL: return "objective lower limit reached";
    case GLP_EOBJUL: return "objective upper limit reached";
    case GLP_EITLIM: return "iteration limit reached (lp_it_lim)";
    case GLP_ETMLIM: return "time limit reached";
    case GLP_ENOPFS: return "no primal feasible solution";
    case GLP_ENODFS: return "no dual feasible solution";
    default: return "unknown error";
    }
}

static const char *glp_stat_str(int st)
{
    switch (st) {
    case GLP_OPT: return "optimal";
    case GLP_FEAS: return "feasible";
    case GLP_INFEAS: return "infeasible (intermediate)";
    case GLP_NOFEAS: return "no feasible solution";
    case GLP_UNBND: return "unbounded";
    default: return "undefined";
    }
}

static double coef(const lpw *L, int r, int c)
{
    int j = L->cvar[c];
    return j < 0 ? -1.0 : L->csgn[c] * attsvm__row(L->P, r)[j];
}

static void lpw_add_rows(lpw *L, const int *rows, int k)
{
    if (k <= 0)
        return;
    int first = glp_add_rows(L->lp, k);
    for (int t = 0; t < k; t++) {
        int r = rows[t], nz = 0;
        for (int c = 0; c < L->ncol; c++) {
            double a = coef(L, r, c);
            if (a != 0.0) {
                L->ind[++nz] = c + 1;
                L->val[nz] = a;
            }
        }
        glp_set_mat_row(L->lp, first + t, nz, L->ind, L->val);
        glp_set_row_bnds(L->lp, first + t, GLP_LO, L->rhs, 0.0);
        L->row[L->nr++] = r;
        L->inws[r] = 1;
    }
}

/* The workspace and the LP with its ncol columns (the caller sets them). */
static void lpw_init(lpw *L)
{
    const attsvm__prob *P = L->P;
    const size_t m = (size_t)P->m, nx = (size_t)P->nx, ncol = (size_t)L->ncol;
    L->cvar = lp_alloc(L, sizeof *L->cvar * ncol);
    L->csgn = lp_alloc(L, sizeof *L->csgn * ncol);
    L->row = lp_alloc(L, sizeof *L->row * m);
    L->inws = lp_zalloc(L, m);
    L->ind = lp_alloc(L, sizeof *L->ind * (ncol + 1));
    L->val = lp_alloc(L, sizeof *L->val * (ncol + 1));
    L->y = lp_alloc(L, sizeof *L->y * ncol);
    L->lamr = lp_alloc(L, sizeof *L->lamr * m);
    L->add = lp_alloc(L, sizeof *L->add * m);
    L->ax = lp_alloc(L, sizeof *L->ax * m);
    L->u = lp_alloc(L, sizeof *L->u * nx);
    L->ul = lp_alloc(L, sizeof *L->ul * nx);
    L->pS = lp_alloc(L, sizeof *L->pS * (m + 1));
    L->pB = lp_alloc(L, sizeof *L->pB * (ncol + 1));
    L->pb = lp_alloc(L, sizeof *L->pb * (m + ncol + 1));
    L->pz = lp_alloc(L, sizeof *L->pz * (m + ncol + 1));
    L->isb = lp_alloc(L, ncol);
    L->st = lp_alloc(L, sizeof *L->st * (m + ncol));
    L->lp = glp_create_prob();
    glp_init_smcp(&L->parm);
    L->parm.msg_lev = P->s->verbose > 1 ? GLP_MSG_ERR : GLP_MSG_OFF;
    L->parm.meth = GLP_DUALP;
    L->parm.presolve = GLP_OFF;
    L->parm.it_lim = P->s->lp_it_lim > 0 ? P->s->lp_it_lim : INT_MAX;
    glp_add_cols(L->lp, L->ncol);
}

/* Our arrays (the glp_prob is the guard's business). */
static void lpw_free(lpw *L)
{
    void *p[] = {L->cvar, L->csgn, L->row, L->inws, L->ind, L->val, L->y, L->lamr, L->add,
                 L->ax, L->u, L->ul, L->pS, L->pB, L->pb, L->pz, L->isb, L->st, L->pM,
                 L->xrr, L->xc1, L->xc2, L->xord};
    for (size_t k = 0; k < sizeof p / sizeof *p; k++)
        free(p[k]);
}

/* One simplex call; returns the GLPK status or -1 (o set to FAILED). */
static int lpw_run(lpw *L)
{
    int it0 = glp_get_it_cnt(L->lp);
    int ret = glp_simplex(L->lp, &L->parm);
    L->o->lp_solves++;
    L->o->lp_iterations += glp_get_it_cnt(L->lp) - it0;
    if (ret != 0) {
        L->o->status = ATTSVM_FAILED;
        snprintf(L->o->msg, sizeof L->o->msg, "GLPK glp_simplex: %s (code %d) on %d working rows",
                 glp_ret_str(ret), ret, L->nr);
        return -1;
    }
    return glp_get_status(L->lp);
}

static double col_value_nonbasic(glp_prob *lp, int c1)
{
    switch (glp_get_col_stat(lp, c1)) {
    case GLP_NU: return glp_get_col_ub(lp, c1);
    case GLP_NF: return 0.0;
    default: return glp_get_col_lb(lp, c1);
    }
}

/* GLPK's own values, used between rounds (accurate to its tolerances). */
static void lpw_glpk_values(lpw *L)
{
    for (int c = 0; c < L->ncol; c++)
        L->y[c] = glp_get_col_prim(L->lp, c + 1);
    for (int i = 0; i < L->nr; i++) {
        double d = glp_get_row_dual(L->lp, i + 1);
        L->lamr[i] = fmax(0.0, L->maxim ? -d : d);
    }
}

/* Vertex polish (file comment).  Returns 0, or -1 (values left as GLPK's). */
static int lpw_polish(lpw *L)
{
    glp_prob *lp = L->lp;
    int *S = L->pS, *B = L->pB;
    int ks = 0, kb = 0, rc = -1;
    for (int i = 0; i < L->nr; i++)
        if (glp_get_row_stat(lp, i + 1) != GLP_BS)
            S[ks++] = i;
    for (int c = 0; c < L->ncol; c++) {
        if (glp_get_col_stat(lp, c + 1) == GLP_BS)
            B[kb++] = c;
        else
            L->y[c] = col_value_nonbasic(lp, c + 1);
    }
    for (int i = 0; i < L->nr; i++)
        L->lamr[i] = 0.0;
    if (ks != kb)
        return -1;
    if ((size_t)ks * ks + 1 > L->capM) {
        free(L->pM);
        L->pM = NULL;
        L->pM = lp_alloc(L, sizeof *L->pM * ((size_t)ks * ks + 1));
        L->capM = (size_t)ks * ks + 1;
    }
    double *M = L->pM, *b = L->pb, *z = L->pz;
    char *isb = L->isb;
    memset(isb, 0, (size_t)L->ncol);
    for (int t = 0; t < kb; t++)
        isb[B[t]] = 1;
    for (int s = 0; s < ks; s++) {
        int r = L->row[S[s]];
        long double rhs = L->rhs;
        for (int t = 0; t < kb; t++)
            M[(size_t)s * ks + t] = coef(L, r, B[t]);
        for (int c = 0; c < L->ncol; c++)
            if (!isb[c] && L->y[c] != 0.0)
                rhs -= (long double)coef(L, r, c) * L->y[c];
        b[s] = (double)rhs;
    }
    int lu = attsvm__lu_solve(ks, M, b, z, 0);
    if (lu == 0) {
        for (int t = 0; t < kb; t++)
            L->y[B[t]] = z[t];
        for (int t = 0; t < kb; t++) {
            double cc = glp_get_obj_coef(lp, B[t] + 1);
            b[t] = L->maxim ? -cc : cc;
        }
        if ((lu = attsvm__lu_solve(ks, M, b, z, 1)) == 0) {
            for (int s = 0; s < ks; s++)
                L->lamr[S[s]] = fmax(0.0, z[s]);
            rc = 0;
        }
    }
    if (lu == -2)
        longjmp(L->jb, LP_JMP_NOMEM);
    if (rc)
        lpw_glpk_values(L);
    return rc;
}

/* glp_exact from the current (float-optimal) basis: exact_optimal when the
 * rational simplex confirms that very basis.  Returns 1 if it moved to
 * another (exactly optimal) basis, so the caller polishes again. */
static int lpw_exact(lpw *L)
{
    int nr = L->nr, nc = L->ncol, moved = 0;
    int *st = L->st;
    for (int i = 0; i < nr; i++)
        st[i] = glp_get_row_stat(L->lp, i + 1);
    for (int c = 0; c < nc; c++)
        st[nr + c] = glp_get_col_stat(L->lp, c + 1);
    glp_smcp prm = L->parm;
    int ret = glp_exact(L->lp, &prm);
    L->o->exact_checked = 1;
    int same = 1;
    for (int i = 0; i < nr && same; i++)
        same = st[i] == glp_get_row_stat(L->lp, i + 1);
    for (int c = 0; c < nc && same; c++)
        same = st[nr + c] == glp_get_col_stat(L->lp, c + 1);
    int opt = ret == 0 && glp_get_status(L->lp) == GLP_OPT;
    L->o->exact_optimal = opt && same;
    moved = opt && !same;
    return moved;
}

/* x from the column values (PWL: signed sum; INF: w / gamma). */
static void lpw_x(const lpw *L, double *x)
{
    const int nx = L->P->nx;
    if (L->kind == LP_INF) {
        double g = L->y[nx];
        for (int j = 0; j < nx; j++)
            x[j] = L->y[j] / g;
        return;
    }
    for (int j = 0; j < nx; j++)
        x[j] = 0.0;
    for (int c = 0; c < L->ncol; c++)
        x[L->cvar[c]] += L->csgn[c] * L->y[c];
}

static void lpw_export_ws(lpw *L)
{
    free(L->o->ws);
    L->o->ws = NULL;
    L->o->ws = lp_alloc(L, sizeof *L->o->ws * (size_t)(L->nr + 1));
    memcpy(L->o->ws, L->row, sizeof *L->o->ws * (size_t)L->nr);
    L->o->nws = L->nr;
    L->o->working_rows = L->nr;
}

static void lpw_export_lam(lpw *L)
{
    for (int r = 0; r < L->P->m; r++)
        L->o->lam[r] = 0.0;
    for (int i = 0; i < L->nr; i++)
        L->o->lam[L->row[i]] = L->lamr[i];
}

/* Relative Farkas residual of the row multipliers of the working LP. */
static double lpw_farkas_residual(const lpw *L)
{
    const attsvm__prob *P = L->P;
    const int nx = P->nx;
    long double *u = L->ul, den = 0.0L, num = 0.0L;
    for (int j = 0; j < nx; j++)
        u[j] = 0.0L;
    for (int i = 0; i < L->nr; i++) {
        if (L->lamr[i] <= 0.0)
            continue;
        const double *a = attsvm__row(P, L->row[i]);
        long double n1 = 0.0L;
        for (int j = 0; j < nx; j++) {
            u[j] += (long double)L->lamr[i] * a[j];
            n1 += fabs(a[j]);
        }
        den += L->lamr[i] * n1;
    }
    for (int j = 0; j < nx; j++)
        num += fabsl(u[j]);
    return den > 0 ? (double)(num / den) : INFINITY;
}

/* The certificate's relative gap at the polished vertex: UB = ||x||_p,
 * LB = sum(lambda) / ||A_R^T lambda||_q. */
static double lpw_gap(lpw *L, double *x)
{
    const attsvm__prob *P = L->P;
    const int nx = P->nx;
    double *u = L->u, sl = 0.0;
    lpw_export_lam(L); /* the working rows' multipliers into o->lam (rewritten at the end) */
    if (attsvm__rows_atlam(P, L->o->lam, u))
        longjmp(L->jb, LP_JMP_NOMEM);
    for (int i = 0; i < L->nr; i++)
        sl += L->lamr[i] > 0.0 ? L->lamr[i] : 0.0;
    lpw_x(L, x);
    const double ub = attsvm__norm(x, nx, P->p), un = attsvm__norm(u, nx, P->q);
    return un > 0.0 && ub > 0.0 ? (ub - sl / un) / ub : INFINITY;
}

/* GLPK stops at a basis that is optimal within its tolerances (1e-7); on
 * degenerate, badly scaled rows (real tokens) its polished vertex can then
 * be off by ~1e-6 in the certificate.  Re-optimize from that basis with
 * tolerances 1e-11, then, if still short, with glp_exact.  Returns 0 when
 * the gap is within reach of gap_tol, -1 otherwise. */
static int lpw_tighten(lpw *L, double *x)
{
    const double want = 0.1 * L->P->s->gap_tol;
    if (lpw_gap(L, x) <= want)
        return 0;
    attsvm__out *o = L->o;
    const attsvm_status st = o->status;
    const int ec = o->exact_checked, eo = o->exact_optimal;
    char msg[sizeof o->msg];
    memcpy(msg, o->msg, sizeof msg);
    L->parm.tol_bnd = L->parm.tol_dj = 1e-11;
    int ok = lpw_run(L) == GLP_OPT && lpw_polish(L) == 0 && lpw_gap(L, x) <= want;
    if (!ok) {
        lpw_exact(L);
        lpw_polish(L);
        ok = lpw_gap(L, x) <= want;
    }
    o->status = st; /* a GLPK error here only means this remedy did not help */
    memcpy(o->msg, msg, sizeof msg);
    o->exact_checked = ec;
    o->exact_optimal = eo;
    return ok ? 0 : -1;
}

/* o's arrays, zeroed, unless the caller gave them. */
static void alloc_out(lpw *L)
{
    if (!L->o->x)
        L->o->x = lp_zalloc(L, sizeof *L->o->x * (size_t)L->P->nx);
    if (!L->o->lam)
        L->o->lam = lp_zalloc(L, sizeof *L->o->lam * (size_t)L->P->m);
}

/* Pricing at x (workset.h); its allocation failure returns to the guard. */
static int lpw_price(lpw *L, const double *x, double tol)
{
    const int k = attsvm__price(L->P, x, L->ax, L->inws, tol, L->add);
    if (k < 0)
        longjmp(L->jb, LP_JMP_NOMEM);
    return k;
}

/* After a polish: the rows of the full set violated at the vertex go into
 * add (their count is returned).  When there are none and tightened is
 * given, a short certificate is tightened, once per solve. */
static int lpw_check(lpw *L, int *tightened)
{
    const attsvm__prob *P = L->P;
    double *x = L->o->x;
    lpw_x(L, x);
    int k = lpw_price(L, x, 1e-13);
    if (k == 0 && tightened && !*tightened && lpw_gap(L, x) > 0.1 * P->s->gap_tol) {
        *tightened = 1;
        lpw_tighten(L, x);
        k = lpw_price(L, x, 1e-13);
    }
    return k;
}

/* Crossover from the interior-point solution (ipm.c), p = inf or p = 1: its
 * active rows form the working LP, all nonbasic; as many columns as rows
 * are basic (p = inf: gamma and the w_j farthest from their bounds, the
 * others at the bound their multiplier points to; p = 1: the w+-_j the
 * method finds positive, the others at 0).  The vertex polish then computes
 * that vertex exactly; it is the answer when no row is violated and its
 * certificate is within gap_tol / 10 (returns 1).  Otherwise the rows and the
 * basis stay as the simplex's start (returns 0; with no rows added when the
 * method failed). */
typedef struct {
    double v;
    int j;
} vcol;

static int vcol_cmp(const void *a, const void *b)
{
    const vcol *x = a, *y = b;
    return (x->v > y->v) - (x->v < y->v);
}

static int lpw_crossover(lpw *L)
{
    const attsvm__prob *P = L->P;
    const int m = P->m, nx = P->nx, inf = L->kind == LP_INF;
    int *add = L->add;
    double *rr = L->xrr = lp_alloc(L, sizeof *rr * (size_t)m),
           *c1 = L->xc1 = lp_alloc(L, sizeof *c1 * (size_t)nx),
           *c2 = L->xc2 = lp_alloc(L, sizeof *c2 * (size_t)nx);
    vcol *ord = L->xord = lp_alloc(L, sizeof *ord * (size_t)L->ncol);
    int its = 0, k = 0, nc = 0;
    if (attsvm__ipm(P, !inf, rr, c1, c2, &its) != 0)
        return 0;
    L->o->newton_iterations += its;
    for (int r = 0; r < m; r++)
        if (rr[r] > 1.0)
            add[k++] = r;
    if (k == 0 || k > L->ncol)
        return 0;
    lpw_add_rows(L, add, k);
    for (int i = 0; i < L->nr; i++)
        glp_set_row_stat(L->lp, i + 1, GLP_NL);
    if (inf) { /* freest first; gamma (column nx) is basic */
        for (int j = 0; j < nx; j++)
            ord[nc++] = (vcol){fmax(c1[j], c2[j]), j};
        glp_set_col_stat(L->lp, nx + 1, GLP_BS);
    } else { /* column 2j + sg is w+_j (sg = 0) or w-_j: most positive first */
        for (int c = 0; c < L->ncol; c++)
            ord[nc++] = (vcol){-(c % 2 ? c2 : c1)[c / 2], c};
    }
    qsort(ord, (size_t)nc, sizeof *ord, vcol_cmp);
    const int nb = L->nr - inf;
    for (int t = 0; t < nc; t++) {
        const int c = ord[t].j;
        glp_set_col_stat(L->lp, c + 1,
                         t < nb ? GLP_BS : inf && c2[c] > c1[c] ? GLP_NU : GLP_NL);
    }
    if (lpw_polish(L) != 0 || (inf && !(L->y[nx] > 0.0))) {
        if (glp_factorize(L->lp) != 0) /* the simplex needs a valid basis */
            glp_std_basis(L->lp);
        return 0;
    }
    if ((k = lpw_check(L, NULL)) > 0) {
        lpw_add_rows(L, add, k);
        return 0;
    }
    return lpw_gap(L, L->o->x) <= 0.1 * P->s->gap_tol;
}

int attsvm__lp_uses_ipm(const attsvm__prob *P)
{
    return P->s->row_generation && (double)P->m * P->nx >= IPM_MIN_SIZE;
}

/* The first working LP: from m * nx >= IPM_MIN_SIZE on, when the answer is
 * wanted (ipm), the crossover's rows and basis (returns 1 when its vertex is
 * already the certified answer); otherwise the seed rows (with the p = 2
 * seeder's rows when the answer is wanted). */
static int lpw_start(lpw *L, int answer, int ipm)
{
    const attsvm__prob *P = L->P;
    if (ipm && attsvm__lp_uses_ipm(P) && lpw_crossover(L))
        return 1;
    if (L->nr == 0) {
        const int k = answer && L->seed ? L->seed(P, L->add) : attsvm__seed_rows(P, L->add);
        if (k < 0)
            longjmp(L->jb, LP_JMP_NOMEM);
        lpw_add_rows(L, L->add, k);
    }
    return 0;
}

/* The p = inf LP's columns: w_j boxed in [-1, 1], gamma free, max gamma. */
static void lp_inf_columns(lpw *L)
{
    const int nx = L->P->nx;
    /* Long-step (bound flipping) ratio test: every w_j is boxed in [-1, 1];
     * measured 25% faster at the paper size, on par at 950 x 400. */
    L->parm.r_test = GLP_RT_FLIP;
    L->maxim = 1;
    L->rhs = 0.0;
    glp_set_obj_dir(L->lp, GLP_MAX);
    for (int j = 0; j < nx; j++) {
        L->cvar[j] = j;
        L->csgn[j] = 1.0;
        glp_set_col_bnds(L->lp, j + 1, GLP_DB, -1.0, 1.0);
    }
    L->cvar[nx] = -1;
    L->csgn[nx] = 1.0;
    glp_set_col_bnds(L->lp, nx + 1, GLP_FR, 0.0, 0.0);
    glp_set_obj_coef(L->lp, nx + 1, 1.0);
}

/* ------------------------------------------------------------ the guard */

/* GLPK's terminal output (its error message among it): kept, shown on
 * stderr with verbose > 1, never on stdout. */
static int on_glpk_output(void *info, const char *s)
{
    lpw *L = info;
    size_t n = strlen(L->out), k = strlen(s);
    if (n + k >= sizeof L->out) { /* keep the recent half */
        memmove(L->out, L->out + n / 2, n - n / 2 + 1);
        n = strlen(L->out);
    }
    snprintf(L->out + n, sizeof L->out - n, "%s", s);
    if (L->P->s->verbose > 1)
        fputs(s, stderr);
    return 1;
}

static void on_glpk_error(void *info)
{
    longjmp(((lpw *)info)->jb, LP_JMP_GLPK);
}

/* GLPK's error message: the line before its "Error detected in file ...". */
static void glpk_message(const lpw *L, char *buf, size_t len)
{
    char tmp[sizeof L->out];
    memcpy(tmp, L->out, sizeof tmp);
    char *end = strstr(tmp, "Error detected");
    if (!end)
        end = tmp + strlen(tmp);
    while (end > tmp && (end[-1] == '\n' || end[-1] == ' '))
        end--;
    *end = '\0';
    char *start = strrchr(tmp, '\n');
    snprintf(buf, len, "%s", start ? start + 1 : tmp);
}

typedef void lp_body(lpw *L, void *arg);

/* Run body on a fresh working LP of ncol columns with GLPK's error and
 * terminal hooks pointing here (file comment). */
static void lp_guarded(const attsvm__prob *P, attsvm__out *o, int kind, int ncol,
                       attsvm__lp_seeder *seed, lp_body *body, void *arg)
{
    lpw *L = calloc(1, sizeof *L);
    if (!L) {
        o->status = ATTSVM_NOMEM;
        snprintf(o->msg, sizeof o->msg, "out of memory for the LP's workspace");
        return;
    }
    L->P = P;
    L->o = o;
    L->kind = kind;
    L->ncol = ncol;
    L->seed = seed;
    char why[200];
    switch (setjmp(L->jb)) {
    case 0:
        glp_error_hook(on_glpk_error, L);
        glp_term_hook(on_glpk_output, L);
        lpw_init(L);
        alloc_out(L);
        body(L, arg);
        glp_error_hook(NULL, NULL);
        glp_term_hook(NULL, NULL);
        glp_delete_prob(L->lp);
        break;
    case LP_JMP_GLPK:
        /* GLPK's state is undefined after an error: release all of it. */
        glp_free_env();
        glpk_message(L, why, sizeof why);
        o->status = strstr(why, "memory") ? ATTSVM_NOMEM : ATTSVM_FAILED;
        snprintf(o->msg, sizeof o->msg, "%s in GLPK (%s) on %d working rows",
                 o->status == ATTSVM_NOMEM ? "out of memory" : "error", why, L->nr);
        break;
    default:
        glp_error_hook(NULL, NULL);
        glp_term_hook(NULL, NULL);
        if (L->lp)
            glp_delete_prob(L->lp);
        o->status = ATTSVM_NOMEM;
        snprintf(o->msg, sizeof o->msg, "out of memory in the LP (%d working rows, %d columns)",
                 L->nr, L->ncol);
        break;
    }
    lpw_free(L);
    free(L);
}

/* ------------------------------------------------------------ p = inf */

/* The rounds of row generation for p = inf: 1 done, 0 max_rounds reached,
 * -1 failed (o says why); *infeasible when a Farkas vector was found. */
static int lp_inf_rounds(lpw *L, int answer, int *infeasible)
{
    const attsvm__prob *P = L->P;
    attsvm__out *o = L->o;
    const int nx = P->nx;
    const double amax = attsvm__rows_absmax(P);
    int tightened = 0, done = lpw_start(L, answer, answer);
    for (o->rounds = 0; o->rounds < P->s->max_rounds && !done; o->rounds++) {
        int st = lpw_run(L);
        if (st < 0)
            return -1;
        if (st != GLP_OPT) {
            o->status = ATTSVM_FAILED;
            snprintf(o->msg, sizeof o->msg, "GLPK: p = inf LP status %s on %d working rows",
                     glp_stat_str(st), L->nr);
            return -1;
        }
        lpw_glpk_values(L);
        if (L->y[nx] > 1e-9 * amax) {
            lpw_x(L, o->x);
            int k = lpw_price(L, o->x, 1e-9);
            if (k > 0) {
                lpw_add_rows(L, L->add, k);
                continue;
            }
        }
        lpw_polish(L);
        if (lpw_farkas_residual(L) <= 1e-12) {
            *infeasible = 1;
            return 1;
        }
        if (!(L->y[nx] > 0.0)) {
            o->status = ATTSVM_FAILED;
            snprintf(o->msg, sizeof o->msg,
                     "p = inf LP: margin gamma = %.3g but no Farkas certificate (residual %.3g)",
                     L->y[nx], lpw_farkas_residual(L));
            return -1;
        }
        const int k = lpw_check(L, answer ? &tightened : NULL);
        if (k > 0)
            lpw_add_rows(L, L->add, k);
        else
            done = 1;
    }
    return done;
}

typedef struct {
    int want_exact, answer;
} lp_inf_args;

/* p = inf: max gamma s.t. a_r.w - gamma >= 0, -1 <= w <= 1; x = w / gamma and
 * ||x||_inf = 1/gamma.  Its dual is min ||A^T lambda||_1 over the simplex
 * sum(lambda) = 1, so the polished lambda is the certificate's multiplier
 * (LB = 1 / ||A^T lambda||_1), and gamma* = 0 exactly when the rows admit a
 * Farkas vector (A^T lambda = 0).  answer = 1: the p = inf answer (rows seeded
 * from the p = 2 support, a short certificate tightened); 0: the feasibility
 * test only, where gamma > 0 or a Farkas vector is all that is asked (the
 * tightening's glp_exact can take minutes on dense rows). */
static void lp_inf_body(lpw *L, void *arg)
{
    const lp_inf_args *a = arg;
    const attsvm__prob *P = L->P;
    attsvm__out *o = L->o;
    lp_inf_columns(L);
    int infeasible = 0;
    const int rc = lp_inf_rounds(L, a->answer, &infeasible);
    if (rc < 0)
        return;
    if (rc == 0) {
        o->status = ATTSVM_FAILED;
        snprintf(o->msg, sizeof o->msg, "row generation did not converge in max_rounds = %d",
                 P->s->max_rounds);
        return;
    }
    if (a->want_exact && lpw_exact(L))
        lpw_polish(L);
    lpw_export_lam(L);
    lpw_export_ws(L);
    if (infeasible) {
        o->status = ATTSVM_INFEASIBLE;
        snprintf(o->msg, sizeof o->msg,
                 "no x satisfies A x >= 1: Farkas certificate lambda >= 0, A^T lambda = 0 "
                 "(relative residual %.2g)",
                 lpw_farkas_residual(L));
    } else {
        lpw_x(L, o->x);
        o->status = ATTSVM_OPTIMAL;
    }
}

static void lp_inf_run(const attsvm__prob *P, attsvm__out *o, int want_exact, int answer,
                       attsvm__lp_seeder *seed)
{
    lp_inf_args a = {want_exact, answer};
    lp_guarded(P, o, LP_INF, P->nx + 1, seed, lp_inf_body, &a);
}

void attsvm__lp_inf(const attsvm__prob *P, attsvm__lp_seeder *seed, attsvm__out *o)
{
    lp_inf_run(P, o, P->s->exact, 1, seed);
}

int attsvm__farkas_or_fail(const attsvm__prob *P, attsvm__out *o, const char *why)
{
    attsvm__out f = {0};
    lp_inf_run(P, &f, 0, 0, NULL);
    o->lp_solves += f.lp_solves;
    o->lp_iterations += f.lp_iterations;
    o->rounds += f.rounds;
    const int rc = f.status == ATTSVM_INFEASIBLE ? 1 : f.status == ATTSVM_OPTIMAL ? 0
                   : f.status == ATTSVM_NOMEM ? -2 : -1;
    if (rc == 1 || rc == -2) {
        o->status = f.status;
        if (rc == 1) {
            free(o->lam);
            o->lam = f.lam;
            f.lam = NULL;
        }
        snprintf(o->msg, sizeof o->msg, "%s", f.msg);
    } else if (why) {
        o->status = ATTSVM_FAILED;
        snprintf(o->msg, sizeof o->msg, "%s%s", why,
                 rc == 0 ? " (the feasibility LP finds the rows feasible)" : "");
    }
    free(f.x);
    free(f.lam);
    free(f.ws);
    return rc;
}

/* ------------------------------------------------------------ p = 1, model */

typedef struct {
    int K;
    const double *bp, *slope;
    int polish, max_rounds;
    int nofeas;             /* out: the working LP had no feasible point ... */
    int nofeas_rows;        /* ... on this many working rows */
} lp_pwl_args;

/* Columns: per coordinate and sign K segments, bounded by the breakpoints,
 * costs the slopes. */
static void lp_pwl_columns(lpw *L, const lp_pwl_args *a)
{
    const int nx = L->P->nx, K = a->K;
    L->rhs = 1.0;
    glp_set_obj_dir(L->lp, GLP_MIN);
    for (int j = 0, c = 0; j < nx; j++)
        for (int sg = 0; sg < 2; sg++)
            for (int k = 0; k < K; k++, c++) {
                L->cvar[c] = j;
                L->csgn[c] = sg ? -1.0 : 1.0;
                if (k < K - 1)
                    glp_set_col_bnds(L->lp, c + 1, GLP_DB, 0.0, a->bp[k] - (k ? a->bp[k - 1] : 0.0));
                else
                    glp_set_col_bnds(L->lp, c + 1, GLP_LO, 0.0, 0.0);
                glp_set_obj_coef(L->lp, c + 1, a->slope[k]);
            }
    L->parm.meth = GLP_DUAL; /* all columns at 0 with positive costs: dual feasible */
}

/* The rounds of row generation: 1 done, 0 max_rounds reached, -1 failed
 * (o says why, or a->nofeas). */
static int lp_pwl_rounds(lpw *L, lp_pwl_args *a)
{
    attsvm__out *o = L->o;
    const int polish = a->polish, max_rounds = a->max_rounds;
    int tightened = 0, done = lpw_start(L, polish, polish && a->K == 1);
    for (o->rounds = 0; o->rounds < max_rounds && !done; o->rounds++) {
        int st = lpw_run(L);
        if (st < 0)
            return -1;
        if (st == GLP_NOFEAS) {
            a->nofeas = 1;
            a->nofeas_rows = L->nr;
            return -1;
        }
        if (st != GLP_OPT) {
            o->status = ATTSVM_FAILED;
            snprintf(o->msg, sizeof o->msg, "GLPK: LP status %s on %d working rows",
                     glp_stat_str(st), L->nr);
            return -1;
        }
        lpw_glpk_values(L);
        lpw_x(L, o->x);
        int k = lpw_price(L, o->x, 1e-9);
        if (k > 0 && o->rounds + 1 == max_rounds && !polish)
            return 1; /* model LP: the capped working set is the answer */
        if (k > 0) {
            lpw_add_rows(L, L->add, k);
            continue;
        }
        if (!polish)
            return 1;
        lpw_polish(L);
        if ((k = lpw_check(L, &tightened)) > 0)
            lpw_add_rows(L, L->add, k);
        else
            done = 1;
    }
    return done;
}

static void lp_pwl_body(lpw *L, void *arg)
{
    lp_pwl_args *a = arg;
    attsvm__out *o = L->o;
    lp_pwl_columns(L, a);
    const int rc = lp_pwl_rounds(L, a);
    if (rc < 0)
        return;
    if (rc == 0) {
        o->status = ATTSVM_FAILED;
        snprintf(o->msg, sizeof o->msg, "row generation did not converge in max_rounds = %d",
                 a->max_rounds);
        return;
    }
    if (a->polish && L->P->s->exact && lpw_exact(L)) {
        lpw_polish(L);
        lpw_x(L, o->x);
    }
    lpw_export_lam(L);
    lpw_export_ws(L);
    o->status = ATTSVM_OPTIMAL;
}

/* p = 1 (K = 1, slope 1): min sum(w+ + w-) s.t. A (w+ - w-) >= 1, w+-, >= 0.
 * K > 1: min sum_j phi~(x_j) with phi~ the piecewise-linear interpolant of
 * (1/p)|t|^p on the breakpoints (convex: slopes increase, so the LP fills the
 * segments in order and needs no extra rows), x_j = sum of signed segments.
 * A working LP without feasible point hands over to the feasibility LP. */
void attsvm__lp_pwl(const attsvm__prob *P, int K, const double *bp, const double *slope,
                    int polish, int max_rounds, attsvm__lp_seeder *seed, attsvm__out *o)
{
    lp_pwl_args a = {K, bp, slope, polish, max_rounds, 0, 0};
    lp_guarded(P, o, LP_PWL, 2 * K * P->nx, seed, lp_pwl_body, &a);
    if (a.nofeas) {
        char why[200];
        snprintf(why, sizeof why, "GLPK: LP without feasible point on %d working rows",
                 a.nofeas_rows);
        attsvm__farkas_or_fail(P, o, why);
    }
}
