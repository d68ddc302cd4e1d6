/* test_check.c - metrics against closed forms, the svm JSON reader, and the
 * `mdatt check` command on a hand instance whose SVM is known exactly. */
#include <float.h>
#include <math.h>
#include <criterion/criterion.h>
#include "mdatt.h"
#include "mdatt_io.h"
#include "mdatt_check.h"
#include "common.h"

/* ---------------------------------------------------------- hand instance
 * One sample, two tokens, d = 2: x_0 = (1, 0), x_1 = (0, 1), z = (1, 2),
 * Y = +1, v = (1, 0).  alpha = 0, a = x_0 - x_1 = (1, -1), M = a z^T.
 * min ||W||_p s.t. <M, W> >= 1 has value 1 / ||M||_q = 1 / (||a||_q ||z||_q)
 * (entrywise norm of a rank-one matrix), attained at
 * W^mm = sign(M) |M|^(q-1) / ||M||_q^q. */
static const double HX[4] = {1, 0, 0, 1}, HZ[2] = {1, 2}, HY[1] = {1}, HV[2] = {1, 0};

static void hand_instance(mdatt_instance *in)
{
    cr_assert_eq(mdatt_instance_alloc(in, 1, 2, 2), MDATT_OK);
    memcpy(in->X, HX, sizeof HX);
    memcpy(in->Z, HZ, sizeof HZ);
    memcpy(in->Y, HY, sizeof HY);
    memcpy(in->v, HV, sizeof HV);
}

static double qnorm2(double x, double y, double q)
{
    return pow(pow(fabs(x), q) + pow(fabs(y), q), 1 / q);
}

/* W^mm of the hand instance for exponent p (1 < p < inf); returns its norm. */
static double hand_wmm(double p, double W[4])
{
    const double q = p / (p - 1), a[2] = {1, -1};
    double M[4], s = 0;
    for (int j = 0; j < 2; j++)
        for (int k = 0; k < 2; k++) {
            M[j * 2 + k] = a[j] * HZ[k];
            s += pow(fabs(M[j * 2 + k]), q);
        }
    for (int j = 0; j < 4; j++)
        W[j] = copysign(pow(fabs(M[j]), q - 1), M[j]) / s;
    return 1 / (qnorm2(a[0], a[1], q) * qnorm2(HZ[0], HZ[1], q));
}

/* --------------------------------------------------------------- metrics */

Test(metrics, bregman_dir_closed_forms)
{
    const double A[6] = {0.3, -1.2, 2.0, 0.0, 5.5, -0.25};
    double B[6], C[6];
    const double ps[] = {1.5, 1.75, 2.0, 3.0};
    for (int j = 0; j < 6; j++) {
        B[j] = 7.0 * A[j];
        C[j] = -A[j];
    }
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        /* same direction: 0 (scale-free); opposite: 2 sum |a|^p = 2 for unit a */
        cr_expect(fabs(mdatt_bregman_dir(A, B, 6, ps[k])) < 1e-14, "p=%g", ps[k]);
        cr_expect(fabs(mdatt_bregman_dir(A, C, 6, ps[k]) - 2.0) < 1e-12, "p=%g: %.17g", ps[k],
                  mdatt_bregman_dir(A, C, 6, ps[k]));
    }
}

Test(metrics, one_minus_cosine)
{
    const double A[3] = {1, 2, 3}, B[3] = {-2, -4, -6}, E1[2] = {1, 0}, E2[2] = {0, 3};
    const double U[3] = {0.5, -1, 2};
    cr_expect(mdatt_one_minus_cosine(A, A, 3) < 1e-16);
    cr_expect(fabs(mdatt_one_minus_cosine(A, B, 3) - 2) < 1e-15);
    cr_expect(fabs(mdatt_one_minus_cosine(E1, E2, 2) - 1) < 1e-15);
    /* generic pair: (1 - cos) by the textbook formula */
    double cosv = (0.5 - 2 + 6) / (sqrt(14) * sqrt(5.25));
    cr_expect(fabs(mdatt_one_minus_cosine(A, U, 3) - (1 - cosv)) < 1e-14);
    cr_expect(fabs(mdatt_cosine(A, U, 3) - cosv) < 1e-14);
    /* tiny angle: exact where 1 - cos would round to 0 */
    const double P[2] = {1, 0}, Q[2] = {1, 1e-9};
    cr_expect(fabs(mdatt_one_minus_cosine(P, Q, 2) / 5e-19 - 1) < 1e-6);
    const double Zr[2] = {0, 0};
    cr_expect(isnan(mdatt_one_minus_cosine(P, Zr, 2)));
    /* an infinite norm (entries whose 2-norm overflows, or an infinite
     * entry) on either side: NaN, not a number computed from a zero vector */
    const double Big[2] = {DBL_MAX, DBL_MAX}, Inf[2] = {INFINITY, 1};
    cr_expect(isnan(mdatt_one_minus_cosine(Big, P, 2)) && isnan(mdatt_one_minus_cosine(P, Big, 2)));
    cr_expect(isnan(mdatt_one_minus_cosine(Inf, P, 2)) && isnan(mdatt_one_minus_cosine(P, Inf, 2)));
}

Test(metrics, margin_ratio_is_one_at_wmm)
{
    mdatt_instance in;
    hand_instance(&in);
    const int alpha[1] = {0};
    const double ps[] = {1.25, 1.5, 2.0, 3.0, 4.0};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        double W[4], W3[4], p = ps[k];
        double obj = hand_wmm(p, W);
        /* the closed form is consistent: ||W^mm||_p = objective and margin 1 */
        cr_expect(fabs(mdatt_norm_p(W, 4, p) - obj) < 1e-13 * obj, "p=%g", p);
        cr_expect(fabs(mdatt_margin_ratio(&in, alpha, W, p, obj) - 1) < 1e-13, "p=%g", p);
        for (int j = 0; j < 4; j++)
            W3[j] = 3.0e6 * W[j];
        cr_expect(fabs(mdatt_margin_ratio(&in, alpha, W3, p, obj) - 1) < 1e-13, "p=%g", p);
        cr_expect(fabs(mdatt_bregman_dir(W, W3, 4, p)) < 1e-14);
    }
    mdatt_instance_free(&in);
}

Test(metrics, margin_ratio_at_most_one)
{
    /* W^mm maximizes the normalized margin: rho <= 1 for every W */
    mdatt_instance in;
    hand_instance(&in);
    const int alpha[1] = {0};
    mdatt_rng r;
    mdatt_rng_seed(&r, 11);
    for (int rep = 0; rep < 200; rep++) {
        double W[4], Wmm[4], p = 1.2 + 3 * mdatt_rng_uniform(&r);
        double obj = hand_wmm(p, Wmm);
        for (int j = 0; j < 4; j++)
            W[j] = mdatt_rng_normal(&r);
        double rho = mdatt_margin_ratio(&in, alpha, W, p, obj);
        cr_expect(rho <= 1 + 1e-12, "p=%g rho=%.17g", p, rho);
        /* a perturbation of W^mm lowers the ratio, and the divergence grows */
        for (int j = 0; j < 4; j++)
            W[j] = Wmm[j] + 0.05 * obj * W[j];
        cr_expect(mdatt_margin_ratio(&in, alpha, W, p, obj) < 1 + 1e-12);
    }
    mdatt_instance_free(&in);
}

Test(metrics, margin_ratio_v)
{
    mdatt_instance in;
    hand_instance(&in);
    const int alpha[1] = {1};
    const double v[2] = {0, 2};   /* Y x_1^T v = 2; v-SVM optimum 1/||x_1||_q = 1 */
    cr_expect(fabs(mdatt_margin_ratio_v(&in, alpha, v, 2.0, 1.0) - 1) < 1e-15);
    mdatt_instance_free(&in);
}

Test(metrics, selected_tokens_saturation)
{
    mdatt_instance in;
    hand_instance(&in);
    /* scores x_t^T W z: W = c [[1, 0], [0, 0]] gives s = (c, 0) with z_0 = 1 */
    double W[4] = {50, 0, 0, 0};
    int alpha[1];
    double smin, l1m;
    mdatt_selected_tokens(&in, W, alpha, &smin, &l1m);
    cr_expect_eq(alpha[0], 0);
    cr_expect(fabs(l1m - (-50 - log1p(exp(-50)))) < 1e-12, "%.17g", l1m);
    cr_expect(fabs(smin - 1 / (1 + exp(-50))) < 1e-16);
    W[0] = 800;   /* 1 - s underflows; its log does not */
    mdatt_selected_tokens(&in, W, alpha, &smin, &l1m);
    cr_expect(fabs(l1m + 800) < 1e-12, "%.17g", l1m);
    cr_expect_eq(smin, 1.0);
    W[0] = -3;    /* token 1 wins: s_1 = 1 / (1 + e^-3) */
    mdatt_selected_tokens(&in, W, alpha, &smin, &l1m);
    cr_expect_eq(alpha[0], 1);
    cr_expect(fabs(smin - 1 / (1 + exp(-3))) < 1e-15);
    cr_expect(fabs(l1m - log(exp(-3) / (1 + exp(-3)))) < 1e-14);
    mdatt_instance_free(&in);
}

/* mdatt_selected_tokens and mdatt_margin_ratio on several samples of several
 * tokens against the softmax and the margins written out in long double:
 * alpha_i = argmax_t x_it^T W z_i, smax_min = min_i s_{i,alpha_i},
 * log1m_smax = max_i log(1 - s_{i,alpha_i}).
 * Entries k/7 - 1/2 with the sample's index mixed in: every sample has its
 * own scores, none tied. */
Test(metrics, selected_tokens_many_samples)
{
    const int n = 3, T = 4, d = 3;
    mdatt_instance in;
    cr_assert_eq(mdatt_instance_alloc(&in, n, T, d), MDATT_OK);
    for (int k = 0; k < n * T * d; k++)
        in.X[k] = (double)((k * 5 + k / (T * d)) % 7) / 7.0 - 0.5;
    for (int k = 0; k < n * d; k++)
        in.Z[k] = (double)((k * 3) % 5) / 5.0 - 0.3;
    const double W[9] = {2.0, -1.0, 0.5, 1.5, 3.0, -2.0, -0.5, 1.0, 2.5};
    int alpha[3];
    double smin, l1m;
    long double want_smin = 1.0L, want_l1m = -INFINITY, want_mn = INFINITY;
    mdatt_selected_tokens(&in, W, alpha, &smin, &l1m);
    for (int i = 0; i < n; i++) {
        long double sc[4], mx = -INFINITY, S = 0;
        int a = 0;
        for (int t = 0; t < T; t++) {
            sc[t] = 0;
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++)
                    sc[t] += (long double)in.X[(i * T + t) * d + j] * W[j * d + k] *
                             in.Z[i * d + k];
            if (sc[t] > mx) {
                mx = sc[t];
                a = t;
            }
        }
        for (int t = 0; t < T; t++)
            if (t != a)
                S += expl(sc[t] - mx);
        cr_expect_eq(alpha[i], a, "sample %d", i);
        want_smin = fminl(want_smin, 1.0L / (1.0L + S));
        want_l1m = fmaxl(want_l1m, logl(S / (1.0L + S)));
        for (int t = 0; t < T; t++)   /* the margins (x_a - x_t)^T W z_i */
            if (t != a)
                want_mn = fminl(want_mn, sc[a] - sc[t]);
    }
    cr_expect(fabsl(smin - want_smin) <= 1e-14L, "smax_min %.17g, want %.17Lg", smin, want_smin);
    cr_expect(fabsl(l1m - want_l1m) <= 1e-13L, "log1m_smax %.17g, want %.17Lg", l1m, want_l1m);
    /* margin ratio min_{i, t != alpha_i} (x_ia - x_it)^T W z_i / ||W||_2 * ref,
     * ref = 3; NaN for W = 0 and for an infinite or overflowing norm */
    long double nw = 0;
    for (int k = 0; k < d * d; k++)
        nw += (long double)W[k] * W[k];
    const long double want_rho = want_mn / sqrtl(nw) * 3.0L;
    const double rho = mdatt_margin_ratio(&in, alpha, W, 2.0, 3.0);
    cr_expect(fabsl(rho - want_rho) <= 1e-14L, "margin ratio %.17g, want %.17Lg", rho, want_rho);
    double Wbad[9] = {0};
    cr_expect(isnan(mdatt_margin_ratio(&in, alpha, Wbad, 2.0, 3.0)), "W = 0");
    Wbad[4] = INFINITY;
    cr_expect(isnan(mdatt_margin_ratio(&in, alpha, Wbad, 2.0, 3.0)), "W with an infinite entry");
    /* finite entries whose 2-norm overflows (the margins do not): NaN too */
    const double Wbig[9] = {1.1e308, 0, 0, 0, 1.1e308, 0, 0, 0, 1.1e308};
    cr_expect(isnan(mdatt_margin_ratio(&in, alpha, Wbig, 2.0, 3.0)), "||W||_2 overflows");
    /* a tie for the maximum goes to the lower index: sample 0's best token
     * copied to another position */
    const int a0 = alpha[0], other = a0 == T - 1 ? 0 : T - 1;
    memcpy(in.X + other * d, in.X + a0 * d, sizeof(double) * d);
    mdatt_selected_tokens(&in, W, alpha, NULL, NULL);
    cr_expect_eq(alpha[0], a0 < other ? a0 : other, "tie between tokens %d and %d", a0, other);
    mdatt_instance_free(&in);
}

Test(metrics, token_check)
{
    mdatt_instance in;
    hand_instance(&in);
    mdatt_token_verdict tv;
    const int a0[1] = {0}, a1[1] = {1}, sup0[2] = {0, 1}, sup1[2] = {0, 0};
    mdatt_token_check(&in, in.v, a0, sup0, 1, &tv);   /* gamma = (1, 0) */
    cr_expect(tv.globally_optimal && tv.locally_optimal && tv.nties == 0);
    mdatt_token_check(&in, in.v, a1, sup1, 1, &tv);
    cr_expect(!tv.globally_optimal && !tv.locally_optimal);
    const double vt[2] = {1, 1};                       /* gamma = (1, 1): a tie */
    mdatt_token_check(&in, vt, a1, NULL, 0, &tv);
    cr_expect(tv.globally_optimal && tv.nties == 1);
    mdatt_instance_free(&in);
}

/* ------------------------------------------------------------- svm JSON */

#define SVM_OK_HEAD "{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\",\"alpha\":[0],"

static mdatt_status read_svm_text(const char *text, char err[MDATT_ERRLEN])
{
    char *dir = tmpdir_new(), path[512];
    snprintf(path, sizeof path, "%s/s.json", dir);
    write_text(path, text);
    mdatt_svm s;
    mdatt_status st = mdatt_svm_read(path, &s, err);
    if (st == MDATT_OK)
        mdatt_svm_free(&s);
    tmpdir_free(dir);
    return st;
}

Test(svmio, reads_fields)
{
    char *dir = tmpdir_new(), path[512], err[MDATT_ERRLEN] = "";
    snprintf(path, sizeof path, "%s/s.json", dir);
    write_text(path, "{\"format\":\"mdatt-svm/1\",\"p\":\"inf\",\"target\":\"W\",\"alpha\":[1,0],"
                     "\"status\":\"optimal\",\"W\":[[1,2],[3,4]],\"objective\":4,"
                     "\"lower_bound\":4,\"gap\":0,\"max_violation\":0,"
                     "\"dual\":[{\"i\":0,\"t\":0,\"lambda\":0.5}],\"support\":[[0,0],[1,1]],"
                     "\"tokens\":{\"globally_optimal\":true,\"locally_optimal\":false,"
                     "\"ties\":[1]}}");
    mdatt_svm s;
    cr_assert_eq(mdatt_svm_read(path, &s, err), MDATT_OK, "%s", err);
    cr_expect(isinf(s.p) && !s.target_v && s.n == 2 && s.d == 2);
    cr_expect(s.alpha[0] == 1 && s.alpha[1] == 0);
    cr_expect(s.x[2] == 3 && s.objective == 4 && s.ndual == 1 && s.dual[0].lambda == 0.5);
    cr_expect(s.nsupport == 2 && s.support[3] == 1);
    cr_expect(s.has_tokens && s.globally_optimal && !s.locally_optimal && s.nties == 1);
    mdatt_svm_free(&s);
    tmpdir_free(dir);
}

Test(svmio, errors_name_the_field)
{
    static const struct { const char *text, *field; } cases[] = {
        {"[1]", "top level"},
        {"{\"format\":\"mdatt-model/1\"}", "format"},
        {"{\"format\":\"mdatt-svm/1\",\"target\":\"W\"}", "p: missing"},
        {"{\"format\":\"mdatt-svm/1\",\"p\":0.5}", "p: must be >= 1"},
        {"{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"X\"}", "target"},
        {SVM_OK_HEAD "\"status\":\"weird\"}", "status"},
        {SVM_OK_HEAD "\"status\":\"optimal\"}", "W: must be"},
        {SVM_OK_HEAD "\"status\":\"optimal\",\"W\":[[1,2],[3]]}", "W[1]: has 1 entries"},
        {SVM_OK_HEAD "\"status\":\"optimal\",\"W\":[[1,2],[3,\"x\"]]}", "W[1][1]"},
        {SVM_OK_HEAD "\"status\":\"optimal\",\"W\":[[1]],\"objective\":1}", "lower_bound: missing"},
        {SVM_OK_HEAD "\"status\":\"optimal\",\"W\":[[1]],\"objective\":1,\"lower_bound\":1,"
                     "\"gap\":\"0\",\"max_violation\":0}", "gap: must be a number"},
        {SVM_OK_HEAD "\"status\":\"optimal\",\"W\":[[1]],\"objective\":1,\"lower_bound\":1,"
                     "\"gap\":0,\"max_violation\":0,\"support\":[[0]]}", "support[0]"},
        {SVM_OK_HEAD "\"status\":\"optimal\",\"W\":[[1]],\"objective\":1,\"lower_bound\":1,"
                     "\"gap\":0,\"max_violation\":0,\"support\":[]}", "dual: missing"},
        {SVM_OK_HEAD "\"status\":\"optimal\",\"W\":[[1]],\"objective\":1,\"lower_bound\":1,"
                     "\"gap\":0,\"max_violation\":0,\"support\":[],"
                     "\"dual\":[{\"i\":0,\"t\":1,\"lambda\":-1}]}", "dual[0].lambda"},
        {SVM_OK_HEAD "\"status\":\"infeasible\",\"dual\":[]}", "farkas: missing"},
        {SVM_OK_HEAD "\"status\":\"failed\",\"tokens\":{\"globally_optimal\":1}}",
         "tokens.globally_optimal"},
        {"{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\",\"alpha\":[-1]}", "alpha[0]"},
        {"{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\",\"alpha\":[]}",
         "alpha: must be a non-empty array"},
        {"{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\",\"alpha\":3}",
         "alpha: must be a non-empty array"},
        {"{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\"}", "alpha: missing"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char err[MDATT_ERRLEN] = "";
        mdatt_status st = read_svm_text(cases[k].text, err);
        cr_expect_neq(st, MDATT_OK, "case %zu accepted", k);
        cr_expect(strstr(err, cases[k].field) != NULL, "case %zu: '%s' lacks '%s'", k, err,
                  cases[k].field);
    }
    char err[MDATT_ERRLEN] = "";
    cr_expect_eq(read_svm_text(SVM_OK_HEAD "\"status\":\"failed\"}", err), MDATT_OK, "%s", err);
}

/* The file name goes in front of the field's message; a name that leaves
 * too little room truncates the message inside the MDATT_ERRLEN buffer (the
 * bytes after it are a canary), keeping "name: " and the terminating NUL.
 * Names of every length from one that leaves room for the whole message to
 * one that leaves 13 bytes: the message fits exactly, or is cut by 1, 2, ... */
Test(svmio, long_file_name_truncates_the_message_within_the_buffer)
{
    static const char msg[] = "alpha: must be a non-empty array of token indices";
    char *dir = tmpdir_new(), path[MDATT_ERRLEN + 64];
    const size_t base = (size_t)snprintf(path, sizeof path, "%s/", dir);
    const size_t full = MDATT_ERRLEN - 1 - 2 - (sizeof msg - 1); /* longest name with room */
    cr_assert_lt(base + 10, full - 4);
    for (size_t want = full - 4; want <= MDATT_ERRLEN - 16; want++) {
        size_t pl = base;
        for (; pl < want - 5; pl++)
            path[pl] = (char)('a' + pl % 26);
        memcpy(path + pl, ".json", 6);
        pl += 5;
        write_text(path, "{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\",\"alpha\":[]}");
        char buf[MDATT_ERRLEN + 16];
        memset(buf, 'Z', sizeof buf);
        mdatt_svm s;
        cr_assert_neq(mdatt_svm_read(path, &s, buf), MDATT_OK);
        unlink(path);
        for (size_t k = MDATT_ERRLEN; k < sizeof buf; k++)
            cr_assert_eq(buf[k], 'Z', "name of %zu bytes: byte %zu past the buffer written", pl, k);
        const size_t len = strnlen(buf, MDATT_ERRLEN);
        cr_assert_lt(len, MDATT_ERRLEN, "name of %zu bytes: no NUL inside the buffer", pl);
        cr_expect(strncmp(buf, path, pl) == 0 && buf[pl] == ':' && buf[pl + 1] == ' ', "%s", buf);
        const size_t room = MDATT_ERRLEN - 1 - pl - 2;
        const size_t mlen = room < sizeof msg - 1 ? room : sizeof msg - 1;
        cr_expect_eq(len, pl + 2 + mlen, "name of %zu bytes: %zu bytes used: %s", pl, len, buf);
        cr_expect(strncmp(buf + pl + 2, msg, mlen) == 0, "%s", buf + pl + 2);
    }
    tmpdir_free(dir);
}

/* ------------------------------------------------------------------ CLI */

/* Writes inst.json, model.json (W = scale * W^mm for p = 2) and svm.json
 * (status, alpha and gap as given) into dir. */
static void write_hand_files_p(const char *dir, double scale, int alpha, const char *status,
                               double gap, double model_p, const double *Wmodel)
{
    char path[512], buf[2048];
    double W[4];
    double obj = hand_wmm(2.0, W);
    snprintf(path, sizeof path, "%s/inst.json", dir);
    write_text(path, "{\"format\":\"mdatt-instance/1\",\"n\":1,\"T\":2,\"d\":2,"
                     "\"X\":[[[1,0],[0,1]]],\"Y\":[1],\"Z\":[[1,2]],\"v\":[1,0]}");
    snprintf(path, sizeof path, "%s/model.json", dir);
    const double *Wm = Wmodel ? Wmodel : W;
    snprintf(buf, sizeof buf, "{\"format\":\"mdatt-model/1\",\"p\":%.17g,\"W\":[[%.17g,%.17g],"
             "[%.17g,%.17g]],\"v\":[1,0],\"alpha\":[0],\"iters\":10,\"loss\":\"logistic\"}",
             model_p, scale * Wm[0], scale * Wm[1], scale * Wm[2], scale * Wm[3]);
    write_text(path, buf);
    snprintf(path, sizeof path, "%s/svm.json", dir);
    if (strcmp(status, "optimal") == 0)
        snprintf(buf, sizeof buf, "{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\","
                 "\"alpha\":[%d],\"status\":\"optimal\",\"W\":[[%.17g,%.17g],[%.17g,%.17g]],"
                 "\"objective\":%.17g,\"lower_bound\":%.17g,\"gap\":%g,\"max_violation\":0,"
                 "\"dual\":[{\"i\":0,\"t\":%d,\"lambda\":0.1}],\"support\":[[0,%d]],"
                 "\"tokens\":{\"globally_optimal\":%s,\"locally_optimal\":%s,\"ties\":[]}}",
                 alpha, W[0], W[1], W[2], W[3], obj, obj, gap, 1 - alpha, 1 - alpha,
                 alpha == 0 ? "true" : "false", alpha == 0 ? "true" : "false");
    else
        snprintf(buf, sizeof buf, "{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\","
                 "\"alpha\":[%d],\"status\":\"%s\",\"farkas\":[]}", alpha, status);
    write_text(path, buf);
}

static void write_hand_files(const char *dir, double scale, int alpha, const char *status,
                             double gap)
{
    write_hand_files_p(dir, scale, alpha, status, gap, 2.0, NULL);
}

/* The number after "key": in a JSON text (NAN if absent). */
static double json_num(const char *txt, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *at = strstr(txt, pat);
    return at ? strtod(at + strlen(pat), NULL) : NAN;
}

/* D_psi(A/||A||_p, B/||B||_p) written out from design.md (10)-(11), for 4 entries. */
static double breg_dir_ref(const double *A, const double *B, double p)
{
    double na = 0, nb = 0, d = 0;
    for (int j = 0; j < 4; j++) {
        na += pow(fabs(A[j]), p);
        nb += pow(fabs(B[j]), p);
    }
    na = pow(na, 1 / p);
    nb = pow(nb, 1 / p);
    for (int j = 0; j < 4; j++) {
        double a = A[j] / na, b = B[j] / nb;
        d += pow(fabs(a), p) / p - pow(fabs(b), p) / p - copysign(pow(fabs(b), p - 1), b) * (a - b);
    }
    return d;
}

Test(cli_check, cross_p_uses_model_psi_and_svm_norm)
{
    char *dir = tmpdir_new(), err[1024], path[512];
    double W2[4], Wm[4];
    double obj = hand_wmm(2.0, W2);
    for (int j = 0; j < 4; j++)
        Wm[j] = W2[j] + (j == 0 ? 0.02 : 0.0);
    write_hand_files_p(dir, 1.0, 0, "optimal", 1e-12, 3.0, Wm);
    int rc = run_mdatt(dir, err, sizeof err, "check inst.json model.json svm.json -o c.json");
    cr_expect_eq(rc, 0, "%s", err);
    snprintf(path, sizeof path, "%s/c.json", dir);
    char *txt = read_text(path);
    cr_assert(txt);
    cr_expect(strstr(txt, "\"cross_p\": true"));
    double want = breg_dir_ref(W2, Wm, 3.0);
    cr_expect(want > 1e-6 && fabs(json_num(txt, "bregman_dir") - want) < 1e-12 * (1 + want),
              "%.17g vs %.17g", json_num(txt, "bregman_dir"), want);
    cr_expect(fabs(want - breg_dir_ref(W2, Wm, 2.0)) > 1e-6, "psi of the model's p matters");
    /* margin: min <M, W> * obj / ||W||_2 with M = (1,-1)(1,2)^T */
    double marg = (Wm[0] + 2 * Wm[1] - Wm[2] - 2 * Wm[3]) * obj /
                  sqrt(Wm[0] * Wm[0] + Wm[1] * Wm[1] + Wm[2] * Wm[2] + Wm[3] * Wm[3]);
    cr_expect(fabs(json_num(txt, "margin_ratio") - marg) < 1e-14, "%.17g vs %.17g",
              json_num(txt, "margin_ratio"), marg);
    free(txt);
    tmpdir_free(dir);
}

Test(cli_check, help)
{
    char *dir = tmpdir_new(), err[1024];
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check --help"), 0);
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "rate --help"), 0);
    tmpdir_free(dir);
}

Test(cli_check, pass_at_wmm_direction)
{
    char *dir = tmpdir_new(), err[1024], path[512];
    write_hand_files(dir, 25.0, 0, "optimal", 1e-12);
    int rc = run_mdatt(dir, err, sizeof err,
                       "check inst.json model.json svm.json --min-cosine 0.999999 "
                       "--min-margin 0.999999 --require-global -o check.json");
    cr_expect_eq(rc, 0, "rc=%d: %s", rc, err);
    snprintf(path, sizeof path, "%s/check.json", dir);
    char *txt = read_text(path);
    cr_assert(txt);
    cr_expect(strstr(txt, "\"pass\": true"));
    cr_expect(strstr(txt, "\"tokens_match\": true"));
    cr_expect(strstr(txt, "\"margin_ratio\": 1") || strstr(txt, "\"margin_ratio\": 0.99999999"),
              "%s", txt);
    free(txt);
    tmpdir_free(dir);
}

Test(cli_check, verdict_failures_exit_1)
{
    char *dir = tmpdir_new(), err[1024], path[512];
    /* the svm picks token 1, the model selects token 0 */
    write_hand_files(dir, 25.0, 1, "optimal", 1e-12);
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check inst.json model.json svm.json -o c.json"), 1);
    snprintf(path, sizeof path, "%s/c.json", dir);
    char *txt = read_text(path);
    cr_assert(txt, "the verdict is written even when it fails");
    cr_expect(strstr(txt, "\"pass\": false") &&
              strstr(txt, "tokens do not match in 1 sample: 0 (model 0, svm 1)"), "%s", txt);
    free(txt);
    /* infeasible svm: a failed verdict, not bad input */
    write_hand_files(dir, 25.0, 0, "infeasible", 0);
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check inst.json model.json svm.json"), 1);
    /* gap too large, and a stated gap that its own bounds contradict (the
     * hand file's bounds are equal): --max-gap does not excuse the latter */
    write_hand_files(dir, 25.0, 0, "optimal", 1e-3);
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check inst.json model.json svm.json"), 1);
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check inst.json model.json svm.json "
                                                 "--max-gap 1e-2 -o c.json"), 1);
    txt = read_text(path);
    cr_expect(txt && strstr(txt, "svm gap 0.001 disagrees"), "%s", txt ? txt : "(no file)");
    free(txt);
    write_hand_files(dir, 25.0, 0, "optimal", 0);
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check inst.json model.json svm.json "
                                                 "--max-gap 1e-2"), 0, "%s", err);
    tmpdir_free(dir);
}

Test(cli_check, bad_input_exit_2_no_output)
{
    char *dir = tmpdir_new(), err[1024], path[512];
    write_hand_files(dir, 25.0, 0, "optimal", 1e-12);
    snprintf(path, sizeof path, "%s/svm3.json", dir);
    write_text(path, "{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\",\"alpha\":[0],"
                     "\"status\":\"optimal\",\"W\":[[1,0,0],[0,1,0],[0,0,1]],\"objective\":1,"
                     "\"lower_bound\":1,\"gap\":0,\"max_violation\":0,\"dual\":[],\"support\":[]}");
    int rc = run_mdatt(dir, err, sizeof err, "check inst.json model.json svm3.json -o c.json");
    cr_expect_eq(rc, 2);
    /* the message names the file, not its role */
    cr_expect(strstr(err, "mdatt: check: svm3.json: W has dimension 3") && !strstr(err, "SVM:"),
              "%s", err);
    snprintf(path, sizeof path, "%s/bad.json", dir);
    write_text(path, "{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\",\"alpha\":[0],"
                     "\"status\":\"optimal\",\"W\":[[1,0],[0,1]],\"objective\":1,"
                     "\"lower_bound\":1,\"gap\":\"small\",\"max_violation\":0}");
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check inst.json model.json bad.json -o c.json"), 2);
    cr_expect(strstr(err, "gap"), "%s", err);
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check inst.json model.json -o c.json"), 2);
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check inst.json model.json nofile.json -o c.json"), 2);
    snprintf(path, sizeof path, "%s/c.json", dir);
    cr_expect(!file_exists(path));
    cr_expect_eq(dir_count(dir), 5, "no temporary files are left behind");
    tmpdir_free(dir);
}

Test(cli_check, trajectory_metrics)
{
    char *dir = tmpdir_new(), err[1024], path[512], buf[4096];
    write_hand_files(dir, 25.0, 0, "optimal", 1e-12);
    double W[4];
    hand_wmm(2.0, W);
    /* W_k = k W^mm + (1, 0; 0, 0): the direction converges to W^mm */
    int len = snprintf(buf, sizeof buf, "k,loss,W_0_0,W_0_1,W_1_0,W_1_1\n");
    for (int k = 1; k <= 5; k++)
        len += snprintf(buf + len, sizeof buf - len, "%d,0.5,%.17g,%.17g,%.17g,%.17g\n", k * 10,
                        10 * k * W[0] + 1, 10 * k * W[1], 10 * k * W[2], 10 * k * W[3]);
    snprintf(path, sizeof path, "%s/traj.csv", dir);
    write_text(path, buf);
    int rc = run_mdatt(dir, err, sizeof err,
                       "check inst.json model.json svm.json --traj traj.csv -o out.json");
    cr_expect_eq(rc, 0, "%s", err);
    snprintf(path, sizeof path, "%s/out.traj.csv", dir);
    char *txt = read_text(path);
    cr_assert(txt, "default --traj-out beside -o");
    int lines = 0;
    for (char *c = txt; *c; c++)
        lines += *c == '\n';
    cr_expect_eq(lines, 6);
    cr_expect(strncmp(txt, "k,bregman_dir,cosine,one_minus_cosine,margin_ratio", 50) == 0);
    {   /* row by row: k as given, the cosine with W^mm recomputed here, and
         * the divergence falling as the direction converges */
        const char *line = strchr(txt, '\n');
        double prev = INFINITY, nm = 0;
        for (int j = 0; j < 4; j++) nm += W[j] * W[j];
        for (int k = 1; k <= 5 && line; k++, line = strchr(line + 1, '\n')) {
            double kk, breg, cosv, dot = 0, nk = 0;
            cr_assert_eq(sscanf(line + 1, "%lf,%lf,%lf", &kk, &breg, &cosv), 3, "row %d", k);
            for (int j = 0; j < 4; j++) {
                const double wk = 10 * k * W[j] + (j == 0);
                dot += wk * W[j];
                nk += wk * wk;
            }
            cr_expect_eq(kk, 10.0 * k);
            cr_expect(fabs(cosv - dot / sqrt(nk * nm)) < 1e-12, "row %d: cosine %.17g", k, cosv);
            cr_expect(breg < prev, "row %d: divergence %g after %g", k, breg, prev);
            prev = breg;
        }
    }
    free(txt);
    /* a missing W column is bad input naming the column */
    snprintf(path, sizeof path, "%s/traj2.csv", dir);
    write_text(path, "k,W_0_0,W_0_1,W_1_0\n1,1,2,3\n");
    rc = run_mdatt(dir, err, sizeof err, "check inst.json model.json svm.json --traj traj2.csv "
                                         "--traj-out t2.csv -o out2.json");
    cr_expect_eq(rc, 2);
    cr_expect(strstr(err, "W_1_1"), "%s", err);
    snprintf(path, sizeof path, "%s/out2.json", dir);
    cr_expect(!file_exists(path));
    tmpdir_free(dir);
}

/* The certificate recomputed by mdatt check catches a tampered svm file whose
 * own "gap" field still claims optimality. */
Test(cli_check, tampered_certificate_is_caught)
{
    char *dir = tmpdir_new(), err[4096], p[600];
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "gen --seed 3 -o i.json"), 0, "%s", err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "train i.json --p 2 --lr 0.1 --iters 2000 "
                                                 "--normalized -o m.json"), 0, "%s", err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "svm i.json --p 2 --alpha-from m.json -o s.json"), 0,
                 "%s", err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "check i.json m.json s.json --max-bregman 1 -o c.json"),
                 0, "%s", err);
    snprintf(p, sizeof p, "%s/s.json", dir);
    char *s = read_text(p), *lam = strstr(s, "\"lambda\": ");
    cr_assert_not_null(lam);
    lam[10] = lam[10] == '9' ? '1' : '9';   /* change one multiplier's leading digit */
    snprintf(p, sizeof p, "%s/t.json", dir);
    write_text(p, s);
    free(s);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "check i.json m.json t.json --max-bregman 1 -o c2.json"),
                 1, "%s", err);
    snprintf(p, sizeof p, "%s/c2.json", dir);
    char *c = read_text(p);
    cr_assert(c && strstr(c, "certificate recomputed"), "%s", c ? c : "(no file)");
    free(c);
    tmpdir_free(dir);
}

/* s with the number after "key": replaced by val (s is rewritten in place
 * into out, which must be large enough). */
static void set_field(const char *s, const char *key, const char *val, char *out)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *at = strstr(s, pat);
    cr_assert_not_null(at, "%s missing", key);
    at += strlen(pat);
    const char *end = at + strcspn(at, ",\n}");
    sprintf(out, "%.*s%s%s", (int)(at - s), s, val, end);
}

/* A solved instance i.json with a model m.json and its svm s.json in dir. */
static void solved_files(const char *dir, char *err, size_t len)
{
    cr_assert_eq(run_mdatt(dir, err, len, "gen --seed 3 -o i.json"), 0, "%s", err);
    cr_assert_eq(run_mdatt(dir, err, len, "train i.json --p 2 --lr 0.1 --iters 2000 "
                                          "--normalized -o m.json"), 0, "%s", err);
    cr_assert_eq(run_mdatt(dir, err, len, "svm i.json --p 2 --alpha-from m.json -o s.json"), 0,
                 "%s", err);
}

/* Every figure an svm file states is compared with its recomputation: an
 * edited objective (65536 for about 3.3) used to pass with margin ratio
 * 19606, an edited lower bound or violation went unnoticed. */
Test(cli_check, edited_figures_are_caught)
{
    char *dir = tmpdir_new(), err[4096], p[600];
    solved_files(dir, err, sizeof err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "check i.json m.json s.json --max-bregman 1"), 0,
                 "%s", err);
    snprintf(p, sizeof p, "%s/s.json", dir);
    char *s = read_text(p), *t = malloc(strlen(s) + 100);
    const struct { const char *key, *val; } edits[] = {
        {"objective", "65536"}, {"lower_bound", "3"}, {"max_violation", "0.5"}, {"gap", "0.25"}};
    for (size_t k = 0; k < sizeof edits / sizeof edits[0]; k++) {
        set_field(s, edits[k].key, edits[k].val, t);
        snprintf(p, sizeof p, "%s/t.json", dir);
        write_text(p, t);
        cr_expect_eq(run_mdatt(dir, err, sizeof err, "check i.json m.json t.json --max-bregman 1 "
                                                     "--max-gap 1 -o c.json"), 1,
                     "%s edited: %s", edits[k].key, err);
        snprintf(p, sizeof p, "%s/c.json", dir);
        char *c = read_text(p), want[64];
        snprintf(want, sizeof want, "svm %s %s disagrees", edits[k].key, edits[k].val);
        cr_expect(c && strstr(c, want), "%s edited: %s", edits[k].key, c ? c : "(no file)");
        free(c);
    }
    free(s);
    free(t);
    tmpdir_free(dir);
}

/* A support pair of the svm file must be an active constraint with a positive
 * multiplier; the reason names the entry and its pair [i,t].  The hand files'
 * only constraint is [0,1] (alpha = 0); its multiplier set to 0 makes the
 * support entry inactive. */
Test(cli_check, inactive_support_pair_is_named)
{
    char *dir = tmpdir_new(), err[1024], path[512];
    write_hand_files(dir, 25.0, 0, "optimal", 0);
    snprintf(path, sizeof path, "%s/svm.json", dir);
    char *s = read_text(path), *lam = s ? strstr(s, "\"lambda\":0.1}") : NULL;
    cr_assert_not_null(lam);
    memmove(lam + 10, lam + 12, strlen(lam + 12) + 1);     /* 0.1 -> 0 */
    write_text(path, s);
    free(s);
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check inst.json model.json svm.json "
                                                 "--max-gap 1 -o c.json"), 1, "%s", err);
    snprintf(path, sizeof path, "%s/c.json", dir);
    char *c = read_text(path);
    cr_expect(c && strstr(c, "svm support[0] = [0,1] is not an active constraint with a "
                             "positive multiplier"), "%s", c ? c : "(no file)");
    free(c);
    tmpdir_free(dir);
}

/* What check recomputes about the files: the SVM's own minimum margin,
 * min_r a_r.x / ||x||_p * ||x||_p = 1 at the hand W^mm, and whether the
 * model file's alpha is the argmax of its W (sample 0 edited to disagree). */
Test(cli_check, svm_margin_and_model_alpha_recomputed)
{
    char *dir = tmpdir_new(), err[1024], path[512];
    write_hand_files(dir, 25.0, 0, "optimal", 0);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "check inst.json model.json svm.json -o c.json"),
                 0, "%s", err);
    snprintf(path, sizeof path, "%s/c.json", dir);
    char *c = read_text(path);
    cr_assert_not_null(c);
    cr_expect(fabs(json_num(c, "svm_min_margin") - 1.0) <= 1e-12, "%s", c);
    cr_expect(strstr(c, "\"model_alpha_agrees\": true"), "%s", c);
    free(c);
    snprintf(path, sizeof path, "%s/model.json", dir);
    char *m = read_text(path), *a = m ? strstr(m, "\"alpha\":[0]") : NULL;
    cr_assert_not_null(a);
    a[9] = '1';
    write_text(path, m);
    free(m);
    run_mdatt(dir, err, sizeof err, "check inst.json model.json svm.json -o c.json");
    snprintf(path, sizeof path, "%s/c.json", dir);
    c = read_text(path);
    cr_expect(c && strstr(c, "\"model_alpha_agrees\": false"), "%s", c ? c : err);
    free(c);
    tmpdir_free(dir);
}

/* The recomputed upper bound of an infeasible point is that of the point
 * scaled onto the feasible set: ||x||_p / min(1, min_r a_r.x).  The hand
 * W^mm halved has its only row at 0.5: UB = ||W^mm||_2, not half of it. */
Test(cli_check, recomputed_upper_bound_rescales_an_infeasible_svm)
{
    char *dir = tmpdir_new(), err[MDATT_ERRLEN], path[512];
    write_hand_files(dir, 25.0, 0, "optimal", 0);
    mdatt_instance in;
    mdatt_svm s;
    snprintf(path, sizeof path, "%s/inst.json", dir);
    cr_assert_eq(mdatt_instance_read(path, &in, err), MDATT_OK, "%s", err);
    snprintf(path, sizeof path, "%s/svm.json", dir);
    cr_assert_eq(mdatt_svm_read(path, &s, err), MDATT_OK, "%s", err);
    double W[4];
    const double obj = hand_wmm(2.0, W);
    mdatt_svm_figures f;
    mdatt_svm_recompute(&in, &s, &f);
    cr_expect(fabs(f.upper - obj) <= 1e-13 * obj && f.max_violation == 0, "UB %.17g", f.upper);
    for (int j = 0; j < 4; j++)
        s.x[j] *= 0.5;
    mdatt_svm_recompute(&in, &s, &f);
    cr_expect(fabs(f.upper - obj) <= 1e-13 * obj, "halved: UB %.17g, want %.17g", f.upper, obj);
    cr_expect(f.max_violation > 0, "violation %g", f.max_violation);
    mdatt_svm_free(&s);
    mdatt_instance_free(&in);
    tmpdir_free(dir);
}

/* Multipliers that name no constraint (sample or token out of range, a
 * negative or NaN lambda) are left out of the recomputed lower bound, which
 * stays the weak-duality bound of the valid ones: the figures equal those of
 * the file without them.  Token T, one past the last, of the first and the
 * last sample would read the next sample's first token or past the end. */
Test(cli_check, recomputed_bound_ignores_multipliers_that_name_no_constraint)
{
    char *dir = tmpdir_new(), err[MDATT_ERRLEN], path[512];
    solved_files(dir, err, sizeof err);
    mdatt_instance in;
    mdatt_svm s;
    snprintf(path, sizeof path, "%s/i.json", dir);
    cr_assert_eq(mdatt_instance_read(path, &in, err), MDATT_OK, "%s", err);
    snprintf(path, sizeof path, "%s/s.json", dir);
    cr_assert_eq(mdatt_svm_read(path, &s, err), MDATT_OK, "%s", err);
    cr_assert(s.ndual > 0 && in.n > 1);
    mdatt_svm_figures f0, f1;
    mdatt_svm_recompute(&in, &s, &f0);
    cr_assert(isfinite(f0.lower) && f0.lower > 0, "lower %g", f0.lower);
    const mdatt_svm_mult bad[] = {{0, in.T, 1.0}, {in.n - 1, in.T, 1.0}, {0, -1, 1.0},
                                  {-1, 0, 1.0}, {in.n, 0, 1.0}, {0, 0, -1.0}, {0, 0, NAN}};
    const int nbad = (int)(sizeof bad / sizeof *bad);
    mdatt_svm_mult *d = realloc(s.dual, sizeof *d * (size_t)(s.ndual + nbad));
    cr_assert_not_null(d);
    s.dual = d;
    memcpy(d + s.ndual, bad, sizeof bad);
    s.ndual += nbad;
    mdatt_svm_recompute(&in, &s, &f1);
    cr_expect(f1.lower == f0.lower && f1.upper == f0.upper && f1.gap == f0.gap,
              "lower %.17g vs %.17g", f1.lower, f0.lower);
    mdatt_svm_free(&s);
    mdatt_instance_free(&in);
    tmpdir_free(dir);
}

/* The thresholds are inclusive (doc/mdatt.1): a run that meets each one with
 * equality passes, and one step beyond any of them fails naming it.  The
 * values are the %.17g numbers of a first check's JSON (exact round trip). */
Test(cli_check, thresholds_are_inclusive)
{
    char *dir = tmpdir_new(), err[4096], p[600], args[600];
    solved_files(dir, err, sizeof err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "check i.json m.json s.json --max-bregman 1 "
                                                 "-o c.json"), 0, "%s", err);
    snprintf(p, sizeof p, "%s/c.json", dir);
    char *c = read_text(p);
    cr_assert_not_null(c);
    const double v[4] = {json_num(c, "bregman_dir"), json_num(c, "cosine"),
                         json_num(c, "margin_ratio"), json_num(c, "gap")};
    free(c);
    const char *flag[4] = {"--max-bregman", "--min-cosine", "--min-margin", "--max-gap"};
    const char *name[4] = {"bregman_dir", "cosine", "margin_ratio", "svm gap"};
    const int upper[4] = {1, 0, 0, 1};
    for (int beyond = -1; beyond < 4; beyond++) {
        if (beyond == 3 && v[3] == 0.0)
            continue;   /* a gap of 0 has no step below it (--max-gap >= 0) */
        int len = snprintf(args, sizeof args, "check i.json m.json s.json -o c.json");
        for (int k = 0; k < 4; k++) {
            const double t = k != beyond ? v[k] : nextafter(v[k], upper[k] ? 0.0 : 2.0);
            len += snprintf(args + len, sizeof args - len, " %s %.17g", flag[k], t);
        }
        const int rc = run_mdatt(dir, err, sizeof err, "%s", args);
        c = read_text(p);
        if (beyond < 0) {
            cr_expect_eq(rc, 0, "every threshold met with equality: %s", c ? c : err);
        } else {
            char want[64];
            snprintf(want, sizeof want, "\"%s ", name[beyond]);
            cr_expect(rc == 1 && c && strstr(c, want), "%s one step beyond: rc %d, %s",
                      flag[beyond], rc, c ? c : err);
        }
        free(c);
    }
    tmpdir_free(dir);
}

/* Model and svm files name their instance: another instance is said to be
 * one (it used to give "gap nan"); files without the field still load. */
Test(cli_check, another_instance_is_named)
{
    char *dir = tmpdir_new(), err[4096], p[600];
    solved_files(dir, err, sizeof err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "gen --seed 4 -o j.json"), 0, "%s", err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "svm j.json --p 2 -o sj.json"), 0, "%s", err);
    int rc = run_mdatt(dir, err, sizeof err, "check i.json m.json sj.json --max-bregman 1");
    cr_expect_eq(rc, 2, "%s", err);
    cr_expect(strstr(err, "sj.json was computed for another instance") && !strstr(err, "nan"),
              "%s", err);
    rc = run_mdatt(dir, err, sizeof err, "check j.json m.json sj.json --max-bregman 1");
    cr_expect(rc == 2 && strstr(err, "m.json was trained on another instance"), "%d %s", rc, err);
    /* the hash is the documented FNV-1a of the canonical numbers */
    mdatt_instance in;
    char e2[MDATT_ERRLEN], want[64];
    snprintf(p, sizeof p, "%s/i.json", dir);
    cr_assert_eq(mdatt_instance_read(p, &in, e2), MDATT_OK, "%s", e2);
    snprintf(p, sizeof p, "%s/s.json", dir);
    char *s = read_text(p);
    snprintf(want, sizeof want, "\"instance_hash\": \"fnv1a64:%016llx\"",
             (unsigned long long)mdatt_instance_hash(&in));
    cr_expect(s && strstr(s, want), "%s not in s.json", want);
    /* older files without the field: accepted, with one note */
    char *line = s ? strstr(s, "\n  \"instance_hash\"") : NULL;
    cr_assert_not_null(line);
    memmove(line, strchr(line + 1, '\n'), strlen(strchr(line + 1, '\n')) + 1);
    snprintf(p, sizeof p, "%s/old.json", dir);
    write_text(p, s);
    rc = run_mdatt(dir, err, sizeof err, "check i.json m.json old.json --max-bregman 1");
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(err, "old.json records no instance_hash"), "%s", err);
    const char *first = strstr(err, "note");
    cr_expect(first && !strstr(first + 1, "note"), "the note is given once: %s", err);
    mdatt_instance_free(&in);
    free(s);
    tmpdir_free(dir);
}

/* check --traj refuses what `mdatt rate` refuses (it used to measure them and
 * write the NaN rows on), naming the file and the line. */
Test(cli_check, bad_trajectory_rows_are_refused)
{
    char *dir = tmpdir_new(), err[4096], p[600];
    solved_files(dir, err, sizeof err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "train i.json --p 2 --lr 0.1 --iters 30 "
                                                 "--normalized --log t.csv --log-w --log-every 10 "
                                                 "-o m2.json"), 0, "%s", err);
    snprintf(p, sizeof p, "%s/t.csv", dir);
    char *t = read_text(p);
    cr_assert_not_null(t);
    /* lines: 1 header, 2 k=0, 3 k=10, 4 k=20, 5 k=30 */
    char *l3 = strchr(strchr(t, '\n') + 1, '\n') + 1, *l4 = strchr(l3, '\n') + 1;
    const struct { const char *prefix, *rest, *want; } cases[] = {
        {"10", l4 + 2, "t2.csv: line 4: k = 10 is not above"},     /* repeated k */
        {"5", l4 + 2, "t2.csv: line 4: k = 5 is not above"},       /* decreasing k */
        {"-20", l4 + 2, "t2.csv: line 4: k = -20 must be a non-negative integer"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char buf[65536];
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(l4 - t), t, cases[k].prefix, cases[k].rest);
        snprintf(p, sizeof p, "%s/t2.csv", dir);
        write_text(p, buf);
        int rc = run_mdatt(dir, err, sizeof err, "check i.json m2.json s.json --max-bregman 2 "
                                                 "--traj t2.csv --traj-out o.csv");
        cr_expect_eq(rc, 2, "case %zu: %s", k, err);
        cr_expect(strstr(err, cases[k].want), "case %zu: %s", k, err);
    }
    /* a NaN entry of W on line 3 */
    char buf[65536], *w = strchr(l3, ',');
    for (int c = 0; c < 7; c++)         /* to the comma after the 7 metric columns */
        w = strchr(w + 1, ',');
    snprintf(buf, sizeof buf, "%.*snan%s", (int)(w + 1 - t), t, strchr(w + 1, ','));
    snprintf(p, sizeof p, "%s/t2.csv", dir);
    write_text(p, buf);
    cr_expect_eq(run_mdatt(dir, err, sizeof err, "check i.json m2.json s.json --max-bregman 2 "
                                                 "--traj t2.csv --traj-out o.csv"), 2);
    cr_expect(strstr(err, "t2.csv: line 3, column W_0_0: nan is not finite"), "%s", err);
    snprintf(p, sizeof p, "%s/o.csv", dir);
    cr_expect(!file_exists(p), "no output for a refused trajectory");
    free(t);
    tmpdir_free(dir);
}
