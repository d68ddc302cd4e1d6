/* fuzz_instance.c - the instance JSON reader (mdatt_instance_read). */
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
    mdatt_instance in;
    memset(&in, 0, sizeof in);
    if (mdatt_instance_read(path, &in, err) == MDATT_OK)
        mdatt_instance_free(&in);
    close(fd);
    return 0;
}
