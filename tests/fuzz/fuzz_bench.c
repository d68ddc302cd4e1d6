/* fuzz_bench.c - the bench configuration reader: the JSON file, its
 * experiment and output fields and every experiment's own settings
 * (bench_check_config: each experiment stops after reading them). */
#include "fuzz.h"
#include "bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_file(data, size, path);
    if (fd < 0)
        return 0;
    char err[BENCH_ERRLEN];
    (void)bench_check_config(path, 4e9, err);   /* the default --max-memory */
    close(fd);
    return 0;
}
