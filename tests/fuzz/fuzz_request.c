/* libFuzzer target: everything the gateway parses from a client before an
 * actor sees it: the create and exec JSON bodies (validation included), the
 * query parameters of the file and analytics routes, and URL routing. The
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
#include "req_parse.h"
#include "route.h"

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

static void body(int which, const char *data, size_t size)
{
    hb_msg_t q;
    hb_err_t e = {0};
    int stream = -1;
    int rc = which ? hb_req_parse_exec(data, size, &q, &stream, &e) : hb_req_parse_create(data, size, NULL, &q, &e);
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
    }
    check_roundtrip(&q);
    hb_msg_clear(&q);
}

static void query(const char *qs)
{
    char path[HB_PATH_MAX];
    hb_err_t e = {0};
    if (hb_req_parse_path(qs, false, path, sizeof path, &e) == 0)
        assert(hb_path_check(path, NULL) == 0);
    uint64_t range;
    hb_req_parse_range(qs, &range, &e);
    hb_route_t r;
    hb_route_match(qs, &r);
    assert(!r.id[0] || hb_name_valid(r.id));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    int which = data[0] % 3;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (which < 2) {
        body(which, p, n);
        return 0;
    }
    char *s = malloc(n + 1);   /* query strings arrive NUL-terminated */
    memcpy(s, p, n);
    s[n] = '\0';
    query(s);
    free(s);
    return 0;
}
