/* GET /api/v1/hiveboxes at scale (issue 19): each sandbox's list row kept
 * as JSON text, rendered once per change of its description instead of once
 * per request. The text is hb_json_list_item's, byte for byte, except the
 * two numbers that move with the clock (uptime_seconds, ttl_seconds) and
 * opencode_url (only while OpenCode is on), filled in or left out when a
 * list is written. */
#ifndef HB_LIST_ROW_H
#define HB_LIST_ROW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "messages.h"

typedef struct {
    char   *text;       /* owned; NULL: not rendered (or out of date)    */
    size_t  len;
    size_t  at_uptime;  /* offset of the "0" standing for uptime_seconds */
    size_t  at_ttl;     /* offset of the "0" standing for ttl_seconds    */
    size_t  oc_from;    /* [oc_from, oc_to): ,"opencode_url":"..."       */
    size_t  oc_to;
    int64_t created_at, expires_at;
    char   *id;         /* owned copies: the sort key and the filter's  */
    char   *metadata;   /* subject (NULL: none)                          */
} hb_list_row_t;

/* Render s into row (cleared first). 0, or -1 on OOM (row left empty). */
int hb_list_row_render(hb_list_row_t *row, const hb_sbinfo_t *s);
void hb_list_row_clear(hb_list_row_t *row);
/* created_at, then id: the list's order. For qsort over hb_list_row_t *. */
int hb_list_row_cmp(const void *a, const void *b);
/* The whole GET /hiveboxes document of rows (in the order given) that
 * match filter (NULL: all): malloc'd text and its length, or NULL on OOM. */
char *hb_list_text(hb_list_row_t *const *rows, size_t n, const json_t *filter, int64_t now,
                   bool opencode, size_t *len);

#endif
