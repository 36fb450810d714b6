/* Init protocol frame codec (schemas/initproto.c) and the message parsers
 * (schemas/initmsg.c): what both sides accept and, above all, refuse. The
 * round trip of every message kind is in test_initmsg_roundtrip.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "initmsg.h"

/* Pack a map with the callback, return the frame body (caller frees). */
typedef void (*packfn)(msgpack_packer *pk);

static hb_frame_t frame_of(packfn fn)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    fn(&pk);
    hb_frame_t f;
    hb_frame_init(&f);
    cr_assert_eq(hb_frame_decode(&f, sb.data, sb.size), 0);
    msgpack_sbuffer_destroy(&sb);
    return f;
}

static int decode_bytes(const char *b, size_t n)
{
    hb_frame_t f;
    hb_frame_init(&f);
    int r = hb_frame_decode(&f, b, n);
    hb_frame_free(&f);
    return r;
}

Test(initproto, decode_rejects_non_maps_and_garbage)
{
    cr_assert_eq(decode_bytes("\x92\x01\x02", 3), -1);       /* array */
    cr_assert_eq(errno, EPROTO);
    cr_assert_eq(decode_bytes("\xc0", 1), -1);               /* nil */
    cr_assert_eq(decode_bytes("\x81\x01\x02", 3), -1);       /* int key */
    cr_assert_eq(decode_bytes("\x81\xa1t", 3), -1);          /* truncated */
    cr_assert_eq(decode_bytes("\x80\x00", 2), -1);           /* trailing byte */
    cr_assert_eq(decode_bytes("", 0), -1);
    cr_assert_eq(decode_bytes("\x80", 1), 0);                /* empty map is a map */
}

Test(initproto, decode_rejects_lying_counts)
{
    /* a map whose value claims 2^32-1 array elements in a few bytes */
    cr_assert_eq(decode_bytes("\x81\xa1x\xdd\xff\xff\xff\xff", 8), -1);
    /* a str claiming more bytes than exist */
    cr_assert_eq(decode_bytes("\x81\xa1x\xdb\x00\x10\x00\x00", 8), -1);
    /* nested map below the top */
    cr_assert_eq(decode_bytes("\x81\xa1x\x81\xa1y\x01", 7), -1);
}

Test(initproto, decode_bounds_nesting)
{
    char b[64] = "\x81\xa1x";
    size_t n = 3;
    for (int i = 0; i < 20; i++)
        b[n++] = (char)0x91;
    b[n++] = (char)0xc0;
    cr_assert_eq(decode_bytes(b, n), -1);
}

static int pipe_with(const void *data, size_t n)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(write(p[1], data, n), (ssize_t)n);
    close(p[1]);
    return p[0];
}

Test(initproto, frame_roundtrip_through_fd)
{
    hb_initans_t ok = {.t = HB_ANS_OK, .has = HB_IAF_BIT(size), .size = 42};
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(hb_initans_send(p[1], &ok), 0);
    cr_assert_eq(hb_frame_send_chunk(p[1], "out", 2, "abc", 3), 0);
    close(p[1]);

    hb_frame_t f;
    hb_frame_init(&f);
    hb_initans_t a;
    cr_assert_eq(hb_frame_read(p[0], &f, -1), 0);
    cr_assert_eq(hb_initans_parse(&f, &a), 0);
    cr_assert_eq(a.t, HB_ANS_OK);
    cr_assert(a.has & HB_IAF_BIT(size));
    cr_assert_eq(a.size, 42);
    cr_assert_eq(hb_frame_read(p[0], &f, 1000), 0);
    cr_assert_eq(hb_initans_parse(&f, &a), 0);
    cr_assert_eq(a.t, HB_ANS_OUT);
    cr_assert_eq(a.fd, 2);
    cr_assert_eq(a.data.len, 3);
    cr_assert_eq(memcmp(a.data.ptr, "abc", 3), 0);
    cr_assert_eq(hb_frame_read(p[0], &f, -1), 1, "clean EOF");
    hb_frame_free(&f);
    close(p[0]);
}

Test(initproto, read_rejects_bad_lengths_and_torn_frames)
{
    hb_frame_t f;
    hb_frame_init(&f);
    int fd = pipe_with("\0\0\0\0", 4);
    cr_assert_eq(hb_frame_read(fd, &f, -1), -1);
    cr_assert_eq(errno, EPROTO);
    close(fd);
    fd = pipe_with("\x00\x20\x00\x00", 4);                   /* 2 MiB > max */
    cr_assert_eq(hb_frame_read(fd, &f, -1), -1);
    cr_assert_eq(errno, EPROTO);
    close(fd);
    fd = pipe_with("\0\0\0\x05\x81", 5);                     /* torn */
    cr_assert_eq(hb_frame_read(fd, &f, -1), -1);
    cr_assert_eq(errno, ECONNRESET);
    close(fd);
    fd = pipe_with("\0\0", 2);                               /* torn header */
    cr_assert_eq(hb_frame_read(fd, &f, -1), -1);
    close(fd);
    hb_frame_free(&f);
}

Test(initproto, read_times_out)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(write(p[1], "\0\0\0\x05", 4), 4);
    hb_frame_t f;
    hb_frame_init(&f);
    cr_assert_eq(hb_frame_read(p[0], &f, 50), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    hb_frame_free(&f);
    close(p[0]);
    close(p[1]);
}

static void pk_types(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 6);
    hb_pk_kstr(pk, "s", "hello");
    hb_pk_kuint(pk, "u", 300);
    hb_pk_kint(pk, "i", -7);
    hb_pk_kbool(pk, "b", true);
    hb_pk_kbin(pk, "bin", "\0\1", 2);
    hb_pk_str(pk, "v");
    msgpack_pack_array(pk, 2);
    hb_pk_str(pk, "a");
    hb_pk_str(pk, "bc");
}

static const msgpack_object *get(const hb_frame_t *f, const char *key)
{
    const msgpack_object *o = hb_map_get(&f->map, key);
    cr_assert_not_null(o, "%s", key);
    return o;
}

Test(initproto, typed_lookups)
{
    hb_frame_t f = frame_of(pk_types);
    uint64_t u;
    int64_t i;
    const char *p;
    size_t n;
    cr_assert_null(hb_map_get(&f.map, "missing"));
    cr_assert_eq(hb_map_str(&f.map, "missing", 10, &p, &n), 1);
    cr_assert_eq(hb_map_str(&f.map, "s", 5, &p, &n), 0);
    cr_assert(n == 5 && !memcmp(p, "hello", 5));
    cr_assert_eq(hb_map_str(&f.map, "s", 4, &p, &n), -1, "too long");
    cr_assert_eq(hb_map_str(&f.map, "bin", 10, &p, &n), -1, "bin is not str");
    cr_assert_eq(hb_obj_uint(get(&f, "u"), 1000, &u), 0);
    cr_assert_eq(u, 300);
    cr_assert_eq(hb_obj_uint(get(&f, "u"), 299, &u), -1, "range");
    cr_assert_eq(hb_obj_uint(get(&f, "i"), 1000, &u), -1, "negative is not uint");
    cr_assert_eq(hb_obj_int(get(&f, "i"), -10, 10, &i), 0);
    cr_assert_eq(i, -7);
    cr_assert_eq(hb_obj_int(get(&f, "i"), 0, 10, &i), -1);
    cr_assert_eq(hb_obj_int(get(&f, "u"), 0, 1000, &i), 0, "a positive int is an int");
    cr_assert_eq(hb_obj_int(get(&f, "b"), 0, 1, &i), -1, "wrong type");
    hb_frame_free(&f);
}

static void pk_exec(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 6);
    hb_pk_kstr(pk, "op", "exec");
    hb_pk_kstr(pk, "cmd", "echo hi");
    hb_pk_kstr(pk, "cwd", "/tmp//x/../y/");
    hb_pk_str(pk, "env");
    msgpack_pack_array(pk, 1);
    hb_pk_str(pk, "A=1");
    hb_pk_kbin(pk, "stdin", "in", 2);
    hb_pk_kuint(pk, "timeout_ms", 500);
}

Test(initmsg, exec_request)
{
    hb_frame_t f = frame_of(pk_exec);
    hb_initreq_in_t in;
    const hb_initreq_t *r = &in.r;
    const char *why;
    cr_assert_eq(hb_initreq_parse(&f, &in, &why), 0, "%s", why);
    cr_assert_eq(r->op, HB_OP_EXEC);
    cr_assert_eq(r->cmd.len, 7);
    cr_assert(r->has & HB_IRF_BIT(cwd));
    cr_assert_str_eq(r->cwd, "/tmp/y");
    cr_assert_eq(r->env.n, 1);
    cr_assert_eq(r->stdin.len, 2);
    cr_assert_eq(r->timeout_ms, 500);
    cr_assert_eq(r->out_cap, 0);
    cr_assert_null(r->path);
    hb_frame_free(&f);
}

static void pk_bad_env(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 3);
    hb_pk_kstr(pk, "op", "exec");
    hb_pk_kstr(pk, "cmd", "x");
    hb_pk_str(pk, "env");
    msgpack_pack_array(pk, 1);
    hb_pk_str(pk, "=v");
}

static void pk_rel_path(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    hb_pk_kstr(pk, "op", "read");
    hb_pk_kstr(pk, "path", "etc/passwd");
}

static void pk_bad_sig(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 3);
    hb_pk_kstr(pk, "op", "signal");
    hb_pk_kint(pk, "pgid", 1);
    hb_pk_kint(pk, "sig", 9);
}

static void pk_unknown_op(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    hb_pk_kstr(pk, "op", "format");
}

/* Requests valid but for one field: {op, key: what val packs, base_key: base}
 * (the first of two equal keys counts; key NULL: only op and the base). */
typedef void (*valfn)(msgpack_packer *pk);
static void v_str(msgpack_packer *pk) { hb_pk_str(pk, "not bin"); }
static void v_nul(msgpack_packer *pk) { msgpack_pack_str_with_body(pk, "a\0b", 3); }
static void v_neg(msgpack_packer *pk) { msgpack_pack_int64(pk, -1); }
static void v_one(msgpack_packer *pk) { msgpack_pack_uint64(pk, 1); }
static void v_mode(msgpack_packer *pk) { msgpack_pack_uint64(pk, 010000); }

static const struct {
    const char *op, *key;
    valfn val;
    const char *base_key, *base;
} bad_fields[] = {
    {"exec", "stdin", v_str, "cmd", "x"},         {"exec", "cmd", v_nul, "cmd", "x"},
    {"exec", "timeout_ms", v_neg, "cmd", "x"},    {"list", "recursive", v_one, "path", "/"},
    {"write", "mode", v_mode, "path", "/f"},      {"rename", NULL, NULL, "from", "/a"},
};

static hb_frame_t bad_frame(size_t i)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, bad_fields[i].key ? 3 : 2);
    hb_pk_kstr(&pk, "op", bad_fields[i].op);
    if (bad_fields[i].key) {
        hb_pk_str(&pk, bad_fields[i].key);
        bad_fields[i].val(&pk);
    }
    hb_pk_kstr(&pk, bad_fields[i].base_key, bad_fields[i].base);
    hb_frame_t f;
    hb_frame_init(&f);
    cr_assert_eq(hb_frame_decode(&f, sb.data, sb.size), 0);
    msgpack_sbuffer_destroy(&sb);
    return f;
}

Test(initmsg, each_field_type_refuses_wrong_types_and_ranges)
{
    for (size_t i = 0; i < sizeof bad_fields / sizeof bad_fields[0]; i++) {
        hb_frame_t f = bad_frame(i);
        hb_initreq_in_t in;
        const char *why = NULL;
        cr_assert_eq(hb_initreq_parse(&f, &in, &why), -1, "case %zu", i);
        cr_assert_str_eq(why, bad_fields[i].key ? bad_fields[i].key : "to");
        hb_frame_free(&f);
    }
}

Test(initmsg, requests_refused_name_the_field)
{
    struct { packfn fn; const char *field; } cases[] = {
        {pk_bad_env, "env"}, {pk_rel_path, "path"}, {pk_bad_sig, "pgid"}, {pk_unknown_op, "op"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hb_frame_t f = frame_of(cases[i].fn);
        hb_initreq_in_t in;
        const char *why = NULL;
        cr_assert_eq(hb_initreq_parse(&f, &in, &why), -1);
        cr_assert_str_eq(why, cases[i].field);
        hb_frame_free(&f);
    }
}

static void pk_ents(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    hb_pk_kstr(pk, "t", "ents");
    hb_pk_str(pk, "ents");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 3);
    hb_pk_str(pk, "/a/b");
    msgpack_pack_uint8(pk, 1);
    msgpack_pack_uint64(pk, 4096);
}

static void pk_ents_bad_type(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    hb_pk_kstr(pk, "t", "ents");
    hb_pk_str(pk, "ents");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 3);
    hb_pk_str(pk, "/a/b");
    msgpack_pack_uint8(pk, 9);
    msgpack_pack_uint64(pk, 1);
}

static void pk_ents_rel(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    hb_pk_kstr(pk, "t", "ents");
    hb_pk_str(pk, "ents");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 3);
    hb_pk_str(pk, "../x");
    msgpack_pack_uint8(pk, 0);
    msgpack_pack_uint64(pk, 1);
}

Test(initmsg, ents_answer_validated)
{
    hb_frame_t f = frame_of(pk_ents);
    hb_initans_t a;
    cr_assert_eq(hb_initans_parse(&f, &a), 0);
    const char *p;
    size_t pl;
    unsigned type;
    uint64_t size;
    hb_initans_ent(&a, 0, &p, &pl, &type, &size);
    cr_assert_eq(pl, 4);
    cr_assert_eq(memcmp(p, "/a/b", 4), 0);
    cr_assert_eq(type, 1);
    cr_assert_eq(size, 4096);
    hb_frame_free(&f);
    f = frame_of(pk_ents_bad_type);
    cr_assert_eq(hb_initans_parse(&f, &a), -1);
    hb_frame_free(&f);
    f = frame_of(pk_ents_rel);
    cr_assert_eq(hb_initans_parse(&f, &a), -1);
    hb_frame_free(&f);
}

static void pk_exit_bad_code(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    hb_pk_kstr(pk, "t", "exit");
    hb_pk_kint(pk, "code", 100000);
}

static void pk_err_unprintable(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 3);
    hb_pk_kstr(pk, "t", "err");
    hb_pk_kint(pk, "errno", 2);
    hb_pk_kstr(pk, "msg", "a\x1b[31mb");
}

Test(initmsg, answers_range_checked_and_sanitised)
{
    hb_frame_t f = frame_of(pk_exit_bad_code);
    hb_initans_t a;
    cr_assert_eq(hb_initans_parse(&f, &a), -1);
    hb_frame_free(&f);
    f = frame_of(pk_err_unprintable);
    cr_assert_eq(hb_initans_parse(&f, &a), 0);
    cr_assert_eq(a.t, HB_ANS_ERR);
    cr_assert_eq(a.err, 2);
    cr_assert_str_eq(a.msg, "a?[31mb");
    hb_frame_free(&f);
}
