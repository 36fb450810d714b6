/* libFuzzer target: the init protocol frame decoder, the request decoder
 * (init's side) and the answer decoder (the daemon's side), all generated
 * from schemas/initproto.def.
 * Byte 0 selects the mode:
 *   bit 0 clear, bit 1 clear: the rest is one frame body;
 *   bit 0 set: the rest is a length-prefixed stream read through a pipe;
 *   bit 1 set (bit 0 clear): byte 1 names a kind (bit 7: answer) and the
 *     rest is a map whose tag is replaced by that kind's, so every kind's
 *     decoder sees arbitrary fields.
 * Whatever decodes must re-encode, decode again, and re-encode to the same
 * bytes (decode -> encode -> decode is stable). */
#include "initmsg.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_req(const hb_initreq_t *r)
{
    assert(r->op > HB_OP_NONE && r->op < HB_OP_COUNT);
    assert(r->cmd.len <= HB_CMD_MAX && (!r->cmd.len || !memchr(r->cmd.ptr, 0, r->cmd.len)));
    assert(r->stdin.len <= HB_STDIN_MAX);
    for (size_t i = 0; i < r->env.n; i++) {
        const char *p;
        size_t n;
        hb_initstrv_get(&r->env, i, &p, &n);
        assert(n > 1 && p[0] != '=' && memchr(p, '=', n));
    }
    if (r->op == HB_OP_SIGNAL)
        assert(r->pgid > 1 && r->sig >= 1 && r->sig <= HB_SIG_MAX);
    const char *paths[] = {r->cwd, r->path, r->from, r->to};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (!paths[i])
            continue;
        assert(hb_path_check(paths[i], NULL) == 0);
        assert(!strstr(paths[i], "//") && !strstr(paths[i], "/../"));
    }
    assert(r->mode <= 07777);
}

static void check_ans(const hb_initans_t *a)
{
    assert(a->t > HB_ANS_NONE && a->t < HB_ANS_COUNT);
    assert(a->data.len <= HB_CHUNK_MAX);
    assert(strlen(a->msg) < sizeof a->msg);
    for (uint32_t i = 0; a->t == HB_ANS_ENTS && i < a->ents.n; i++) {
        const char *p;
        size_t pl;
        unsigned type;
        uint64_t size;
        hb_initans_ent(a, i, &p, &pl, &type, &size);
        assert(type <= 3 && pl < HB_PATH_MAX && hb_path_check_n(p, pl, NULL) == 0);
        hb_initmeta_t m;
        (void)hb_initans_meta(a, i, &m);
    }
}

typedef void (*pack_fn)(msgpack_packer *pk, const void *msg);
typedef int (*parse_fn)(const hb_frame_t *f, void *out);
typedef void (*check_fn)(const void *msg);

static void pack_req(msgpack_packer *pk, const void *m) { hb_initreq_pack(pk, m); }
static void pack_ans(msgpack_packer *pk, const void *m) { hb_initans_pack(pk, m); }
static int parse_req(const hb_frame_t *f, void *out) { return hb_initreq_parse(f, out, NULL); }
static int parse_ans(const hb_frame_t *f, void *out) { return hb_initans_parse(f, out); }
static void check_req_in(const void *in) { check_req(&((const hb_initreq_in_t *)in)->r); }
static void check_ans_v(const void *a) { check_ans(a); }

static void encode(pack_fn pack, const void *msg, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    pack(&pk, msg);
}

/* msg was decoded: encode it (e1), decode that into tmp (must work and
 * pass check; tmp points into a frame freed here), encode again (e2 == e1). */
static void stable(pack_fn pack, parse_fn parse, check_fn check, const void *msg, void *tmp)
{
    msgpack_sbuffer e1, e2;
    hb_frame_t f;
    hb_frame_init(&f);
    encode(pack, msg, &e1);
    if (e1.size <= HB_FRAME_MAX) {     /* D fields absent from the input add bytes */
        assert(hb_frame_decode(&f, e1.data, e1.size) == 0);
        assert(parse(&f, tmp) == 0);
        check(tmp);
        encode(pack, (pack == pack_req) ? (const void *)&((hb_initreq_in_t *)tmp)->r : tmp, &e2);
        assert(e1.size == e2.size && memcmp(e1.data, e2.data, e1.size) == 0);
        msgpack_sbuffer_destroy(&e2);
    }
    msgpack_sbuffer_destroy(&e1);
    hb_frame_free(&f);
}

static void check_frame(const hb_frame_t *f)
{
    hb_initreq_in_t *in = malloc(sizeof *in), *in2 = malloc(sizeof *in2);
    if (in && in2 && hb_initreq_parse(f, in, NULL) == 0) {
        check_req(&in->r);
        stable(pack_req, parse_req, check_req_in, &in->r, in2);
    }
    free(in);
    free(in2);
    hb_initans_t a, a2;
    if (hb_initans_parse(f, &a) == 0) {
        check_ans(&a);
        stable(pack_ans, parse_ans, check_ans_v, &a, &a2);
    }
}

/* Re-pack the map in f with its tag set to kind sel (byte 1 of the input). */
static void check_as_kind(const hb_frame_t *f, unsigned sel)
{
    bool ans = sel & 0x80;
    const char *tag = ans ? "t" : "op";
    const char *name = ans ? hb_initans_name((hb_ansty_t)(1 + (sel & 0x7f) % (HB_ANS_COUNT - 1)))
                           : hb_initop_name((hb_initop_t)(1 + (sel & 0x7f) % (HB_OP_COUNT - 1)));
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    uint32_t keep = 0;
    for (uint32_t i = 0; i < f->map.size; i++)
        keep += !(f->map.ptr[i].key.via.str.size == strlen(tag) &&
                  !memcmp(f->map.ptr[i].key.via.str.ptr, tag, strlen(tag)));
    msgpack_pack_map(&pk, keep + 1);
    hb_pk_kstr(&pk, tag, name);
    for (uint32_t i = 0; i < f->map.size; i++) {
        const msgpack_object_kv *kv = &f->map.ptr[i];
        if (kv->key.via.str.size == strlen(tag) && !memcmp(kv->key.via.str.ptr, tag, strlen(tag)))
            continue;
        msgpack_pack_object(&pk, kv->key);
        msgpack_pack_object(&pk, kv->val);
    }
    hb_frame_t g;
    hb_frame_init(&g);
    if (hb_frame_decode(&g, sb.data, sb.size) == 0)
        check_frame(&g);
    hb_frame_free(&g);
    msgpack_sbuffer_destroy(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    hb_frame_t f;
    hb_frame_init(&f);
    if ((data[0] & 3) == 0) {
        if (hb_frame_decode(&f, data + 1, size - 1) == 0)
            check_frame(&f);
    } else if ((data[0] & 3) == 2) {
        if (size >= 2 && hb_frame_decode(&f, data + 2, size - 2) == 0)
            check_as_kind(&f, data[1]);
    } else if (size - 1 <= 60000) {      /* fits a pipe without blocking */
        int p[2];
        if (pipe(p) == 0) {
            ssize_t w = write(p[1], data + 1, size - 1);
            (void)w;
            close(p[1]);
            while (hb_frame_read(p[0], &f, 0) == 0)
                check_frame(&f);
            close(p[0]);
        }
    }
    hb_frame_free(&f);
    return 0;
}
