/* fuzz_expr.c - the bound expressions of `mdatt rate --claim`
 * (mdatt_expr_parse, then mdatt_expr_eval at a few k). */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "mdatt.h"
#include "mdatt_rate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), err[MDATT_ERRLEN];
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    mdatt_expr *e = mdatt_expr_parse(s, err);
    if (e) {
        static const double ks[] = {0, 1, 2.5, 1e6, -1, 1e308};
        volatile double v = 0;
        for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++)
            v += mdatt_expr_eval(e, ks[j]);
        mdatt_expr_free(e);
    } else if (!memchr(err, '\0', sizeof err)) {
        abort();   /* the message must be a string */
    }
    free(s);
    return 0;
}
