/* cmd_train.c - `mdatt train`: l_p-AttGD / l_p-JointGD on an instance. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "mdatt_io.h"

static int run(int argc, char **argv);

const cli_command cli_train = {
    "train", "train W (and v with --joint) by l_p mirror descent",
    "usage: mdatt train INSTANCE --p P --lr ETA --iters K -o MODEL.json [options]\n\n"
    "l_p mirror descent with potential psi(W) = ||W||_p^p / p (see man mdatt and\n"
    "doc/design.md §3 in the source tree):\n"
    "theta <- grad psi(W) - eta G,  W <- (grad psi)^{-1}(theta).\n\n"
    "  --p P            potential exponent, a real > 1 (2 is gradient descent)\n"
    "  --lr ETA         step size > 0\n"
    "  --iters K        number of iterations\n"
    "  --normalized     steps G/||G||_q (q = p/(p-1)), as in the paper's experiments\n"
    "  --joint          l_p-JointGD: train v too, each block normalized separately\n"
    "  --loss L         logistic (default), exponential or correlation\n"
    "  --init-std S     W_0 entries N(0, S^2) from --seed N (default: W_0 = 0)\n"
    "  --seed N         seed of W_0 (default 1)\n"
    "  --init MODEL     start from a model's W (and v with --joint)\n"
    "  --query-token K  self-attention: z_i = x_{i,K} (overrides the instance's Z)\n"
    "  --log TRAJ.csv   write the trajectory (k, loss, log_loss, norm_p, smax_mean,\n"
    "                   smax_min, log1m_smax_max, step_dual)\n"
    "  --log-every M    log every M iterations (default: iters/1000, at least 1)\n"
    "  --log-w          add the entries W_j_k (and v_j with --joint) to the log\n"
    "  --yes            run even beyond the bounds: an estimated 1e13 multiply-adds\n"
    "                   (iters * n d (T + d)) or a 4 GB --log file\n"
    "  -o MODEL.json    output model (mdatt-model/1; numpy .npz with keys W, p, v,\n"
    "                   alpha when the name ends in .npz), written atomically; - is stdout\n",
    run};

typedef struct {
    FILE *f;
    int d, log_w, joint;
} traj_ctx;

static int log_point(const mdatt_train_point *pt, void *vctx)
{
    const traj_ctx *c = vctx;
    fprintf(c->f, "%ld,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g", pt->k, pt->ev.loss,
            pt->ev.log_loss, pt->norm_p, pt->ev.smax_mean, pt->ev.smax_min,
            pt->ev.log1m_smax_max, pt->step_dual);
    if (c->log_w) {
        for (int k = 0; k < c->d * c->d; k++)
            fprintf(c->f, ",%.17g", pt->W[k]);
        if (c->joint)
            for (int k = 0; k < c->d; k++)
                fprintf(c->f, ",%.17g", pt->v[k]);
    }
    fputc('\n', c->f);
    return ferror(c->f) ? 1 : 0;
}

static void log_header(const traj_ctx *c)
{
    fputs("k,loss,log_loss,norm_p,smax_mean,smax_min,log1m_smax_max,step_dual", c->f);
    if (c->log_w) {
        for (int j = 0; j < c->d; j++)
            for (int k = 0; k < c->d; k++)
                fprintf(c->f, ",W_%d_%d", j, k);
        if (c->joint)
            for (int j = 0; j < c->d; j++)
                fprintf(c->f, ",v_%d", j);
    }
    fputc('\n', c->f);
}

/* Bounds on a run, refused up front unless --yes (README, "Limits"): the
 * work, iters * n d (T + d) multiply-adds (scores x^T W z and the gradient's
 * outer products per iteration), and the size of the --log file. */
#define WORK_BOUND 1e13
#define LOG_BOUND 4e9

static int check_limits(const char *sub, const mdatt_instance *in, long iters, long log_every,
                        int log_w)
{
    const double work = (double)iters * in->n * in->d * ((double)in->T + in->d);
    if (work > WORK_BOUND)
        return cli_error(sub, CLI_BAD, "--iters: %ld iterations on n=%d, T=%d, d=%d are an estimated "
                         "%.2g multiply-adds, beyond the bound of %.0e (hours of computing); "
                         "give --yes to run them anyway", iters, in->n, in->T, in->d, work,
                         WORK_BOUND);
    if (log_every > 0) {
        const double rows = (double)iters / log_every + 2;
        const double bytes = rows * 25.0 * (8 + (log_w ? (double)in->d * in->d + in->d : 0));
        if (bytes > LOG_BOUND)
            return cli_error(sub, CLI_BAD, "--log-every: %.3g rows of %s make an estimated %.3g GB "
                             "log, beyond the bound of %.0f GB; log less often or give --yes",
                             rows, log_w ? "W" : "metrics", bytes / 1e9, LOG_BOUND / 1e9);
    }
    return CLI_OK;
}

/* The command line of one `mdatt train`. */
typedef struct {
    const char *instance;
    double p, lr, init_std;         /* init_std NAN: W_0 = 0 */
    long iters, seed, query, log_every;
    const char *init, *log_path, *out;
    int normalized, joint, log_w, yes;
    mdatt_train_settings ts;        /* the loss chosen */
} train_args;

static int parse_args(int argc, char **argv, train_args *a)
{
    const char *sub = "train", *loss = NULL;
    int seen_seed = 0;
    mdatt_train_default_settings(&a->ts);
    const cli_opt opts[] = {
        {"--p", OPT_DOUBLE, &a->p, 0, 0, NULL},
        {"--lr", OPT_DOUBLE, &a->lr, 0, 0, NULL},
        {"--iters", OPT_LONG, &a->iters, 0, 1000000000000L, NULL},
        {"--normalized", OPT_FLAG, &a->normalized, 0, 0, NULL},
        {"--joint", OPT_FLAG, &a->joint, 0, 0, NULL},
        {"--loss", OPT_STR, &loss, 0, 0, NULL},
        {"--init-std", OPT_DOUBLE, &a->init_std, 0, 0, NULL},
        {"--seed", OPT_LONG, &a->seed, 0, 0x7fffffffffffffffL, &seen_seed},
        {"--init", OPT_STR, &a->init, 0, 0, NULL},
        {"--query-token", OPT_LONG, &a->query, 0, 100000000, NULL},
        {"--log", OPT_STR, &a->log_path, 0, 0, NULL},
        {"--log-every", OPT_LONG, &a->log_every, 1, 1000000000000L, NULL},
        {"--log-w", OPT_FLAG, &a->log_w, 0, 0, NULL},
        {"-o", OPT_STR, &a->out, 0, 0, NULL},
        {"--yes", OPT_FLAG, &a->yes, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos, rc = cli_parse(&cli_train, argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_error(sub, CLI_BAD, "missing INSTANCE (see --help)");
    a->instance = pos[0];
    if (isnan(a->p) || isnan(a->lr) || a->iters < 0 || !a->out)
        return cli_error(sub, CLI_BAD, "%s is required (see --help)",
                         isnan(a->p) ? "--p" : isnan(a->lr) ? "--lr" : a->iters < 0 ? "--iters" : "-o");
    if (!(a->p > 1.0))
        return cli_error(sub, CLI_BAD, "--p: must be a real > 1 (got %g)", a->p);
    if (!(a->lr > 0.0))
        return cli_error(sub, CLI_BAD, "--lr: must be > 0 (got %g)", a->lr);
    if (!isnan(a->init_std) && !(a->init_std >= 0.0))
        return cli_error(sub, CLI_BAD, "--init-std: must be >= 0 (got %g)", a->init_std);
    if (a->init && (!isnan(a->init_std) || seen_seed))
        return cli_error(sub, CLI_BAD, "--init excludes --init-std and --seed");
    if (loss && mdatt_loss_parse(loss, &a->ts.loss) != MDATT_OK)
        return cli_error(sub, CLI_BAD, "--loss: unknown loss '%s' (logistic, exponential, correlation)", loss);
    if (a->log_w && !a->log_path)
        return cli_error(sub, CLI_BAD, "--log-w needs --log");
    const cli_path outs[] = {{"-o", a->out}, {"--log", a->log_path}};
    const cli_path ins[] = {{"INSTANCE", a->instance}, {"--init", a->init}};
    return cli_distinct_outputs(sub, outs, 2, ins, 2);
}

/* The log period: --log-every, else iters/1000 (at least 1). */
static long log_period(const train_args *a)
{
    return a->log_every > 0 ? a->log_every : (a->iters / 1000 > 0 ? a->iters / 1000 : 1);
}

/* W_0 (and v_0): the instance's v, and W from --init, --init-std or 0. */
static int start_point(const train_args *a, mdatt_model *m, const mdatt_instance *in)
{
    const char *sub = "train";
    char err[MDATT_ERRLEN] = "";
    const int d = in->d;
    memcpy(m->v, in->v, sizeof(double) * d);
    if (a->init) {
        mdatt_model m0;
        mdatt_status st = mdatt_model_read(a->init, &m0, err);
        if (st != MDATT_OK)
            return cli_status(sub, st, err);
        if (m0.d != d) {
            const int code = cli_error(sub, CLI_BAD, "--init: model has d=%d, instance has d=%d",
                                       m0.d, d);
            mdatt_model_free(&m0);
            return code;
        }
        memcpy(m->W, m0.W, sizeof(double) * d * d);
        if (a->joint)
            memcpy(m->v, m0.v, sizeof(double) * d);
        mdatt_model_free(&m0);
    } else if (!isnan(a->init_std)) {
        mdatt_rng r;
        mdatt_rng_seed(&r, (uint64_t)a->seed);
        for (int k = 0; k < d * d; k++)
            m->W[k] = a->init_std * mdatt_rng_normal(&r);
    }
    return CLI_OK;
}

/* The run's settings and results recorded in the model. */
static void record_run(const train_args *a, const mdatt_train_info *info,
                       const mdatt_instance *in, mdatt_model *m)
{
    m->p = a->p;
    m->iters = info->iters;
    m->loss = a->ts.loss;
    m->lr = a->lr;
    m->normalized = a->normalized;
    m->joint = a->joint;
    m->final_loss = info->ev.loss;
    m->final_log_loss = info->ev.log_loss;
    m->instance_hash = mdatt_instance_hash(in);
}

/* Train from m's start and write the model (and the log).  Both outputs
 * are opened before training (a bad path fails at once) and renamed into
 * place only after it succeeded: a failure leaves neither. */
static int train_and_write(const train_args *a, const mdatt_instance *in, mdatt_model *m)
{
    const char *sub = "train";
    char err[MDATT_ERRLEN] = "";
    mdatt_train_settings ts = a->ts;
    ts.p = a->p;
    ts.lr = a->lr;
    ts.iters = a->iters;
    ts.normalized = a->normalized;
    ts.joint = a->joint;
    mdatt_outfile mo = {0}, lf = {0};
    traj_ctx tc = {NULL, in->d, a->log_w, a->joint};
    mdatt_status st;
    int code = CLI_OK;
    if ((st = mdatt_outfile_open(&mo, a->out, err)) != MDATT_OK ||
        (a->log_path && (st = mdatt_outfile_open(&lf, a->log_path, err)) != MDATT_OK)) {
        code = cli_status(sub, st, err);
        goto done;
    }
    if (a->log_path) {
        tc.f = lf.f;
        log_header(&tc);
        ts.log_every = log_period(a);
        ts.hook = log_point;
        ts.hook_ctx = &tc;
    }
    const char *bad = mdatt_train_check_settings(&ts);
    if (bad) {
        code = cli_error(sub, CLI_BAD, "%s", bad);
        goto done;
    }
    mdatt_train_info info;
    if ((st = mdatt_train(in, &ts, m->W, m->v, m->alpha, &info)) != MDATT_OK) {
        code = cli_error(sub, st == MDATT_EINVAL ? CLI_BAD : CLI_FAIL, "training failed: %s",
                         mdatt_strerror(st));
        goto done;
    }
    record_run(a, &info, in, m);
    if ((st = mdatt_model_print_as(mo.f, a->out, m, err)) != MDATT_OK) {
        code = cli_status(sub, st, err);
        goto done;
    }
    if ((a->log_path && (st = mdatt_outfile_commit(&lf, err)) != MDATT_OK) ||
        (st = mdatt_outfile_commit(&mo, err)) != MDATT_OK)
        code = cli_error(sub, CLI_FAIL, "%s", err);
done:
    mdatt_outfile_abort(&lf);
    mdatt_outfile_abort(&mo);
    return code;
}

static int run(int argc, char **argv)
{
    const char *sub = "train";
    train_args a = {.p = NAN, .lr = NAN, .init_std = NAN, .iters = -1, .seed = 1, .query = -1};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK)
        return rc;
    char err[MDATT_ERRLEN] = "";
    mdatt_instance in;
    mdatt_status st = mdatt_instance_read_query(a.instance, (int)a.query, &in, err);
    if (st != MDATT_OK)
        return cli_status(sub, st, err);
    if (!a.yes && (rc = check_limits(sub, &in, a.iters, a.log_path ? log_period(&a) : 0,
                                     a.log_w)) != CLI_OK) {
        mdatt_instance_free(&in);
        return rc;
    }
    mdatt_model m;
    if ((st = mdatt_model_alloc(&m, in.d, in.n)) != MDATT_OK) {
        mdatt_instance_free(&in);
        return cli_status(sub, st, "model cannot be held in memory");
    }
    rc = start_point(&a, &m, &in);
    if (rc == CLI_OK)
        rc = train_and_write(&a, &in, &m);
    mdatt_model_free(&m);
    mdatt_instance_free(&in);
    return rc;
}
