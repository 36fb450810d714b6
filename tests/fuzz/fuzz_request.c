/* libFuzzer target: everything the gateway parses from a client before an
 * actor sees it: the create, exec and process JSON bodies (validation
 * included), the query parameters of the file, analytics and process
 * routes (the file management ones' too: move's body, mkdir's and
 * delete's target; the list's metadata filter; the timeout body), and URL
 * routing. The
 * first input byte picks the parser; the rest is the input. Besides memory
 * errors it checks the parsers' promises: a rejected request leaves nothing
 * allocated, an accepted one is a well-formed message that survives the
 * actor codec. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "path.h"
#include "query.h"
#include "req_parse.h"
#include "route.h"
#include "runtime.h"

static void check_roundtrip(const hb_msg_t *q)
{
    void *buf = NULL;
    size_t len = 0;
    assert(hb_msg_encode(q, &buf, &len) == 0);
    hb_msg_t o;
    assert(hb_msg_decode(buf, len, &o) == 0);
    assert(o.type == q->type);
    free(buf);
    hb_msg_clear(&o);
}

/* A move body: accepted means two valid, normalised, distinct paths, neither
 * "/", and to not below from. */
static void move_body(const char *data, size_t size)
{
    static hb_move_req_t m;
    hb_err_t e = {0};
    if (hb_req_parse_move(data, size, &m, &e) < 0) {
        assert(e.code == HB_E_INVALID || e.code == HB_E_TOOBIG);
        assert(e.msg[0]);
        return;
    }
    char n[HB_PATH_MAX];
    assert(hb_path_normalize(m.from, n, sizeof n) == 0 && strcmp(n, m.from) == 0);
    assert(hb_path_normalize(m.to, n, sizeof n) == 0 && strcmp(n, m.to) == 0);
    assert(strcmp(m.from, "/") && strcmp(m.to, "/") && !hb_path_is_under(m.to, m.from));
}

/* which: 0 create, 1 exec, 3 a background process (exec's fields and more) */
static int parse(int which, const char *data, size_t size, hb_msg_t *q, hb_err_t *e)
{
    int stream = -1;
    hb_proc_extra_t x;
    if (which == 0)
        return hb_req_parse_create(data, size, NULL, q, e);
    if (which == 1)
        return hb_req_parse_exec(data, size, q, &stream, e);
    int rc = hb_req_parse_proc(data, size, q, &x, e);
    if (rc == 0) {
        size_t tl = strnlen(x.tag, sizeof x.tag);
        assert(tl < sizeof x.tag && (tl == 0 || strspn(x.tag, "0123456789") < tl));  /* never a pid */
        assert((x.cols == 0) == (x.rows == 0) && x.cols <= HB_PTY_DIM_MAX && x.rows <= HB_PTY_DIM_MAX);
    }
    return rc;
}

static void body(int which, const char *data, size_t size)
{
    hb_msg_t q;
    hb_err_t e = {0};
    int rc = parse(which, data, size, &q, &e);
    if (rc < 0) {
        assert(e.code == HB_E_INVALID || e.code == HB_E_TOOBIG);
        assert(e.msg[0]);
        assert(q.type == HB_MSG_NONE && !q.command && !q.env && !q.memory);
        return;
    }
    if (which) {
        assert(q.command && q.command[0] && strlen(q.command) <= HB_COMMAND_MAX);
        assert(!q.cwd || hb_path_check(q.cwd, NULL) == 0);
        assert(q.stdin_data.len <= HB_STDIN_MAX);
        assert(!q.user || (q.user[0] && strlen(q.user) <= 32));
    } else {
        assert(q.memory && q.image && q.network && q.timeout_s >= 1 && q.timeout_s <= 86400);
        assert(!q.env || hb_env_validate((const char *const *)q.env, NULL) == 0);
        json_t *m = q.metadata ? json_loads(q.metadata, 0, NULL) : NULL;
        assert(!q.metadata || (json_is_object(m) && json_object_size(m) <= HB_META_KEYS_MAX));
        json_decref(m);
    }
    check_roundtrip(&q);
    hb_msg_clear(&q);
}

static void timeout_body(const char *data, size_t size)
{
    uint64_t t = 0;
    hb_err_t e = {0};
    if (hb_req_parse_timeout(data, size, &t, &e) == 0)
        assert(t >= 1 && t <= HB_TIMEOUT_MAX);
    else
        assert(e.code == HB_E_INVALID || e.code == HB_E_TOOBIG);
}

/* The list's ?metadata= filter: a rejection names it and leaves nothing. */
static void meta_filter(const char *qs)
{
    json_t *f = NULL;
    hb_err_t e = {0};
    if (hb_req_parse_meta_filter(qs, &f, &e) < 0) {
        assert(!f && e.code == HB_E_INVALID && strncmp(e.msg, "metadata", 8) == 0);
        return;
    }
    assert(!f || json_object_size(f) <= HB_META_KEYS_MAX);
    assert(hb_meta_match("{}", f) == (!f || json_object_size(f) == 0));
    json_decref(f);
}

static void query(const char *qs)
{
    meta_filter(qs);
    char path[HB_PATH_MAX];
    hb_err_t e = {0};
    if (hb_req_parse_path(qs, false, path, sizeof path, &e) == 0)
        assert(hb_path_check(path, NULL) == 0);
    uint64_t range, v;
    hb_req_parse_range(qs, &range, &e);
    if (hb_query_uint(qs, "offset", 1, 1000, 7, &v, &e) == 0)
        assert(v >= 1 && v <= 1000);
    bool b;
    if (hb_query_bool(qs, "recursive", true, &b, &e) < 0)
        assert(e.code == HB_E_INVALID && strncmp(e.msg, "recursive:", 10) == 0);
    if (hb_req_parse_target(qs, path, sizeof path, &e) == 0)
        assert(hb_path_check(path, NULL) == 0 && strcmp(path, "/") != 0);
    hb_route_t r;
    hb_route_match(qs, &r);
    assert(!r.id[0] || hb_name_valid(r.id));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    int which = data[0] % 5;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (which == 4) {
        move_body(p, n);
        return 0;
    }
    if (which != 2) {
        body(which, p, n);
        if (which == 0)
            timeout_body(p, n);
        return 0;
    }
    char *s = malloc(n + 1);   /* query strings arrive NUL-terminated */
    memcpy(s, p, n);
    s[n] = '\0';
    query(s);
    free(s);
    return 0;
}
