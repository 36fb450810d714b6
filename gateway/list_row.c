/* List rows kept as text (list_row.h). */
#include "list_row.h"

#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "req_parse.h"   /* hb_meta_match */

/* The placeholders a rendered row carries. Searching for them is exact: the
 * only values before them are the escaped strings id, status and image, and
 * an escaped string cannot hold an unescaped quote followed by a colon, so
 * the first match is the key itself. */
static const char K_TIMES[] = "\"uptime_seconds\":0,\"ttl_seconds\":0";
static const char K_TTL[]   = ",\"ttl_seconds\":";
static const char K_OC[]    = ",\"opencode_url\":\"";
#define NUM_MAX 20   /* the digits of a non-negative long long */

void hb_list_row_clear(hb_list_row_t *row)
{
    free(row->text);
    free(row->id);
    free(row->metadata);
    memset(row, 0, sizeof *row);
}

/* Offsets of the two numbers and of opencode_url in text; -1 if absent. */
static int locate(hb_list_row_t *row)
{
    const char *t = strstr(row->text, K_TIMES);
    if (!t)
        return -1;
    row->at_uptime = (size_t)(t - row->text) + strlen("\"uptime_seconds\":");
    row->at_ttl = row->at_uptime + 1 + strlen(K_TTL);
    const char *oc = strstr(row->text, K_OC);
    const char *end = oc ? strchr(oc + strlen(K_OC), '"') : NULL;   /* the URL holds no quote */
    if (end) {
        row->oc_from = (size_t)(oc - row->text);
        row->oc_to = (size_t)(end + 1 - row->text);
    }
    return 0;
}

int hb_list_row_render(hb_list_row_t *row, const hb_sbinfo_t *s)
{
    hb_list_row_clear(row);
    json_t *j = hb_json_list_item(s, 0, true);
    /* Both numbers as 0: replacing a member keeps its place in the object. */
    if (!j || json_object_set_new(j, "uptime_seconds", json_integer(0)) < 0 ||
        json_object_set_new(j, "ttl_seconds", json_integer(0)) < 0) {
        json_decref(j);
        return -1;
    }
    row->text = hb_json_text(j, &row->len);
    json_decref(j);
    row->id = strdup(s->id ? s->id : "");
    row->metadata = s->metadata ? strdup(s->metadata) : NULL;
    row->created_at = s->created_at;
    row->expires_at = s->expires_at;
    if (!row->text || !row->id || (s->metadata && !row->metadata) || locate(row) < 0) {
        hb_list_row_clear(row);
        return -1;
    }
    return 0;
}

/* The decimal digits of v (>= 0) at at; the end. */
static char *put_num(char *at, long long v)
{
    char tmp[NUM_MAX];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof tmp);
    while (n)
        *at++ = tmp[--n];
    return at;
}

/* The row as of now at at, which has room for row->len + 2 * NUM_MAX
 * bytes; the end. */
static char *row_put(const hb_list_row_t *row, char *at, int64_t now, bool opencode)
{
    const char *t = row->text;
    long long up = now > row->created_at ? now - row->created_at : 0;
    long long ttl = row->expires_at > now ? row->expires_at - now : 0;
    at = put_num(mempcpy(at, t, row->at_uptime), up);
    at = mempcpy(at, t + row->at_uptime + 1, row->at_ttl - row->at_uptime - 1);
    at = put_num(at, ttl);
    size_t from = row->at_ttl + 1;
    if (!opencode && row->oc_to > row->oc_from) {
        at = mempcpy(at, t + from, row->oc_from - from);
        from = row->oc_to;
    }
    return mempcpy(at, t + from, row->len - from);
}

int hb_list_row_cmp(const void *a, const void *b)
{
    const hb_list_row_t *x = *(hb_list_row_t *const *)a, *y = *(hb_list_row_t *const *)b;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* issue 19: one buffer sized for the longest the rows can write, filled
 * with plain copies (no stdio stream: its growth and formatting were most
 * of what a list cost beside the rows' own bytes). */
char *hb_list_text(hb_list_row_t *const *rows, size_t n, const json_t *filter, int64_t now,
                   bool opencode, size_t *len)
{
    static const char head[] = "{\"sandboxes\":[", tail[] = "],\"total\":";
    size_t cap = sizeof head + sizeof tail + NUM_MAX + 1;
    for (size_t i = 0; i < n; i++)
        cap += rows[i]->len + 2 * NUM_MAX + 1;   /* + its comma */
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    char *at = mempcpy(buf, head, sizeof head - 1);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (filter && !hb_meta_match(rows[i]->metadata, filter))
            continue;
        if (kept++)
            *at++ = ',';
        at = row_put(rows[i], at, now, opencode);
    }
    at = put_num(mempcpy(at, tail, sizeof tail - 1), (long long)kept);
    *at++ = '}';
    *len = (size_t)(at - buf);
    *at = '\0';   /* a string too, as open_memstream's was */
    return buf;
}
