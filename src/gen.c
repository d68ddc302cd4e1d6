/* gen.c - the paper's synthetic generator and its joint-training toy
 * (arXiv 2410.14581, Section 5 "Synthetic experiments"). */
#include <math.h>
#include <string.h>
#include "mdatt.h"

void mdatt_gen_default_settings(mdatt_gen_settings *s)
{
    s->n = 6;
    s->T = 8;
    s->d = 10;
    s->seed = 1;
}

/* Fill x[0..d) with N(0, I) and scale it to the unit sphere (redraw the
 * measure-zero case x = 0). */
static void unit_gaussian(mdatt_rng *r, double *x, int d)
{
    double s2;
    do {
        s2 = 0.0;
        for (int j = 0; j < d; j++) {
            x[j] = mdatt_rng_normal(r);
            s2 += x[j] * x[j];
        }
    } while (s2 == 0.0);
    const double inv = 1.0 / sqrt(s2);
    for (int j = 0; j < d; j++)
        x[j] *= inv;
}

mdatt_status mdatt_gen(const mdatt_gen_settings *s, mdatt_instance *out)
{
    mdatt_status st = mdatt_instance_alloc(out, s->n, s->T, s->d);
    if (st != MDATT_OK)
        return st;
    mdatt_rng r;
    mdatt_rng_seed(&r, s->seed);
    const int d = s->d;
    unit_gaussian(&r, out->v, d);
    for (int i = 0; i < s->n; i++) {
        for (int t = 0; t < s->T; t++)
            unit_gaussian(&r, out->X + ((size_t)i * s->T + t) * d, d);
        unit_gaussian(&r, out->Z + (size_t)i * d, d);
        out->Y[i] = mdatt_rng_uniform(&r) < 0.5 ? 1.0 : -1.0;
    }
    return MDATT_OK;
}

mdatt_status mdatt_gen_toy_joint(mdatt_instance *out)
{
    static const double X[2][3][2] = {
        {{-2.7, 1.2}, {1.4, 2.1}, {1.3, -0.1}},
        {{0.4, -2.2}, {-1.1, -0.4}, {0.9, 0.1}},
    };
    mdatt_status st = mdatt_instance_alloc(out, 2, 3, 2);
    if (st != MDATT_OK)
        return st;
    memcpy(out->X, X, sizeof X);
    out->Y[0] = 1.0;
    out->Y[1] = -1.0;
    out->query_token = 0;           /* z_i = x_{i,1} in the paper's 1-based words */
    mdatt_instance_sync_queries(out);
    return MDATT_OK;                /* v = 0: JointGD starts from v_0 = 0 */
}
