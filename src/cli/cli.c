/* cli.c - option parsing and error reporting shared by the subcommands. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "cli.h"
#include "mdatt_io.h"

int cli_error(const char *sub, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mdatt: %s: ", sub);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_double(const char *sub, const char *flag, const char *s, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(x))
        return cli_error(sub, CLI_BAD, "%s: '%s' is not a finite number", flag, s);
    *out = x;
    return CLI_OK;
}

int cli_long(const char *sub, const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return cli_error(sub, CLI_BAD, "%s: '%s' is not an integer", flag, s);
    if (x < lo || x > hi)
        return cli_error(sub, CLI_BAD, "%s: %ld is out of range [%ld, %ld]", flag, x, lo, hi);
    *out = x;
    return CLI_OK;
}

int cli_p(const char *sub, const char *flag, const char *s, int strict_gt1, double *out)
{
    if (strcasecmp(s, "inf") == 0 || strcasecmp(s, "infinity") == 0) {
        if (strict_gt1)
            return cli_error(sub, CLI_BAD, "%s: must be a finite real > 1 here (got '%s')", flag, s);
        *out = INFINITY;
        return CLI_OK;
    }
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(x))
        return cli_error(sub, CLI_BAD, "%s: '%s' is not a number", flag, s);
    if (strict_gt1 ? !(x > 1.0) : !(x >= 1.0))
        return cli_error(sub, CLI_BAD, "%s: must be %s (got %s)", flag,
                         strict_gt1 ? "a real > 1" : "1, a real > 1, or inf", s);
    *out = x;
    return CLI_OK;
}

/* An existing file that is neither regular nor a folder (a device, FIFO). */
static int is_special(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode);
}

int cli_distinct_outputs(const char *sub, const cli_path *outs, int nout, const cli_path *ins,
                         int nin)
{
    for (int k = 0; k < nout; k++) {
        if (!outs[k].path)
            continue;
        for (int j = 0; j < nin; j++)
            if (ins[j].path && mdatt_same_file(outs[k].path, ins[j].path))
                return cli_error(sub, CLI_BAD, "%s %s: is the input %s %s; choose another output",
                                 outs[k].flag, outs[k].path, ins[j].flag, ins[j].path);
        for (int j = 0; j < k; j++)    /* two outputs may share /dev/null */
            if (outs[j].path && mdatt_same_file(outs[k].path, outs[j].path) &&
                !is_special(outs[k].path))
                return cli_error(sub, CLI_BAD, "%s %s: is also the output %s", outs[k].flag,
                                 outs[k].path, outs[j].flag);
    }
    return CLI_OK;
}

int cli_status(const char *sub, mdatt_status st, const char *err)
{
    int code = (st == MDATT_ENUMERIC) ? CLI_FAIL : CLI_BAD;
    if (st == MDATT_EIO && strstr(err, "cannot write"))
        code = CLI_FAIL;
    return cli_error(sub, code, "%s", err && *err ? err : mdatt_strerror(st));
}

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t len)
{
    for (const cli_opt *o = opts; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, const cli_opt *opts,
              const char **pos, int maxpos, int *npos)
{
    const char *sub = cmd->name;
    *npos = 0;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(cmd->usage, stdout);
            return CLI_HELP;
        }
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (*npos >= maxpos)
                return cli_error(sub, CLI_BAD, "unexpected argument '%s' (see --help)", arg);
            pos[(*npos)++] = arg;
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const cli_opt *o = find_opt(opts, arg, len);
        if (!o)
            return cli_error(sub, CLI_BAD, "unknown option '%.*s' (see --help)", (int)len, arg);
        if (o->seen)
            *o->seen = 1;
        if (o->kind == OPT_FLAG) {
            if (eq)
                return cli_error(sub, CLI_BAD, "%s takes no value", o->name);
            *(int *)o->dst = 1;
            continue;
        }
        const char *val = eq ? eq + 1 : (a + 1 < argc ? argv[++a] : NULL);
        if (!val)
            return cli_error(sub, CLI_BAD, "%s needs a value", o->name);
        int rc = CLI_OK;
        long l;
        switch (o->kind) {
        case OPT_STR: *(const char **)o->dst = val; break;
        case OPT_DOUBLE: rc = cli_double(sub, o->name, val, o->dst); break;
        case OPT_P: rc = cli_p(sub, o->name, val, 0, o->dst); break;
        case OPT_LONG:
            rc = cli_long(sub, o->name, val, o->lo, o->hi, &l);
            if (rc == CLI_OK)
                *(long *)o->dst = l;
            break;
        case OPT_LIST: {
            cli_list *li = o->dst;
            const char **grown = realloc(li->items, sizeof(char *) * (li->count + 1));
            if (!grown)
                return cli_error(sub, CLI_FAIL, "out of memory");
            li->items = grown;
            li->items[li->count++] = val;
            break;
        }
        case OPT_FLAG: break;
        }
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

void cli_json_num(FILE *f, double x)
{
    if (isnan(x))
        fputs("null", f);
    else if (isinf(x))
        fputs(x > 0 ? "\"inf\"" : "\"-inf\"", f);
    else
        fprintf(f, "%.17g", x == 0.0 ? 0.0 : x);
}

void cli_json_ints(FILE *f, const int *a, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++)
        fprintf(f, i ? ",%d" : "%d", a[i]);
    fputc(']', f);
}

void cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}
