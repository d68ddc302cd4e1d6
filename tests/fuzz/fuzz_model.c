/* fuzz_model.c - the model JSON reader (mdatt_model_read). */
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
    mdatt_model m;
    memset(&m, 0, sizeof m);
    if (mdatt_model_read(path, &m, err) == MDATT_OK)
        mdatt_model_free(&m);
    close(fd);
    return 0;
}
