/* A sandbox's metadata and env at create, E2B's metadata filter for the
 * list, and the body of POST /:id/timeout. Pure, like the rest of
 * req_parse: unit tested and fuzzed (tests/fuzz/fuzz_request.c). */
#include "req_parse.h"

#include <stdlib.h>
#include <string.h>

#include "initproto.h"   /* HB_ENVSTR_MAX */
#include "query.h"
#include "runtime.h"

/* A key: 1..HB_META_KEY_MAX bytes, no control character, no '=' or '&'
 * (E2B's filter spells pairs as k=v&k2=v2). NULL when fine, else why. */
static const char *key_problem(const char *k, size_t n)
{
    if (n == 0)
        return "keys must not be empty";
    if (n > HB_META_KEY_MAX)
        return "keys are at most 128 bytes";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (c < 0x20 || c == 0x7f)
            return "keys must be printable";
        if (c == '=' || c == '&')
            return "keys must not contain '=' or '&'";
    }
    return NULL;
}

static int check_pair(const char *k, size_t kn, const char *v, size_t vn, hb_err_t *e)
{
    const char *why = key_problem(k, kn);
    int shown = kn < 64 ? (int)kn : 64;
    if (why)
        return hb_fail(e, HB_E_INVALID, 0, "metadata.%.*s: %s", shown, k, why);
    if (vn > HB_META_VALUE_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "metadata.%.*s: values are at most %d bytes", shown,
                       k, HB_META_VALUE_MAX);
    if (memchr(v, '\0', vn))
        return hb_fail(e, HB_E_INVALID, 0, "metadata.%.*s: must not contain NUL", shown, k);
    return 0;
}

int hb_req_check_metadata(json_t *v, hb_err_t *e)
{
    if (!json_is_object(v))
        return hb_fail(e, HB_E_INVALID, 0, "metadata: expected an object of strings");
    if (json_object_size(v) > HB_META_KEYS_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "metadata: more than %d keys", HB_META_KEYS_MAX);
    const char *k;
    json_t *s;
    json_object_foreach(v, k, s) {
        if (!json_is_string(s))
            return hb_fail(e, HB_E_INVALID, 0, "metadata.%.64s: expected a string", k);
        if (check_pair(k, strlen(k), json_string_value(s), json_string_length(s), e) < 0)
            return -1;
    }
    return 0;
}

int hb_req_parse_sb_env(json_t *v, char ***out, hb_err_t *e)
{
    *out = NULL;
    if (!json_is_object(v))
        return hb_fail(e, HB_E_INVALID, 0, "env: expected an object of strings");
    if (json_object_size(v) > HB_SB_ENV_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "env: more than %d variables", HB_SB_ENV_MAX);
    char **env = calloc(json_object_size(v) + 1, sizeof *env);
    if (!env)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    *out = env;   /* the caller frees it, also when half filled */
    size_t n = 0;
    const char *k;
    json_t *s;
    json_object_foreach(v, k, s) {
        if (!hb_env_name_valid(k, strlen(k)))
            return hb_fail(e, HB_E_INVALID, 0, "env.%.64s: not a name like "
                           "^[A-Za-z_][A-Za-z0-9_]*$", k);
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
            return hb_fail(e, HB_E_INVALID, 0, "env.%.64s: expected a string without NUL", k);
        if (strlen(k) + 1 + json_string_length(s) > HB_ENVSTR_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "env.%.64s: longer than %u bytes with its name",
                           k, HB_ENVSTR_MAX);
        if (asprintf(&env[n], "%s=%s", k, json_string_value(s)) < 0) {
            env[n] = NULL;
            return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        }
        n++;
    }
    return 0;
}

/* ---- the list filter: ?metadata=<urlencoded "k=v&k2=v2"> ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode in[0..n) ('+' is a space) into out (n + 1 bytes); its
 * length, or -1 for a bad escape. */
static long decode(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '%') {
            out[o++] = in[i] == '+' ? ' ' : in[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(in[i + 1]) : -1, lo = i + 2 < n ? hexval(in[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            return -1;
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return (long)o;
}

/* One "k=v" of the filter (n bytes at p) into f. */
static int filter_pair(const char *p, size_t n, json_t *f, hb_err_t *e)
{
    const char *eq = memchr(p, '=', n);
    if (!eq)
        return hb_fail(e, HB_E_INVALID, 0, "metadata: expected key=value pairs joined by '&'");
    size_t kn = (size_t)(eq - p), vn = n - kn - 1;
    char *k = malloc(kn + 1), *v = malloc(vn + 1);
    long kl = k ? decode(p, kn, k) : -1, vl = v ? decode(eq + 1, vn, v) : -1;
    int rc = 0;
    if (kl < 0 || vl < 0)
        rc = hb_fail(e, HB_E_INVALID, 0, "metadata: a bad %%-escape");
    else if (check_pair(k, (size_t)kl, v, (size_t)vl, e) < 0)
        rc = -1;
    else if (json_object_size(f) >= HB_META_KEYS_MAX)
        rc = hb_fail(e, HB_E_INVALID, 0, "metadata: more than %d pairs", HB_META_KEYS_MAX);
    else if (json_object_set_new(f, k, json_stringn(v, (size_t)vl)) < 0)
        rc = hb_fail(e, HB_E_INVALID, 0, "metadata.%.64s: not valid UTF-8", k);
    free(k);
    free(v);
    return rc;
}

int hb_req_parse_meta_filter(const char *qs, json_t **filter, hb_err_t *e)
{
    enum { CAP = HB_META_KEYS_MAX * (HB_META_KEY_MAX + HB_META_VALUE_MAX + 2) * 3 };
    *filter = NULL;
    char *raw = malloc(CAP);
    size_t len = 0;
    int found = raw ? hb_query_param(qs, "metadata", raw, CAP, &len) : -2;
    if (found == -2 || (found == 1 && !(*filter = json_object()))) {
        free(raw);
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    }
    if (found < 0) {
        free(raw);
        return hb_fail(e, HB_E_INVALID, 0, "metadata: malformed or longer than %d bytes",
                       CAP - 1);
    }
    int rc = 0;
    for (size_t i = 0; found == 1 && rc == 0 && i < len;) {
        const char *amp = memchr(raw + i, '&', len - i);
        size_t n = amp ? (size_t)(amp - (raw + i)) : len - i;
        if (n > 0)
            rc = filter_pair(raw + i, n, *filter, e);
        i += n + 1;
    }
    free(raw);
    if (rc < 0) {
        json_decref(*filter);
        *filter = NULL;
    }
    return rc;
}

bool hb_meta_match(const char *metadata, const json_t *filter)
{
    if (!filter || json_object_size(filter) == 0)
        return true;
    json_t *m = metadata ? json_loads(metadata, 0, NULL) : NULL;
    bool ok = json_is_object(m);
    const char *k;
    json_t *want;
    json_object_foreach((json_t *)filter, k, want) {
        json_t *have = ok ? json_object_get(m, k) : NULL;
        if (!have || !json_equal(have, want)) {
            ok = false;
            break;
        }
    }
    json_decref(m);
    return ok;
}

/* ---- POST /:id/timeout ---- */

int hb_req_parse_timeout(const char *body, size_t len, uint64_t *timeout_s, hb_err_t *e)
{
    json_t *j = hb_req_load_object(body, len, e);
    if (!j)
        return -1;
    int rc = 0;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        if (strcmp(key, "timeout") != 0) {
            rc = hb_fail(e, HB_E_INVALID, 0, "%.64s: unknown field", key);
            break;
        }
    }
    v = json_object_get(j, "timeout");
    json_int_t t = json_is_integer(v) ? json_integer_value(v) : 0;
    if (rc == 0 && !v)
        rc = hb_fail(e, HB_E_INVALID, 0, "timeout: required (seconds from now)");
    else if (rc == 0 && (t < 1 || t > HB_TIMEOUT_MAX))
        rc = hb_fail(e, HB_E_INVALID, 0, "timeout: must be an integer from 1 to %u (seconds)",
                     HB_TIMEOUT_MAX);
    json_decref(j);
    if (rc == 0)
        *timeout_s = (uint64_t)t;
    return rc;
}
