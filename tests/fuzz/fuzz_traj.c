/* fuzz_traj.c - the numeric CSV reader of trajectories (mdatt_csv_read), and
 * the column lookup `mdatt rate` and `mdatt check` do on it. */
#include <string.h>
#include "fuzz.h"
#include "mdatt.h"
#include "mdatt_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[MDATT_ERRLEN];
    int fd = fuzz_file(data, size, path);
    if (fd < 0)
        return 0;
    mdatt_csv c;
    memset(&c, 0, sizeof c);
    if (mdatt_csv_read(path, &c, err) == MDATT_OK) {
        volatile double sum = 0;   /* touch every cell: the shape must match */
        for (size_t j = 0; j < (size_t)c.nrow * c.ncol; j++)
            sum += c.data[j];
        (void)mdatt_csv_col(&c, "k");
        (void)mdatt_csv_col(&c, "bregman_dir");
    }
    mdatt_csv_free(&c);
    close(fd);
    return 0;
}
