/* fuzz_svm.c - the svm JSON reader (mdatt_svm_read). */
#include <string.h>
#include "fuzz.h"
#include "mdatt.h"
#include "mdatt_io.h"
#include "mdatt_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[MDATT_ERRLEN];
    int fd = fuzz_file(data, size, path);
    if (fd < 0)
        return 0;
    mdatt_svm s;
    memset(&s, 0, sizeof s);
    if (mdatt_svm_read(path, &s, err) == MDATT_OK)
        mdatt_svm_free(&s);
    close(fd);
    return 0;
}
