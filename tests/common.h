/* common.h - helpers shared by the Criterion tests: temporary directories,
 * running the mdatt binary, reading files. */
#ifndef MDATT_TEST_COMMON_H
#define MDATT_TEST_COMMON_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A fresh temporary directory (malloc'ed path). */
static inline char *tmpdir_new(void)
{
    char *t = strdup("/tmp/mdatt-test-XXXXXX");
    return mkdtemp(t) ? t : NULL;
}

static inline void tmpdir_free(char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(dir);
}

static inline int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Number of entries in a directory (to check that nothing was left behind). */
static inline int dir_count(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

static inline void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Whole file as a malloc'ed string (NULL if missing). */
static inline char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc(len + 1);
    if (s && fread(s, 1, len, f) != (size_t)len) {
        free(s);
        s = NULL;
    }
    if (s)
        s[len] = '\0';
    fclose(f);
    return s;
}

/* The process's umask (read by setting it and back). */
static inline mode_t current_umask(void)
{
    mode_t m = umask(022);
    umask(m);
    return m;
}

/* Path of the built mdatt binary ($MDATT, set by make check). */
static inline const char *mdatt_bin(void)
{
    const char *b = getenv("MDATT");
    return b ? b : "./mdatt";
}

/* Run `mdatt ARGS` through the shell in dir; stderr is saved in err (size
 * errlen) and stdout discarded unless out_path is given.  Returns the exit code. */
static inline int run_mdatt(const char *dir, char *err, size_t errlen, const char *fmt, ...)
{
    char args[4096], cmd[8192], errpath[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(errpath, sizeof errpath, "%s/.stderr", dir);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >/dev/null 2>'%s'", dir, mdatt_bin(), args,
             errpath);
    int rc = system(cmd);
    if (err) {
        char *e = read_text(errpath);
        snprintf(err, errlen, "%s", e ? e : "");
        free(e);
    }
    unlink(errpath);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

#endif
