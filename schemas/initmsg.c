/* The init protocol's one encoder and decoder, driven by tables generated
 * from schemas/initproto.def: a field table (key, type, bounds, where the
 * member is) and, per kind, the fields it carries and when. */
#include "initmsg.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

typedef enum { T_STR, T_PATH, T_BIN, T_ENV, T_U64, T_I64, T_BOOL, T_ENTS, T_META, T_MSG } ftype_t;
typedef enum { P_REQ, P_DEF, P_OPT, P_HAS } pres_t;

typedef struct {
    const char *key;
    ftype_t type;
    int64_t lo;
    uint64_t hi;
    size_t off;                 /* of the member in the message struct */
} field_t;

typedef struct {
    unsigned char field;        /* index into the field table */
    unsigned char pres;         /* pres_t */
} use_t;

typedef struct {
    const char *name;
    const use_t *uses;
    size_t n;
} kind_t;

/* One side of the protocol: requests or answers. */
typedef struct {
    const char *tag;            /* "op" or "t" */
    const field_t *fields;
    const kind_t *kinds;        /* indexed by the kind enum; [0] unused */
    size_t nkinds;
} proto_t;

#define R(f) {HB_FIELD(f), P_REQ},
#define D(f) {HB_FIELD(f), P_DEF},
#define O(f) {HB_FIELD(f), P_OPT},
#define H(f) {HB_FIELD(f), P_HAS},
#define KIND(e, wire, uses) [HB_KIND(e)] = {#wire, uses_##e, sizeof uses_##e / sizeof uses_##e[0]},

/* requests */
#define FIELD_ROW(type, m, key, lo, hi) {key, T_##type, lo, hi, offsetof(hb_initreq_t, m)},
static const field_t req_fields[] = {HB_INITREQ_FIELDS(FIELD_ROW)};
#undef FIELD_ROW
#define HB_FIELD(f) HB_IRF_##f
#define USES(e, wire, uses) static const use_t uses_##e[] = {uses};
HB_INITREQS(USES)
#define HB_KIND(e) HB_OP_##e
static const kind_t req_kinds[] = {HB_INITREQS(KIND)};
#undef USES
#undef HB_FIELD
#undef HB_KIND

/* answers (their uses_ arrays get an a_ prefix: kind names repeat) */
#define FIELD_ROW(type, m, key, lo, hi) {key, T_##type, lo, hi, offsetof(hb_initans_t, m)},
static const field_t ans_fields[] = {HB_INITANS_FIELDS(FIELD_ROW)};
#define HB_FIELD(f) HB_IAF_##f
#define USES(e, wire, uses) static const use_t uses_a_##e[] = {uses};
HB_INITANSS(USES)
#define HB_KIND(e) HB_ANS_##e
#undef KIND
#define KIND(e, wire, uses) [HB_KIND(e)] = {#wire, uses_a_##e, sizeof uses_a_##e / sizeof uses_a_##e[0]},
static const kind_t ans_kinds[] = {HB_INITANSS(KIND)};

_Static_assert(HB_IRF_COUNT <= 64 && HB_IAF_COUNT <= 64, "`has` holds one bit per field");

static const proto_t REQ = {"op", req_fields, req_kinds, HB_OP_COUNT};
static const proto_t ANS = {"t", ans_fields, ans_kinds, HB_ANS_COUNT};

/* ---- decoding ---- */

/* Room for a request's normalised paths (NULL for answers). */
typedef struct {
    char (*slot)[HB_PATH_MAX];
    size_t used;
} paths_t;

static int get_path(const msgpack_object *o, paths_t *ps, const char **out)
{
    const char *p;
    size_t n;
    char tmp[HB_PATH_MAX];
    if (!ps || ps->used >= HB_INITREQ_PATHS || hb_obj_str(o, HB_PATH_MAX - 1, &p, &n) < 0 ||
        hb_path_check_n(p, n, NULL) < 0)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *slot = ps->slot[ps->used++];
    if (hb_path_normalize(tmp, slot, HB_PATH_MAX) < 0)
        return -1;
    *out = slot;
    return 0;
}

static int get_str(const msgpack_object *o, uint64_t max, hb_initstr_t *s)
{
    if (hb_obj_str(o, (size_t)max, &s->ptr, &s->len) < 0 || memchr(s->ptr, '\0', s->len))
        return -1;
    return 0;
}

static int get_bin(const msgpack_object *o, uint64_t max, hb_initbin_t *b)
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size > max)
        return -1;
    b->ptr = o->via.bin.ptr;
    b->len = o->via.bin.size;
    return 0;
}

/* "K=V" strings with a non-empty K. */
static int get_env(const msgpack_object *o, hb_initstrv_t *s)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > HB_ENV_MAX)
        return -1;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        hb_initstr_t kv;
        if (get_str(&o->via.array.ptr[i], HB_ENVSTR_MAX, &kv) < 0)
            return -1;
        const char *eq = memchr(kv.ptr, '=', kv.len);
        if (!eq || eq == kv.ptr)
            return -1;
    }
    *s = (hb_initstrv_t){.obj = &o->via.array, .n = o->via.array.size};
    return 0;
}

static int ent_ok(const msgpack_object *e)
{
    const char *p;
    size_t n;
    uint64_t v;
    return e->type == MSGPACK_OBJECT_ARRAY && e->via.array.size == 3 &&
           hb_obj_str(&e->via.array.ptr[0], HB_PATH_MAX - 1, &p, &n) == 0 &&
           hb_path_check_n(p, n, NULL) == 0 &&
           hb_obj_uint(&e->via.array.ptr[1], 3, &v) == 0 &&
           hb_obj_uint(&e->via.array.ptr[2], UINT64_MAX, &v) == 0 ? 0 : -1;
}

static int get_ents(const msgpack_object *o, hb_initents_t *s)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > HB_ENTS_BATCH)
        return -1;
    for (uint32_t i = 0; i < o->via.array.size; i++)
        if (ent_ok(&o->via.array.ptr[i]) < 0)
            return -1;
    *s = (hb_initents_t){.obj = &o->via.array, .n = o->via.array.size};
    return 0;
}

/* [mode u32, uid u32, gid u32, mtime i64] */
static int meta_ok(const msgpack_object *e)
{
    uint64_t v;
    int64_t t;
    return e->type == MSGPACK_OBJECT_ARRAY && e->via.array.size == 4 &&
           hb_obj_uint(&e->via.array.ptr[0], UINT32_MAX, &v) == 0 &&
           hb_obj_uint(&e->via.array.ptr[1], UINT32_MAX, &v) == 0 &&
           hb_obj_uint(&e->via.array.ptr[2], UINT32_MAX, &v) == 0 &&
           hb_obj_int(&e->via.array.ptr[3], INT64_MIN, INT64_MAX, &t) == 0 ? 0 : -1;
}

static int get_meta(const msgpack_object *o, hb_initents_t *s)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > HB_ENTS_BATCH)
        return -1;
    for (uint32_t i = 0; i < o->via.array.size; i++)
        if (meta_ok(&o->via.array.ptr[i]) < 0)
            return -1;
    *s = (hb_initents_t){.obj = &o->via.array, .n = o->via.array.size};
    return 0;
}

/* Printable ASCII only (it ends up in logs and API errors), cut to fit. */
static int get_msg(const msgpack_object *o, uint64_t max, char *out)
{
    const char *p;
    size_t n;
    if (hb_obj_str(o, (size_t)max, &p, &n) < 0)
        return -1;
    if (n >= HB_INITMSG_MAX)
        n = HB_INITMSG_MAX - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
    out[n] = '\0';
    return 0;
}

static int get_scalar(const field_t *f, const msgpack_object *o, char *mem)
{
    uint64_t u;
    switch (f->type) {
    case T_U64:
        if (hb_obj_uint(o, f->hi, &u) < 0 || u < (uint64_t)f->lo)
            return -1;
        memcpy(mem, &u, sizeof u);
        return 0;
    case T_I64:
        return hb_obj_int(o, f->lo, (int64_t)f->hi, (int64_t *)(void *)mem);
    case T_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return -1;
        *(bool *)(void *)mem = o->via.boolean;
        return 0;
    default:
        return -1;
    }
}

static int get_value(const field_t *f, const msgpack_object *o, char *mem, paths_t *ps)
{
    switch (f->type) {
    case T_STR: return get_str(o, f->hi, (hb_initstr_t *)(void *)mem);
    case T_PATH: return get_path(o, ps, (const char **)(void *)mem);
    case T_BIN: return get_bin(o, f->hi, (hb_initbin_t *)(void *)mem);
    case T_ENV: return get_env(o, (hb_initstrv_t *)(void *)mem);
    case T_ENTS: return get_ents(o, (hb_initents_t *)(void *)mem);
    case T_META: return get_meta(o, (hb_initents_t *)(void *)mem);
    case T_MSG: return get_msg(o, f->hi, mem);
    default: return get_scalar(f, o, mem);
    }
}

/* The kind named by the tag, or 0. */
static int find_kind(const proto_t *pr, const msgpack_object_map *m)
{
    const char *t;
    size_t n;
    if (hb_map_str(m, pr->tag, 16, &t, &n) != 0)
        return 0;
    for (size_t k = 1; k < pr->nkinds; k++)
        if (strlen(pr->kinds[k].name) == n && memcmp(pr->kinds[k].name, t, n) == 0)
            return (int)k;
    return 0;
}

/* Decode the fields of kind k into msg (zeroed by the caller). */
static int decode(const proto_t *pr, int k, const msgpack_object_map *m, char *msg,
                  uint64_t *has, paths_t *ps, const char **why)
{
    const kind_t *kd = &pr->kinds[k];
    for (size_t i = 0; i < kd->n; i++) {
        const field_t *f = &pr->fields[kd->uses[i].field];
        const msgpack_object *o = hb_map_get(m, f->key);
        *why = f->key;
        if (!o && kd->uses[i].pres == P_REQ)
            return -1;
        if (!o)
            continue;
        if (get_value(f, o, msg + f->off, ps) < 0)
            return -1;
        *has |= 1ull << kd->uses[i].field;
    }
    return 0;
}

int hb_initreq_parse(const hb_frame_t *f, hb_initreq_in_t *in, const char **why)
{
    const char *dummy;
    paths_t ps = {in->paths, 0};
    hb_initreq_t *r = &in->r;
    if (!why)
        why = &dummy;
    memset(r, 0, sizeof *r);
    *why = "op";
    if (!f->decoded || !(r->op = (hb_initop_t)find_kind(&REQ, &f->map)))
        return -1;
    return decode(&REQ, (int)r->op, &f->map, (char *)r, &r->has, &ps, why);
}

int hb_initans_parse(const hb_frame_t *f, hb_initans_t *a)
{
    const char *why;
    memset(a, 0, sizeof *a);
    if (f->decoded && (a->t = (hb_ansty_t)find_kind(&ANS, &f->map)) &&
        decode(&ANS, (int)a->t, &f->map, (char *)a, &a->has, NULL, &why) == 0)
        return 0;
    errno = EPROTO;
    return -1;
}

void hb_initans_ent(const hb_initans_t *a, uint32_t i, const char **path, size_t *plen,
                    unsigned *type, uint64_t *size)
{
    const msgpack_object *e = a->ents.obj->ptr[i].via.array.ptr;
    *path = e[0].via.str.ptr;
    *plen = e[0].via.str.size;
    *type = (unsigned)e[1].via.u64;
    *size = e[2].via.u64;
}

int hb_initans_meta(const hb_initans_t *a, uint32_t i, hb_initmeta_t *m)
{
    if (!(a->has & HB_IAF_BIT(meta)) || !a->meta.obj || a->meta.n != a->ents.n ||
        i >= a->meta.n)
        return -1;
    const msgpack_object *e = a->meta.obj->ptr[i].via.array.ptr;
    int64_t t = 0;
    hb_obj_int(&e[3], INT64_MIN, INT64_MAX, &t);   /* meta_ok checked every range */
    *m = (hb_initmeta_t){.mode = (uint32_t)e[0].via.u64, .uid = (uint32_t)e[1].via.u64,
                         .gid = (uint32_t)e[2].via.u64, .mtime = t};
    return 0;
}

void hb_initstrv_get(const hb_initstrv_t *s, size_t i, const char **p, size_t *len)
{
    if (s->obj) {
        *p = s->obj->ptr[i].via.str.ptr;
        *len = s->obj->ptr[i].via.str.size;
    } else {
        *p = s->v[i];
        *len = strlen(s->v[i]);
    }
}

/* ---- encoding ---- */

/* Whether an O field is set: non-zero, non-NULL, non-empty. */
static bool is_set(const field_t *f, const char *mem)
{
    switch (f->type) {
    case T_STR: return ((const hb_initstr_t *)(const void *)mem)->ptr != NULL;
    case T_PATH: return *(const char *const *)(const void *)mem != NULL;
    case T_BIN: return ((const hb_initbin_t *)(const void *)mem)->ptr != NULL;
    case T_ENV: return ((const hb_initstrv_t *)(const void *)mem)->n > 0;
    case T_ENTS:
    case T_META: return ((const hb_initents_t *)(const void *)mem)->n > 0;
    case T_MSG: return mem[0] != '\0';
    case T_BOOL: return *(const bool *)(const void *)mem;
    default: return *(const uint64_t *)(const void *)mem != 0;   /* U64, I64 */
    }
}

static bool on_wire(const proto_t *pr, use_t u, const char *msg, uint64_t has)
{
    const field_t *f = &pr->fields[u.field];
    switch (u.pres) {
    case P_OPT: return is_set(f, msg + f->off);
    case P_HAS: return (has >> u.field) & 1ull;
    default: return true;
    }
}

static void pack_strv(msgpack_packer *pk, const hb_initstrv_t *s)
{
    msgpack_pack_array(pk, s->n);
    for (size_t i = 0; i < s->n; i++) {
        const char *p;
        size_t n;
        hb_initstrv_get(s, i, &p, &n);
        msgpack_pack_str_with_body(pk, p, n);
    }
}

static void pack_ents(msgpack_packer *pk, const hb_initents_t *s)
{
    if (s->obj) {
        msgpack_object o = {.type = MSGPACK_OBJECT_ARRAY, .via.array = *s->obj};
        msgpack_pack_object(pk, o);
        return;
    }
    msgpack_pack_array(pk, s->n);
    if (s->packed_len)
        pk->callback(pk->data, s->packed, s->packed_len);
}

static void pack_value(msgpack_packer *pk, const field_t *f, const char *mem)
{
    const hb_initstr_t *s = (const void *)mem;
    const hb_initbin_t *b = (const void *)mem;
    switch (f->type) {
    case T_STR: msgpack_pack_str_with_body(pk, s->ptr, s->len); break;
    case T_PATH: hb_pk_str(pk, *(const char *const *)(const void *)mem); break;
    case T_BIN: msgpack_pack_bin_with_body(pk, b->ptr, b->len); break;
    case T_ENV: pack_strv(pk, (const void *)mem); break;
    case T_ENTS:
    case T_META: pack_ents(pk, (const void *)mem); break;
    case T_MSG: hb_pk_str(pk, mem); break;
    case T_BOOL:
        if (*(const bool *)(const void *)mem)
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        break;
    case T_U64: msgpack_pack_uint64(pk, *(const uint64_t *)(const void *)mem); break;
    case T_I64: msgpack_pack_int64(pk, *(const int64_t *)(const void *)mem); break;
    }
}

/* The map: the tag, then every field of kind k that is on the wire, in the
 * order the kind lists them; the map size is counted, never written down. */
static void encode(const proto_t *pr, int k, const char *msg, uint64_t has, msgpack_packer *pk)
{
    if (k <= 0 || (size_t)k >= pr->nkinds) {
        msgpack_pack_map(pk, 0);    /* a caller's bug: the peer refuses it */
        return;
    }
    const kind_t *kd = &pr->kinds[k];
    uint32_t n = 1;
    for (size_t i = 0; i < kd->n; i++)
        n += on_wire(pr, kd->uses[i], msg, has);
    msgpack_pack_map(pk, n);
    hb_pk_kstr(pk, pr->tag, kd->name);
    for (size_t i = 0; i < kd->n; i++) {
        const field_t *f = &pr->fields[kd->uses[i].field];
        if (!on_wire(pr, kd->uses[i], msg, has))
            continue;
        hb_pk_str(pk, f->key);
        pack_value(pk, f, msg + f->off);
    }
}

void hb_initreq_pack(msgpack_packer *pk, const hb_initreq_t *r)
{
    encode(&REQ, (int)r->op, (const char *)r, r->has, pk);
}

void hb_initans_pack(msgpack_packer *pk, const hb_initans_t *a)
{
    encode(&ANS, (int)a->t, (const char *)a, a->has, pk);
}

int hb_initans_send(int fd, const hb_initans_t *a)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    hb_frame_begin(&sb);
    hb_initans_pack(&pk, a);
    int r = hb_frame_send(fd, &sb);
    int saved = errno;
    msgpack_sbuffer_destroy(&sb);
    errno = saved;
    return r;
}

void hb_initents_pack(msgpack_packer *pk, const char *path, size_t plen, unsigned type,
                      uint64_t size)
{
    msgpack_pack_array(pk, 3);
    msgpack_pack_str_with_body(pk, path, plen);
    msgpack_pack_uint32(pk, type);
    msgpack_pack_uint64(pk, size);
}

void hb_initmeta_pack(msgpack_packer *pk, const hb_initmeta_t *m)
{
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint32(pk, m->mode);
    msgpack_pack_uint32(pk, m->uid);
    msgpack_pack_uint32(pk, m->gid);
    msgpack_pack_int64(pk, m->mtime);
}

const char *hb_initop_name(hb_initop_t op)
{
    return op > HB_OP_NONE && op < HB_OP_COUNT ? req_kinds[op].name : "?";
}

const char *hb_initans_name(hb_ansty_t t)
{
    return t > HB_ANS_NONE && t < HB_ANS_COUNT ? ans_kinds[t].name : "?";
}
