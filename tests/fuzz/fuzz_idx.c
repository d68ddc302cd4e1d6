/* fuzz_idx.c - the IDX image and label reader of the real-data experiment
 * (mdatt_idx_read, plain or gzip).  The input holds both files: its first
 * two bytes give the length of the image file (modulo what is left), the
 * rest after the image file is the label file. */
#include <string.h>
#include "fuzz.h"
#include "mdatt.h"
#include "mdatt_fmnist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t split = ((size_t)data[0] << 8 | data[1]) % (size - 1);
    char ipath[64], lpath[64], err[MDATT_ERRLEN];
    int fi = fuzz_file(data + 2, split, ipath);
    int fl = fuzz_file(data + 2 + split, size - 2 - split, lpath);
    if (fi >= 0 && fl >= 0) {
        mdatt_images im;
        memset(&im, 0, sizeof im);
        if (mdatt_idx_read(ipath, lpath, &im, err) == MDATT_OK) {
            volatile unsigned s = 0;   /* every pixel and label is there */
            for (size_t j = 0; j < (size_t)im.n * im.rows * im.cols; j++)
                s += im.pixels[j];
            for (int j = 0; j < im.n; j++)
                s += im.labels[j];
        }
        mdatt_images_free(&im);
    }
    if (fi >= 0)
        close(fi);
    if (fl >= 0)
        close(fl);
    return 0;
}
