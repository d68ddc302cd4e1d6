/* cmd_gen.c - `mdatt gen`: the paper's synthetic generator and joint toy. */
#include <string.h>
#include "cli.h"
#include "mdatt_io.h"

static int run(int argc, char **argv);

const cli_command cli_gen = {
    "gen", "write a synthetic instance (the paper's generator or joint toy)",
    "usage: mdatt gen [--n N] [--T T] [--d D] [--seed S] [-o FILE]\n"
    "       mdatt gen --toy joint [-o FILE]\n\n"
    "The paper's generator: v, every token and every query drawn N(0, I) and\n"
    "normalized to the unit sphere; labels +1/-1 with probability 1/2.\n"
    "Defaults: n=6, T=8, d=10, seed=1 (the paper's Fig. 4).  Output: instance\n"
    "JSON (mdatt-instance/1) to FILE, written atomically, or stdout; numpy .npz\n"
    "(keys X, Y, Z or query_token, v) when FILE ends in .npz.\n\n"
    "  --toy joint  the paper's joint-training toy (n=2, T=3, d=2, z_i = x_i0)\n",
    run};

static int run(int argc, char **argv)
{
    mdatt_gen_settings gs;
    mdatt_gen_default_settings(&gs);
    long n = gs.n, T = gs.T, d = gs.d, seed = (long)gs.seed;
    const char *out = "-", *toy = NULL;
    int seen_shape = 0;
    const cli_opt opts[] = {
        {"--n", OPT_LONG, &n, 1, 100000000, &seen_shape},
        {"--T", OPT_LONG, &T, 2, 100000000, &seen_shape},
        {"--d", OPT_LONG, &d, 1, 46340, &seen_shape},
        {"--seed", OPT_LONG, &seed, 0, 0x7fffffffffffffffL, &seen_shape},
        {"--toy", OPT_STR, &toy, 0, 0, NULL},
        {"-o", OPT_STR, &out, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos, rc = cli_parse(&cli_gen, argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    mdatt_instance in;
    mdatt_status st;
    char err[MDATT_ERRLEN] = "";
    if (toy) {
        if (strcmp(toy, "joint") != 0)
            return cli_error("gen", CLI_BAD, "--toy: unknown toy '%s' (known: joint)", toy);
        if (seen_shape)
            return cli_error("gen", CLI_BAD, "--toy joint has a fixed shape and no seed");
        st = mdatt_gen_toy_joint(&in);
    } else {
        if ((double)n * T * d > 2e9)
            return cli_error("gen", CLI_BAD, "n*T*d = %.3g entries cannot be held in memory",
                             (double)n * T * d);
        gs.n = (int)n;
        gs.T = (int)T;
        gs.d = (int)d;
        gs.seed = (uint64_t)seed;
        st = mdatt_gen(&gs, &in);
    }
    if (st != MDATT_OK)
        return cli_status("gen", st, mdatt_strerror(st));
    st = mdatt_instance_write(out, &in, err);
    mdatt_instance_free(&in);
    return st == MDATT_OK ? CLI_OK : cli_status("gen", st, err);
}
