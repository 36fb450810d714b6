/* The build request (see build_req.h). The build sandbox's own fields
 * (network, memory, cpus, disk, env) go through hb_req_parse_create, so they
 * are validated exactly as for POST /api/v1/hiveboxes and named alike. */
#include "build_req.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_depth.h"
#include "path.h"
#include "req_parse.h"

/* A JSON string without NUL, 1..max bytes. */
static const char *str_field(json_t *v, const char *field, size_t max, hb_err_t *e)
{
    if (!json_is_string(v)) {
        hb_fail(e, HB_E_INVALID, 0, "%s: expected a string", field);
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || n == 0 || n > max) {
        hb_fail(e, HB_E_INVALID, 0, "%s: must be 1..%zu bytes without NUL", field, max);
        return NULL;
    }
    return s;
}

static int name_field(json_t *v, const char *field, char *out, hb_err_t *e)
{
    const char *s = str_field(v, field, HB_ID_MAX - 1, e);
    if (!s)
        return -1;
    if (!hb_name_valid(s))
        return hb_fail(e, HB_E_INVALID, 0, "%s: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$",
                       field);
    snprintf(out, HB_ID_MAX, "%s", s);
    return 0;
}

static int run_field(json_t *v, hb_build_req_t *b, hb_err_t *e)
{
    size_t n = json_is_array(v) ? json_array_size(v) : 0;
    if (n < 1 || n > HB_BUILD_STEPS_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "run: expected an array of 1..%d commands",
                       HB_BUILD_STEPS_MAX);
    if (!(b->run = calloc(n, sizeof *b->run)))
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof field, "run[%zu]", i);
        const char *s = str_field(json_array_get(v, i), field, HB_BUILD_STEP_MAX, e);
        if (!s)
            return -1;
        if (!(b->run[i] = strdup(s)))
            return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        b->run_n = i + 1;
    }
    return 0;
}

static int file_entry(const char *path, json_t *v, hb_build_file_t *f, size_t *total, hb_err_t *e)
{
    const char *why = NULL;
    char norm[HB_PATH_MAX];
    if (hb_path_check(path, &why) < 0 || hb_path_normalize(path, norm, sizeof norm) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "files: %.200s: %s", path, why ? why : "invalid path");
    if (strcmp(norm, "/") == 0)
        return hb_fail(e, HB_E_INVALID, 0, "files: %.200s: not a file path", path);
    if (!json_is_string(v))
        return hb_fail(e, HB_E_INVALID, 0, "files: %.200s: expected the file's text as a string",
                       path);
    size_t len = json_string_length(v);
    if (len > HB_BUILD_FILES_BYTES - *total)
        return hb_fail(e, HB_E_INVALID, 0, "files: more than %u bytes in all",
                       HB_BUILD_FILES_BYTES);
    *total += len;
    f->path = strdup(norm);
    f->data = malloc(len + 1);
    if (!f->path || !f->data)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    memcpy(f->data, json_string_value(v), len);
    f->data[len] = '\0';
    f->len = len;
    return 0;
}

static int files_field(json_t *v, hb_build_req_t *b, hb_err_t *e)
{
    if (!json_is_object(v))
        return hb_fail(e, HB_E_INVALID, 0, "files: expected an object {\"/path\": \"text\"}");
    size_t n = json_object_size(v), total = 0;
    if (n > HB_BUILD_FILES_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "files: more than %d files", HB_BUILD_FILES_MAX);
    if (n == 0)
        return 0;
    if (!(b->files = calloc(n, sizeof *b->files)))
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    const char *path;
    json_t *t;
    json_object_foreach(v, path, t) {
        if (file_entry(path, t, &b->files[b->files_n], &total, e) < 0) {
            b->files_n++;   /* what it allocated is freed with the rest */
            return -1;
        }
        b->files_n++;
    }
    return 0;
}

static int timeout_field(json_t *v, hb_build_req_t *b, hb_err_t *e)
{
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    if (n < 1 || n > HB_BUILD_TIMEOUT_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "timeout: expected seconds per step, 1..%d",
                       HB_BUILD_TIMEOUT_MAX);
    b->step_timeout_s = (uint32_t)n;
    return 0;
}

/* The build sandbox's SB_CREATE, from the fields it shares with a create. */
static int make_create(json_t *sb, hb_build_req_t *b, hb_err_t *e)
{
    uint64_t ttl = (uint64_t)b->step_timeout_s * b->run_n + HB_BUILD_TTL_SLACK;
    /* The TTL is a safety net: a daemon restart mid-build re-attaches the
     * sandbox, and its expiry then removes it. */
    json_object_set_new(sb, "image", json_string(b->from));
    json_object_set_new(sb, "timeout",
                        json_integer(ttl > HB_TIMEOUT_MAX ? HB_TIMEOUT_MAX : (json_int_t)ttl));
    char *text = json_dumps(sb, JSON_COMPACT);
    if (!text)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    int rc = hb_req_parse_create(text, strlen(text), NULL, &b->create, e);
    free(text);
    return rc;
}

static int field(const char *key, json_t *v, hb_build_req_t *b, json_t *sb, hb_err_t *e)
{
    static const char *const shared[] = {"network", "memory", "cpus", "disk", "env"};
    if (strcmp(key, "name") == 0)
        return name_field(v, "name", b->name, e);
    if (strcmp(key, "from") == 0)
        return name_field(v, "from", b->from, e);
    if (strcmp(key, "run") == 0)
        return run_field(v, b, e);
    if (strcmp(key, "files") == 0)
        return files_field(v, b, e);
    if (strcmp(key, "timeout") == 0)
        return timeout_field(v, b, e);
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
        if (strcmp(key, shared[i]) == 0)
            return json_object_set(sb, key, v);
    return hb_fail(e, HB_E_INVALID, 0, "%.64s: unknown field", key);
}

static json_t *load(const char *body, size_t len, hb_err_t *e)
{
    if (len > HB_BUILD_BODY_MAX) {
        hb_fail(e, HB_E_TOOBIG, 0, "body: larger than %u bytes", HB_BUILD_BODY_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *j = body ? hb_json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je)
                     : NULL;
    if (!j) {
        hb_fail(e, HB_E_INVALID, 0, "body: invalid JSON: %s", body ? je.text : "empty");
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        hb_fail(e, HB_E_INVALID, 0, "body: expected a JSON object");
        return NULL;
    }
    return j;
}

int hb_build_req_parse(const char *body, size_t len, hb_build_req_t *b, hb_err_t *e)
{
    memset(b, 0, sizeof *b);
    b->step_timeout_s = HB_BUILD_STEP_TIMEOUT;
    snprintf(b->from, sizeof b->from, "base");
    json_t *j = load(body, len, e);
    json_t *sb = json_object();
    int rc = j && sb ? 0 : -1;
    if (j && !sb)
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    const char *key;
    json_t *v;
    if (rc == 0) {
        json_object_foreach(j, key, v) {
            if (!json_is_null(v) && (rc = field(key, v, b, sb, e)) < 0)
                break;
        }
    }
    if (rc == 0 && !b->name[0])
        rc = hb_fail(e, HB_E_INVALID, 0, "name: required");
    if (rc == 0 && !b->run_n)
        rc = hb_fail(e, HB_E_INVALID, 0, "run: required (1..%d commands)", HB_BUILD_STEPS_MAX);
    if (rc == 0)
        rc = make_create(sb, b, e);
    json_decref(sb);
    json_decref(j);
    return rc;
}

void hb_build_req_free(hb_build_req_t *b)
{
    for (size_t i = 0; i < b->run_n; i++)
        free(b->run[i]);
    free(b->run);
    for (size_t i = 0; i < b->files_n; i++) {
        free(b->files[i].path);
        free(b->files[i].data);
    }
    free(b->files);
    hb_msg_clear(&b->create);
    memset(b, 0, sizeof *b);
}

void hb_build_sandbox_name(const char *name, unsigned hex4, char *out, size_t cap)
{
    /* "build-" + name + "-xxxx" within a sandbox name's 63 characters. */
    snprintf(out, cap, "build-%.52s-%04x", name, hex4 & 0xffffu);
}
