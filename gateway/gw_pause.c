/* POST /api/v1/hiveboxes/:id/pause {"auto_resume"?: bool} and .../resume:
 * the sandbox's supervisor freezes or thaws it (actors/supervisor, the
 * pause section, has the rules: TTL, idempotence, what a paused sandbox
 * answers). Both answer the sandbox's JSON, status "paused" or "running". */
#include "gw_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "json_out.h"
#include "req_parse.h"

#define PAUSE_MS 30000   /* the freezer's own wait is bounded at 5 s */

/* An empty body is no fields; else {"auto_resume": bool} and nothing else. */
static int parse_pause(const char *body, size_t len, hb_msg_t *q, hb_err_t *e)
{
    json_t *j = hb_req_load_object(body, len, e);   /* an empty body: {} */
    if (!j)
        return -1;
    int rc = 0;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        if (strcmp(key, "auto_resume") != 0) {
            rc = hb_fail(e, HB_E_INVALID, 0, "%.64s: unknown field", key);
            break;
        }
        if (!json_is_boolean(v)) {
            rc = hb_fail(e, HB_E_INVALID, 0, "auto_resume: expected true or false");
            break;
        }
        q->set_auto_resume = true;
        q->auto_resume = json_is_true(v);
    }
    json_decref(j);
    return rc;
}

static int call_sup(hb_req_t *r, hb_msg_t *q)
{
    hb_msg_t rep;
    hb_err_t e = {0};
    if (hb_str_set(&q->id, r->route.id) < 0) {
        hb_msg_clear(q);
        return hb_reply_error(r->c, 500, "out of memory");
    }
    int rc = hb_bus_call(r->conf->ep.manager, q, &rep, PAUSE_MS, &e);
    hb_msg_clear(q);
    if (rc < 0)
        return hb_reply_err(r, &e);
    int status;
    if (rep.sandboxes_n != 1)
        status = hb_reply_error(r->c, 500, "malformed reply");
    else
        status = hb_reply_json(r->c, 200, hb_json_sandbox(&rep.sandboxes[0], time(NULL),
                                                          r->oc->enabled));
    hb_msg_clear(&rep);
    return status;
}

int hb_h_pause(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    hb_msg_t q = {.type = HB_MSG_SB_PAUSE};
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    int rc = parse_pause(body, len, &q, &e);
    free(body);
    if (rc < 0)
        return hb_reply_err(r, &e);
    return call_sup(r, &q);
}

int hb_h_resume(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    hb_msg_t q = {.type = HB_MSG_SB_RESUME};
    return call_sup(r, &q);
}
