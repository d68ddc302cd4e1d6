/* cmd_fmnist.c - `mdatt fmnist`: an attention instance from Fashion-MNIST. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "mdatt_io.h"
#include "mdatt_fmnist.h"

static int run(int argc, char **argv);

const cli_command cli_fmnist = {
    "fmnist", "write a real-data instance from Fashion-MNIST images",
    "usage: mdatt fmnist [--classes A,B] [--n N] [--split train|test] [--patch P]\n"
    "                    [--seed S] [--dir DIR] [--probe-iters K] [-o INSTANCE.json]\n\n"
    "Builds an mdatt-instance/1 (binary task: class A has Y = -1, class B Y = +1)\n"
    "from the Fashion-MNIST IDX files of the Debian package dataset-fashion-mnist\n"
    "(" MDATT_FMNIST_DIR "), so that train, svm and check work on real tokens:\n"
    "  samples  N/2 images of A and N - N/2 of B, drawn by a shuffle seeded with S,\n"
    "           interleaved A, B, A, B, ...\n"
    "  tokens   each 28x28 image is cut into T = (28/P)^2 patches of P x P pixels;\n"
    "           a token is the patch's pixels scaled to [0, 1] and divided by P\n"
    "           (norm <= 1), followed by its grid (row, col) mapped to [-1, 1]:\n"
    "           d = P^2 + 2 (P = 4: T = 49, d = 18); the coordinates make the\n"
    "           tokens of an image distinct, so every SVM constraint is non-zero\n"
    "  query    z_i = the mean token of image i (fixed; a mean-pooled query)\n"
    "  v        a linear probe: K steps of gradient descent on the logistic loss\n"
    "           of (mean token, Y) from v = 0, no bias, step 4 / mean ||z_i||^2\n\n"
    "  --classes A,B    labels 0..9 (default 0,1: T-shirt/top vs Trouser)\n"
    "  --n N            samples (default 1000)\n"
    "  --split S        train (60 000 images, default) or test (10 000)\n"
    "  --patch P        patch side, a divisor of 28 (default 4)\n"
    "  --seed S         seed of the image draw (default 1)\n"
    "  --dir DIR        folder of the IDX files (default " MDATT_FMNIST_DIR ")\n"
    "  --probe-iters K  steps of the linear probe (default 300)\n"
    "  -o FILE          output instance, written atomically (default: stdout)\n\n"
    "Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,\n"
    "6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.\n",
    run};

static int run(int argc, char **argv)
{
    const char *sub = "fmnist", *classes = "0,1", *split = "train", *dir = NULL, *out = "-";
    mdatt_fmnist_settings s;
    mdatt_fmnist_default_settings(&s);
    long n = s.n, patch = s.patch, seed = (long)s.seed, probe = s.probe_iters;
    const cli_opt opts[] = {
        {"--classes", OPT_STR, &classes, 0, 0, NULL},
        {"--n", OPT_LONG, &n, 2, 60000, NULL},
        {"--split", OPT_STR, &split, 0, 0, NULL},
        {"--patch", OPT_LONG, &patch, 1, 28, NULL},
        {"--seed", OPT_LONG, &seed, 0, 0x7fffffffffffffffL, NULL},
        {"--dir", OPT_STR, &dir, 0, 0, NULL},
        {"--probe-iters", OPT_LONG, &probe, 0, 10000000, NULL},
        {"-o", OPT_STR, &out, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos, rc = cli_parse(&cli_fmnist, argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    int a, b, used = 0;
    if (sscanf(classes, "%d,%d%n", &a, &b, &used) != 2 || classes[used] != '\0' || a < 0 ||
        a > 9 || b < 0 || b > 9 || a == b)
        return cli_error(sub, CLI_BAD, "--classes: need two different labels A,B in 0..9, got '%s'",
                         classes);
    if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0)
        return cli_error(sub, CLI_BAD, "--split: train or test, got '%s'", split);
    if (28 % patch != 0)
        return cli_error(sub, CLI_BAD, "--patch: %ld does not divide 28 (1, 2, 4, 7, 14 or 28)", patch);
    char err[MDATT_ERRLEN] = "";
    mdatt_images im;
    mdatt_status st = mdatt_fmnist_load(dir, strcmp(split, "test") == 0, &im, err);
    if (st != MDATT_OK)
        return cli_status(sub, st, err);
    s.neg = a;
    s.pos = b;
    s.n = (int)n;
    s.patch = (int)patch;
    s.seed = (uint64_t)seed;
    s.probe_iters = (int)probe;
    mdatt_instance in;
    st = mdatt_fmnist_instance(&im, &s, &in, NULL, err);
    mdatt_images_free(&im);
    if (st != MDATT_OK)
        return cli_status(sub, st, err);
    st = mdatt_instance_write(out, &in, err);
    mdatt_instance_free(&in);
    return st == MDATT_OK ? CLI_OK : cli_status(sub, st, err);
}
