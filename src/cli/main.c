/* main.c - `mdatt SUBCOMMAND ...`: dispatch, --help and --version. */
#include <stdio.h>
#include <string.h>
#include <glpk.h>
#include <cblas.h>
#include "config.h"
#include "cli.h"

static const cli_command *const commands[] = {
    &cli_gen, &cli_train, &cli_svm, &cli_check, &cli_rate, &cli_fmnist,
    &cli_bench, NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: mdatt SUBCOMMAND [options]   (mdatt SUBCOMMAND --help for details)\n\n"
               "l_p mirror descent on softmax attention, checked against a certified\n"
               "l_p-AttSVM oracle.\n\nsubcommands:\n");
    for (int k = 0; commands[k]; k++)
        fprintf(f, "  %-8s %s\n", commands[k]->name, commands[k]->summary);
    fprintf(f, "\n  --version  print version and library versions\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_BAD;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("mdatt %s (git %s)\nGLPK %s\nOpenBLAS %s\ncompiler %s\n", MDATT_VERSION_STRING,
               MDATT_GIT_REV, glp_version(), openblas_get_config(), __VERSION__);
        return CLI_OK;
    }
    for (int k = 0; commands[k]; k++)
        if (strcmp(argv[1], commands[k]->name) == 0) {
            int rc = commands[k]->run(argc - 1, argv + 1);
            return rc == CLI_HELP ? CLI_OK : rc;
        }
    fprintf(stderr, "mdatt: unknown subcommand '%s' (see mdatt --help)\n", argv[1]);
    return CLI_BAD;
}
