/* fmnist.c - real data: IDX files (gzipped or plain, through zlib),
 * Fashion-MNIST's splits, patch tokens and the attention instance of
 * `mdatt fmnist` (tokens, mean-pooled query, linear-probe decoder). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "internal.h"
#include "mdatt.h"
#include "mdatt_fmnist.h"

#define FMNIST_PACKAGE "dataset-fashion-mnist"

/* Whole (decompressed) content of path; *len its size.  The gz layer reads
 * plain files unchanged.  At most max bytes are accepted. */
static mdatt_status slurp(const char *path, size_t max, unsigned char **buf, size_t *len,
                          char err[MDATT_ERRLEN])
{
    *buf = NULL;
    *len = 0;
    gzFile g = gzopen(path, "rb");
    if (!g)
        return mdatt__fail(err, MDATT_EIO, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    for (;;) {
        if (!b) {
            gzclose(g);
            return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", path);
        }
        if (n == cap) {
            if (cap >= max) {
                free(b);
                gzclose(g);
                return mdatt__fail(err, MDATT_EFORMAT, "%s: larger than %zu bytes: not an IDX file of this kind",
                            path, max);
            }
            cap *= 2;
            unsigned char *nb = realloc(b, cap);
            if (!nb)
                free(b);
            b = nb;
            continue;
        }
        unsigned want = cap - n > (1u << 30) ? (1u << 30) : (unsigned)(cap - n);
        int got = gzread(g, b + n, want);
        if (got < 0) {
            int zerr; /* gzerror's text lives in g: format it before gzclose */
            mdatt_status st = mdatt__fail(err, MDATT_EFORMAT, "%s: corrupt gzip data: %s", path,
                                          gzerror(g, &zerr));
            free(b);
            gzclose(g);
            return st;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    int zerr;
    const char *msg = gzerror(g, &zerr);
    if (zerr != Z_OK) {
        mdatt_status st =
            mdatt__fail(err, MDATT_EFORMAT, "%s: corrupt or truncated gzip data: %s", path, msg);
        free(b);
        gzclose(g);
        return st;
    }
    gzclose(g);
    *buf = b;
    *len = n;
    return MDATT_OK;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

mdatt_status mdatt_idx_read(const char *images_path, const char *labels_path, mdatt_images *out,
                            char err[MDATT_ERRLEN])
{
    memset(out, 0, sizeof *out);
    unsigned char *ib = NULL, *lb = NULL;
    size_t il, ll;
    mdatt_status st = slurp(images_path, (size_t)1 << 31, &ib, &il, err);
    if (st != MDATT_OK)
        return st;
    if ((st = slurp(labels_path, (size_t)1 << 28, &lb, &ll, err)) != MDATT_OK) {
        free(ib);
        return st;
    }
    if (il < 16 || be32(ib) != 0x803) {
        st = mdatt__fail(err, MDATT_EFORMAT, "%s: not an IDX image file (magic 0x%08x, want 0x00000803)",
                  images_path, il >= 4 ? be32(ib) : 0u);
        goto bad;
    }
    if (ll < 8 || be32(lb) != 0x801) {
        st = mdatt__fail(err, MDATT_EFORMAT, "%s: not an IDX label file (magic 0x%08x, want 0x00000801)",
                  labels_path, ll >= 4 ? be32(lb) : 0u);
        goto bad;
    }
    uint32_t n = be32(ib + 4), rows = be32(ib + 8), cols = be32(ib + 12), nl = be32(lb + 4);
    if (n == 0 || rows == 0 || cols == 0 || n > (1u << 30) || rows > 4096 || cols > 4096) {
        st = mdatt__fail(err, MDATT_EFORMAT, "%s: implausible header: %u images of %u x %u", images_path,
                  n, rows, cols);
        goto bad;
    }
    if ((uint64_t)il != 16 + (uint64_t)n * rows * cols) {
        st = mdatt__fail(err, MDATT_EFORMAT, "%s: %zu bytes after decompression, the header's %u images of "
                  "%u x %u need %llu", images_path, il, n, rows, cols,
                  (unsigned long long)(16 + (uint64_t)n * rows * cols));
        goto bad;
    }
    if (nl != n || ll != 8 + (size_t)nl) {
        st = mdatt__fail(err, MDATT_EFORMAT, "%s: %u labels in %zu bytes for %u images", labels_path, nl,
                  ll, n);
        goto bad;
    }
    out->n = (int)n;
    out->rows = (int)rows;
    out->cols = (int)cols;
    out->pixels = malloc((size_t)n * rows * cols);
    out->labels = malloc(n);
    if (!out->pixels || !out->labels) {
        mdatt_images_free(out);
        st = mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", images_path);
        goto bad;
    }
    memcpy(out->pixels, ib + 16, (size_t)n * rows * cols);
    memcpy(out->labels, lb + 8, n);
    st = MDATT_OK;
bad:
    free(ib);
    free(lb);
    return st;
}

void mdatt_images_free(mdatt_images *im)
{
    free(im->pixels);
    free(im->labels);
    memset(im, 0, sizeof *im);
}

const char *mdatt_fmnist_class_name(int label)
{
    static const char *names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    return label >= 0 && label < 10 ? names[label] : "?";
}

mdatt_status mdatt_fmnist_load(const char *dir, int test, mdatt_images *out, char err[MDATT_ERRLEN])
{
    char ip[1024], lp[1024];
    const char *pre = test ? "t10k" : "train";
    if (!dir)
        dir = MDATT_FMNIST_DIR;
    memset(out, 0, sizeof *out);
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, pre);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, pre);
    FILE *f = fopen(ip, "rb");
    FILE *g = fopen(lp, "rb");
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    if (!f || !g)
        return mdatt__fail(err, MDATT_EIO, "%s: Fashion-MNIST not found; install the Debian package %s "
                    "(apt-get install %s) or pass its folder", f ? lp : ip, FMNIST_PACKAGE,
                    FMNIST_PACKAGE);
    mdatt_status st = mdatt_idx_read(ip, lp, out, err);
    if (st != MDATT_OK)
        return st;
    const int want = test ? 10000 : 60000;
    if (out->rows != 28 || out->cols != 28 || out->n != want) {
        mdatt__fail(err, MDATT_EFORMAT, "%s: %d images of %d x %d, Fashion-MNIST's %s split has %d of "
                 "28 x 28 (reinstall %s)", ip, out->n, out->rows, out->cols, pre, want, FMNIST_PACKAGE);
        mdatt_images_free(out);
        return MDATT_EFORMAT;
    }
    for (int i = 0; i < out->n; i++)
        if (out->labels[i] > 9) {
            mdatt__fail(err, MDATT_EFORMAT, "%s: label %d of image %d is not in 0..9", lp,
                     out->labels[i], i);
            mdatt_images_free(out);
            return MDATT_EFORMAT;
        }
    return MDATT_OK;
}

void mdatt_image_patches(const mdatt_images *im, int i, int patch, double *out)
{
    const int gr = im->rows / patch, gc = im->cols / patch, P2 = patch * patch;
    const unsigned char *px = im->pixels + (size_t)i * im->rows * im->cols;
    for (int a = 0; a < gr; a++)
        for (int b = 0; b < gc; b++) {
            double *o = out + (size_t)(a * gc + b) * P2;
            for (int r = 0; r < patch; r++)
                for (int c = 0; c < patch; c++)
                    o[r * patch + c] = px[(a * patch + r) * im->cols + b * patch + c] / 255.0;
        }
}

void mdatt_fmnist_default_settings(mdatt_fmnist_settings *s)
{
    s->neg = 0;
    s->pos = 1;
    s->n = 1000;
    s->patch = 4;
    s->seed = 1;
    s->probe_iters = 300;
    s->probe_lr = 1.0;
}

/* Logistic loss derivative -1/(1+e^u) for margin u, without overflow. */
static double dlogistic(double u)
{
    return u > 0 ? -exp(-u) / (1.0 + exp(-u)) : -1.0 / (1.0 + exp(u));
}

mdatt_status mdatt_fmnist_instance(const mdatt_images *im, const mdatt_fmnist_settings *s,
                                   mdatt_instance *out, int *image_index, char err[MDATT_ERRLEN])
{
    memset(out, 0, sizeof *out);
    if (s->neg == s->pos || s->neg < 0 || s->pos < 0 || s->neg > 255 || s->pos > 255)
        return mdatt__fail(err, MDATT_EINVAL, "classes: need two different labels");
    if (s->patch < 1 || im->rows % s->patch || im->cols % s->patch)
        return mdatt__fail(err, MDATT_EINVAL, "patch: %d does not divide the %d x %d images", s->patch,
                    im->rows, im->cols);
    if (s->n < 2)
        return mdatt__fail(err, MDATT_EINVAL, "n: need at least 2 samples");
    if (s->probe_iters < 0 || !(s->probe_lr > 0))
        return mdatt__fail(err, MDATT_EINVAL, "probe: iterations >= 0 and step > 0 needed");
    const int cls[2] = {s->neg, s->pos}, want[2] = {s->n / 2, s->n - s->n / 2};
    int *idx[2] = {NULL, NULL}, cnt[2] = {0, 0};
    for (int c = 0; c < 2; c++) {
        idx[c] = malloc(sizeof(int) * (im->n > 0 ? im->n : 1));
        if (!idx[c]) {
            free(idx[0]);
            return mdatt__fail(err, MDATT_ENOMEM, "out of memory");
        }
        for (int i = 0; i < im->n; i++)
            if (im->labels[i] == cls[c])
                idx[c][cnt[c]++] = i;
    }
    for (int c = 0; c < 2; c++)
        if (cnt[c] < want[c]) {
            mdatt_status st = mdatt__fail(err, MDATT_EINVAL, "n: %d samples need %d images of class %d, the "
                                   "split has %d", s->n, want[c], cls[c], cnt[c]);
            free(idx[0]);
            free(idx[1]);
            return st;
        }
    /* Seeded partial Fisher-Yates per class: the first want[c] are the draw. */
    mdatt_rng rng;
    mdatt_rng_seed(&rng, s->seed);
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < want[c]; k++) {
            int j = k + (int)(mdatt_rng_uniform(&rng) * (cnt[c] - k));
            int t = idx[c][k];
            idx[c][k] = idx[c][j];
            idx[c][j] = t;
        }
    const int P = s->patch, P2 = P * P, gr = im->rows / P, gc = im->cols / P, T = gr * gc,
              d = P2 + 2;
    mdatt_status st = mdatt_instance_alloc(out, s->n, T, d);
    double *patch = malloc(sizeof(double) * T * P2), *m = malloc(sizeof(double) * s->n * d),
           *g = malloc(sizeof(double) * d);
    if (st != MDATT_OK || !patch || !m || !g) {
        st = mdatt__fail(err, MDATT_ENOMEM, "out of memory");
        goto out;
    }
    int used[2] = {0, 0};
    for (int i = 0; i < s->n; i++) {
        /* Interleave the classes: neg, pos, neg, pos, ... while both last. */
        int c = used[0] >= want[0] ? 1 : used[1] >= want[1] ? 0 : i % 2;
        const int img = idx[c][used[c]++];
        if (image_index)
            image_index[i] = img;
        out->Y[i] = c ? 1.0 : -1.0;
        mdatt_image_patches(im, img, P, patch);
        double *zi = out->Z + (size_t)i * d;
        for (int t = 0; t < T; t++) {
            double *x = out->X + ((size_t)i * T + t) * d;
            for (int j = 0; j < P2; j++)
                x[j] = patch[t * P2 + j] / P;
            x[P2] = gr > 1 ? 2.0 * (t / gc) / (gr - 1) - 1.0 : 0.0;
            x[P2 + 1] = gc > 1 ? 2.0 * (t % gc) / (gc - 1) - 1.0 : 0.0;
            for (int j = 0; j < d; j++)
                zi[j] += x[j] / T;
        }
        memcpy(m + (size_t)i * d, zi, sizeof(double) * d);
    }
    /* Linear probe: GD on (1/n) sum_i log(1 + exp(-Y_i v^T m_i)) from v = 0,
     * step probe_lr / L with L = mean ||m_i||^2 / 4 >= the Hessian's norm. */
    double msq = 0.0;
    for (int k = 0; k < s->n * d; k++)
        msq += m[k] * m[k] / s->n;
    const double step = msq > 0 ? s->probe_lr * 4.0 / msq : 0.0;
    for (int it = 0; it < s->probe_iters; it++) {
        memset(g, 0, sizeof(double) * d);
        for (int i = 0; i < s->n; i++) {
            const double *mi = m + (size_t)i * d;
            double u = 0.0;
            for (int j = 0; j < d; j++)
                u += out->v[j] * mi[j];
            const double c = dlogistic(out->Y[i] * u) * out->Y[i] / s->n;
            for (int j = 0; j < d; j++)
                g[j] += c * mi[j];
        }
        for (int j = 0; j < d; j++)
            out->v[j] -= step * g[j];
    }
    for (int j = 0; j < d; j++)
        if (!isfinite(out->v[j])) {
            st = mdatt__fail(err, MDATT_ENUMERIC, "probe: v[%d] is not finite (step too large)", j);
            goto out;
        }
    st = MDATT_OK;
out:
    if (st != MDATT_OK)
        mdatt_instance_free(out);
    free(idx[0]);
    free(idx[1]);
    free(patch);
    free(m);
    free(g);
    return st;
}
