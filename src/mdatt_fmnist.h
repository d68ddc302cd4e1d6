/* mdatt_fmnist.h - libmdatt's real data: IDX image files, Fashion-MNIST and
 * the attention instances built from its patches (`mdatt fmnist`). */
#ifndef MDATT_FMNIST_H
#define MDATT_FMNIST_H

#include <stdint.h>
#include "mdatt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where Debian's `dataset-fashion-mnist` installs Fashion-MNIST. */
#define MDATT_FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/** Labelled 8-bit grey images (an IDX image file with its label file). */
typedef struct {
    int n;                  /**< images */
    int rows, cols;         /**< image size (28 x 28 for Fashion-MNIST) */
    unsigned char *pixels;  /**< n*rows*cols, row-major per image */
    unsigned char *labels;  /**< n labels */
} mdatt_images;

/** Read a gzipped (or plain) IDX3 image file and its IDX1 label file,
 *  validating magic numbers (0x803, 0x801), counts and sizes against the
 *  file lengths.  On failure err names the file and what is wrong. */
mdatt_status mdatt_idx_read(const char *images_path, const char *labels_path,
                            mdatt_images *out, char err[MDATT_ERRLEN]);
/** Fashion-MNIST's train (60 000) or test (10 000) split from dir (NULL:
 *  MDATT_FMNIST_DIR).  Missing files give MDATT_EIO with a message naming
 *  the Debian package to install; 28 x 28 images and labels < 10 are checked. */
mdatt_status mdatt_fmnist_load(const char *dir, int test, mdatt_images *out,
                               char err[MDATT_ERRLEN]);
/** Release the arrays of im (safe on a zeroed struct). */
void mdatt_images_free(mdatt_images *im);
/** "T-shirt/top", "Trouser", ... for labels 0..9 ("?" otherwise). */
const char *mdatt_fmnist_class_name(int label);

/** Patch tokens of image i: T = (rows/patch)*(cols/patch) patches of
 *  patch x patch pixels scaled to [0, 1], row-major over the patch grid and
 *  within a patch; out receives T*patch*patch values.  rows and cols must be
 *  multiples of patch. */
void mdatt_image_patches(const mdatt_images *im, int i, int patch, double *out);

/** How `mdatt fmnist` turns images into an attention instance. */
typedef struct {
    int neg, pos;           /**< classes with Y = -1 and Y = +1 (default 0, 1) */
    int n;                  /**< samples, balanced between the two (default 1000) */
    int patch;              /**< patch side in pixels (default 4: T = 49, d = 18) */
    uint64_t seed;          /**< which images: a seeded shuffle of each class (default 1) */
    int probe_iters;        /**< gradient steps of the linear probe for v (default 300) */
    double probe_lr;        /**< its step, in units of 1/L, L = mean ||m_i||^2 / 4 (default 1) */
} mdatt_fmnist_settings;
void mdatt_fmnist_default_settings(mdatt_fmnist_settings *s);

/** Build an instance from labelled images.  Tokens (d = patch^2 + 2): the
 *  patch's pixels in [0, 1] divided by patch (so the pixel block has norm
 *  <= 1), then its grid coordinates (row, col) mapped to [-1, 1], which makes
 *  every token of an image distinct.  Query z_i: the mean token of image i (a
 *  fixed mean-pooled query).  v: the linear probe, plain gradient descent on
 *  the logistic loss of (mean token, Y) from v = 0, no bias.  Samples: n/2
 *  of each class (n - n/2 of pos), drawn by a seeded shuffle, interleaved. */
/** image_index (n ints, may be NULL) receives the index in im of each sample. */
mdatt_status mdatt_fmnist_instance(const mdatt_images *im, const mdatt_fmnist_settings *s,
                                   mdatt_instance *out, int *image_index,
                                   char err[MDATT_ERRLEN]);

#ifdef __cplusplus
}
#endif
#endif
