/* figure.c - gnuplot scripts and their rendering (figure.h). */
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "figure.h"

void bench_gnuplot_script(FILE *f, const char *name, const char *size, const char *body)
{
    fprintf(f, "# %s: data in the .tsv files beside this script; run `gnuplot %s.gp`.\n"
               "set encoding utf8\n"
               "do for [fmt in \"svg png\"] {\n"
               "if (fmt eq \"svg\") {\n"
               "  set terminal svg size %s dynamic font 'sans,11' background '#ffffff'\n"
               "} else {\n"
               "  set terminal pngcairo size %s font 'sans,10'\n"
               "}\n"
               "set output '%s.'.fmt\n%s\nunset output\n}\n",
            name, name, size, size, name, body);
}

int bench_gnuplot_render(const char *dir, const char *gp)
{
#ifdef GNUPLOT_PATH
    size_t len = 3 * strlen(dir) + 3 * strlen(gp) + sizeof GNUPLOT_PATH + 64;
    char *cmd = malloc(len);
    if (!cmd)
        return -1;
    snprintf(cmd, len, "cd '%s' && '%s' '%s' 2>'%s.err' && rm -f '%s.err'", dir, GNUPLOT_PATH,
             gp, gp, gp);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
#else
    (void)dir;
    (void)gp;
    return 1;
#endif
}
