/* driver.c - a main() for the fuzz targets without libFuzzer: replays files
 * through LLVMFuzzerTestOneInput and reports TAP, one line per file.
 *   fuzz_X [FILE|DIR]...   (no argument: the committed corpus
 *                           $MDATT_SRCDIR/tests/fuzz/corpus/<X>/, X from argv[0])
 * A reader defect shows as a crash or a sanitizer report, which ends the
 * program before its plan is complete, so the TAP driver counts a failure. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz.h"

/* Append path (a file) or the files of path (a folder, sorted) to *list. */
static void collect(const char *path, char ***list, int *n)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        printf("Bail out! %s: cannot open\n", path);
        exit(1);
    }
    if (!S_ISDIR(sb.st_mode)) {
        *list = realloc(*list, sizeof(char *) * (*n + 1));
        (*list)[(*n)++] = strdup(path);
        return;
    }
    struct dirent **ent;
    int m = scandir(path, &ent, NULL, alphasort);
    for (int j = 0; j < m; j++) {
        if (ent[j]->d_name[0] != '.') {
            char *p = malloc(strlen(path) + strlen(ent[j]->d_name) + 2);
            sprintf(p, "%s/%s", path, ent[j]->d_name);
            collect(p, list, n);
            free(p);
        }
        free(ent[j]);
    }
    free(ent);
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0;
    *size = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (*size == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 4096)))
            break;
        size_t r = fread(buf + *size, 1, cap - *size, f);
        *size += r;
        if (r == 0)
            break;
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    char **files = NULL, corpus[4096];
    int n = 0;
    if (argc > 1) {
        for (int a = 1; a < argc; a++)
            collect(argv[a], &files, &n);
    } else {
        const char *src = getenv("MDATT_SRCDIR"), *name = strrchr(argv[0], '/');
        name = name ? name + 1 : argv[0];
        if (strncmp(name, "lt-", 3) == 0)
            name += 3;
        if (strncmp(name, "fuzz_", 5) == 0)
            name += 5;
        snprintf(corpus, sizeof corpus, "%s/tests/fuzz/corpus/%s", src ? src : ".", name);
        collect(corpus, &files, &n);
    }
    printf("1..%d\n", n);
    fflush(stdout);
    for (int j = 0; j < n; j++) {
        size_t size;
        unsigned char *data = slurp(files[j], &size);
        if (!data) {
            printf("not ok %d - %s: cannot read\n", j + 1, files[j]);
            free(files[j]);
            continue;
        }
        LLVMFuzzerTestOneInput(data, size);
        printf("ok %d - %s (%zu bytes)\n", j + 1, files[j], size);
        fflush(stdout);
        free(data);
        free(files[j]);
    }
    free(files);
    return 0;
}
