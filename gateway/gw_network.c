/* GET/PUT /api/v1/hiveboxes/:id/network (issue 16): a sandbox's egress
 * policy. The body is validated here (errors name the entry) and again by
 * the supervisor, which owns the sandbox and applies it. */
#include "gw_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "egress_policy.h"
#include "gw_network.h"
#include "req_parse.h"

#define CALL_MS 30000

json_t *hb_json_egress(const char *policy, uint64_t denied)
{
    json_t *p = policy && *policy ? json_loads(policy, 0, NULL) : NULL;
    if (!json_is_object(p)) {
        json_decref(p);
        p = json_pack("{s:[], s:[]}", "allow_out", "deny_out");
    }
    if (p) {
        json_object_set_new(p, "enabled", json_boolean(policy && *policy));
        json_object_set_new(p, "denied", json_integer((json_int_t)denied));
    }
    return p;
}

/* The canonical policy text of a PUT body ("" for none). */
static int parse_body(hb_req_t *r, char **text, hb_err_t *e)
{
    char *body = NULL;
    size_t len = 0;
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, e) < 0)
        return -1;
    json_t *j = hb_req_load_object(body, len, e);
    free(body);
    if (!j)
        return -1;
    hb_egress_t p;
    int rc = hb_egress_parse_json(j, &p, e);
    json_decref(j);
    if (rc < 0)
        return -1;
    *text = hb_egress_text(&p);
    hb_egress_free(&p);
    return *text ? 0 : hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
}

int hb_h_network(hb_req_t *r)
{
    bool put = hb_method_is(r, "PUT");
    if (!put && !hb_method_is(r, "GET"))
        return hb_reply_405(r);
    hb_err_t e = {0};
    hb_msg_t q = {.type = HB_MSG_SB_NETWORK, .host_only = put}, rep;
    if ((put && parse_body(r, &q.egress, &e) < 0) ||
        (hb_str_set(&q.id, r->route.id) < 0 && hb_fail(&e, HB_E_INTERNAL, 0, "out of memory"))) {
        hb_msg_clear(&q);
        return hb_reply_err(r, &e);
    }
    int rc = hb_bus_call(r->conf->ep.manager, &q, &rep, CALL_MS, &e);
    hb_msg_clear(&q);
    if (rc < 0)
        return hb_reply_err(r, &e);
    json_t *j = hb_json_egress(rep.egress, rep.denied);
    if (j)
        json_object_set_new(j, "id", json_string(r->route.id));
    hb_msg_clear(&rep);
    return hb_reply_json(r->c, 200, j);
}
