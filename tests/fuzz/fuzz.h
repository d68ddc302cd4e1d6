/* fuzz.h - shared by the fuzz targets: one libFuzzer entry point per reader
 * (LLVMFuzzerTestOneInput), built either with clang's libFuzzer
 * (tests/fuzz/fuzz.sh) or with driver.c, which replays a corpus as a TAP test.
 * The readers take paths, so an input is handed over as an anonymous
 * in-memory file named /proc/self/fd/N. */
#ifndef MDATT_FUZZ_H
#define MDATT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An in-memory file holding data[0..size); its path goes to path (size 64).
 * Returns the descriptor (close it when done) or -1. */
static inline int fuzz_file(const uint8_t *data, size_t size, char path[64])
{
    int fd = memfd_create("mdatt-fuzz", 0);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
