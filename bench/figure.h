/* figure.h - gnuplot figures as the reports and `mdatt rate --plot` write
 * them: a script NAME.gp beside its .tsv data that renders NAME.svg and
 * NAME.png, and the rendering itself (doc/formats.md, "Reports"). */
#ifndef MDATT_BENCH_FIGURE_H
#define MDATT_BENCH_FIGURE_H

#include <stdio.h>

/** Write a gnuplot script that renders NAME.svg and NAME.png of the given
 *  body (size "W,H" in pixels) when run as `gnuplot NAME.gp` in its folder. */
void bench_gnuplot_script(FILE *f, const char *name, const char *size, const char *body);
/** Run gnuplot on the script gp in folder dir (stderr to gp.err there, removed
 *  on success).  0 rendered, 1 gnuplot not installed, -1 gnuplot failed. */
int bench_gnuplot_render(const char *dir, const char *gp);

#endif
