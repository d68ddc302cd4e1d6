/* failalloc.h - allocation-failure injection for the test builds of both
 * libraries (tests/libmdatt_faults.la, tests/libattsvm_faults.la), which are
 * compiled with `-include tests/failalloc.h`: every malloc, calloc, realloc,
 * free, strdup and strndup of the library sources goes through the counting
 * wrappers of tests/failalloc.c, so the production sources need no changes.
 *
 * failalloc_reset(k) starts a count; the k-th allocation from then on fails
 * (returns NULL; k = 0: none fails).  failalloc_live() counts the blocks the
 * wrappers handed out and that are not freed yet: a leak check that works
 * without sanitizers.  Memory allocated elsewhere (GLPK, jansson, the C
 * library's own getline) is not counted; freeing it through the wrapper is
 * harmless.
 */
#ifndef MDATT_FAILALLOC_H
#define MDATT_FAILALLOC_H

/* The declarations first, before the macros below rename the calls. */
#include <stdlib.h>
#include <string.h>

void *failalloc_malloc(size_t n);
void *failalloc_calloc(size_t n, size_t size);
void *failalloc_realloc(void *p, size_t n);
void failalloc_free(void *p);
char *failalloc_strdup(const char *s);
char *failalloc_strndup(const char *s, size_t n);

/** Start counting; fail the k-th allocation from now on (k = 0: none). */
void failalloc_reset(long k);
/** Allocations attempted since the last reset (the failed one included). */
long failalloc_count(void);
/** Blocks handed out by the wrappers and not freed yet. */
long failalloc_live(void);
/** 1 once the planned failure has happened. */
int failalloc_failed(void);

#ifndef FAILALLOC_IMPLEMENTATION
#define malloc(n) failalloc_malloc(n)
#define calloc(n, size) failalloc_calloc(n, size)
#define realloc(p, n) failalloc_realloc(p, n)
#define free(p) failalloc_free(p)
#define strdup(s) failalloc_strdup(s)
#define strndup(s, n) failalloc_strndup(s, n)
#endif

#endif
