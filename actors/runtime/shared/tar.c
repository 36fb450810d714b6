/* tar format: the streaming reader and the header writer (see tar.h). */
#include "tar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"   /* HB_NAME_MAX */

/* Header field offsets and widths (POSIX ustar; GNU shares them). */
#define F_NAME     0
#define F_MODE     100
#define F_UID      108
#define F_GID      116
#define F_SIZE     124
#define F_MTIME    136
#define F_CHKSUM   148
#define F_TYPE     156
#define F_LINK     157
#define F_MAGIC    257
#define F_UNAME    265
#define F_GNAME    297
#define F_PREFIX   345
#define NAME_LEN   100
#define PREFIX_LEN 155

typedef enum { ST_HDR, ST_DATA, ST_META, ST_PAD, ST_END, ST_ERR } state_t;

struct hb_tar_reader {
    state_t        st;
    unsigned char  blk[HB_TAR_BLOCK];
    size_t         blen;            /* bytes of blk filled */
    uint64_t       left;            /* data (or meta) bytes still to come */
    size_t         pad;             /* padding bytes still to skip */
    char           meta_type;       /* 'L', 'K', 'x', 'g' being collected */
    char          *meta;            /* HB_TAR_META_MAX + 1 */
    size_t         mlen;
    /* what 'L', 'K' and 'x' say about the next entry */
    bool           has_name, has_link, has_size, has_mtime, has_uid, has_gid;
    uint64_t       pax_size, pax_uid, pax_gid;
    int64_t        pax_mtime;
    const char    *err;
    hb_tar_entry_t e;
};

hb_tar_reader_t *hb_tar_reader_new(void)
{
    hb_tar_reader_t *r = calloc(1, sizeof *r);
    if (r && !(r->meta = malloc(HB_TAR_META_MAX + 1))) {
        free(r);
        return NULL;
    }
    return r;
}

void hb_tar_reader_free(hb_tar_reader_t *r)
{
    if (r)
        free(r->meta);
    free(r);
}

const char *hb_tar_error(const hb_tar_reader_t *r)
{
    return r->err ? r->err : "";
}

static int fail(hb_tar_reader_t *r, const char *why)
{
    r->st = ST_ERR;
    r->err = why;
    return -1;
}

/* ---- numbers ---- */

/* Octal (spaces and NULs around it) or GNU base-256. -1 if malformed or
 * negative. */
static int get_num(const unsigned char *f, size_t w, uint64_t *v)
{
    *v = 0;
    if (f[0] & 0x80) {
        if (f[0] != 0x80)
            return -1;   /* negative (0xff) */
        for (size_t i = 1; i < w; i++) {
            if (*v >> 56)
                return -1;
            *v = (*v << 8) | f[i];
        }
        return 0;
    }
    size_t i = 0;
    while (i < w && (f[i] == ' ' || f[i] == '\0'))
        i++;
    for (; i < w && f[i] >= '0' && f[i] <= '7'; i++) {
        if (*v >> 60)
            return -1;
        *v = (*v << 3) | (uint64_t)(f[i] - '0');
    }
    for (; i < w; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return -1;
    return 0;
}

static bool checksum_ok(const unsigned char *b)
{
    uint64_t want;
    if (get_num(b + F_CHKSUM, 8, &want) < 0)
        return false;
    uint64_t u = 0;
    int64_t s = 0;   /* some old tars summed signed chars */
    for (size_t i = 0; i < HB_TAR_BLOCK; i++) {
        unsigned char c = (i >= F_CHKSUM && i < F_CHKSUM + 8) ? ' ' : b[i];
        u += c;
        s += (signed char)c;
    }
    return want == u || (int64_t)want == s;
}

static bool all_zero(const unsigned char *b)
{
    for (size_t i = 0; i < HB_TAR_BLOCK; i++)
        if (b[i])
            return false;
    return true;
}

/* ---- entries ---- */

static void copy_field(char *out, const unsigned char *f, size_t w)
{
    size_t n = strnlen((const char *)f, w);
    memcpy(out, f, n);
    out[n] = '\0';
}

static hb_tar_type_t type_of(char t)
{
    switch (t) {
    case '0': case '\0': case '7': return HB_TAR_FILE;
    case '5': return HB_TAR_DIR;
    case '2': return HB_TAR_SYMLINK;
    default: return HB_TAR_OTHER;
    }
}

/* Types whose size field counts data that follows (tarfile's rule: links,
 * devices, fifos and directories have none, whatever the field says). */
static bool has_data(char t)
{
    return !(t == '1' || t == '2' || t == '3' || t == '4' || t == '5' || t == '6');
}

static int begin_entry(hb_tar_reader_t *r, const hb_tar_cb_t *cb, void *ud)
{
    const unsigned char *b = r->blk;
    hb_tar_entry_t *e = &r->e;
    uint64_t mode, size, mtime, uid, gid;
    if (get_num(b + F_MODE, 8, &mode) < 0 || get_num(b + F_SIZE, 12, &size) < 0)
        return fail(r, "malformed header (mode or size)");
    if (get_num(b + F_MTIME, 12, &mtime) < 0)
        mtime = 0;   /* a negative or odd time is no reason to refuse a file */
    /* odd owners read as 0: only image import looks, and it bounds them */
    if (get_num(b + F_UID, 8, &uid) < 0 || uid > UINT32_MAX)
        uid = 0;
    if (get_num(b + F_GID, 8, &gid) < 0 || gid > UINT32_MAX)
        gid = 0;
    e->uid = r->has_uid ? (uint32_t)r->pax_uid : (uint32_t)uid;
    e->gid = r->has_gid ? (uint32_t)r->pax_gid : (uint32_t)gid;
    e->typeflag = (char)b[F_TYPE];
    e->type = type_of(e->typeflag);
    e->mode = (uint32_t)(mode & 07777);
    e->size = r->has_size ? r->pax_size : size;
    e->mtime = r->has_mtime ? r->pax_mtime : (int64_t)(mtime > INT64_MAX ? 0 : mtime);
    if (!r->has_name) {
        char name[NAME_LEN + 1], prefix[PREFIX_LEN + 1] = "";
        copy_field(name, b + F_NAME, NAME_LEN);
        if (memcmp(b + F_MAGIC, "ustar\0", 6) == 0)   /* POSIX: GNU uses the field otherwise */
            copy_field(prefix, b + F_PREFIX, PREFIX_LEN);
        snprintf(e->name, sizeof e->name, "%s%s%s", prefix, prefix[0] ? "/" : "", name);
    }
    if (!r->has_link)
        copy_field(e->link, b + F_LINK, NAME_LEN);
    r->has_name = r->has_link = r->has_size = r->has_mtime = false;
    r->has_uid = r->has_gid = false;
    if (!has_data(e->typeflag))
        e->size = 0;
    if (cb->entry && cb->entry(ud, e) != 0)
        return fail(r, NULL);
    r->left = e->size;
    r->pad = (size_t)((HB_TAR_BLOCK - e->size % HB_TAR_BLOCK) % HB_TAR_BLOCK);
    r->st = ST_DATA;
    return 0;
}

/* ---- GNU long names and pax headers ---- */

static int set_long(hb_tar_reader_t *r, char *out, bool *flag)
{
    size_t n = strnlen(r->meta, r->mlen);
    if (n == 0 || n >= HB_PATH_MAX)
        return fail(r, "long name empty or too long");
    memcpy(out, r->meta, n);
    out[n] = '\0';
    *flag = true;
    return 0;
}

/* pax "uid" / "gid": an odd value reads as 0, as in the header. */
static void pax_owner(hb_tar_reader_t *r, bool uid, const char *v, size_t vl)
{
    char num[32], *end;
    snprintf(num, sizeof num, "%.*s", (int)(vl < 31 ? vl : 31), v);
    unsigned long long n = strtoull(num, &end, 10);
    bool ok = end != num && num[0] != '-' && !*end && n <= UINT32_MAX;
    *(uid ? &r->pax_uid : &r->pax_gid) = ok ? n : 0;
    *(uid ? &r->has_uid : &r->has_gid) = true;
}

static int pax_value(hb_tar_reader_t *r, const char *k, size_t kl, const char *v, size_t vl)
{
    char num[32];
    if ((kl == 4 && memcmp(k, "path", 4) == 0) || (kl == 8 && memcmp(k, "linkpath", 8) == 0)) {
        bool path = kl == 4;
        if (vl == 0 || vl >= HB_PATH_MAX || memchr(v, '\0', vl))
            return fail(r, "pax path or linkpath empty or too long");
        char *out = path ? r->e.name : r->e.link;
        memcpy(out, v, vl);
        out[vl] = '\0';
        *(path ? &r->has_name : &r->has_link) = true;
    } else if (kl == 3 && (memcmp(k, "uid", 3) == 0 || memcmp(k, "gid", 3) == 0)) {
        pax_owner(r, k[0] == 'u', v, vl);
    } else if ((kl == 4 && memcmp(k, "size", 4) == 0) || (kl == 5 && memcmp(k, "mtime", 5) == 0)) {
        bool size = kl == 4;
        snprintf(num, sizeof num, "%.*s", (int)(vl < 31 ? vl : 31), v);
        char *end;
        unsigned long long n = strtoull(num, &end, 10);
        if (end == num || num[0] == '-' || (size && *end))
            return fail(r, "pax size or mtime malformed");
        if (size) {
            r->pax_size = n;
            r->has_size = true;
        } else {
            r->pax_mtime = n > INT64_MAX ? 0 : (int64_t)n;
            r->has_mtime = true;
        }
    }
    return 0;   /* other keys (uname, atime, ...) do not matter here */
}

/* Records "<len> <key>=<value>\n". */
static int parse_pax(hb_tar_reader_t *r)
{
    const char *p = r->meta, *end = r->meta + r->mlen;
    while (p < end && *p) {
        size_t len = 0;
        const char *q = p;
        while (q < end && *q >= '0' && *q <= '9' && len < HB_TAR_META_MAX)
            len = len * 10 + (size_t)(*q++ - '0');
        /* the record holds at least its length, a space, "=" and "\n" */
        if (q == p || q >= end || *q != ' ' || len < (size_t)(q - p) + 3 ||
            len > (size_t)(end - p) || p[len - 1] != '\n')
            return fail(r, "malformed pax header");
        const char *k = q + 1, *rec_end = p + len - 1;
        const char *eq = memchr(k, '=', (size_t)(rec_end - k));
        if (!eq || eq == k)
            return fail(r, "malformed pax record");
        if (pax_value(r, k, (size_t)(eq - k), eq + 1, (size_t)(rec_end - eq - 1)) < 0)
            return -1;
        p += len;
    }
    return 0;
}

static int end_meta(hb_tar_reader_t *r)
{
    r->meta[r->mlen] = '\0';
    switch (r->meta_type) {
    case 'L': return set_long(r, r->e.name, &r->has_name);
    case 'K': return set_long(r, r->e.link, &r->has_link);
    case 'x': return parse_pax(r);
    default: return 0;   /* 'g': global pax settings are ignored */
    }
}

static int begin_meta(hb_tar_reader_t *r)
{
    uint64_t size;
    if (get_num(r->blk + F_SIZE, 12, &size) < 0 || size > HB_TAR_META_MAX)
        return fail(r, "long name or pax header too large");
    r->meta_type = (char)r->blk[F_TYPE];
    r->mlen = 0;
    r->left = size;
    r->pad = (size_t)((HB_TAR_BLOCK - size % HB_TAR_BLOCK) % HB_TAR_BLOCK);
    r->st = ST_META;
    return 0;
}

/* ---- the state machine ---- */

static int on_block(hb_tar_reader_t *r, const hb_tar_cb_t *cb, void *ud)
{
    r->blen = 0;
    if (all_zero(r->blk)) {
        r->st = ST_END;   /* the first zero block ends it, as for Python's tarfile */
        return 1;
    }
    if (!checksum_ok(r->blk))
        return fail(r, "bad header checksum (not a tar archive, or a corrupt one)");
    char t = (char)r->blk[F_TYPE];
    if (t == 'L' || t == 'K' || t == 'x' || t == 'g')
        return begin_meta(r);
    return begin_entry(r, cb, ud);
}

/* The data (or meta) bytes of the current entry from p; returns how many
 * were used, or -1. */
static long take_data(hb_tar_reader_t *r, const char *p, size_t n, const hb_tar_cb_t *cb,
                      void *ud)
{
    size_t k = r->left < n ? (size_t)r->left : n;
    if (r->st == ST_META) {
        memcpy(r->meta + r->mlen, p, k);
        r->mlen += k;
    } else if (k && cb->data && cb->data(ud, p, k) != 0) {
        return fail(r, NULL);
    }
    r->left -= k;
    if (r->left == 0) {
        int rc = r->st == ST_META ? end_meta(r)
                                  : (cb->entry_end && cb->entry_end(ud) != 0 ? fail(r, NULL) : 0);
        if (rc < 0)
            return -1;
        r->st = r->pad ? ST_PAD : ST_HDR;
    }
    return (long)k;
}

int hb_tar_feed(hb_tar_reader_t *r, const void *data, size_t len, const hb_tar_cb_t *cb,
                void *ud)
{
    const char *p = data;
    while (len > 0 || ((r->st == ST_DATA || r->st == ST_META) && r->left == 0)) {
        size_t k;
        switch (r->st) {
        case ST_END:
            return 1;
        case ST_ERR:
            return -1;
        case ST_HDR:
            k = HB_TAR_BLOCK - r->blen < len ? HB_TAR_BLOCK - r->blen : len;
            memcpy(r->blk + r->blen, p, k);
            r->blen += k;
            if (r->blen == HB_TAR_BLOCK) {
                int rc = on_block(r, cb, ud);
                if (rc != 0)
                    return rc;   /* the end, or an error: final either way */
            }
            break;
        case ST_PAD:
            k = r->pad < len ? r->pad : len;
            r->pad -= k;
            if (r->pad == 0)
                r->st = ST_HDR;
            break;
        default: {   /* ST_DATA, ST_META */
            long used = take_data(r, p, len, cb, ud);
            if (used < 0)
                return -1;
            k = (size_t)used;
        }
        }
        p += k;
        len -= k;
    }
    return r->st == ST_END ? 1 : r->st == ST_ERR ? -1 : 0;
}

int hb_tar_finish(hb_tar_reader_t *r)
{
    if (r->st == ST_END || (r->st == ST_HDR && r->blen == 0 && !r->has_name && !r->has_link))
        return 0;
    if (r->st != ST_ERR)
        fail(r, "the archive is cut short");
    return -1;
}

/* ---- names ---- */

int hb_tar_clean_name(const char *name, char *out, size_t cap, const char **why)
{
    size_t o = 0;
    if (name[0] == '/') {
        *why = "absolute name";
        return -1;
    }
    for (const char *s = name; *s;) {
        while (*s == '/')
            s++;
        size_t n = strcspn(s, "/");
        if (n == 0 || (n == 1 && s[0] == '.')) {
            s += n;
            continue;
        }
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            *why = "name has a '..' component";
            return -1;
        }
        if (n > HB_NAME_MAX || o + (o ? 1 : 0) + n + 1 > cap || o + n + 1 >= HB_PATH_MAX) {
            *why = "name too long";
            return -1;
        }
        if (o)
            out[o++] = '/';
        memcpy(out + o, s, n);
        o += n;
        s += n;
    }
    out[o] = '\0';
    return 0;
}

/* ---- writing ---- */

static void put_octal(unsigned char *f, size_t w, uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%0*llo", (int)(w - 1), (unsigned long long)v);
    memcpy(f, tmp, w - 1);   /* the caller checked it fits; f[w-1] stays NUL */
}

static void put_size(unsigned char *f, uint64_t v)
{
    if (v < (1ull << 33)) {   /* 11 octal digits */
        put_octal(f, 12, v);
        return;
    }
    memset(f, 0, 12);
    f[0] = 0x80;
    for (int i = 11; i >= 4; i--, v >>= 8)
        f[i] = (unsigned char)(v & 0xff);
}

static void fill_header(unsigned char *b, const char *name, const char *link, char type,
                        uint32_t mode, uint64_t size, int64_t mtime)
{
    memset(b, 0, HB_TAR_BLOCK);
    memcpy(b + F_NAME, name, strnlen(name, NAME_LEN));
    put_octal(b + F_MODE, 8, mode & 07777);
    put_octal(b + F_UID, 8, 0);
    put_octal(b + F_GID, 8, 0);
    put_size(b + F_SIZE, size);
    put_octal(b + F_MTIME, 12, mtime > 0 && mtime < (1ll << 33) ? (uint64_t)mtime : 0);
    b[F_TYPE] = (unsigned char)type;
    memcpy(b + F_LINK, link, strnlen(link, NAME_LEN));
    memcpy(b + F_MAGIC, "ustar  ", 8);   /* GNU: "ustar " + " \0" */
    memcpy(b + F_UNAME, "root", 4);
    memcpy(b + F_GNAME, "root", 4);
    memset(b + F_CHKSUM, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < HB_TAR_BLOCK; i++)
        sum += b[i];
    char ck[8];
    snprintf(ck, sizeof ck, "%06o", sum & 0777777);
    memcpy(b + F_CHKSUM, ck, 7);   /* six digits, NUL, and the space stays */
}

/* A GNU 'L' or 'K' entry carrying s (and its NUL). */
static int put_long(const char *s, size_t n, char type, hb_tar_sink_fn sink, void *ud)
{
    unsigned char b[HB_TAR_BLOCK];
    fill_header(b, "././@LongLink", "", type, 0644, n + 1, 0);
    if (sink(ud, b, HB_TAR_BLOCK) != 0)
        return -1;
    for (size_t off = 0; off < n + 1; off += HB_TAR_BLOCK) {
        memset(b, 0, sizeof b);
        size_t k = n - off < HB_TAR_BLOCK ? n - off : HB_TAR_BLOCK;
        if (off < n)
            memcpy(b, s + off, k);
        if (sink(ud, b, HB_TAR_BLOCK) != 0)
            return -1;
    }
    return 0;
}

int hb_tar_put_header(const hb_tar_entry_t *e, hb_tar_sink_fn sink, void *ud)
{
    char name[HB_PATH_MAX + 1];
    static const char types[] = {[HB_TAR_FILE] = '0', [HB_TAR_DIR] = '5',
                                 [HB_TAR_SYMLINK] = '2', [HB_TAR_OTHER] = '0'};
    int n = snprintf(name, sizeof name, "%s%s", e->name, e->type == HB_TAR_DIR ? "/" : "");
    size_t ll = strnlen(e->link, HB_PATH_MAX);
    if (n <= 0 || (size_t)n >= sizeof name - 1 || ll >= HB_PATH_MAX)
        return -1;
    if ((size_t)n >= NAME_LEN && put_long(name, (size_t)n, 'L', sink, ud) < 0)
        return -1;
    if (ll >= NAME_LEN && put_long(e->link, ll, 'K', sink, ud) < 0)
        return -1;
    unsigned char b[HB_TAR_BLOCK];
    fill_header(b, name, e->type == HB_TAR_SYMLINK ? e->link : "", types[e->type], e->mode,
                e->type == HB_TAR_FILE ? e->size : 0, e->mtime);
    return sink(ud, b, HB_TAR_BLOCK);
}

int hb_tar_put_pad(uint64_t size, hb_tar_sink_fn sink, void *ud)
{
    static const unsigned char zeros[HB_TAR_BLOCK];
    size_t pad = (size_t)((HB_TAR_BLOCK - size % HB_TAR_BLOCK) % HB_TAR_BLOCK);
    return pad ? sink(ud, zeros, pad) : 0;
}

int hb_tar_put_end(hb_tar_sink_fn sink, void *ud)
{
    static const unsigned char zeros[2 * HB_TAR_BLOCK];
    return sink(ud, zeros, sizeof zeros);
}
