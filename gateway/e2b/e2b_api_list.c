/* GET /v2/sandboxes (E2B's paged list) and GET /sandboxes (v1: every
 * running sandbox, no paging). One SB_LIST, then E2B's filters: metadata
 * (an urlencoded "k=v&k2=v2", each key and value urlencoded again, as the
 * SDKs send it), state, template, startedAfter; sorted by start time then
 * id (order desc, E2B's default, or asc); limit 1..100 per page, and
 * X-Next-Token naming the last row given when more follow. The token is
 * "<started unix s>:<id>": opaque to the SDKs, checked here. */
#include "e2b_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "query.h"
#include "runtime.h"

#define LIMIT_MAX    100
#define META_MAX     8192   /* the filter's text */
#define META_PAIRS   64     /* HiveBox keeps at most 64 keys */
#define TOKEN_MAX    (24 + HB_ID_MAX)

typedef struct {
    json_t  *meta;            /* wanted pairs; NULL: no filter */
    bool     running;         /* state lets running sandboxes through */
    char     tmpl[HB_ID_MAX]; /* "" for any */
    int64_t  after;           /* startedAfter; INT64_MIN for any */
    bool     asc;
    size_t   limit;
    bool     has_token;
    int64_t  tok_t;
    char     tok_id[HB_ID_MAX];
} filter_t;

static int invalid(hb_err_t *e, const char *field, const char *why)
{
    return hb_fail(e, HB_E_INVALID, 0, "%s: %s", field, why);
}

/* Percent-decode one piece (no '&' in it) through the query parser. */
static int decode(const char *piece, char *out, size_t cap)
{
    size_t n = strlen(piece), len = 0;
    char *qs = malloc(n + 3);
    if (!qs)
        return -1;
    memcpy(qs, "x=", 2);
    memcpy(qs + 2, piece, n + 1);
    int f = hb_query_param(qs, "x", out, cap, &len);
    free(qs);
    return f == 1 && strlen(out) == len ? 0 : -1;   /* no NUL inside */
}

/* "k=v&k2=v2" (already decoded once) into f->meta. */
static int parse_meta(char *text, filter_t *f, hb_err_t *e)
{
    f->meta = json_object();
    size_t pairs = 0;
    char *save = NULL;
    for (char *p = strtok_r(text, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        if (!eq || eq == p || ++pairs > META_PAIRS)
            return invalid(e, "metadata", "expected key=value pairs joined by & (at most 64)");
        *eq = '\0';
        char k[256], v[2048], k2[256], v2[2048];
        if (decode(p, k, sizeof k) < 0 || decode(eq + 1, v, sizeof v) < 0 ||
            decode(k, k2, sizeof k2) < 0 || decode(v, v2, sizeof v2) < 0)
            return invalid(e, "metadata", "a key or value is badly encoded or too long");
        if (!f->meta || json_object_set_new(f->meta, k2, json_string(v2)) < 0)
            return invalid(e, "metadata", "a value is not UTF-8");
    }
    return 0;
}

/* Every state=a,b (repeated or comma separated): running or paused. */
static int parse_state(const char *qs, filter_t *f, hb_err_t *e)
{
    bool any = false;
    f->running = false;
    for (const char *p = qs; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        char seg[128], val[128];
        size_t n = strcspn(p, "&"), len = 0;
        if (strncmp(p, "state=", 6) != 0)
            continue;
        if (n >= sizeof seg || (memcpy(seg, p, n), seg[n] = '\0',
                                hb_query_param(seg, "state", val, sizeof val, &len)) != 1)
            return invalid(e, "state", "expected running or paused");
        char *save = NULL;
        for (char *s = strtok_r(val, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
            if (strcmp(s, "running") == 0)
                f->running = true;
            else if (strcmp(s, "paused") != 0)
                return invalid(e, "state", "expected running or paused");
            any = true;
        }
    }
    if (!any)
        f->running = true;
    return 0;
}

/* RFC 3339: 2026-12-05T01:02:03(.fff)?(Z|+hh:mm|-hh:mm) -> unix seconds. */
static int parse_time(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || used != 19)
        return -1;
    const char *p = s + used;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    int off = 0;
    if (*p == '+' || *p == '-') {
        int hh, mm, n = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5)
            return -1;
        off = (*p == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
        p += 6;
    } else if (*p == 'Z' || *p == 'z') {
        p++;
    } else {
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm) - off;
    return *p ? -1 : 0;
}

static int parse_token(const char *t, filter_t *f)
{
    char *end = NULL;
    long long v = strtoll(t, &end, 10);
    if (end == t || *end != ':' || v < 0 || strlen(end + 1) >= sizeof f->tok_id ||
        !hb_name_valid(end + 1))
        return -1;
    f->tok_t = v;
    snprintf(f->tok_id, sizeof f->tok_id, "%s", end + 1);
    f->has_token = true;
    return 0;
}

/* One optional string parameter: 1 found, 0 absent, -1 bad (*e). */
static int param(const char *qs, const char *key, char *out, size_t cap, hb_err_t *e)
{
    size_t len = 0;
    int rc = hb_query_param(qs, key, out, cap, &len);
    if (rc < 0 || (rc == 1 && strlen(out) != len))
        return invalid(e, key, "badly encoded or too long");
    return rc;
}

static int parse_filter(const char *qs, bool v2, filter_t *f, hb_err_t *e)
{
    char buf[META_MAX];
    uint64_t limit = 0;
    f->after = INT64_MIN;
    int rc = param(qs, "metadata", buf, sizeof buf, e);
    if (rc < 0 || (rc == 1 && parse_meta(buf, f, e) < 0) || parse_state(qs, f, e) < 0 ||
        hb_query_uint(qs, "limit", 1, LIMIT_MAX, LIMIT_MAX, &limit, e) < 0)
        return -1;
    f->limit = v2 ? (size_t)limit : SIZE_MAX;
    if ((rc = param(qs, "template", f->tmpl, sizeof f->tmpl, e)) < 0)
        return -1;
    if ((rc = param(qs, "order", buf, sizeof buf, e)) < 0)
        return -1;
    if (rc == 1 && strcmp(buf, "asc") != 0 && strcmp(buf, "desc") != 0)
        return invalid(e, "order", "expected asc or desc");
    f->asc = rc == 1 && strcmp(buf, "asc") == 0;
    if ((rc = param(qs, "startedAfter", buf, sizeof buf, e)) < 0)
        return -1;
    if (rc == 1 && parse_time(buf, &f->after) < 0)
        return invalid(e, "startedAfter", "expected an RFC 3339 time");
    if ((rc = param(qs, "nextToken", buf, sizeof buf, e)) < 0)
        return -1;
    if (rc == 1 && parse_token(buf, f) < 0)
        return invalid(e, "nextToken", "not a token this server gave");
    return 0;
}

static bool meta_matches(const hb_sbinfo_t *s, const json_t *want)
{
    if (!want)
        return true;
    json_t *have = hb_e2b_metadata_of(s);
    const char *k;
    json_t *v;
    bool ok = true;
    json_object_foreach((json_t *)want, k, v) {
        ok = ok && json_equal(json_object_get(have, k), v);
    }
    json_decref(have);
    return ok;
}

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

static bool keep(const hb_sbinfo_t *s, const filter_t *f)
{
    if (!f->running || s->created_at < f->after || !meta_matches(s, f->meta))
        return false;
    if (f->tmpl[0] && (!s->image || strcmp(s->image, f->tmpl) != 0))
        return false;
    if (!f->has_token)
        return true;
    int c = cmp_key(s->created_at, s->id ? s->id : "", f->tok_t, f->tok_id);
    return f->asc ? c > 0 : c < 0;   /* strictly after the last row given */
}

static int reply(hb_req_t *r, const hb_msg_t *rep, const filter_t *f)
{
    const hb_sbinfo_t **rows = calloc(rep->sandboxes_n + 1, sizeof *rows);
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
    qsort_r(rows, n, sizeof *rows, cmp_rows, &asc);
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
    filter_t f = {0};
    hb_err_t e = {0};
    int status;
    if (parse_filter(r->ri->query_string, v2, &f, &e) < 0) {
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
