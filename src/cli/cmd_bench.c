/* cmd_bench.c - `mdatt bench`: the command line of the experiments in bench/
 * (bench.h): options, the configurations they name, and the messages. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bench.h"
#include "cli.h"
#include "records.h"
#include "stage.h"

static int run(int argc, char **argv);

const cli_command cli_bench = {
    "bench", "run experiments from configuration files into a reports folder",
    "usage: mdatt bench CONFIG... [-o REPORTS] [--threads N] [--quiet]\n"
    "                   [--fresh | --shard K/N | --merge]\n"
    "       mpirun -np R mdatt bench CONFIG... [-o REPORTS] [...]\n"
    "       mdatt bench --check CONFIG...\n"
    "       mdatt bench --index REPORTS [--command TEXT]\n\n"
    "Each CONFIG is one experiment (field \"experiment\": paper_fig4, paper_paths,\n"
    "paper_joint, beyond_saturation, rates, realdata or sweep_scale) with its seeds,\n"
    "sizes, p and iterations: a JSON file, or the name of a shipped configuration\n"
    "(paper_fig4, paper_paths, paper_joint, beyond_saturation, rates, realdata,\n"
    "realdata_full, sweep_scale),\n"
    "looked up in " MDATT_CONFIGDIR "\n"
    "and then in " MDATT_SOURCE_CONFIGDIR ";\n"
    "copy one from there and edit it to run your own study.\n"
    "Results go to REPORTS/<experiment>/ (default REPORTS = reports) as tables\n"
    "(.md .csv .tex) and figures (.tsv + .gp rendered to .svg and .png by gnuplot).\n"
    "Runs are spread over threads; the results do not depend on the thread count.\n\n"
    "Every run's result is kept as a record in REPORTS/<experiment>/runs/ as soon\n"
    "as it is done, and the tables are built from the records: run the same\n"
    "command again after an interruption and it resumes (valid records of the\n"
    "same configuration are reused; missing, truncated or corrupted ones and\n"
    "records of another configuration are computed again).  Under mpirun the\n"
    "ranks share the runs through a work queue on rank 0, which writes the\n"
    "records and the tables.\n\n"
    "  -o REPORTS       reports folder (default: reports)\n"
    "  --threads N      worker threads (default: number of online CPUs; per rank)\n"
    "  --quiet          no progress line (also when stderr is not a terminal)\n"
    "  --check          read and validate each configuration (sizes and the\n"
    "                   memory estimate included), run nothing\n"
    "  --max-memory GB  refuse a configuration whose runs need more than an\n"
    "                   estimated GB gigabytes (default 4)\n"
    "  --fresh          remove the experiment's records first: start over\n"
    "  --shard K/N      compute only shard K (0-based) of N: its share of the runs,\n"
    "                   balanced by expected cost; records only, no tables.  A\n"
    "                   shard works on the first stage of the experiment whose runs\n"
    "                   are not all recorded (one stage except for realdata)\n"
    "  --merge          build the tables and figures from the records only; exit 1\n"
    "                   naming the missing runs (nothing written) if any is missing\n"
    "  --index REPORTS  write REPORTS/README.md: the index of every experiment's\n"
    "                   outputs, their wall times and the provenance block\n",
    run};


/* The file a configuration argument names: an existing path as given; a bare
 * name (no '/'), such as paper_fig4, is looked up as NAME and NAME.json in the
 * installed configurations, then in bench/configs of the source tree this
 * mdatt was built from.  NULL (message printed) when there is none. */
static const char *find_config(const char *arg, char *buf, size_t len)
{
    struct stat sb;
    if (stat(arg, &sb) == 0 || strchr(arg, '/'))
        return arg;
    static const char *const dirs[] = {MDATT_CONFIGDIR, MDATT_SOURCE_CONFIGDIR};
    for (int d = 0; d < 2; d++)
        for (int j = 0; j < 2; j++) {
            snprintf(buf, len, "%s/%s%s", dirs[d], arg, j ? ".json" : "");
            if (stat(buf, &sb) == 0 && S_ISREG(sb.st_mode))
                return buf;
        }
    cli_error("bench", CLI_BAD, "%s: no such file, and no configuration of that name in %s or "
              "%s", arg, dirs[0], dirs[1]);
    return NULL;
}

/* An entry point's code, its message (if any) printed. */
static int said(int code, const char *err)
{
    return err[0] ? cli_error("bench", code, "%s", err) : code;
}

/* --check: validate each configuration, run nothing. */
static int check_configs(const char **pos, int npos, double max_memory)
{
    int code = CLI_OK;
    for (int k = 0; k < npos; k++) {
        char buf[1200], err[BENCH_ERRLEN];
        const char *path = find_config(pos[k], buf, sizeof buf);
        if (!path)
            code = CLI_BAD;
        else if (said(bench_check_config(path, max_memory, err), err) != CLI_OK)
            code = CLI_BAD;
        else
            printf("%s: valid\n", path);
    }
    return code;
}

/* Run each configuration in turn (over the MPI ranks when started by mpirun). */
static int run_configs(const char **pos, int npos, bench_opts *op)
{
    int rc = CLI_OK;
    bench_mpi_init(&op->rank, &op->nranks);
    for (int k = 0; k < npos && rc == CLI_OK; k++) {
        char buf[1200], err[BENCH_ERRLEN];
        const char *path = find_config(pos[k], buf, sizeof buf);
        rc = path ? said(bench_run_config(path, op, err), err) : CLI_BAD;
    }
    bench_mpi_finalize();
    return rc;
}

static int run(int argc, char **argv)
{
    const char *outdir = "reports", *index = NULL, *command = "mdatt bench", *shard = NULL;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    double max_gb = 4.0;
    int quiet = 0, fresh = 0, merge = 0, check = 0;
    const cli_opt opts[] = {
        {"--check", OPT_FLAG, &check, 0, 0, NULL},
        {"--max-memory", OPT_DOUBLE, &max_gb, 0, 0, NULL},
        {"-o", OPT_STR, &outdir, 0, 0, NULL},
        {"--threads", OPT_LONG, &threads, 1, 64, NULL},
        {"--quiet", OPT_FLAG, &quiet, 0, 0, NULL},
        {"--fresh", OPT_FLAG, &fresh, 0, 0, NULL},
        {"--shard", OPT_STR, &shard, 0, 0, NULL},
        {"--merge", OPT_FLAG, &merge, 0, 0, NULL},
        {"--index", OPT_STR, &index, 0, 0, NULL},
        {"--command", OPT_STR, &command, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    const char *pos[64];
    int npos, rc = cli_parse(&cli_bench, argc, argv, opts, pos, 64, &npos);
    if (rc != CLI_OK)
        return rc;
    char err[BENCH_ERRLEN];
    if (index)
        return npos ? cli_error("bench", CLI_BAD, "--index takes no configuration files")
                    : said(bench_write_index(index, command, err), err);
    if (npos == 0)
        return cli_error("bench", CLI_BAD, "no configuration file (see --help; bench/configs/ has the defaults)");
    if (!(max_gb > 0))
        return cli_error("bench", CLI_BAD, "--max-memory: must be > 0 GB (got %g)", max_gb);
    if (check)
        return check_configs(pos, npos, max_gb * 1e9);
    bench_opts op = {outdir, threads < 1 ? 1 : (int)threads, quiet, fresh, merge, 0, 0, 0, 1, max_gb * 1e9};
    if (shard && bench_shard_parse(shard, &op.shard_k, &op.shard_n, err) != 0)
        return cli_error("bench", CLI_BAD, "%s", err);
    if ((shard != NULL) + merge + fresh > 1)
        return cli_error("bench", CLI_BAD, "%s: --fresh, --shard and --merge exclude each other",
                         merge && shard ? "--merge" : "--fresh");
    if (bench_mkdir_p(outdir) != 0)
        return cli_error("bench", CLI_FAIL, "%s: cannot create: %s", outdir, strerror(errno));
    return run_configs(pos, npos, &op);
}
