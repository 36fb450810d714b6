/* libFuzzer target: what E2B's control plane parses from a client before
 * an actor sees it (gateway/e2b/e2b_api_parse.c): the list's query string
 * (metadata filter decoded twice, state, limit, order, startedAfter,
 * nextToken) and the create body, translated and then run through
 * HiveBox's own create parser as the handler does. The first input byte
 * picks the parser. Besides memory errors it checks the promises: every
 * rejection is HB_E_INVALID with a message; an accepted list query has a
 * limit in range and a filter object; an accepted create is a message that
 * survives the actor codec. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2b_api_parse.h"
#include "messages.h"
#include "req_parse.h"

static void list_query(const char *qs, bool v2)
{
    hb_e2b_filter_t f = {0};
    hb_err_t e = {0};
    int rc = hb_e2b_parse_list(qs, v2, &f, &e);
    if (rc < 0) {
        assert(e.code == HB_E_INVALID || e.code == HB_E_INTERNAL);
        assert(e.msg[0]);
    } else {
        assert(!v2 || (f.limit >= 1 && f.limit <= HB_E2B_LIMIT_MAX));
        assert(!f.meta || json_is_object(f.meta));
        assert(!f.has_token || (f.tok_t >= 0 && f.tok_id[0]));
    }
    json_decref(f.meta);
}

static void create_body(const char *data, size_t size)
{
    hb_err_t e = {0};
    json_t *in = hb_req_load_object(data, size, &e);
    if (!in)
        return;
    json_t *hb = hb_e2b_translate_create(in, &e);
    json_decref(in);
    if (!hb) {
        assert(e.code == HB_E_INVALID && e.msg[0]);
        return;
    }
    char *text = json_dumps(hb, JSON_COMPACT);
    json_decref(hb);
    assert(text);
    hb_msg_t q;
    if (hb_req_parse_create(text, strlen(text), NULL, &q, &e) == 0) {
        void *buf = NULL;
        size_t len = 0;
        assert(hb_msg_encode(&q, &buf, &len) == 0);
        hb_msg_t o;
        assert(hb_msg_decode(buf, len, &o) == 0);
        free(buf);
        hb_msg_clear(&o);
        hb_msg_clear(&q);
    } else {
        hb_e2b_rename_field(&e);
        assert(e.msg[0]);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 3) {
    case 0: list_query(s, true); break;
    case 1: list_query(s, false); break;
    default: create_body(s, size - 1); break;
    }
    free(s);
    return 0;
}
