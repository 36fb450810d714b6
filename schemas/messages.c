/* The one msgpack codec for actor messages and their records. Table driven:
 * schemas/messages.def expands into a descriptor per field (name, kind,
 * offset), so encode, decode, free and copy are each written once. */
#include "messages.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_STR, K_I64, K_U64, K_F64, K_BOOL, K_BIN, K_STRV, K_ARR } kind_t;

typedef struct rec_desc rec_desc_t;
typedef struct {
    const char       *name;
    kind_t            kind;
    size_t            off;
    size_t            n_off;   /* K_ARR: offset of the element count */
    const rec_desc_t *sub;     /* K_ARR: element record */
} field_t;

struct rec_desc {
    size_t         size;
    const field_t *f;
    size_t         nf;
};

static const rec_desc_t d_sbinfo, d_entry, d_sample_sb, d_sample, d_catitem;

#define FD_STR(T, n)        {#n, K_STR, offsetof(T, n), 0, NULL},
#define FD_I64(T, n)        {#n, K_I64, offsetof(T, n), 0, NULL},
#define FD_U64(T, n)        {#n, K_U64, offsetof(T, n), 0, NULL},
#define FD_F64(T, n)        {#n, K_F64, offsetof(T, n), 0, NULL},
#define FD_BOOL(T, n)       {#n, K_BOOL, offsetof(T, n), 0, NULL},
#define FD_BIN(T, n)        {#n, K_BIN, offsetof(T, n), 0, NULL},
#define FD_STRV(T, n)       {#n, K_STRV, offsetof(T, n), 0, NULL},
#define FD_SBINFOS(T, n)    {#n, K_ARR, offsetof(T, n), offsetof(T, n##_n), &d_sbinfo},
#define FD_DIRENTS(T, n)    {#n, K_ARR, offsetof(T, n), offsetof(T, n##_n), &d_entry},
#define FD_SAMPLES(T, n)    {#n, K_ARR, offsetof(T, n), offsetof(T, n##_n), &d_sample},
#define FD_SAMPLE_SBS(T, n) {#n, K_ARR, offsetof(T, n), offsetof(T, n##_n), &d_sample_sb},
#define FD_CATITEMS(T, n)   {#n, K_ARR, offsetof(T, n), offsetof(T, n##_n), &d_catitem},

#define FD_SBINFO(k, n)    FD_##k(hb_sbinfo_t, n)
#define FD_ENTRY(k, n)     FD_##k(hb_entry_t, n)
#define FD_SAMPLE_SB(k, n) FD_##k(hb_sample_sb_t, n)
#define FD_SAMPLE(k, n)    FD_##k(hb_sample_t, n)
#define FD_CATITEM(k, n)   FD_##k(hb_catitem_t, n)
#define FD_MSG(k, n)       FD_##k(hb_msg_t, n)

static const field_t f_sbinfo[]    = {HB_SBINFO_FIELDS(FD_SBINFO)};
static const field_t f_entry[]     = {HB_ENTRY_FIELDS(FD_ENTRY)};
static const field_t f_sample_sb[] = {HB_SAMPLE_SB_FIELDS(FD_SAMPLE_SB)};
static const field_t f_sample[]    = {HB_SAMPLE_FIELDS(FD_SAMPLE)};
static const field_t f_catitem[]   = {HB_CATITEM_FIELDS(FD_CATITEM)};
static const field_t f_msg[]       = {HB_MSG_FIELDS(FD_MSG)};

#define NF(a) (sizeof(a) / sizeof((a)[0]))
static const rec_desc_t d_sbinfo    = {sizeof(hb_sbinfo_t), f_sbinfo, NF(f_sbinfo)};
static const rec_desc_t d_entry     = {sizeof(hb_entry_t), f_entry, NF(f_entry)};
static const rec_desc_t d_sample_sb = {sizeof(hb_sample_sb_t), f_sample_sb, NF(f_sample_sb)};
static const rec_desc_t d_sample    = {sizeof(hb_sample_t), f_sample, NF(f_sample)};
static const rec_desc_t d_catitem   = {sizeof(hb_catitem_t), f_catitem, NF(f_catitem)};
static const rec_desc_t d_msg       = {sizeof(hb_msg_t), f_msg, NF(f_msg)};

#define FI(k, n) MF_##n,
enum { HB_MSG_FIELDS(FI) MF__COUNT };
/* Which fields a message may carry: one bit per field of HB_MSG_FIELDS. */
typedef unsigned __int128 fmask_t;
#define FMASK_ALL (~(fmask_t)0)
_Static_assert(MF__COUNT <= 128, "a message mask holds at most 128 fields");
_Static_assert(NF(f_sbinfo) <= 128 && NF(f_sample) <= 128, "record masks are 128 bits");

#define MASK_F(n) ((fmask_t)1 << MF_##n)
#define MT(e, wire, mask) [HB_MSG_##e] = {wire, mask},
static const struct {
    const char *wire;
    fmask_t     mask;
} msg_tab[HB_MSG__COUNT] = {
    [HB_MSG_NONE] = {NULL, 0},
    HB_MSG_TYPES(MT, MASK_F)
};

const char *hb_msg_name(hb_msg_type_t t)
{
    return (t > HB_MSG_NONE && t < HB_MSG__COUNT) ? msg_tab[t].wire : "?";
}

hb_msg_type_t hb_msg_type_of(const char *wire)
{
    for (int t = HB_MSG_NONE + 1; t < HB_MSG__COUNT; t++)
        if (strcmp(msg_tab[t].wire, wire) == 0)
            return (hb_msg_type_t)t;
    return HB_MSG_NONE;
}

/* ---- helpers ---- */

int hb_str_set(char **dst, const char *src)
{
    char *c = NULL;
    if (src && !(c = strdup(src)))
        return -1;
    free(*dst);
    *dst = c;
    return 0;
}

int hb_bin_set(hb_bin_t *dst, const void *data, size_t len)
{
    void *c = NULL;
    if (data) {
        c = malloc(len ? len : 1);
        if (!c)
            return -1;
        memcpy(c, data, len);
    }
    free(dst->data);
    dst->data = c;
    dst->len = data ? len : 0;
    return 0;
}

typedef char **strv_t;
#define AT(base, off, T) ((T *)(void *)((char *)(base) + (off)))
#define CAT(base, off, T) ((const T *)(const void *)((const char *)(base) + (off)))

/* ---- free ---- */

static void rec_free(const rec_desc_t *d, void *r);

static void field_free(const field_t *f, void *r)
{
    switch (f->kind) {
    case K_STR:
        free(*AT(r, f->off, char *));
        break;
    case K_BIN:
        free(AT(r, f->off, hb_bin_t)->data);
        break;
    case K_STRV: {
        char **v = *AT(r, f->off, char **);
        for (size_t i = 0; v && v[i]; i++)
            free(v[i]);
        free(v);
        break;
    }
    case K_ARR: {
        char *a = *AT(r, f->off, char *);
        size_t n = *AT(r, f->n_off, size_t);
        for (size_t i = 0; a && i < n; i++)
            rec_free(f->sub, a + i * f->sub->size);
        free(a);
        break;
    }
    default:
        break;
    }
}

static void rec_free(const rec_desc_t *d, void *r)
{
    for (size_t i = 0; i < d->nf; i++)
        field_free(&d->f[i], r);
    memset(r, 0, d->size);
}

void hb_msg_clear(hb_msg_t *m) { rec_free(&d_msg, m); }
void hb_sample_clear(hb_sample_t *s) { rec_free(&d_sample, s); }
void hb_sbinfo_clear(hb_sbinfo_t *s) { rec_free(&d_sbinfo, s); }

/* ---- copy ---- */

static int rec_copy(const rec_desc_t *d, void *dst, const void *src);

static bool owns_memory(kind_t k) { return k == K_STR || k == K_BIN || k == K_STRV || k == K_ARR; }

static void field_zero(const field_t *f, void *r)
{
    if (f->kind == K_BIN)
        *AT(r, f->off, hb_bin_t) = (hb_bin_t){0};
    else
        *AT(r, f->off, void *) = NULL;
    if (f->kind == K_ARR)
        *AT(r, f->n_off, size_t) = 0;
}

/* dst's field is zero on entry; on failure it holds whatever was copied. */
static int field_copy(const field_t *f, void *dst, const void *src)
{
    switch (f->kind) {
    case K_STR:
        return hb_str_set(AT(dst, f->off, char *), *CAT(src, f->off, char *const));
    case K_BIN: {
        const hb_bin_t *b = CAT(src, f->off, hb_bin_t);
        return hb_bin_set(AT(dst, f->off, hb_bin_t), b->data, b->len);
    }
    case K_STRV: {
        char *const *v = *CAT(src, f->off, strv_t);
        if (!v)
            return 0;
        size_t n = 0;
        while (v[n])
            n++;
        char **c = calloc(n + 1, sizeof *c);
        if (!c)
            return -1;
        *AT(dst, f->off, char **) = c;
        for (size_t i = 0; i < n; i++)
            if (!(c[i] = strdup(v[i])))
                return -1;
        return 0;
    }
    case K_ARR: {
        const char *a = *CAT(src, f->off, char *const);
        size_t n = *CAT(src, f->n_off, size_t);
        if (!a || !n)
            return 0;
        char *c = calloc(n, f->sub->size);
        if (!c)
            return -1;
        *AT(dst, f->off, char *) = c;
        *AT(dst, f->n_off, size_t) = n;
        for (size_t i = 0; i < n; i++)
            if (rec_copy(f->sub, c + i * f->sub->size, a + i * f->sub->size) < 0)
                return -1;
        return 0;
    }
    default:
        return 0;
    }
}

static int rec_copy(const rec_desc_t *d, void *dst, const void *src)
{
    memcpy(dst, src, d->size);   /* scalars; owned pointers are re-made below */
    for (size_t i = 0; i < d->nf; i++)
        if (owns_memory(d->f[i].kind))
            field_zero(&d->f[i], dst);
    for (size_t i = 0; i < d->nf; i++) {
        if (owns_memory(d->f[i].kind) && field_copy(&d->f[i], dst, src) < 0) {
            rec_free(d, dst);
            return -1;
        }
    }
    return 0;
}

int hb_sample_copy(hb_sample_t *dst, const hb_sample_t *src) { return rec_copy(&d_sample, dst, src); }
int hb_sbinfo_copy(hb_sbinfo_t *dst, const hb_sbinfo_t *src) { return rec_copy(&d_sbinfo, dst, src); }

/* ---- encode ---- */

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void rec_pack(msgpack_packer *pk, const rec_desc_t *d, const void *r, fmask_t mask);

static void field_pack(msgpack_packer *pk, const field_t *f, const void *r)
{
    switch (f->kind) {
    case K_STR: {
        const char *s = *CAT(r, f->off, char *const);
        if (s)
            pack_str(pk, s);
        else
            msgpack_pack_nil(pk);
        break;
    }
    case K_I64: msgpack_pack_int64(pk, *CAT(r, f->off, int64_t)); break;
    case K_U64: msgpack_pack_uint64(pk, *CAT(r, f->off, uint64_t)); break;
    case K_F64: msgpack_pack_double(pk, *CAT(r, f->off, double)); break;
    case K_BOOL:
        if (*CAT(r, f->off, bool))
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        break;
    case K_BIN: {
        const hb_bin_t *b = CAT(r, f->off, hb_bin_t);
        if (!b->data) {
            msgpack_pack_nil(pk);
            break;
        }
        msgpack_pack_bin(pk, b->len);
        msgpack_pack_bin_body(pk, b->data, b->len);
        break;
    }
    case K_STRV: {
        char *const *v = *CAT(r, f->off, strv_t);
        if (!v) {
            msgpack_pack_nil(pk);
            break;
        }
        size_t n = 0;
        while (v[n])
            n++;
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++)
            pack_str(pk, v[i]);
        break;
    }
    case K_ARR: {
        const char *a = *CAT(r, f->off, char *const);
        size_t n = a ? *CAT(r, f->n_off, size_t) : 0;
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++)
            rec_pack(pk, f->sub, a + i * f->sub->size, FMASK_ALL);
        break;
    }
    }
}

static void rec_pack(msgpack_packer *pk, const rec_desc_t *d, const void *r, fmask_t mask)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nf; i++)
        n += (mask >> i) & 1u;
    msgpack_pack_map(pk, n);
    for (size_t i = 0; i < d->nf; i++) {
        if (!((mask >> i) & 1u))
            continue;
        pack_str(pk, d->f[i].name);
        field_pack(pk, &d->f[i], r);
    }
}

static int finish(msgpack_sbuffer *sb, void **out, size_t *len)
{
    if (!sb->data) {
        msgpack_sbuffer_destroy(sb);
        return -1;
    }
    *out = sb->data;   /* msgpack_sbuffer allocates with malloc */
    *len = sb->size;
    return 0;
}

#define ENCODE_PRESIZE_MIN (64u << 10)
#define ENCODE_SLACK       4096u   /* the other fields of such a message */

int hb_msg_encode(const hb_msg_t *m, void **out, size_t *len)
{
    if (m->type <= HB_MSG_NONE || m->type >= HB_MSG__COUNT)
        return -1;
    fmask_t mask = msg_tab[m->type].mask;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    size_t n = 1, bin = 0;
    for (size_t i = 0; i < d_msg.nf; i++) {
        n += (mask >> i) & 1u;
        if (((mask >> i) & 1u) && d_msg.f[i].kind == K_BIN)
            bin += CAT(m, d_msg.f[i].off, hb_bin_t)->len;
    }
    /* issue 19: a text of megabytes (a list, analytics) sized at once, not
     * grown by doubling (each step a copy of what was written). */
    if (bin > ENCODE_PRESIZE_MIN && (sb.data = malloc(bin + ENCODE_SLACK)))
        sb.alloc = bin + ENCODE_SLACK;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n);
    pack_str(&pk, "t");
    pack_str(&pk, msg_tab[m->type].wire);
    for (size_t i = 0; i < d_msg.nf; i++) {
        if ((mask >> i) & 1u) {
            pack_str(&pk, d_msg.f[i].name);
            field_pack(&pk, &d_msg.f[i], m);
        }
    }
    return finish(&sb, out, len);
}

int hb_sample_encode(const hb_sample_t *s, void **out, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    rec_pack(&pk, &d_sample, s, FMASK_ALL);
    return finish(&sb, out, len);
}

/* ---- decode ---- */

static bool key_is(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, s, n) == 0;
}

static int find_field(const rec_desc_t *d, const msgpack_object *k)
{
    for (size_t i = 0; i < d->nf; i++)
        if (key_is(k, d->f[i].name))
            return (int)i;
    return -1;
}

static char *dup_str(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > HB_MSG_STR_MAX ||
        memchr(o->via.str.ptr, '\0', o->via.str.size))
        return NULL;
    char *s = malloc(o->via.str.size + 1);
    if (s) {
        memcpy(s, o->via.str.ptr, o->via.str.size);
        s[o->via.str.size] = '\0';
    }
    return s;
}

static int rec_unpack(const rec_desc_t *d, const msgpack_object *o, void *r, fmask_t allowed,
                      int depth);

static int unpack_strv(const msgpack_object *o, char ***out)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > HB_MSG_ARR_MAX)
        return -1;
    char **v = calloc(o->via.array.size + 1, sizeof *v);
    if (!v)
        return -1;
    *out = v;   /* partially filled vectors are freed by the caller's clear */
    for (uint32_t i = 0; i < o->via.array.size; i++)
        if (!(v[i] = dup_str(&o->via.array.ptr[i])))
            return -1;
    return 0;
}

static int unpack_arr(const field_t *f, const msgpack_object *o, void *r, int depth)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > HB_MSG_ARR_MAX ||
        depth >= HB_MSG_DEPTH_MAX)
        return -1;
    size_t n = o->via.array.size;
    if (n == 0)
        return 0;
    char *a = calloc(n, f->sub->size);
    if (!a)
        return -1;
    *AT(r, f->off, char *) = a;
    *AT(r, f->n_off, size_t) = n;
    for (size_t i = 0; i < n; i++)
        if (rec_unpack(f->sub, &o->via.array.ptr[i], a + i * f->sub->size, FMASK_ALL,
                       depth + 1) < 0)
            return -1;
    return 0;
}

static int field_unpack(const field_t *f, const msgpack_object *o, void *r, int depth)
{
    bool nil = o->type == MSGPACK_OBJECT_NIL;
    switch (f->kind) {
    case K_STR:
        if (nil)
            return 0;
        return (*AT(r, f->off, char *) = dup_str(o)) ? 0 : -1;
    case K_I64:
        if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
            *AT(r, f->off, int64_t) = (int64_t)o->via.u64;
        else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            *AT(r, f->off, int64_t) = o->via.i64;
        else
            return -1;
        return 0;
    case K_U64:
        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return -1;
        *AT(r, f->off, uint64_t) = o->via.u64;
        return 0;
    case K_F64:
        if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
            *AT(r, f->off, double) = o->via.f64;
        else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            *AT(r, f->off, double) = (double)o->via.u64;
        else
            return -1;
        return 0;
    case K_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return -1;
        *AT(r, f->off, bool) = o->via.boolean;
        return 0;
    case K_BIN:
        if (nil)
            return 0;
        if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size > HB_MSG_BIN_MAX)
            return -1;
        return hb_bin_set(AT(r, f->off, hb_bin_t), o->via.bin.ptr, o->via.bin.size);
    case K_STRV:
        return nil ? 0 : unpack_strv(o, AT(r, f->off, char **));
    case K_ARR:
        return nil ? 0 : unpack_arr(f, o, r, depth);
    }
    return -1;
}

/* allowed: which of d's fields may appear (records: all of them). */
static int rec_unpack(const rec_desc_t *d, const msgpack_object *o, void *r, fmask_t allowed,
                      int depth)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return -1;
    fmask_t seen = 0;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (d == &d_msg && key_is(&kv->key, "t"))
            continue;   /* the caller read the type */
        int fi = find_field(d, &kv->key);
        if (fi < 0 || !((allowed >> fi) & 1u) || ((seen >> fi) & 1u))
            return -1;
        seen |= (fmask_t)1 << fi;
        if (field_unpack(&d->f[fi], &kv->val, r, depth) < 0)
            return -1;
    }
    return 0;
}

static bool read_be(const uint8_t *p, size_t len, size_t *pos, unsigned bytes, uint64_t *v)
{
    if (bytes > len - *pos)
        return false;
    *v = 0;
    for (unsigned i = 0; i < bytes; i++)
        *v = (*v << 8) | p[(*pos)++];
    return true;
}

/* A header whose sizes are all in its first byte b: sets the bytes to skip
 * after it and the items it contains; false when b is not one. */
static bool first_byte_header(uint8_t b, uint64_t *skip, uint64_t *items)
{
    static const uint8_t fixed[] = {[0xca - 0xc0] = 4, [0xcb - 0xc0] = 8, [0xcc - 0xc0] = 1,
                                    [0xcd - 0xc0] = 2, [0xce - 0xc0] = 4, [0xcf - 0xc0] = 8,
                                    [0xd0 - 0xc0] = 1, [0xd1 - 0xc0] = 2, [0xd2 - 0xc0] = 4,
                                    [0xd3 - 0xc0] = 8, [0xd4 - 0xc0] = 2, [0xd5 - 0xc0] = 3,
                                    [0xd6 - 0xc0] = 5, [0xd7 - 0xc0] = 9, [0xd8 - 0xc0] = 17};
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return true;
    if (b <= 0x8f)
        *items = 2u * (b & 0x0f);
    else if (b <= 0x9f)
        *items = b & 0x0f;
    else if (b <= 0xbf)
        *skip = b & 0x1f;
    else if (b >= 0xca && b <= 0xd8)
        *skip = fixed[b - 0xc0];
    else
        return false;
    return true;
}

/* A header followed by a big-endian length (bin, str, ext, array, map).
 * false for the reserved byte 0xc1 and for a length cut short. */
static bool length_header(uint8_t b, const uint8_t *p, size_t len, size_t *pos, uint64_t *skip,
                          uint64_t *items)
{
    uint64_t n;
    switch (b) {
    case 0xc4: case 0xd9: return read_be(p, len, pos, 1, skip);
    case 0xc5: case 0xda: return read_be(p, len, pos, 2, skip);
    case 0xc6: case 0xdb: return read_be(p, len, pos, 4, skip);
    case 0xc7: return read_be(p, len, pos, 1, &n) && (*skip = n + 1, true);
    case 0xc8: return read_be(p, len, pos, 2, &n) && (*skip = n + 1, true);
    case 0xc9: return read_be(p, len, pos, 4, &n) && (*skip = n + 1, true);
    case 0xdc: return read_be(p, len, pos, 2, items);
    case 0xdd: return read_be(p, len, pos, 4, items);
    case 0xde: return read_be(p, len, pos, 2, &n) && (*items = 2 * n, true);
    case 0xdf: return read_be(p, len, pos, 4, &n) && (*items = 2 * n, true);
    default: return false;
    }
}

/* Sizes of one msgpack item's header: bytes to skip after it and how many
 * items it contains. false for the reserved byte 0xc1. */
static bool item_header(const uint8_t *p, size_t len, size_t *pos, uint64_t *skip,
                        uint64_t *items)
{
    uint8_t b = p[(*pos)++];
    *skip = *items = 0;
    return first_byte_header(b, skip, items) || length_header(b, p, len, pos, skip, items);
}

/* msgpack-c allocates a container's declared size before reading it; make
 * sure every declared size fits in the bytes actually present (each item
 * takes at least one) and that buf is exactly one item. */
static bool sizes_plausible(const uint8_t *p, size_t len)
{
    size_t pos = 0;
    uint64_t pending = 1;
    while (pending > 0) {
        uint64_t skip, items;
        if (pos >= len || !item_header(p, len, &pos, &skip, &items) || skip > len - pos)
            return false;
        pos += skip;
        pending += items - 1;
        if (pending > len - pos)
            return false;
    }
    return pos == len;
}

static int unpack_one(const void *buf, size_t len, msgpack_unpacked *u)
{
    size_t off = 0;
    if (!sizes_plausible(buf, len))
        return -1;
    msgpack_unpacked_init(u);
    if (msgpack_unpack_next(u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
        msgpack_unpacked_destroy(u);
        return -1;
    }
    return 0;
}

static hb_msg_type_t type_of_map(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return HB_MSG_NONE;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (!key_is(&kv->key, "t"))
            continue;
        if (kv->val.type != MSGPACK_OBJECT_STR || kv->val.via.str.size >= 64)
            return HB_MSG_NONE;
        char w[64];
        memcpy(w, kv->val.via.str.ptr, kv->val.via.str.size);
        w[kv->val.via.str.size] = '\0';
        return hb_msg_type_of(w);   /* a duplicate "t" is harmless: first wins */
    }
    return HB_MSG_NONE;
}

int hb_msg_decode(const void *buf, size_t len, hb_msg_t *m)
{
    memset(m, 0, sizeof *m);
    msgpack_unpacked u;
    if (unpack_one(buf, len, &u) < 0)
        return -1;
    hb_msg_type_t t = type_of_map(&u.data);
    int rc = -1;
    if (t != HB_MSG_NONE) {
        m->type = t;
        rc = rec_unpack(&d_msg, &u.data, m, msg_tab[t].mask, 0);
    }
    msgpack_unpacked_destroy(&u);
    if (rc < 0)
        hb_msg_clear(m);
    return rc;
}

int hb_msg_peek_text(const void *buf, size_t len, const char **text, size_t *text_len)
{
    msgpack_unpacked u;
    if (unpack_one(buf, len, &u) < 0)
        return -1;
    int rc = -1;
    const msgpack_object *o = &u.data;
    for (uint32_t i = 0; type_of_map(o) == HB_MSG_R_TEXT && i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (!key_is(&kv->key, "text") || kv->val.type != MSGPACK_OBJECT_BIN)
            continue;
        *text = kv->val.via.bin.ptr;   /* msgpack_unpack_next points into buf */
        *text_len = kv->val.via.bin.size;
        rc = 0;
        break;
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

int hb_sample_decode(const void *buf, size_t len, hb_sample_t *s)
{
    memset(s, 0, sizeof *s);
    msgpack_unpacked u;
    if (unpack_one(buf, len, &u) < 0)
        return -1;
    int rc = rec_unpack(&d_sample, &u.data, s, FMASK_ALL, 0);
    msgpack_unpacked_destroy(&u);
    if (rc < 0)
        hb_sample_clear(s);
    return rc;
}
