/* failalloc.c - the counting allocation wrappers of tests/failalloc.h.
 *
 * Live blocks are kept in an open-addressing hash set of addresses (linear
 * probing, backward-shift deletion), so that a block the wrappers did not
 * hand out (allocated by the C library, GLPK or jansson) is freed without
 * being counted.  A mutex makes the wrappers safe for threaded callers.
 */
#define FAILALLOC_IMPLEMENTATION
#include "failalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

enum { SLOTS = 1 << 18 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t set[SLOTS];    /* 0: empty */
static long nlive, count, fail_at;
static int failed;

static size_t slot_of(uintptr_t p)
{
    return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull >> 46) & (SLOTS - 1);
}

static void track(void *p)
{
    if (!p)
        return;
    if (nlive >= SLOTS - SLOTS / 4) {
        fprintf(stderr, "failalloc: more than %d live blocks\n", SLOTS - SLOTS / 4);
        abort();
    }
    size_t i = slot_of((uintptr_t)p);
    while (set[i])
        i = (i + 1) & (SLOTS - 1);
    set[i] = (uintptr_t)p;
    nlive++;
}

/* Remove the block at address p from the set (no effect if it is not there). */
static void untrack(uintptr_t p)
{
    if (!p)
        return;
    size_t i = slot_of(p);
    while (set[i] && set[i] != p)
        i = (i + 1) & (SLOTS - 1);
    if (!set[i])
        return;
    set[i] = 0;
    nlive--;
    /* Backward-shift the entries after i that probed past it. */
    for (size_t j = (i + 1) & (SLOTS - 1); set[j]; j = (j + 1) & (SLOTS - 1)) {
        const size_t h = slot_of(set[j]);
        if (((j - h) & (SLOTS - 1)) >= ((j - i) & (SLOTS - 1))) {
            set[i] = set[j];
            set[j] = 0;
            i = j;
        }
    }
}

/* Counts one allocation; 1 if it is the one to fail. */
static int must_fail(void)
{
    count++;
    if (fail_at > 0 && count == fail_at) {
        failed = 1;
        return 1;
    }
    return 0;
}

void *failalloc_malloc(size_t n)
{
    pthread_mutex_lock(&lock);
    void *p = must_fail() ? NULL : malloc(n);
    track(p);
    pthread_mutex_unlock(&lock);
    return p;
}

void *failalloc_calloc(size_t n, size_t size)
{
    pthread_mutex_lock(&lock);
    void *p = must_fail() ? NULL : calloc(n, size);
    track(p);
    pthread_mutex_unlock(&lock);
    return p;
}

/* The old address is only a key of the set after realloc, never read
 * through; GCC's use-after-free warning cannot tell. */
#if defined(__GNUC__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
void *failalloc_realloc(void *p, size_t n)
{
    pthread_mutex_lock(&lock);
    void *q = NULL;
    const uintptr_t old = (uintptr_t)p;
    if (!must_fail()) {
        q = realloc(p, n);
        if (q || n == 0) {
            untrack(old);
            track(q);
        }
    }
    pthread_mutex_unlock(&lock);
    return q;
}
#if defined(__GNUC__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

void failalloc_free(void *p)
{
    pthread_mutex_lock(&lock);
    untrack((uintptr_t)p);
    free(p);
    pthread_mutex_unlock(&lock);
}

char *failalloc_strdup(const char *s)
{
    char *d = failalloc_malloc(strlen(s) + 1);
    if (d)
        strcpy(d, s);
    return d;
}

char *failalloc_strndup(const char *s, size_t n)
{
    const size_t len = strnlen(s, n);
    char *d = failalloc_malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

void failalloc_reset(long k)
{
    pthread_mutex_lock(&lock);
    count = 0;
    fail_at = k;
    failed = 0;
    pthread_mutex_unlock(&lock);
}

long failalloc_count(void)
{
    pthread_mutex_lock(&lock);
    const long c = count;
    pthread_mutex_unlock(&lock);
    return c;
}

long failalloc_live(void)
{
    pthread_mutex_lock(&lock);
    const long c = nlive;
    pthread_mutex_unlock(&lock);
    return c;
}

int failalloc_failed(void)
{
    pthread_mutex_lock(&lock);
    const int f = failed;
    pthread_mutex_unlock(&lock);
    return f;
}
