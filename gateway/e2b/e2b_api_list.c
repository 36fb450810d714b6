/* GET /v2/sandboxes (E2B's paged list) and GET /sandboxes (v1: every
 * running sandbox, no paging). One SB_LIST, then E2B's filters: metadata
 * (an urlencoded "k=v&k2=v2", each key and value urlencoded again, as the
 * SDKs send it), state, template, startedAfter; sorted by start time then
 * id (order desc, E2B's default, or asc); limit 1..100 per page, and
 * X-Next-Token naming the last row given when more follow. The token is
 * "<started unix s>:<id>": opaque to the SDKs, checked here. */
#include "e2b_api.h"
#include "e2b_api_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "req_parse.h"

#define TOKEN_MAX    (24 + HB_ID_MAX)

typedef const hb_sbinfo_t *row_t;

/* Start time, then id; reversed for desc. */
static int cmp_key(int64_t at, const char *a, int64_t bt, const char *b)
{
    return at != bt ? (at < bt ? -1 : 1) : strcmp(a, b);
}

static int cmp_rows(const void *x, const void *y, void *asc)
{
    const hb_sbinfo_t *a = *(const hb_sbinfo_t *const *)x, *b = *(const hb_sbinfo_t *const *)y;
    int c = cmp_key(a->created_at, a->id ? a->id : "", b->created_at, b->id ? b->id : "");
    return *(const bool *)asc ? c : -c;
}

static bool keep(const hb_sbinfo_t *s, const hb_e2b_filter_t *f)
{
    bool paused = s->status && strcmp(s->status, "paused") == 0;
    if (!(paused ? f->paused : f->running) || s->created_at < f->after ||
        !hb_meta_match(s->metadata, f->meta))
        return false;
    if (f->tmpl[0] && (!s->image || strcmp(s->image, f->tmpl) != 0))
        return false;
    if (!f->has_token)
        return true;
    int c = cmp_key(s->created_at, s->id ? s->id : "", f->tok_t, f->tok_id);
    return f->asc ? c > 0 : c < 0;   /* strictly after the last row given */
}

static int reply(hb_req_t *r, const hb_msg_t *rep, const hb_e2b_filter_t *f)
{
    row_t *rows = calloc(rep->sandboxes_n + 1, sizeof(row_t));
    json_t *arr = json_array();
    size_t n = 0;
    if (!rows || !arr) {
        free(rows);
        json_decref(arr);
        return hb_e2b_api_fail(r->c, 500, "out of memory");
    }
    for (size_t i = 0; i < rep->sandboxes_n; i++)
        if (keep(&rep->sandboxes[i], f))
            rows[n++] = &rep->sandboxes[i];
    bool asc = f->asc;
    qsort_r(rows, n, sizeof(row_t), cmp_rows, &asc);
    size_t give = n < f->limit ? n : f->limit;
    for (size_t i = 0; i < give; i++)
        json_array_append_new(arr, hb_e2b_listed_json(rows[i]));
    char token[TOKEN_MAX] = "";
    if (give < n)
        snprintf(token, sizeof token, "%lld:%s", (long long)rows[give - 1]->created_at,
                 rows[give - 1]->id ? rows[give - 1]->id : "");
    free(rows);
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
    hb_msg_t q = {.type = HB_MSG_SB_LIST}, rep;
    int rc = hb_bus_call(r->conf->ep.manager, &q, &rep, HB_E2B_CALL_MS, &e);
    hb_msg_clear(&q);
    if (rc < 0) {
        status = hb_e2b_api_err(r, &e);
    } else {
        status = reply(r, &rep, &f);
        hb_msg_clear(&rep);
    }
    json_decref(f.meta);
    return status;
}
