/* SB_LIST's query (issue 19, lists at scale): which sandboxes, in which
 * order, how many. The manager applies it to its own entries, so a page of
 * E2B's list (100 rows) out of 10,000 sandboxes copies, encodes and decodes
 * 100 rows instead of 10,000 each time. A message without query fields
 * picks every sandbox, oldest first. */
#ifndef HB_LIST_QUERY_H
#define HB_LIST_QUERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hberr.h"
#include "messages.h"

typedef struct {
    json_t     *meta;        /* wanted metadata pairs (owned); NULL: any       */
    const char *image;       /* the message's; NULL: any                        */
    bool        running;     /* a sandbox not paused passes                     */
    bool        paused;      /* a paused one passes                             */
    int64_t     after;       /* created at or after (unix s)                    */
    bool        desc;        /* newest first; ties by id, reversed too          */
    size_t      limit;       /* 0: all                                          */
    const char *cur_id;      /* the last row given before (NULL: from the start) */
    int64_t     cur_t;       /* its created_at                                  */
} hb_list_query_t;

/* From SB_LIST's fields: metadata (a JSON object of wanted pairs), image,
 * state ("running" | "paused"; NULL both), timestamp (created at or
 * after), id + created_at (the cursor: rows strictly after it), count
 * (the limit), descending. The query borrows q's strings. 0, or -1 with
 * HB_E_INVALID naming the field. */
int hb_list_query_of(const hb_msg_t *q, hb_list_query_t *lq, hb_err_t *e);
void hb_list_query_clear(hb_list_query_t *lq);
bool hb_list_query_keep(const hb_list_query_t *lq, const hb_sbinfo_t *s);
/* The query's order over (const hb_sbinfo_t *) elements; arg: the query. */
int hb_list_query_cmp(const void *a, const void *b, void *lq);

#endif
