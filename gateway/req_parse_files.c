/* Parsing for the file management routes (mkdir, move, delete). Pure, like
 * the rest of req_parse: unit tested and fuzzed (tests/fuzz/fuzz_request.c). */
#include "req_parse.h"

#include <string.h>

#include "path.h"

/* A path normalised, for comparing with "/" (the agent normalises too). */
static int norm_path(const char *field, const char *in, char *out, size_t cap, hb_err_t *e)
{
    const char *why = NULL;
    if (hb_path_check(in, &why) < 0 || hb_path_normalize(in, out, cap) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "%s: %s", field, why ? why : "not a valid path");
    if (strcmp(out, "/") == 0)
        return hb_fail(e, HB_E_INVALID, 0, "%s: not the root directory", field);
    return 0;
}

int hb_req_parse_target(const char *qs, char *path, size_t cap, hb_err_t *e)
{
    char raw[HB_PATH_MAX];
    if (hb_req_parse_path(qs, true, raw, sizeof raw, e) < 0)
        return -1;
    return norm_path("path", raw, path, cap, e);
}

static int path_field(json_t *o, const char *key, char *out, size_t cap, hb_err_t *e)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return hb_fail(e, HB_E_INVALID, 0, "%s: required (an absolute path)", key);
    size_t n = json_string_length(v);
    if (!json_is_string(v) || n == 0 || n >= HB_PATH_MAX ||
        memchr(json_string_value(v), '\0', n))
        return hb_fail(e, HB_E_INVALID, 0, "%s: must be an absolute path of at most %d bytes",
                       key, HB_PATH_MAX - 1);
    return norm_path(key, json_string_value(v), out, cap, e);
}

static int move_fields(json_t *o, hb_move_req_t *m, hb_err_t *e)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (strcmp(k, "from") != 0 && strcmp(k, "to") != 0 && strcmp(k, "overwrite") != 0)
            return hb_fail(e, HB_E_INVALID, 0, "%.64s: unknown field", k);
    }
    if (path_field(o, "from", m->from, sizeof m->from, e) < 0 ||
        path_field(o, "to", m->to, sizeof m->to, e) < 0)
        return -1;
    v = json_object_get(o, "overwrite");
    if (v && !json_is_boolean(v))
        return hb_fail(e, HB_E_INVALID, 0, "overwrite: must be true or false");
    m->overwrite = json_is_true(v);
    if (strcmp(m->from, m->to) == 0)
        return hb_fail(e, HB_E_INVALID, 0, "to: the same path as from");
    if (hb_path_is_under(m->to, m->from))
        return hb_fail(e, HB_E_INVALID, 0, "to: inside from (a directory cannot move into "
                       "itself)");
    return 0;
}

int hb_req_parse_move(const char *body, size_t len, hb_move_req_t *m, hb_err_t *e)
{
    memset(m, 0, sizeof *m);
    json_t *o = hb_req_load_object(body, len, e);
    if (!o)
        return -1;
    int rc = move_fields(o, m, e);
    json_decref(o);
    return rc;
}
