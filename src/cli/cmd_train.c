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

static int run(int argc, char **argv)
{
    const char *sub = "train";
    mdatt_train_settings ts;
    mdatt_train_default_settings(&ts);
    double p = NAN, lr = NAN, init_std = NAN;
    long iters = -1, seed = 1, query = -1, log_every = 0;
    const char *loss = NULL, *init = NULL, *log_path = NULL, *out = NULL;
    int normalized = 0, joint = 0, log_w = 0, seen_seed = 0, yes = 0;
    const cli_opt opts[] = {
        {"--p", OPT_DOUBLE, &p, 0, 0, NULL},
        {"--lr", OPT_DOUBLE, &lr, 0, 0, NULL},
        {"--iters", OPT_LONG, &iters, 0, 1000000000000L, NULL},
        {"--normalized", OPT_FLAG, &normalized, 0, 0, NULL},
        {"--joint", OPT_FLAG, &joint, 0, 0, NULL},
        {"--loss", OPT_STR, &loss, 0, 0, NULL},
        {"--init-std", OPT_DOUBLE, &init_std, 0, 0, NULL},
        {"--seed", OPT_LONG, &seed, 0, 0x7fffffffffffffffL, &seen_seed},
        {"--init", OPT_STR, &init, 0, 0, NULL},
        {"--query-token", OPT_LONG, &query, 0, 100000000, NULL},
        {"--log", OPT_STR, &log_path, 0, 0, NULL},
        {"--log-every", OPT_LONG, &log_every, 1, 1000000000000L, NULL},
        {"--log-w", OPT_FLAG, &log_w, 0, 0, NULL},
        {"-o", OPT_STR, &out, 0, 0, NULL},
        {"--yes", OPT_FLAG, &yes, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos, rc = cli_parse(&cli_train, argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_error(sub, CLI_BAD, "missing INSTANCE (see --help)");
    if (isnan(p) || isnan(lr) || iters < 0 || !out)
        return cli_error(sub, CLI_BAD, "%s is required (see --help)",
                         isnan(p) ? "--p" : isnan(lr) ? "--lr" : iters < 0 ? "--iters" : "-o");
    if (!(p > 1.0))
        return cli_error(sub, CLI_BAD, "--p: must be a real > 1 (got %g)", p);
    if (!(lr > 0.0))
        return cli_error(sub, CLI_BAD, "--lr: must be > 0 (got %g)", lr);
    if (!isnan(init_std) && !(init_std >= 0.0))
        return cli_error(sub, CLI_BAD, "--init-std: must be >= 0 (got %g)", init_std);
    if (init && (!isnan(init_std) || seen_seed))
        return cli_error(sub, CLI_BAD, "--init excludes --init-std and --seed");
    if (loss && mdatt_loss_parse(loss, &ts.loss) != MDATT_OK)
        return cli_error(sub, CLI_BAD, "--loss: unknown loss '%s' (logistic, exponential, correlation)", loss);
    if (log_w && !log_path)
        return cli_error(sub, CLI_BAD, "--log-w needs --log");
    const cli_path outs[] = {{"-o", out}, {"--log", log_path}};
    const cli_path ins[] = {{"INSTANCE", pos[0]}, {"--init", init}};
    if ((rc = cli_distinct_outputs(sub, outs, 2, ins, 2)) != CLI_OK)
        return rc;

    char err[MDATT_ERRLEN] = "";
    mdatt_instance in;
    mdatt_status st = mdatt_instance_read_query(pos[0], (int)query, &in, err);
    if (st != MDATT_OK)
        return cli_status(sub, st, err);
    if (!yes && (rc = check_limits(sub, &in, iters, log_path ? (log_every > 0 ? log_every
                                   : (iters / 1000 > 0 ? iters / 1000 : 1)) : 0, log_w)) != CLI_OK) {
        mdatt_instance_free(&in);
        return rc;
    }
    mdatt_model m;
    int d = in.d, code = CLI_OK;
    if ((st = mdatt_model_alloc(&m, d, in.n)) != MDATT_OK) {
        mdatt_instance_free(&in);
        return cli_status(sub, st, "model cannot be held in memory");
    }
    memcpy(m.v, in.v, sizeof(double) * d);
    if (init) {
        mdatt_model m0;
        if ((st = mdatt_model_read(init, &m0, err)) != MDATT_OK) {
            code = cli_status(sub, st, err);
            goto done;
        }
        if (m0.d != d) {
            code = cli_error(sub, CLI_BAD, "--init: model has d=%d, instance has d=%d", m0.d, d);
            mdatt_model_free(&m0);
            goto done;
        }
        memcpy(m.W, m0.W, sizeof(double) * d * d);
        if (joint)
            memcpy(m.v, m0.v, sizeof(double) * d);
        mdatt_model_free(&m0);
    } else if (!isnan(init_std)) {
        mdatt_rng r;
        mdatt_rng_seed(&r, (uint64_t)seed);
        for (int k = 0; k < d * d; k++)
            m.W[k] = init_std * mdatt_rng_normal(&r);
    }

    ts.p = p;
    ts.lr = lr;
    ts.iters = iters;
    ts.normalized = normalized;
    ts.joint = joint;
    /* Both outputs are opened before training (a bad path fails at once) and
     * renamed into place only after it succeeded: a failure leaves neither. */
    mdatt_outfile mo = {0}, lf = {0};
    traj_ctx tc = {NULL, d, log_w, joint};
    if ((st = mdatt_outfile_open(&mo, out, err)) != MDATT_OK ||
        (log_path && (st = mdatt_outfile_open(&lf, log_path, err)) != MDATT_OK)) {
        code = cli_status(sub, st, err);
        goto done_out;
    }
    if (log_path) {
        tc.f = lf.f;
        log_header(&tc);
        ts.log_every = log_every > 0 ? log_every : (iters / 1000 > 0 ? iters / 1000 : 1);
        ts.hook = log_point;
        ts.hook_ctx = &tc;
    }
    const char *bad = mdatt_train_check_settings(&ts);
    if (bad) {
        code = cli_error(sub, CLI_BAD, "%s", bad);
        goto done_out;
    }
    mdatt_train_info info;
    st = mdatt_train(&in, &ts, m.W, m.v, m.alpha, &info);
    if (st != MDATT_OK) {
        code = cli_error(sub, st == MDATT_EINVAL ? CLI_BAD : CLI_FAIL, "training failed: %s",
                         mdatt_strerror(st));
        goto done_out;
    }
    m.p = p;
    m.iters = info.iters;
    m.loss = ts.loss;
    m.lr = lr;
    m.normalized = normalized;
    m.joint = joint;
    m.final_loss = info.ev.loss;
    m.final_log_loss = info.ev.log_loss;
    m.instance_hash = mdatt_instance_hash(&in);
    if ((st = mdatt_model_print_as(mo.f, out, &m, err)) != MDATT_OK) {
        code = cli_status(sub, st, err);
        goto done_out;
    }
    if ((log_path && (st = mdatt_outfile_commit(&lf, err)) != MDATT_OK) ||
        (st = mdatt_outfile_commit(&mo, err)) != MDATT_OK)
        code = cli_error(sub, CLI_FAIL, "%s", err);
done_out:
    mdatt_outfile_abort(&lf);
    mdatt_outfile_abort(&mo);
done:
    mdatt_model_free(&m);
    mdatt_instance_free(&in);
    return code;
}
