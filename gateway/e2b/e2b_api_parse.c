/* E2B's list query and create body, parsed (e2b_api_parse.h). The list's
 * metadata filter is E2B's: the query parameter holds "k=v&k2=v2" with
 * each key and value urlencoded once more (the SDKs do so), so a pair is
 * decoded twice after the parameter itself. */
#include "e2b_api_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "query.h"

#define META_MAX     8192   /* the filter's text */
#define META_PAIRS   64     /* HiveBox keeps at most 64 keys */

/* ---- GET /v2/sandboxes ---- */

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
static int parse_meta(char *text, hb_e2b_filter_t *f, hb_err_t *e)
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

/* One state=... value: running, paused, or a comma list of them. */
static int state_value(char *val, hb_e2b_filter_t *f, hb_err_t *e)
{
    char *rest = val;
    for (char *s = strsep(&rest, ","); s; s = strsep(&rest, ",")) {
        if (strcmp(s, "running") == 0)
            f->running = true;
        else if (strcmp(s, "paused") == 0)
            f->paused = true;
        else
            return invalid(e, "state", "expected running or paused");
    }
    return 0;
}

/* Every state=... (repeated or comma separated); an empty one is no
 * filter. Without any, running and paused sandboxes are listed. */
static int parse_state(const char *qs, hb_e2b_filter_t *f, hb_err_t *e)
{
    bool any = false;
    f->running = f->paused = false;
    for (const char *p = qs; p && *p;) {
        size_t n = strcspn(p, "&"), len = 0;
        char seg[128], val[128];
        if (strncmp(p, "state=", 6) == 0) {
            if (n >= sizeof seg)
                return invalid(e, "state", "expected running or paused");
            memcpy(seg, p, n);
            seg[n] = '\0';
            if (hb_query_param(seg, "state", val, sizeof val, &len) != 1 || strlen(val) != len)
                return invalid(e, "state", "expected running or paused");
            if (len && state_value(val, f, e) < 0)
                return -1;
            any = any || len;
        }
        p += n + (p[n] == '&');
    }
    if (!any)
        f->running = f->paused = true;   /* the SDKs: running and paused by default */
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

static int parse_token(const char *t, hb_e2b_filter_t *f)
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

int hb_e2b_parse_list(const char *qs, bool v2, hb_e2b_filter_t *f, hb_err_t *e)
{
    char buf[META_MAX];
    uint64_t limit = 0;
    f->after = INT64_MIN;
    int rc = param(qs, "metadata", buf, sizeof buf, e);
    if (rc < 0 || (rc == 1 && parse_meta(buf, f, e) < 0) || parse_state(qs, f, e) < 0 ||
        hb_query_uint(qs, "limit", 1, HB_E2B_LIMIT_MAX, HB_E2B_LIMIT_MAX, &limit, e) < 0)
        return -1;
    f->limit = v2 ? (size_t)limit : SIZE_MAX;
    if (param(qs, "template", f->tmpl, sizeof f->tmpl, e) < 0)
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

/* ---- POST /sandboxes ---- */

/* A member that may be absent or null. */
static bool given(const json_t *v) { return v && !json_is_null(v); }

static int bad(hb_err_t *e, const char *field, const char *why)
{
    return hb_fail(e, HB_E_INVALID, 0, "%s: %s", field, why);
}

/* An optional boolean member: 0 with *out (def when absent/null), or -1. */
static int get_bool(const json_t *in, const char *key, bool def, bool *out, hb_err_t *e)
{
    const json_t *v = json_object_get(in, key);
    if (!given(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v))
        return bad(e, key, "expected true or false");
    *out = json_is_true(v);
    return 0;
}

/* An object of strings (metadata, envVars) copied to out[hb_key]. */
static int copy_strings(const json_t *in, const char *key, json_t *out, const char *hb_key,
                        hb_err_t *e)
{
    json_t *v = json_object_get(in, key);
    if (!given(v))
        return 0;
    if (!json_is_object(v))
        return bad(e, key, "expected an object of strings");
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (!json_is_string(x))
            return hb_fail(e, HB_E_INVALID, 0, "%s.%.128s: expected a string", key, k);
    }
    return json_object_set(out, hb_key, v);
}

/* autoPause: on_timeout "pause"; autoResume.enabled: auto_resume (issue 17).
 * autoPauseMemory false (pause without the memory) is not what a freezer
 * does: refused. */
static int pause_of(const json_t *in, json_t *out, hb_err_t *e)
{
    bool pause = false, mem = true;
    if (get_bool(in, "autoPause", false, &pause, e) < 0 ||
        get_bool(in, "autoPauseMemory", true, &mem, e) < 0)
        return -1;
    if (!mem)
        return bad(e, "autoPauseMemory", "HiveBox always keeps a paused sandbox's memory");
    if (pause)
        json_object_set_new(out, "on_timeout", json_string("pause"));
    const json_t *resume = json_object_get(in, "autoResume");
    if (given(resume) && !json_is_object(resume))
        return bad(e, "autoResume", "expected an object like {\"enabled\": false}");
    const json_t *en = given(resume) ? json_object_get(resume, "enabled") : NULL;
    if (given(en) && !json_is_boolean(en))
        return bad(e, "autoResume", "enabled: expected true or false");
    if (json_is_true(en))
        json_object_set_new(out, "auto_resume", json_true());
    return 0;
}

/* What E2B has and HiveBox does not: refused by name rather than ignored,
 * since code relying on them would silently misbehave. */
static int unsupported(const json_t *in, hb_err_t *e)
{
    static const char *const NOPE[] = {"mcp", "network", "iam", "volumeMounts"};
    static const char *const WHY[] = {"E2B's MCP gateway", "network rules", "workload identity",
                                      "volumes"};
    for (size_t i = 0; i < sizeof NOPE / sizeof NOPE[0]; i++) {
        const json_t *v = json_object_get(in, NOPE[i]);
        bool empty = !given(v) || (json_is_object(v) && json_object_size(v) == 0) ||
                     (json_is_array(v) && json_array_size(v) == 0);
        if (!empty)
            return hb_fail(e, HB_E_INVALID, 0, "%s: %s are not supported by HiveBox yet "
                           "(see docs/e2b.md)", NOPE[i], WHY[i]);
    }
    return 0;
}

static int template_of(const json_t *in, json_t *out, hb_err_t *e)
{
    const json_t *v = json_object_get(in, "templateID");
    if (!given(v))
        return bad(e, "templateID", "required (a template name, e.g. \"base\")");
    if (!json_is_string(v) || json_string_length(v) == 0)
        return bad(e, "templateID", "expected a template name, e.g. \"base\"");
    return json_object_set(out, "image", (json_t *)v);   /* `base` is the image `base` */
}

static int timeout_of(const json_t *in, json_t *out, hb_err_t *e)
{
    const json_t *v = json_object_get(in, "timeout");
    json_int_t t = HB_E2B_TIMEOUT_DEF;
    if (given(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > HB_E2B_TIMEOUT_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "timeout: expected whole seconds from 0 to %d",
                           HB_E2B_TIMEOUT_MAX);
        t = json_integer_value(v);
    }
    return json_object_set_new(out, "timeout", json_integer(t < 1 ? 1 : t));
}

/* NewSandbox -> HiveBox's create body (new object), or NULL with *e. */
json_t *hb_e2b_translate_create(const json_t *in, hb_err_t *e)
{
    json_t *out = json_object();
    bool secure = true, online = true;
    if (!out)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory"), NULL;
    if (unsupported(in, e) < 0 || pause_of(in, out, e) < 0 || template_of(in, out, e) < 0 ||
        timeout_of(in, out, e) < 0 ||
        copy_strings(in, "metadata", out, "metadata", e) < 0 ||
        copy_strings(in, "envVars", out, "env", e) < 0 ||
        get_bool(in, "secure", true, &secure, e) < 0 ||
        get_bool(in, "allow_internet_access", true, &online, e) < 0) {
        json_decref(out);
        return NULL;
    }
    /* secure false is accepted and ignored: tokens are always required. */
    if (!online && json_object_set_new(out, "network", json_string("none")) < 0) {
        json_decref(out);
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory"), NULL;
    }
    return out;
}

/* HiveBox's messages name HiveBox's fields; say E2B's. */
void hb_e2b_rename_field(hb_err_t *e)
{
    static const char *const MAP[][2] = {{"image", "templateID"}, {"env", "envVars"}};
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++) {
        size_t n = strlen(MAP[i][0]);
        if (strncmp(e->msg, MAP[i][0], n) != 0 || (e->msg[n] != ':' && e->msg[n] != '.' &&
                                                   e->msg[n] != ' '))
            continue;
        char tmp[sizeof e->msg];
        snprintf(tmp, sizeof tmp, "%s%s", MAP[i][1], e->msg + n);
        memcpy(e->msg, tmp, sizeof tmp);
        return;
    }
}

