/* POST /api/v1/hiveboxes/:id/fork {"count", "name_prefix"?, create fields?}:
 * N new running sandboxes from the source's current filesystem. One
 * snapshot under the hood (image "fork-<id>-<hex>", kind fork: removed by
 * the manager once its last sandbox is gone), then N ordinary creates from
 * it, with the source's memory, cpus, pids, disk and network unless the body
 * overrides them (any create field but name and image). All or nothing: if
 * one create fails, the ones made are destroyed, the image removed, and the
 * error is the answer. Restore: .../restore below. */
#include "gw_image.h"
#include "gw_internal.h"
#include "json_out.h"
#include "mcp_http.h"
#include "preview_auth.h"   /* issue 16 */
#include "req_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "bus.h"

#define FORK_MAX    16
#define CALL_MS     30000
#define CREATE_MS   300000
#define DESTROY_MS  120000
#define PREFIX_MAX  50   /* room for "-<n>" in a 63-character name */

typedef struct {
    int     count;
    char    prefix[HB_ID_MAX];
    json_t *create;      /* the create body every fork gets (name added per fork) */
    char    image[HB_ID_MAX];
} fork_req_t;

/* count, name_prefix; the rest is the create overrides. */
static int parse(json_t *j, fork_req_t *f, hb_err_t *e)
{
    json_t *v = json_object_get(j, "count");
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    if (n < 1 || n > FORK_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "count: required, an integer from 1 to %d",
                       FORK_MAX);
    f->count = (int)n;
    v = json_object_get(j, "name_prefix");
    if (v) {
        const char *p = json_string_value(v);
        if (!p || !hb_name_valid(p) || strlen(p) > PREFIX_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "name_prefix: a sandbox name of at most %d "
                           "characters (forks are <name_prefix>-1 ... -<count>)", PREFIX_MAX);
        snprintf(f->prefix, sizeof f->prefix, "%s", p);
    }
    if (json_object_get(j, "name") || json_object_get(j, "image"))
        return hb_fail(e, HB_E_INVALID, 0, "%s: not allowed in a fork (use name_prefix; the "
                       "image is the source's filesystem)",
                       json_object_get(j, "name") ? "name" : "image");
    json_object_del(j, "count");
    json_object_del(j, "name_prefix");
    return 0;
}

/* The source's limits and network, then the overrides. */
static json_t *create_body(const hb_sbinfo_t *s, json_t *overrides)
{
    char net[HB_ID_MAX + 16];
    if (s->net_group && s->net_group[0])
        snprintf(net, sizeof net, "shared:%s", s->net_group);
    else
        snprintf(net, sizeof net, "%s", s->network ? s->network : "isolated");
    json_t *b = json_pack("{s:s, s:f, s:I, s:s, s:s}", "memory", s->memory ? s->memory : "512m",
                          "cpus", s->cpus, "pids", (json_int_t)s->pids, "network", net, "disk",
                          s->disk ? s->disk : "10g");
    if (b)
        json_object_update(b, overrides);
    return b;
}

static int parse_create(const hb_req_t *r, json_t *body, const char *name, hb_msg_t *q,
                        hb_err_t *e)
{
    if (name[0])
        json_object_set_new(body, "name", json_string(name));
    char *text = json_dumps(body, JSON_COMPACT);
    json_object_del(body, "name");
    if (!text)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    int rc = hb_req_parse_create(text, strlen(text), r->oc, q, e);
    free(text);
    return rc;
}

static void fork_name(const fork_req_t *f, int i, char *out, size_t len)
{
    if (f->prefix[0])
        snprintf(out, len, "%.50s-%d", f->prefix, i + 1);
    else
        out[0] = '\0';   /* the manager names it */
}

static void call_quiet(hb_req_t *r, hb_msg_type_t type, const char *id, const char *name,
                       int64_t ms)
{
    hb_msg_t q = {.type = type}, rep;
    hb_err_t e = {0};
    if (hb_str_set(type == HB_MSG_IMAGE_DELETE ? &q.name : &q.id, type == HB_MSG_IMAGE_DELETE
                                                                    ? name : id) == 0 &&
        hb_bus_call(r->conf->ep.manager, &q, &rep, ms, &e) == 0)
        hb_msg_clear(&rep);
    hb_msg_clear(&q);
}

/* One fork; its created JSON appended to out. */
static int create_one(hb_req_t *r, const fork_req_t *f, int i, json_t *out, hb_err_t *e)
{
    char name[HB_ID_MAX], token[MCP_TOKEN_LEN + 1];
    hb_msg_t q = {0}, rep;
    fork_name(f, i, name, sizeof name);
    if (parse_create(r, f->create, name, &q, e) < 0)
        return -1;
    if (mcp_token_new(token) < 0 || hb_str_set(&q.mcp_token, token) < 0) {
        hb_msg_clear(&q);
        return hb_fail(e, HB_E_INTERNAL, 0, "fork: cannot make the MCP token");
    }
    int rc = hb_bus_call(r->conf->ep.manager, &q, &rep, CREATE_MS, e);
    hb_msg_clear(&q);
    if (rc < 0)
        return -1;
    json_t *j = rep.sandboxes_n == 1 ? hb_json_created(&rep.sandboxes[0], r->oc->enabled) : NULL;
    hb_msg_clear(&rep);
    if (!j)
        return hb_fail(e, HB_E_INTERNAL, 0, "fork: malformed create reply");
    json_object_set_new(j, "mcp_token", json_string(token));
    hb_pv_token_show(j, token);   /* issue 16 */
    json_array_append_new(out, j);
    return 0;
}

static void roll_back(hb_req_t *r, const fork_req_t *f, json_t *made)
{
    size_t i;
    json_t *s;
    json_array_foreach(made, i, s) {
        call_quiet(r, HB_MSG_SB_DESTROY, json_string_value(json_object_get(s, "id")), NULL,
                   DESTROY_MS);
    }
    call_quiet(r, HB_MSG_IMAGE_DELETE, NULL, f->image, CALL_MS);
}

static int source_info(hb_req_t *r, hb_msg_t *rep, hb_err_t *e)
{
    hb_msg_t q = {.type = HB_MSG_SB_GET};
    if (hb_str_set(&q.id, r->route.id) < 0)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    int rc = hb_bus_call(r->conf->ep.manager, &q, rep, CALL_MS, e);
    hb_msg_clear(&q);
    if (rc == 0 && rep->sandboxes_n != 1) {
        hb_msg_clear(rep);
        return hb_fail(e, HB_E_INTERNAL, 0, "fork: malformed reply");
    }
    return rc;
}

/* Check the body and the first fork's create request before anything is made. */
static int prepare(hb_req_t *r, fork_req_t *f, hb_err_t *e)
{
    char *body = NULL;
    size_t len = 0;
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, e) < 0)
        return -1;
    json_t *j = hb_req_load_object(body, len, e);
    free(body);
    if (!j || parse(j, f, e) < 0) {
        json_decref(j);
        return -1;
    }
    hb_msg_t rep;
    int rc = source_info(r, &rep, e);
    if (rc == 0) {
        f->create = create_body(&rep.sandboxes[0], j);
        hb_msg_clear(&rep);
    }
    json_decref(j);
    if (rc < 0 || !f->create)
        return rc < 0 ? -1 : hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    uint32_t x = 0;
    if (getrandom(&x, sizeof x, 0) != (ssize_t)sizeof x)
        return hb_fail(e, HB_E_INTERNAL, 0, "fork: no randomness");
    snprintf(f->image, sizeof f->image, "fork-%.40s-%06x", r->route.id, x & 0xffffffu);
    json_object_set_new(f->create, "image", json_string("base"));   /* checked as base */
    char name[HB_ID_MAX];
    fork_name(f, 0, name, sizeof name);
    hb_msg_t q = {0};
    rc = parse_create(r, f->create, name, &q, e);
    hb_msg_clear(&q);
    json_object_set_new(f->create, "image", json_string(f->image));
    return rc;
}

int hb_h_fork(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    if (!r->route.id[0])
        return hb_reply_error(r->c, 404, "sandbox not found");
    fork_req_t f = {0};
    hb_err_t e = {0};
    hb_msg_t snap;
    if (prepare(r, &f, &e) < 0 ||
        hb_gw_snapshot_call(r, r->route.id, f.image, "fork", &snap, &e) < 0) {
        json_decref(f.create);
        return hb_reply_err(r, &e);
    }
    json_t *made = json_array();
    int rc = 0;
    for (int i = 0; i < f.count && rc == 0; i++)
        rc = create_one(r, &f, i, made, &e);
    json_decref(f.create);
    if (rc < 0) {
        roll_back(r, &f, made);
        json_decref(made);
        hb_msg_clear(&snap);
        return hb_reply_err(r, &e);
    }
    json_t *j = json_pack("{s:s, s:s, s:o, s:I, s:I}", "source", r->route.id, "image", f.image,
                          "sandboxes", made, "snapshot_ms", (json_int_t)snap.duration_ms,
                          "frozen_ms", (json_int_t)snap.frozen_ms);
    hb_msg_clear(&snap);
    return hb_reply_json(r->c, 201, j);
}

/* POST .../restore {"snapshot"}: the sandbox restarts on that image with an
 * empty writable layer (every process killed; same id, limits, address,
 * expiry). 200 with the sandbox. */
int hb_h_restore(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    if (!r->route.id[0])
        return hb_reply_error(r->c, 404, "sandbox not found");
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    hb_msg_t q = {.type = HB_MSG_SB_RESTORE}, rep = {0};
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    int rc = hb_req_parse_name_field(body, len, "snapshot", "the name of an image", &q.snapshot,
                                     &e);
    free(body);
    if (rc == 0 && hb_str_set(&q.id, r->route.id) < 0)
        rc = hb_fail(&e, HB_E_INTERNAL, 0, "out of memory");
    if (rc == 0)
        rc = hb_bus_call(r->conf->ep.manager, &q, &rep, CREATE_MS, &e);
    hb_msg_clear(&q);
    if (rc < 0)
        return hb_reply_err(r, &e);
    int status = rep.sandboxes_n == 1
                     ? hb_reply_json(r->c, 200, hb_json_sandbox(&rep.sandboxes[0], time(NULL),
                                                                r->oc->enabled))
                     : hb_reply_error(r->c, 500, "restore: malformed reply");
    hb_msg_clear(&rep);
    return status;
}
