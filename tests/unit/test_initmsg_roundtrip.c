/* The init protocol generated from schemas/initproto.def: every kind, with
 * every field set, encodes, decodes to the same values, and re-encodes to
 * the same bytes; and the bytes are those the hand-written encoders sent
 * before the list existed (a new daemon still talks to the init of a
 * sandbox started by an older one: tests/e2e/test_restart.py). */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "initmsg.h"

/* Which fields each kind carries, from the same list. */
#define R(f) | HB_FIELD_BIT(f)
#define D(f) R(f)
#define O(f) R(f)
#define H(f) R(f)
#define HB_FIELD_BIT(f) HB_IRF_BIT(f)
#define REQ_MASK(e, wire, uses) [HB_OP_##e] = 0 uses,
static const uint64_t req_mask[HB_OP_COUNT] = {HB_INITREQS(REQ_MASK)};
#undef HB_FIELD_BIT
#define HB_FIELD_BIT(f) HB_IAF_BIT(f)
#define ANS_MASK(e, wire, uses) [HB_ANS_##e] = 0 uses,
static const uint64_t ans_mask[HB_ANS_COUNT] = {HB_INITANSS(ANS_MASK)};

static const char *const env_v[] = {"A=1", "PATH=/bin"};

/* Every request field set (to values a decoder keeps as they are). */
static hb_initreq_t full_req(hb_initop_t op)
{
    return (hb_initreq_t){
        .op = op, .has = ~0ull, .cmd = {"echo hi", 7}, .cwd = "/work", .env = {.v = env_v, .n = 2},
        .stdin = {"in\0put", 6}, .timeout_ms = 1500, .out_cap = 1 << 20, .pgid = 42, .sig = 9,
        .path = "/a/b c", .mode = 0640, .max = 1ull << 33, .recursive = true, .follow = true,
        .parents = true, .from = "/f", .to = "/t/u", .user = {"app", 3}, .pid = 4242,
        .tag = {"web", 3}, .keep_stdin = true, .cols = 120, .rows = 40, .offset = 1ull << 34,
        .close = true, .keep = true, .hold = true,
        .port = 8080,   /* issue 16: port_connect */
    };
}

static char ents_buf[256], meta_buf[128];
static msgpack_sbuffer ents_sb;

/* Two entries' metadata, the second with a negative mtime. */
static size_t pack_meta(void)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    hb_initmeta_pack(&pk, &(hb_initmeta_t){040755, 0, 0, 1700000000});
    hb_initmeta_pack(&pk, &(hb_initmeta_t){0100600, 1000, 1001, -7});
    cr_assert(sb.size < sizeof meta_buf);
    memcpy(meta_buf, sb.data, sb.size);
    size_t n = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return n;
}

/* Every answer field set; ents holds two packed entries. */
static hb_initans_t full_ans(hb_ansty_t t)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(&ents_sb);
    msgpack_packer_init(&pk, &ents_sb, msgpack_sbuffer_write);
    hb_initents_pack(&pk, "/x", 2, 1, 4096);
    hb_initents_pack(&pk, "/x/y", 4, 0, 1ull << 40);
    cr_assert(ents_sb.size < sizeof ents_buf);
    memcpy(ents_buf, ents_sb.data, ents_sb.size);
    hb_initans_t a = {
        .t = t, .has = ~0ull, .pid = 77, .fd = 2, .data = {"d\0ta", 4}, .code = 137, .signal = 9,
        .timed_out = true, .out_trunc = true, .err_trunc = true, .duration_us = 123456789,
        .size = 1ull << 35, .truncated = true,
        .ents = {.packed = ents_buf, .packed_len = ents_sb.size, .n = 2},
        .meta = {.packed = meta_buf, .packed_len = pack_meta(), .n = 2},
        .type = 2, .mode = 0100644, .uid = 1000, .gid = 1001, .mtime = -5, .atime = 6,
        .ctime = 1700000000, .err = 2, .msg = "no such file", .tag = {"web", 3},
        .cmd = {"sleep 9", 7}, .user = {"app", 3}, .started_at = 1700000000123,
        .ended_at = 1700000009123, .cols = 80, .rows = 24, .stdin_open = true,
        .first = 1 << 20, .off = (1ull << 20) + 5, .seq = 17, .name = {"a/b", 3}, .ev = 2,
    };
    msgpack_sbuffer_destroy(&ents_sb);
    return a;
}

/* Field comparisons: in the kind's mask equal, otherwise left zero. */
#define CMP_STR(x, y, k) (x.len == y.len && (!x.len || !memcmp(x.ptr, y.ptr, x.len)))
#define CMP_PATH(x, y, k) ((!x && !y) || (x && y && !strcmp(x, y)))
#define CMP_BIN(x, y, k) CMP_STR(x, y, k)
#define CMP_ENV(x, y, k) strv_eq(&x, &y)
#define CMP_U64(x, y, k) (x == y)
#define CMP_I64(x, y, k) (x == y)
#define CMP_BOOL(x, y, k) (x == y)
#define CMP_ENTS(x, y, k) (x.n == y.n)
#define CMP_META(x, y, k) (x.n == y.n)
#define CMP_MSG(x, y, k) (!strcmp(x, y))
#define ZERO_STR(y) (!y.ptr && !y.len)
#define ZERO_PATH(y) (!y)
#define ZERO_BIN(y) ZERO_STR(y)
#define ZERO_ENV(y) (!y.n && !y.obj)
#define ZERO_U64(y) (!y)
#define ZERO_I64(y) (!y)
#define ZERO_BOOL(y) (!y)
#define ZERO_ENTS(y) (!y.n && !y.obj)
#define ZERO_META(y) (!y.n && !y.obj)
#define ZERO_MSG(y) (!y[0])

static bool strv_eq(const hb_initstrv_t *x, const hb_initstrv_t *y)
{
    if (x->n != y->n)
        return false;
    for (size_t i = 0; i < x->n; i++) {
        const char *p, *q;
        size_t pn, qn;
        hb_initstrv_get(x, i, &p, &pn);
        hb_initstrv_get(y, i, &q, &qn);
        if (pn != qn || memcmp(p, q, pn))
            return false;
    }
    return true;
}

#define CHECK(bit, type, m, key)                                                  \
    if (mask & bit)                                                               \
        cr_assert(CMP_##type(want->m, got->m, key), "%s: field %s differs", kind, key); \
    else                                                                          \
        cr_assert(ZERO_##type(got->m), "%s: field %s not of this kind", kind, key);
#define CHECK_REQ(type, m, key, lo, hi) CHECK(HB_IRF_BIT(m), type, m, key)
#define CHECK_ANS(type, m, key, lo, hi) CHECK(HB_IAF_BIT(m), type, m, key)

static void req_eq(const hb_initreq_t *want, const hb_initreq_t *got, uint64_t mask,
                   const char *kind)
{
    HB_INITREQ_FIELDS(CHECK_REQ)
}

static void ans_eq(const hb_initans_t *want, const hb_initans_t *got, uint64_t mask,
                   const char *kind)
{
    HB_INITANS_FIELDS(CHECK_ANS)
}

typedef void (*packer_fn)(msgpack_packer *pk, const void *msg);

static void pack_req(msgpack_packer *pk, const void *msg) { hb_initreq_pack(pk, msg); }
static void pack_ans(msgpack_packer *pk, const void *msg) { hb_initans_pack(pk, msg); }

/* Encode msg into a decoded frame; the bytes are left in sb. */
static void encode(packer_fn fn, const void *msg, msgpack_sbuffer *sb, hb_frame_t *f)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    fn(&pk, msg);
    hb_frame_init(f);
    cr_assert_eq(hb_frame_decode(f, sb->data, sb->size), 0);
}

static void same_bytes(const msgpack_sbuffer *a, const msgpack_sbuffer *b, const char *kind)
{
    cr_assert(a->size == b->size && !memcmp(a->data, b->data, a->size),
              "%s: re-encoding changed the bytes", kind);
}

Test(initmsg_roundtrip, every_request_kind_with_every_field)
{
    for (int k = HB_OP_NONE + 1; k < HB_OP_COUNT; k++) {
        const char *kind = hb_initop_name((hb_initop_t)k);
        hb_initreq_t want = full_req((hb_initop_t)k);
        msgpack_sbuffer sb1, sb2;
        hb_frame_t f1, f2;
        hb_initreq_in_t in1, in2;
        const char *why = "";
        encode(pack_req, &want, &sb1, &f1);
        cr_assert_eq(hb_initreq_parse(&f1, &in1, &why), 0, "%s: %s", kind, why);
        cr_assert_eq(in1.r.op, k);
        cr_assert_eq(in1.r.has, req_mask[k], "%s: every field of the kind on the wire", kind);
        req_eq(&want, &in1.r, req_mask[k], kind);
        encode(pack_req, &in1.r, &sb2, &f2);
        same_bytes(&sb1, &sb2, kind);
        cr_assert_eq(hb_initreq_parse(&f2, &in2, &why), 0, "%s: %s", kind, why);
        req_eq(&want, &in2.r, req_mask[k], kind);
        hb_frame_free(&f1);
        hb_frame_free(&f2);
        msgpack_sbuffer_destroy(&sb1);
        msgpack_sbuffer_destroy(&sb2);
    }
}

static void ents_eq(const hb_initans_t *a)
{
    const char *p;
    size_t pl;
    unsigned type;
    uint64_t size;
    hb_initans_ent(a, 1, &p, &pl, &type, &size);
    cr_assert(pl == 4 && !memcmp(p, "/x/y", 4) && type == 0 && size == 1ull << 40);
    hb_initmeta_t m;
    cr_assert_eq(hb_initans_meta(a, 0, &m), 0);
    cr_assert(m.mode == 040755 && m.uid == 0 && m.mtime == 1700000000);
    cr_assert_eq(hb_initans_meta(a, 1, &m), 0);
    cr_assert(m.mode == 0100600 && m.uid == 1000 && m.gid == 1001 && m.mtime == -7);
    cr_assert_eq(hb_initans_meta(a, 2, &m), -1, "past the end");
}

/* An init older than `meta` sends ents alone: no metadata, no error. */
Test(initmsg_roundtrip, ents_without_meta_decode)
{
    hb_initans_t want = full_ans(HB_ANS_ENTS), got;
    want.meta = (hb_initents_t){0};
    msgpack_sbuffer sb;
    hb_frame_t f;
    encode(pack_ans, &want, &sb, &f);
    cr_assert_eq(hb_initans_parse(&f, &got), 0);
    cr_assert_eq(got.ents.n, 2);
    hb_initmeta_t m;
    cr_assert_eq(hb_initans_meta(&got, 0, &m), -1);
    hb_frame_free(&f);
    msgpack_sbuffer_destroy(&sb);
}

Test(initmsg_roundtrip, every_answer_kind_with_every_field)
{
    for (int k = HB_ANS_NONE + 1; k < HB_ANS_COUNT; k++) {
        const char *kind = hb_initans_name((hb_ansty_t)k);
        hb_initans_t want = full_ans((hb_ansty_t)k), got1, got2;
        msgpack_sbuffer sb1, sb2;
        hb_frame_t f1, f2;
        encode(pack_ans, &want, &sb1, &f1);
        cr_assert_eq(hb_initans_parse(&f1, &got1), 0, "%s", kind);
        cr_assert_eq(got1.t, k);
        cr_assert_eq(got1.has, ans_mask[k], "%s: every field of the kind on the wire", kind);
        ans_eq(&want, &got1, ans_mask[k], kind);
        if (k == HB_ANS_ENTS)
            ents_eq(&got1);
        encode(pack_ans, &got1, &sb2, &f2);
        same_bytes(&sb1, &sb2, kind);
        cr_assert_eq(hb_initans_parse(&f2, &got2), 0, "%s", kind);
        ans_eq(&want, &got2, ans_mask[k], kind);
        hb_frame_free(&f1);
        hb_frame_free(&f2);
        msgpack_sbuffer_destroy(&sb1);
        msgpack_sbuffer_destroy(&sb2);
    }
}

/* Optional fields stay off the wire when unset; the map size follows. */
Test(initmsg_roundtrip, unset_optional_fields_are_not_sent)
{
    hb_initreq_t r = {.op = HB_OP_EXEC, .cmd = {"true", 4}};
    msgpack_sbuffer sb;
    hb_frame_t f;
    encode(pack_req, &r, &sb, &f);
    cr_assert_eq(f.map.size, 3, "op, cmd and out_cap");
    hb_frame_free(&f);
    msgpack_sbuffer_destroy(&sb);
    hb_initans_t a = {.t = HB_ANS_OK};
    encode(pack_ans, &a, &sb, &f);
    cr_assert_eq(f.map.size, 1, "ok without size");
    hb_frame_free(&f);
    msgpack_sbuffer_destroy(&sb);
}

/* hb_frame_send_chunk, the zero-copy encoder of `out` and `data`, agrees
 * with the generated one. */
Test(initmsg_roundtrip, chunk_frames_decode_like_generated_ones)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(hb_frame_send_chunk(p[1], "out", 1, "abc", 3), 0);
    cr_assert_eq(hb_frame_send_chunk(p[1], "data", 0, "", 0), 0);
    close(p[1]);
    hb_frame_t f;
    hb_initans_t a;
    hb_frame_init(&f);
    cr_assert_eq(hb_frame_read(p[0], &f, 1000), 0);
    cr_assert_eq(hb_initans_parse(&f, &a), 0);
    cr_assert(a.t == HB_ANS_OUT && a.fd == 1 && a.data.len == 3 &&
              a.has == (ans_mask[HB_ANS_OUT] & ~HB_IAF_BIT(off)));
    cr_assert_eq(hb_frame_read(p[0], &f, 1000), 0);
    cr_assert_eq(hb_initans_parse(&f, &a), 0);
    cr_assert(a.t == HB_ANS_DATA && a.data.len == 0 && a.has == ans_mask[HB_ANS_DATA]);
    hb_frame_free(&f);
    close(p[0]);
}

/* ---- the wire format before initproto.def: the bytes the hand-written
 * encoders (actors/runtime/exec.c pack_req, files.c fill_*, the agent's
 * hb_answer_begin calls) sent for full_req / full_ans, in hex. ---- */

static const struct {
    bool answer;
    int kind;
    const char *hex;
} old_wire[] = {
    {false, HB_OP_EXEC, "87a26f70a465786563a3636d64a76563686f206869a3637764a52f776f726ba3656e7692a3"
                        "413d31a9504154483d2f62696ea5737464696ec406696e00707574aa74696d656f75745f"
                        "6d73cd05dca76f75745f636170ce00100000"},
    {false, HB_OP_WRITE, "84a26f70a57772697465a470617468a62f612f622063a46d6f6465cd01a0a36d6178cf00"
                         "00000200000000"},
    {false, HB_OP_LIST, "84a26f70a46c697374a470617468a62f612f622063a9726563757273697665c3a36d6178"
                        "cf0000000200000000"},
    {false, HB_OP_RENAME, "83a26f70a672656e616d65a466726f6da22f66a2746fa42f742f75"},
    {true, HB_ANS_EXIT, "87a174a465786974a4636f6465cc89a67369676e616c09a974696d65645f6f7574c3a96f"
                        "75745f7472756e63c3a96572725f7472756e63c3ab6475726174696f6e5f7573ce075bcd15"},
    {true, HB_ANS_STAT, "89a174a473746174a47479706502a473697a65cf0000000800000000a46d6f6465cd81a4"
                        "a3756964cd03e8a3676964cd03e9a56d74696d65fba56174696d6506a56374696d65ce65"
                        "53f100"},
    {true, HB_ANS_ERR, "83a174a3657272a56572726e6f02a36d7367ac6e6f20737563682066696c65"},
    {true, HB_ANS_END, "82a174a3656e64a97472756e6361746564c3"},   /* a list's end */
    {true, HB_ANS_ENTS, "82a174a4656e7473a4656e74739293a22f7801cd100093a42f782f7900cf000001000000"
                        "0000"},
};

static void hex_eq(const msgpack_sbuffer *sb, const char *hex, const char *kind)
{
    char got[1024] = "";
    cr_assert(sb->size * 2 < sizeof got);
    for (size_t i = 0; i < sb->size; i++)
        snprintf(got + 2 * i, 3, "%02x", (unsigned char)sb->data[i]);
    cr_assert_str_eq(got, hex, "%s: wire format changed", kind);
}

Test(initmsg_roundtrip, wire_format_unchanged)
{
    for (size_t i = 0; i < sizeof old_wire / sizeof old_wire[0]; i++) {
        msgpack_sbuffer sb;
        hb_frame_t f;
        hb_initreq_t r = full_req((hb_initop_t)old_wire[i].kind);
        hb_initans_t a = full_ans((hb_ansty_t)old_wire[i].kind);
        a.has &= ~HB_IAF_BIT(off);   /* newer than these kinds: written only when set */
        a.meta = (hb_initents_t){0}; /* likewise (O): without it, ents is as it was */
        r.keep = false;              /* and write's `keep` */
        if (r.op == HB_OP_WRITE)     /* and write's `user` (O) */
            r.user = (hb_initstr_t){0};
        if (old_wire[i].answer)
            encode(pack_ans, &a, &sb, &f);
        else
            encode(pack_req, &r, &sb, &f);
        hex_eq(&sb, old_wire[i].hex, old_wire[i].answer ? hb_initans_name(a.t)
                                                        : hb_initop_name(r.op));
        hb_frame_free(&f);
        msgpack_sbuffer_destroy(&sb);
    }
}
