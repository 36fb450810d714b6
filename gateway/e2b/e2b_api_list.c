/* GET /v2/sandboxes (E2B's paged list) and GET /sandboxes (v1: every
 * running sandbox, no paging). E2B's filters: metadata (an urlencoded
 * "k=v&k2=v2", each key and value urlencoded again, as the SDKs send it),
 * state, template, startedAfter; sorted by start time then id (order desc,
 * E2B's default, or asc); limit 1..100 per page, and X-Next-Token naming
 * the last row given when more follow. The token is "<started unix s>:<id>":
 * opaque to the SDKs, checked here. One SB_LIST carries them all: the
 * manager filters, sorts and cuts the page (gateway/list_query.h). */
#include "e2b_api.h"
#include "e2b_api_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "req_parse.h"

#define TOKEN_MAX    (24 + HB_ID_MAX)

/* E2B's filter as SB_LIST's query (list_query.h): the manager picks,
 * orders and cuts the page. 0, or -1 on OOM; q owns its strings. */
static int query_of(const hb_e2b_filter_t *f, hb_msg_t *q)
{
    q->type = HB_MSG_SB_LIST;
    q->descending = !f->asc;
    q->count = f->limit;
    q->timestamp = f->after > 0 ? f->after : 0;   /* created_at is never below 0 */
    if (!(f->running && f->paused) && hb_str_set(&q->state, f->paused ? "paused" : "running") < 0)
        return -1;
    if (f->tmpl[0] && hb_str_set(&q->image, f->tmpl) < 0)
        return -1;
    if (f->has_token) {
        q->created_at = f->tok_t;
        if (hb_str_set(&q->id, f->tok_id) < 0)
            return -1;
    }
    if (f->meta && !(q->metadata = json_dumps(f->meta, JSON_COMPACT)))
        return -1;
    return 0;
}

static int reply(hb_req_t *r, const hb_msg_t *rep)
{
    json_t *arr = json_array();
    if (!arr)
        return hb_e2b_api_fail(r->c, 500, "out of memory");
    for (size_t i = 0; i < rep->sandboxes_n; i++)
        json_array_append_new(arr, hb_e2b_listed_json(&rep->sandboxes[i]));
    char token[TOKEN_MAX] = "";
    if (rep->truncated && rep->sandboxes_n) {
        const hb_sbinfo_t *last = &rep->sandboxes[rep->sandboxes_n - 1];
        snprintf(token, sizeof token, "%lld:%s", (long long)last->created_at,
                 last->id ? last->id : "");
    }
    return hb_e2b_api_json(r->c, 200, arr, token[0] ? "X-Next-Token" : NULL,
                           token[0] ? token : NULL);
}

int hb_e2b_api_list(hb_req_t *r, bool v2)
{
    hb_e2b_filter_t f = {0};
    hb_err_t e = {0};
    int status;
    if (hb_e2b_parse_list(r->ri->query_string, v2, &f, &e) < 0) {
        json_decref(f.meta);
        return hb_e2b_api_err(r, &e);
    }
    hb_msg_t q = {0}, rep;
    int rc = query_of(&f, &q);
    json_decref(f.meta);
    if (rc < 0) {
        hb_msg_clear(&q);
        return hb_e2b_api_fail(r->c, 500, "out of memory");
    }
    rc = hb_bus_call(r->conf->ep.manager, &q, &rep, HB_E2B_CALL_MS, &e);
    hb_msg_clear(&q);
    if (rc < 0)
        return hb_e2b_api_err(r, &e);
    status = reply(r, &rep);
    hb_msg_clear(&rep);
    return status;
}
