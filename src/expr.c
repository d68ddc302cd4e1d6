/* expr.c - bound expressions in k for `mdatt rate --claim`, e.g.
 * "0.5*log(log(k))/log(k)".  A recursive-descent parser builds a small tree:
 *
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | power
 *   power   := primary ('^' unary)?            right associative
 *   primary := number | 'k' | '(' expr ')' | func '(' expr ')' | 'pow' '(' expr ',' expr ')'
 *   func    := log | exp | sqrt | abs
 *
 * Errors name the 1-based character position. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mdatt.h"
#include "mdatt_rate.h"

typedef enum {
    E_NUM, E_K, E_NEG, E_ADD, E_SUB, E_MUL, E_DIV, E_POW, E_LOG, E_EXP, E_SQRT, E_ABS
} expr_op;

struct mdatt_expr {
    expr_op op;
    double value;               /* E_NUM */
    struct mdatt_expr *l, *r;   /* operands (unary: l only) */
};

typedef struct {
    const char *s;      /* whole input */
    const char *c;      /* cursor */
    char *err;          /* MDATT_ERRLEN buffer; first error wins */
    int failed;
    int depth;
} parser;

#define MAX_DEPTH 200

static void perr(parser *P, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void perr(parser *P, const char *at, const char *fmt, ...)
{
    if (P->failed)
        return;
    P->failed = 1;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(P->err, MDATT_ERRLEN, "position %d: %s", (int)(at - P->s) + 1, msg);
}

static mdatt_expr *node(parser *P, expr_op op, mdatt_expr *l, mdatt_expr *r)
{
    mdatt_expr *e = calloc(1, sizeof *e);
    if (!e) {
        perr(P, P->c, "out of memory");
        mdatt_expr_free(l);
        mdatt_expr_free(r);
        return NULL;
    }
    e->op = op;
    e->l = l;
    e->r = r;
    return e;
}

static void skip(parser *P)
{
    while (isspace((unsigned char)*P->c))
        P->c++;
}

/* Consume character ch (after spaces) if it is next. */
static int accept(parser *P, char ch)
{
    skip(P);
    if (*P->c == ch) {
        P->c++;
        return 1;
    }
    return 0;
}

static void expect(parser *P, char ch)
{
    if (!accept(P, ch)) {
        if (*P->c)
            perr(P, P->c, "expected '%c', found '%c'", ch, *P->c);
        else
            perr(P, P->c, "expected '%c' at the end of the expression", ch);
    }
}

static mdatt_expr *parse_expr(parser *P);
static mdatt_expr *parse_unary(parser *P);

/* Decimal number: digits [. digits] [e [+-] digits] (no inf, nan or hex). */
static mdatt_expr *parse_number(parser *P)
{
    const char *b = P->c, *c = P->c;
    int digits = 0;
    while (isdigit((unsigned char)*c)) c++, digits++;
    if (*c == '.')
        for (c++; isdigit((unsigned char)*c); c++) digits++;
    if (!digits) {
        perr(P, b, "malformed number");
        return NULL;
    }
    if (*c == 'e' || *c == 'E') {
        const char *e = c + 1;
        if (*e == '+' || *e == '-')
            e++;
        if (!isdigit((unsigned char)*e)) {
            perr(P, c, "malformed exponent of a number");
            return NULL;
        }
        while (isdigit((unsigned char)*e)) e++;
        c = e;
    }
    char buf[64];
    if (c - b >= (long)sizeof buf) {
        perr(P, b, "number too long");
        return NULL;
    }
    memcpy(buf, b, c - b);
    buf[c - b] = '\0';
    P->c = c;
    mdatt_expr *e = node(P, E_NUM, NULL, NULL);
    if (e) {
        e->value = strtod(buf, NULL);
        if (!isfinite(e->value))
            perr(P, b, "number out of range");
    }
    return e;
}

static mdatt_expr *parse_primary(parser *P)
{
    skip(P);
    const char *at = P->c;
    if (isdigit((unsigned char)*at) || *at == '.')
        return parse_number(P);
    if (*at == '(') {
        P->c++;
        mdatt_expr *e = parse_expr(P);
        expect(P, ')');
        return e;
    }
    if (isalpha((unsigned char)*at) || *at == '_') {
        const char *c = at;
        while (isalnum((unsigned char)*c) || *c == '_') c++;
        size_t len = c - at;
        P->c = c;
        if (len == 1 && *at == 'k')
            return node(P, E_K, NULL, NULL);
        static const struct { const char *name; expr_op op; } fn[] = {
            {"log", E_LOG}, {"exp", E_EXP}, {"sqrt", E_SQRT}, {"abs", E_ABS}, {"pow", E_POW}};
        for (size_t j = 0; j < sizeof fn / sizeof fn[0]; j++)
            if (strlen(fn[j].name) == len && strncmp(fn[j].name, at, len) == 0) {
                skip(P);
                if (*P->c != '(') {
                    perr(P, P->c, "expected '(' after %s", fn[j].name);
                    return NULL;
                }
                P->c++;
                mdatt_expr *a = parse_expr(P), *b = NULL;
                if (fn[j].op == E_POW) {
                    expect(P, ',');
                    if (!P->failed)
                        b = parse_expr(P);
                }
                expect(P, ')');
                return node(P, fn[j].op, a, b);
            }
        perr(P, at, "unknown name '%.*s' (known: k, log, exp, sqrt, abs, pow)", (int)len, at);
        return NULL;
    }
    if (*at)
        perr(P, at, "unexpected '%c'", *at);
    else
        perr(P, at, "unexpected end of the expression");
    return NULL;
}

static mdatt_expr *parse_power(parser *P)
{
    mdatt_expr *l = parse_primary(P);
    if (!P->failed && accept(P, '^'))
        return node(P, E_POW, l, parse_unary(P));
    return l;
}

static mdatt_expr *parse_unary(parser *P)
{
    if (++P->depth > MAX_DEPTH) {
        perr(P, P->c, "expression nested too deeply");
        return NULL;
    }
    mdatt_expr *e;
    if (accept(P, '-'))
        e = node(P, E_NEG, parse_unary(P), NULL);
    else if (accept(P, '+'))
        e = parse_unary(P);
    else
        e = parse_power(P);
    P->depth--;
    return e;
}

static mdatt_expr *parse_term(parser *P)
{
    mdatt_expr *l = parse_unary(P);
    while (!P->failed) {
        if (accept(P, '*'))
            l = node(P, E_MUL, l, parse_unary(P));
        else if (accept(P, '/'))
            l = node(P, E_DIV, l, parse_unary(P));
        else
            break;
    }
    return l;
}

static mdatt_expr *parse_expr(parser *P)
{
    if (++P->depth > MAX_DEPTH) {
        perr(P, P->c, "expression nested too deeply");
        return NULL;
    }
    mdatt_expr *l = parse_term(P);
    while (!P->failed) {
        if (accept(P, '+'))
            l = node(P, E_ADD, l, parse_term(P));
        else if (accept(P, '-'))
            l = node(P, E_SUB, l, parse_term(P));
        else
            break;
    }
    P->depth--;
    return l;
}

mdatt_expr *mdatt_expr_parse(const char *s, char err[MDATT_ERRLEN])
{
    parser P = {s, s, err, 0, 0};
    mdatt_expr *e = parse_expr(&P);
    skip(&P);
    if (!P.failed && *P.c)
        perr(&P, P.c, "unexpected '%c' after a complete expression", *P.c);
    if (P.failed) {
        mdatt_expr_free(e);
        return NULL;
    }
    return e;
}

double mdatt_expr_eval(const mdatt_expr *e, double k)
{
    switch (e->op) {
    case E_NUM: return e->value;
    case E_K: return k;
    case E_NEG: return -mdatt_expr_eval(e->l, k);
    case E_ADD: return mdatt_expr_eval(e->l, k) + mdatt_expr_eval(e->r, k);
    case E_SUB: return mdatt_expr_eval(e->l, k) - mdatt_expr_eval(e->r, k);
    case E_MUL: return mdatt_expr_eval(e->l, k) * mdatt_expr_eval(e->r, k);
    case E_DIV: return mdatt_expr_eval(e->l, k) / mdatt_expr_eval(e->r, k);
    case E_POW: return pow(mdatt_expr_eval(e->l, k), mdatt_expr_eval(e->r, k));
    case E_LOG: return log(mdatt_expr_eval(e->l, k));
    case E_EXP: return exp(mdatt_expr_eval(e->l, k));
    case E_SQRT: return sqrt(mdatt_expr_eval(e->l, k));
    case E_ABS: return fabs(mdatt_expr_eval(e->l, k));
    }
    return NAN;
}

void mdatt_expr_free(mdatt_expr *e)
{
    if (!e)
        return;
    mdatt_expr_free(e->l);
    mdatt_expr_free(e->r);
    free(e);
}
