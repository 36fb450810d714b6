/* SB_LIST's query (list_query.h). */
#include "list_query.h"

#include <string.h>

#include "req_parse.h"   /* hb_meta_match */

int hb_list_query_of(const hb_msg_t *q, hb_list_query_t *lq, hb_err_t *e)
{
    memset(lq, 0, sizeof *lq);
    lq->running = lq->paused = true;
    if (q->state && strcmp(q->state, "running") == 0)
        lq->paused = false;
    else if (q->state && strcmp(q->state, "paused") == 0)
        lq->running = false;
    else if (q->state)
        return hb_fail(e, HB_E_INVALID, 0, "state: expected running or paused");
    if (q->metadata) {
        lq->meta = json_loads(q->metadata, 0, NULL);
        if (!json_is_object(lq->meta)) {
            hb_list_query_clear(lq);
            return hb_fail(e, HB_E_INVALID, 0, "metadata: not a JSON object");
        }
    }
    lq->image = q->image && q->image[0] ? q->image : NULL;
    lq->after = q->timestamp;
    lq->desc = q->descending;
    lq->limit = (size_t)q->count;
    lq->cur_id = q->id;
    lq->cur_t = q->created_at;
    return 0;
}

void hb_list_query_clear(hb_list_query_t *lq)
{
    json_decref(lq->meta);
    lq->meta = NULL;
}

/* Oldest first: created_at, then id. */
static int cmp_key(int64_t at, const char *a, int64_t bt, const char *b)
{
    return at != bt ? (at < bt ? -1 : 1) : strcmp(a ? a : "", b ? b : "");
}

bool hb_list_query_keep(const hb_list_query_t *lq, const hb_sbinfo_t *s)
{
    bool paused = s->status && strcmp(s->status, "paused") == 0;
    if (!(paused ? lq->paused : lq->running) || s->created_at < lq->after)
        return false;
    if (lq->image && (!s->image || strcmp(s->image, lq->image) != 0))
        return false;
    if (lq->cur_id) {   /* strictly after the last row given, in the query's order */
        int c = cmp_key(s->created_at, s->id, lq->cur_t, lq->cur_id);
        if (lq->desc ? c >= 0 : c <= 0)
            return false;
    }
    return hb_meta_match(s->metadata, lq->meta);   /* last: it parses the row's JSON */
}

int hb_list_query_cmp(const void *a, const void *b, void *arg)
{
    const hb_sbinfo_t *x = *(const hb_sbinfo_t *const *)a, *y = *(const hb_sbinfo_t *const *)b;
    int c = cmp_key(x->created_at, x->id, y->created_at, y->id);
    return ((const hb_list_query_t *)arg)->desc ? -c : c;
}
