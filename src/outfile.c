/* outfile.c - the output contract of every mdatt command (README, "Outputs"):
 *   "-"                 standard output;
 *   a device, FIFO, ... (not a regular file) written in place, never replaced;
 *   a symbolic link     followed: its target is replaced, the link kept;
 *   anything else       written to a temporary file beside the (final) target,
 *                       created with mode 0666 minus the umask (an existing
 *                       file keeps its mode), and renamed over it on commit.
 * Temporary files are registered so that SIGINT, SIGTERM and SIGHUP remove
 * them before the process dies: a killed command leaves no partial output. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "mdatt.h"
#include "mdatt_io.h"

/* ------------------------------------------------- temporary-file registry */

#define MAX_TEMPS 256

static char *volatile temps[MAX_TEMPS];     /* read by the signal handler */
static pthread_mutex_t temps_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;
static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* Async-signal-safe: unlink() every registered file, then die of the signal. */
static void on_signal(int sig)
{
    for (int k = 0; k < MAX_TEMPS; k++) {
        char *p = temps[k];
        if (p)
            unlink(p);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    for (size_t k = 0; k < sizeof cleanup_signals / sizeof cleanup_signals[0]; k++) {
        struct sigaction old, sa;
        if (sigaction(cleanup_signals[k], NULL, &old) != 0 || old.sa_handler != SIG_DFL)
            continue;           /* ignored or handled by the program: leave it */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        for (size_t j = 0; j < sizeof cleanup_signals / sizeof cleanup_signals[0]; j++)
            sigaddset(&sa.sa_mask, cleanup_signals[j]);
        sigaction(cleanup_signals[k], &sa, NULL);
    }
}

static void temp_register(char *path)
{
    pthread_once(&handlers_once, install_handlers);
    pthread_mutex_lock(&temps_mu);
    for (int k = 0; k < MAX_TEMPS; k++)
        if (!temps[k]) {
            temps[k] = path;
            break;
        }
    pthread_mutex_unlock(&temps_mu);
}

static void temp_unregister(const char *path)
{
    pthread_mutex_lock(&temps_mu);
    for (int k = 0; k < MAX_TEMPS; k++)
        if (temps[k] == path)
            temps[k] = NULL;
    pthread_mutex_unlock(&temps_mu);
}

/* ---------------------------------------------------------------- paths */

/* The file a path finally names: symbolic links followed (a dangling link
 * names the file it would create).  malloc'ed; NULL on a loop or no memory. */
static char *resolve_links(const char *path)
{
    char *cur = strdup(path);
    for (int hop = 0; cur && hop < 40; hop++) {
        struct stat sb;
        if (lstat(cur, &sb) != 0 || !S_ISLNK(sb.st_mode))
            return cur;
        char target[PATH_MAX];
        ssize_t len = readlink(cur, target, sizeof target - 1);
        if (len < 0) {
            free(cur);
            return NULL;
        }
        target[len] = '\0';
        const char *slash = strrchr(cur, '/');
        size_t dlen = target[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
        char *next = malloc(dlen + (size_t)len + 1);
        if (next) {
            memcpy(next, cur, dlen);
            memcpy(next + dlen, target, (size_t)len + 1);
        }
        free(cur);
        cur = next;
    }
    free(cur);
    errno = ELOOP;
    return NULL;
}

/* Create "<path>.tmp.XXXXXX" with O_EXCL and the given mode (the umask
 * applies), as mkstemp does but without its fixed mode 0600. */
static int create_temp(const char *path, char *tmp, size_t len, mode_t mode)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = ((uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() << 32 ^
                  (uint64_t)(uintptr_t)tmp) | 1;  /* xorshift needs a non-zero state */
    for (int attempt = 0; attempt < 100; attempt++) {
        char suffix[7];
        for (int k = 0; k < 6; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            suffix[k] = digits[x % (sizeof digits - 1)];
        }
        suffix[6] = '\0';
        snprintf(tmp, len, "%s.tmp.%s", path, suffix);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* ------------------------------------------------------------- outfile */

mdatt_status mdatt_outfile_open(mdatt_outfile *o, const char *path, char err[MDATT_ERRLEN])
{
    memset(o, 0, sizeof *o);
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->direct = 2;
        return MDATT_OK;
    }
    struct stat sb;
    int exists = stat(path, &sb) == 0;      /* follows links, /dev/stdout included */
    if (exists && S_ISDIR(sb.st_mode))
        return mdatt__fail(err, MDATT_EIO, "%s: cannot create: is a directory", path);
    if (exists && !S_ISREG(sb.st_mode)) {
        /* a device, FIFO or socket: write into it, never rename over it */
        o->direct = 1;
        if (!(o->path = strdup(path)))
            return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", path);
        if (!(o->f = fopen(path, "w"))) {
            mdatt_status st = mdatt__fail(err, MDATT_EIO, "%s: cannot open: %s", path, strerror(errno));
            mdatt_outfile_abort(o);
            return st;
        }
        return MDATT_OK;
    }
    if (!(o->path = resolve_links(path)))
        return mdatt__fail(err, errno == ELOOP ? MDATT_EIO : MDATT_ENOMEM, "%s: cannot resolve: %s",
                           path, strerror(errno));
    size_t len = strlen(o->path) + 16;
    if (!(o->tmp = malloc(len))) {
        mdatt_outfile_abort(o);
        return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", path);
    }
    int fd = create_temp(o->path, o->tmp, len, exists ? sb.st_mode & 07777 : 0666);
    if (fd < 0) {
        mdatt_status st = mdatt__fail(err, MDATT_EIO, "%s: cannot create: %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        mdatt_outfile_abort(o);
        return st;
    }
    temp_register(o->tmp);
    if (exists)                 /* the umask must not narrow an existing file's mode */
        (void)fchmod(fd, sb.st_mode & 07777);
    if (!(o->f = fdopen(fd, "w"))) {
        close(fd);
        mdatt_outfile_abort(o);
        return mdatt__fail(err, MDATT_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    return MDATT_OK;
}

mdatt_status mdatt_outfile_commit(mdatt_outfile *o, char err[MDATT_ERRLEN])
{
    int bad = ferror(o->f);
    bad |= fflush(o->f) != 0;
    if (o->direct != 2)
        bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (bad || (o->tmp && rename(o->tmp, o->path) != 0)) {
        mdatt_status st = mdatt__fail(err, MDATT_EIO, "%s: cannot write: %s",
                                      o->direct == 2 ? "standard output" : o->path, strerror(errno));
        mdatt_outfile_abort(o);
        return st;
    }
    if (o->tmp)
        temp_unregister(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
    return MDATT_OK;
}

void mdatt_outfile_abort(mdatt_outfile *o)
{
    if (o->f && o->direct != 2)
        fclose(o->f);
    else if (o->f)
        fflush(o->f);
    if (o->tmp) {
        unlink(o->tmp);
        temp_unregister(o->tmp);
    }
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
}

/* ------------------------------------------------------------ same file */

/* realpath() of a file that may not exist yet: its folder's, plus its name. */
static char *real_name(const char *path)
{
    char *r = realpath(path, NULL);
    if (r)
        return r;
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path + (slash == path))) : strdup(".");
    char *rd = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    if (!rd)
        return NULL;
    const char *base = slash ? slash + 1 : path;
    char *out = malloc(strlen(rd) + strlen(base) + 2);
    if (out)
        sprintf(out, "%s/%s", strcmp(rd, "/") ? rd : "", base);
    free(rd);
    return out;
}

int mdatt_same_file(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return 1;
    if (strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
        return 0;
    struct stat sa, sb;
    const int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea != eb)
        return 0;
    char *ra = resolve_links(a), *rb = resolve_links(b);
    char *na = ra ? real_name(ra) : NULL, *nb = rb ? real_name(rb) : NULL;
    int same = na && nb && strcmp(na, nb) == 0;
    free(ra);
    free(rb);
    free(na);
    free(nb);
    return same;
}
