/* npz.c - numpy's .npz files: a zip archive of .npy arrays (np.savez, stored
 * members; np.savez_compressed, deflated members), read and written without
 * Python.  Reading follows the zip central directory (zip64 sizes and offsets
 * included), inflates deflated members with zlib, checks each member's CRC-32
 * and parses the .npy header (format versions 1 to 3): little-endian float64,
 * float32, int64 and int32, C or Fortran order; every value is converted to
 * a double in C order.  Writing stores the members uncompressed (version 1
 * headers, float64 or int64), the layout np.savez produces.  Every message
 * names the file and, where there is one, the key. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "internal.h"
#include "mdatt.h"

#define NPZ_MAX_BYTES ((size_t)1 << 34)   /* 16 GiB: larger is refused, not read */

static uint32_t rd16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const unsigned char *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

int mdatt__is_zip(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char m[4];
    int zip = f && fread(m, 1, 4, f) == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
    if (f)
        fclose(f);
    return zip;
}

int mdatt__npz_name(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".npz") == 0;
}

void mdatt__npz_free(mdatt__npz *z)
{
    for (int k = 0; k < z->n; k++)
        free(z->arr[k].data);
    free(z->arr);
    memset(z, 0, sizeof *z);
}

const mdatt__npy *mdatt__npz_get(const mdatt__npz *z, const char *key)
{
    for (int k = 0; k < z->n; k++)
        if (strcmp(z->arr[k].name, key) == 0)
            return &z->arr[k];
    return NULL;
}

/* ------------------------------------------------------------ .npy header */

/* The value of 'key' in the header dict: pointer just after "'key':". */
static const char *hdr_field(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *p = strstr(h, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    return p;
}

/* Parse "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }". */
static mdatt_status parse_header(const char *h, mdatt__npy *a, int *fortran, const char *where,
                                 char err[MDATT_ERRLEN])
{
    const char *d = hdr_field(h, "descr"), *fo = hdr_field(h, "fortran_order"),
               *sh = hdr_field(h, "shape");
    if (!d || !fo || !sh || *d != '\'' || *sh != '(')
        return mdatt__fail(err, MDATT_EFORMAT, "%s: malformed .npy header", where);
    char descr[8] = "";
    const char *e = strchr(d + 1, '\'');
    if (!e || e - d - 1 >= (long)sizeof descr)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: malformed .npy dtype", where);
    memcpy(descr, d + 1, (size_t)(e - d - 1));
    if (strcmp(descr, "<f8") == 0 || strcmp(descr, "<f4") == 0)
        a->kind = 'f';
    else if (strcmp(descr, "<i8") == 0 || strcmp(descr, "<i4") == 0)
        a->kind = 'i';
    else
        return mdatt__fail(err, MDATT_EINVAL, "%s: dtype '%s' is not supported (little-endian "
                           "float64, float32, int64 or int32)", where, descr);
    a->itemsize = descr[2] == '8' ? 8 : 4;
    *fortran = strncmp(fo, "True", 4) == 0;
    a->rank = 0;
    a->count = 1;
    const char *p = sh + 1;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')')
            break;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || a->rank == MDATT_NPY_MAXRANK)
            return mdatt__fail(err, MDATT_EFORMAT, "%s: malformed .npy shape", where);
        a->shape[a->rank++] = v;
        if ((double)a->count * (double)v > (double)NPZ_MAX_BYTES)
            return mdatt__fail(err, MDATT_ENOMEM, "%s: array too large", where);
        a->count *= (size_t)v;
        p = end;
    }
    return MDATT_OK;
}

/* Element k of the raw little-endian buffer as a double. */
static double element(const unsigned char *raw, const mdatt__npy *a, size_t k)
{
    const unsigned char *q = raw + k * (size_t)a->itemsize;
    if (a->kind == 'f' && a->itemsize == 8) {
        uint64_t u = rd64(q);
        double x;
        memcpy(&x, &u, sizeof x);
        return x;
    }
    if (a->kind == 'f') {
        uint32_t u = rd32(q);
        float x;
        memcpy(&x, &u, sizeof x);
        return x;
    }
    if (a->itemsize == 8)
        return (double)(int64_t)rd64(q);
    return (double)(int32_t)rd32(q);
}

/* Decode one .npy member (buf, len) into a (data in C order). */
static mdatt_status parse_npy(const unsigned char *buf, size_t len, mdatt__npy *a,
                              const char *where, char err[MDATT_ERRLEN])
{
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: not a .npy array", where);
    size_t hl, off;
    if (buf[6] == 1) {
        hl = rd16(buf + 8);
        off = 10;
    } else if ((buf[6] == 2 || buf[6] == 3) && len >= 12) {
        hl = rd32(buf + 8);
        off = 12;
    } else {
        return mdatt__fail(err, MDATT_EFORMAT, "%s: .npy format version %d is not supported",
                           where, buf[6]);
    }
    if (hl > len - off)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: truncated .npy header", where);
    char *h = malloc(hl + 1);
    if (!h)
        return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", where);
    memcpy(h, buf + off, hl);
    h[hl] = '\0';
    int fortran = 0;
    mdatt_status st = parse_header(h, a, &fortran, where, err);
    free(h);
    if (st != MDATT_OK)
        return st;
    off += hl;
    if (len - off != a->count * (size_t)a->itemsize)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: %zu data bytes, the shape needs %zu", where,
                           len - off, a->count * (size_t)a->itemsize);
    if (!(a->data = malloc(sizeof(double) * (a->count ? a->count : 1))))
        return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", where);
    for (size_t k = 0; k < a->count; k++) {
        /* C-order position k -> its index in the file's order */
        size_t src = k;
        if (fortran && a->rank > 1) {  /* indices of k (last fastest), then Fortran offset */
            size_t rem = k, fs = a->count;
            src = 0;
            for (int r = a->rank - 1; r >= 0; r--) {
                size_t ir = rem % (size_t)a->shape[r];
                rem /= (size_t)a->shape[r];
                fs /= (size_t)a->shape[r];   /* product of shape[0..r) */
                src += ir * fs;
            }
        }
        a->data[k] = element(buf + off, a, src);
    }
    return MDATT_OK;
}

/* ------------------------------------------------------------- zip reading */

static mdatt_status slurp(const char *path, unsigned char **buf, size_t *len, char err[MDATT_ERRLEN])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mdatt__fail(err, MDATT_EIO, "%s: cannot open: %s", path, strerror(errno));
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return mdatt__fail(err, MDATT_EIO, "%s: cannot read: %s", path, strerror(errno));
    }
    if ((size_t)n > NPZ_MAX_BYTES) {
        fclose(f);
        return mdatt__fail(err, MDATT_ENOMEM, "%s: %ld bytes is too large", path, n);
    }
    *buf = malloc((size_t)n + 1);
    if (!*buf) {
        fclose(f);
        return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", path);
    }
    *len = fread(*buf, 1, (size_t)n, f);
    int bad = ferror(f) || *len != (size_t)n;
    fclose(f);
    if (bad) {
        free(*buf);
        return mdatt__fail(err, MDATT_EIO, "%s: cannot read", path);
    }
    return MDATT_OK;
}

/* One central directory entry. */
typedef struct {
    unsigned method;
    uint32_t crc;
    uint64_t csize, usize, offset;
    char name[MDATT_NPY_NAMELEN + 8];
    size_t entry_len;   /* bytes of this central record */
} zip_entry;

static mdatt_status central_entry(const unsigned char *p, size_t avail, zip_entry *e,
                                  const char *path, char err[MDATT_ERRLEN])
{
    if (avail < 46 || rd32(p) != 0x02014b50)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: corrupt zip central directory", path);
    size_t nl = rd16(p + 28), xl = rd16(p + 30), cl = rd16(p + 32);
    e->entry_len = 46 + nl + xl + cl;
    if (e->entry_len > avail)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: corrupt zip central directory", path);
    e->method = rd16(p + 10);
    e->crc = rd32(p + 16);
    e->csize = rd32(p + 20);
    e->usize = rd32(p + 24);
    e->offset = rd32(p + 42);
    if (nl >= sizeof e->name)
        return mdatt__fail(err, MDATT_EINVAL, "%s: member name too long", path);
    memcpy(e->name, p + 46, nl);
    e->name[nl] = '\0';
    /* zip64 extra field: the 0xFFFFFFFF fields follow in order */
    for (const unsigned char *x = p + 46 + nl; x + 4 <= p + 46 + nl + xl;) {
        size_t id = rd16(x), sz = rd16(x + 2);
        const unsigned char *v = x + 4, *vend = v + sz;
        if (vend > p + 46 + nl + xl)
            break;
        if (id == 1) {
            if (e->usize == 0xFFFFFFFFu && v + 8 <= vend) { e->usize = rd64(v); v += 8; }
            if (e->csize == 0xFFFFFFFFu && v + 8 <= vend) { e->csize = rd64(v); v += 8; }
            if (e->offset == 0xFFFFFFFFu && v + 8 <= vend) { e->offset = rd64(v); v += 8; }
        }
        x = vend;
    }
    return MDATT_OK;
}

/* The member's bytes, inflated if deflated, CRC checked; *out is malloc'ed. */
static mdatt_status member_bytes(const unsigned char *buf, size_t len, const zip_entry *e,
                                 unsigned char **out, const char *where, char err[MDATT_ERRLEN])
{
    if (e->offset > len || len - e->offset < 30 || rd32(buf + e->offset) != 0x04034b50)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: corrupt zip local header", where);
    const unsigned char *lh = buf + e->offset;
    uint64_t start = e->offset + 30 + rd16(lh + 26) + rd16(lh + 28);
    if (start > len || e->csize > len - start)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: truncated zip member", where);
    if (e->usize > NPZ_MAX_BYTES)
        return mdatt__fail(err, MDATT_ENOMEM, "%s: member too large", where);
    if (e->method != 0 && e->method != 8)
        return mdatt__fail(err, MDATT_EINVAL, "%s: zip compression method %u is not supported "
                           "(stored or deflated)", where, e->method);
    if (e->method == 0 && e->csize != e->usize)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: stored member with differing sizes", where);
    if (!(*out = malloc(e->usize ? e->usize : 1)))
        return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", where);
    if (e->method == 0) {
        memcpy(*out, buf + start, e->usize);
    } else {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        int ok = inflateInit2(&zs, -MAX_WBITS) == Z_OK;
        uint64_t done = 0;
        const unsigned char *in = buf + start;
        uint64_t in_left = e->csize;
        int zr = Z_OK;
        while (ok && zr == Z_OK) {   /* chunks: the z_stream counters are 32-bit */
            uInt ic = in_left > 0x40000000u ? 0x40000000u : (uInt)in_left;
            uint64_t out_left = e->usize - done;
            uInt oc = out_left > 0x40000000u ? 0x40000000u : (uInt)out_left;
            zs.next_in = (Bytef *)in;
            zs.avail_in = ic;
            zs.next_out = *out + done;
            zs.avail_out = oc;
            zr = inflate(&zs, Z_NO_FLUSH);
            in += ic - zs.avail_in;
            in_left -= ic - zs.avail_in;
            done += oc - zs.avail_out;
            if (zr == Z_OK && ic == zs.avail_in && oc == zs.avail_out)
                zr = Z_DATA_ERROR;  /* no progress: truncated or too long */
        }
        if (ok)
            inflateEnd(&zs);
        if (!ok || zr != Z_STREAM_END || done != e->usize) {
            free(*out);
            return mdatt__fail(err, MDATT_EFORMAT, "%s: corrupt deflated data", where);
        }
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    for (uint64_t k = 0; k < e->usize; k += 0x40000000u) {
        uint64_t c = e->usize - k > 0x40000000u ? 0x40000000u : e->usize - k;
        crc = crc32(crc, *out + k, (uInt)c);
    }
    if ((uint32_t)crc != e->crc) {
        free(*out);
        return mdatt__fail(err, MDATT_EFORMAT, "%s: CRC-32 mismatch (corrupt file)", where);
    }
    return MDATT_OK;
}

/* Locate the central directory: (offset, entries) from the end records. */
static mdatt_status find_central(const unsigned char *buf, size_t len, uint64_t *cd_off,
                                 uint64_t *count, const char *path, char err[MDATT_ERRLEN])
{
    if (len < 22)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: truncated zip file", path);
    size_t k = len - 22, lim = len - 22 > 65535 ? len - 22 - 65535 : 0;
    while (rd32(buf + k) != 0x06054b50) {
        if (k == lim)
            return mdatt__fail(err, MDATT_EFORMAT, "%s: no zip end record (truncated?)", path);
        k--;
    }
    *count = rd16(buf + k + 10);
    *cd_off = rd32(buf + k + 16);
    if ((*count == 0xFFFF || *cd_off == 0xFFFFFFFFu) && k >= 20 && rd32(buf + k - 20) == 0x07064b50) {
        uint64_t e64 = rd64(buf + k - 20 + 8);
        if (e64 > len - 56 || rd32(buf + e64) != 0x06064b50)
            return mdatt__fail(err, MDATT_EFORMAT, "%s: corrupt zip64 end record", path);
        *count = rd64(buf + e64 + 32);
        *cd_off = rd64(buf + e64 + 48);
    }
    if (*cd_off > len)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: corrupt zip end record", path);
    return MDATT_OK;
}

mdatt_status mdatt__npz_read(const char *path, mdatt__npz *z, char err[MDATT_ERRLEN])
{
    memset(z, 0, sizeof *z);
    unsigned char *buf = NULL;
    size_t len = 0;
    mdatt_status st = slurp(path, &buf, &len, err);
    if (st != MDATT_OK)
        return st;
    uint64_t cd = 0, count = 0;
    if ((st = find_central(buf, len, &cd, &count, path, err)) != MDATT_OK)
        goto done;
    if (count > 4096) {
        st = mdatt__fail(err, MDATT_EINVAL, "%s: %llu members is too many", path,
                         (unsigned long long)count);
        goto done;
    }
    if (!(z->arr = calloc(count ? count : 1, sizeof *z->arr))) {
        st = mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    size_t pos = cd;
    char where[MDATT_NPY_NAMELEN + 300];
    for (uint64_t m = 0; m < count; m++) {
        zip_entry e;
        if ((st = central_entry(buf + pos, len - pos, &e, path, err)) != MDATT_OK)
            goto done;
        pos += e.entry_len;
        size_t nl = strlen(e.name);
        if (nl < 5 || strcmp(e.name + nl - 4, ".npy") != 0)
            continue;   /* np.load ignores other members too */
        e.name[nl - 4] = '\0';
        snprintf(where, sizeof where, "%.200s: %s", path, e.name);
        unsigned char *mem = NULL;
        if ((st = member_bytes(buf, len, &e, &mem, where, err)) != MDATT_OK)
            goto done;
        mdatt__npy *a = &z->arr[z->n];
        snprintf(a->name, sizeof a->name, "%s", e.name);
        st = parse_npy(mem, e.usize, a, where, err);
        free(mem);
        z->n++;
        if (st != MDATT_OK)
            goto done;
    }
done:
    free(buf);
    if (st != MDATT_OK)
        mdatt__npz_free(z);
    return st;
}

/* ------------------------------------------------------------- zip writing */

static void wr16(unsigned char *p, uint32_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void wr32(unsigned char *p, uint32_t v) { wr16(p, v & 0xFFFF); wr16(p + 2, v >> 16); }

/* The .npy bytes of one array (version 1 header padded to 64 bytes). */
static unsigned char *npy_bytes(const mdatt__npy *a, size_t *len)
{
    char h[256];
    int hn = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                      a->kind == 'i' ? "<i8" : "<f8");
    for (int r = 0; r < a->rank; r++)
        hn += snprintf(h + hn, sizeof h - (size_t)hn, r ? ", %ld" : "%ld", a->shape[r]);
    hn += snprintf(h + hn, sizeof h - (size_t)hn, a->rank == 1 ? ",), }" : "), }");
    size_t total = 10 + (size_t)hn + 1, pad = (64 - total % 64) % 64;
    size_t hl = (size_t)hn + pad + 1;
    *len = 10 + hl + 8 * a->count;
    unsigned char *b = malloc(*len);
    if (!b)
        return NULL;
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    wr16(b + 8, (uint32_t)hl);
    memcpy(b + 10, h, (size_t)hn);
    memset(b + 10 + hn, ' ', pad);
    b[10 + hl - 1] = '\n';
    unsigned char *q = b + 10 + hl;
    for (size_t k = 0; k < a->count; k++, q += 8) {
        uint64_t u;
        if (a->kind == 'i') {
            int64_t v = (int64_t)a->data[k];
            memcpy(&u, &v, 8);
        } else {
            memcpy(&u, &a->data[k], 8);
        }
        wr32(q, (uint32_t)u);
        wr32(q + 4, (uint32_t)(u >> 32));
    }
    return b;
}

/* Local header (30 bytes) or central record (46 bytes) of one stored member. */
static size_t zip_header(unsigned char *h, int central, const char *name, uint32_t crc,
                         uint32_t size, uint32_t offset)
{
    size_t nl = strlen(name);
    memset(h, 0, central ? 46 : 30);
    if (central) {
        wr32(h, 0x02014b50);
        wr16(h + 4, 20);
        h += 2;
    } else {
        wr32(h, 0x04034b50);
    }
    wr16(h + 4, 20);            /* version needed */
    wr16(h + 12, 0x21);         /* DOS date 1980-01-01, time 00:00 */
    wr32(h + 14, crc);
    wr32(h + 18, size);
    wr32(h + 22, size);
    wr16(h + 26, (uint32_t)nl);
    if (central)
        wr32(h + 40, offset);
    return central ? 46 : 30;
}

mdatt_status mdatt__npz_write(FILE *f, const mdatt__npy *arr, int n, const char *path,
                              char err[MDATT_ERRLEN])
{
    uint32_t offs[16], crcs[16], sizes[16], off = 0;
    unsigned char h[64];
    if (n > 16)
        return mdatt__fail(err, MDATT_EINVAL, "%s: too many arrays", path);
    for (int k = 0; k < n; k++) {
        size_t len;
        unsigned char *b = npy_bytes(&arr[k], &len);
        if (!b)
            return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", path);
        if (len > 0xFFFFFFF0u || (uint64_t)off + len + 100 > 0xFFFFFFF0u) {
            free(b);
            return mdatt__fail(err, MDATT_ENOMEM, "%s: %s: more than 4 GiB (write JSON instead)",
                               path, arr[k].name);
        }
        char name[MDATT_NPY_NAMELEN + 8];
        snprintf(name, sizeof name, "%s.npy", arr[k].name);
        offs[k] = off;
        crcs[k] = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, (uInt)len);
        sizes[k] = (uint32_t)len;
        size_t hl = zip_header(h, 0, name, crcs[k], sizes[k], 0);
        fwrite(h, 1, hl, f);
        fputs(name, f);
        fwrite(b, 1, len, f);
        off += (uint32_t)(hl + strlen(name) + len);
        free(b);
    }
    uint32_t cd = off, cdlen = 0;
    for (int k = 0; k < n; k++) {
        char name[MDATT_NPY_NAMELEN + 8];
        snprintf(name, sizeof name, "%s.npy", arr[k].name);
        size_t hl = zip_header(h, 1, name, crcs[k], sizes[k], offs[k]);
        fwrite(h, 1, hl, f);
        fputs(name, f);
        cdlen += (uint32_t)(hl + strlen(name));
    }
    memset(h, 0, 22);
    wr32(h, 0x06054b50);
    wr16(h + 8, (uint32_t)n);
    wr16(h + 10, (uint32_t)n);
    wr32(h + 12, cdlen);
    wr32(h + 16, cd);
    fwrite(h, 1, 22, f);
    return MDATT_OK;
}
