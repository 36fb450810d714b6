/* `hivebox create` flags -> the JSON body of POST /api/v1/hiveboxes.
 * Only the flags given are sent, so the daemon's defaults apply to the
 * rest; values are type-checked here, range-checked by the daemon. */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int put_int(json_t *body, const char *key, const char *flag, const char *val, char *err,
                   size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(val, &end, 10);
    if (errno || end == val || *end || v < 0) {
        snprintf(err, errlen, "--%s: expected a non-negative integer, got '%.64s'", flag, val);
        return -1;
    }
    return json_object_set_new(body, key, json_integer(v));
}

static int put_num(json_t *body, const char *key, const char *flag, const char *val, char *err,
                   size_t errlen)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end || !isfinite(v)) {
        snprintf(err, errlen, "--%s: expected a number, got '%.64s'", flag, val);
        return -1;
    }
    return json_object_set_new(body, key, json_real(v));
}

/* "a,b" -> ["a","b"]; "" or "none" -> [] (no skills). */
static json_t *skills_array(const char *val)
{
    json_t *arr = json_array();
    if (strcmp(val, "none") == 0)
        return arr;
    for (const char *p = val; *p;) {
        p += strspn(p, ", ");
        size_t n = strcspn(p, ", ");
        if (n > 0)
            json_array_append_new(arr, json_stringn(p, n));
        p += n;
    }
    return arr;
}

/* K=V words -> {"K": "V"} (the daemon checks names and sizes). */
static json_t *pairs_object(const char *const *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        json_t *v = json_string(eq + 1);
        char *k = strndup(kv[i], (size_t)(eq - kv[i]));
        if (!v || !k || json_object_set_new(o, k, v) < 0) {
            free(k);
            json_decref(o);
            return NULL;   /* not UTF-8 */
        }
        free(k);
    }
    return o;
}

char *cli_create_body(const cli_opts_t *o, char *err, size_t errlen)
{
    const struct { const char *key, *val; } strs[] = {
        {"name", o->name},         {"image", o->image},
        {"memory", o->memory},     {"network", o->network},
        {"llm_base_url", o->llm_base_url}, {"llm_api_key", o->llm_api_key},
        {"llm_model", o->llm_model}, {"disk", o->disk}, {"on_timeout", o->on_timeout},
    };
    json_t *body = json_object();
    int rc = 0;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0] && rc == 0; i++) {
        if (!strs[i].val)
            continue;
        json_t *s = json_string(strs[i].val);
        if (!s) {
            snprintf(err, errlen, "%s: not valid UTF-8", strs[i].key);
            rc = -1;
        }
        json_object_set_new(body, strs[i].key, s);
    }
    if (o->cpus && rc == 0)
        rc |= put_num(body, "cpus", "cpus", o->cpus, err, errlen);
    if (o->pids && rc == 0)
        rc |= put_int(body, "pids", "pids", o->pids, err, errlen);
    if (o->timeout && rc == 0)
        rc |= put_int(body, "timeout", "timeout", o->timeout, err, errlen);
    if (o->skills)
        json_object_set_new(body, "skills", skills_array(o->skills));
    if (o->auto_resume)
        json_object_set_new(body, "auto_resume", json_true());
    const struct { const char *key; const char *const *kv; size_t n; } maps[] = {
        {"env", o->env, o->n_env}, {"metadata", o->meta, o->n_meta},
    };
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        json_t *m = maps[i].n ? pairs_object(maps[i].kv, maps[i].n) : NULL;
        if (maps[i].n && !m) {
            snprintf(err, errlen, "--%s: not valid UTF-8", maps[i].key);
            rc = -1;
        }
        if (m)
            json_object_set_new(body, maps[i].key, m);
    }
    char *text = rc == 0 ? json_dumps(body, JSON_COMPACT) : NULL;
    if (rc == 0 && !text)
        snprintf(err, errlen, "out of memory");
    json_decref(body);
    return text;
}
