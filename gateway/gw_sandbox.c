/* Handlers: sandboxes, exec, analytics, the OpenAPI document. Each one is
 * parse -> one actor call -> JSON. */
#include "gw_internal.h"
#include "mcp_http.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "json_out.h"
#include "metrics.h"
#include "req_parse.h"

#define CALL_MS        30000     /* list, get, analytics: answered at once */
#define CREATE_MS      300000    /* creating a sandbox mounts, spawns, waits for init */
#define DESTROY_MS     120000
#define EXEC_SLACK_MS  60000     /* on top of the command's own timeout */

/* One actor call; replies with the error itself when it fails. */
static int call(hb_req_t *r, const char *ep, hb_msg_t *q, hb_msg_t *rep, int64_t ms, int *status)
{
    hb_err_t e = {0};
    int rc = hb_bus_call(ep, q, rep, ms, &e);
    hb_msg_clear(q);
    if (rc < 0)
        *status = hb_reply_err(r, &e);
    return rc;
}

static int set_id(hb_req_t *r, hb_msg_t *q)
{
    if (hb_str_set(&q->id, r->route.id) < 0) {
        hb_msg_clear(q);
        return hb_reply_error(r->c, 500, "out of memory");
    }
    return 0;
}

static int list(hb_req_t *r)
{
    hb_msg_t q = {.type = HB_MSG_SB_LIST}, rep;
    int status;
    if (call(r, HB_EP_MANAGER, &q, &rep, CALL_MS, &status) < 0)
        return status;
    status = hb_reply_json(r->c, 200, hb_json_list(rep.sandboxes, rep.sandboxes_n, time(NULL)));
    hb_msg_clear(&rep);
    return status;
}

static int create(hb_req_t *r)
{
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    hb_msg_t q, rep;
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    int rc = hb_req_parse_create(body, len, &q, &e);
    free(body);
    if (rc < 0)
        return hb_reply_err(r, &e);
    /* The sandbox's MCP token: made here, kept by its supervisor (0600),
     * shown only in this response (gateway/mcp_token.c). */
    char token[MCP_TOKEN_LEN + 1];
    if (mcp_token_new(token) < 0 || hb_str_set(&q.mcp_token, token) < 0) {
        hb_msg_clear(&q);
        return hb_reply_error(r->c, 500, "create: cannot make the MCP token");
    }
    int status;
    if (call(r, HB_EP_MANAGER, &q, &rep, CREATE_MS, &status) < 0)
        return status;
    if (rep.sandboxes_n != 1) {
        status = hb_reply_error(r->c, 500, "create: malformed reply");
    } else {
        json_t *j = hb_json_created(&rep.sandboxes[0]);
        json_object_set_new(j, "mcp_token", json_string(token));
        status = hb_reply_json(r->c, 201, j);
    }
    hb_msg_clear(&rep);
    return status;
}

int hb_h_sandboxes(hb_req_t *r)
{
    if (hb_method_is(r, "GET"))
        return list(r);
    if (hb_method_is(r, "POST"))
        return create(r);
    return hb_reply_405(r);
}

static int get_one(hb_req_t *r)
{
    hb_msg_t q = {.type = HB_MSG_SB_GET}, rep;
    int status = set_id(r, &q);
    if (status)
        return status;
    if (call(r, HB_EP_MANAGER, &q, &rep, CALL_MS, &status) < 0)
        return status;
    if (rep.sandboxes_n != 1) {
        status = hb_reply_error(r->c, 500, "get: malformed reply");
    } else {
        json_t *j = hb_json_sandbox(&rep.sandboxes[0], time(NULL));
        json_t *llm = j && json_object_get(j, "opencode_url") ? hb_gw_agent_llm_json(r->route.id)
                                                              : NULL;
        if (llm)   /* the agent's model, never its key */
            json_object_set_new(j, "llm", llm);
        status = hb_reply_json(r->c, 200, j);
    }
    hb_msg_clear(&rep);
    return status;
}

static int destroy(hb_req_t *r)
{
    hb_msg_t q = {.type = HB_MSG_SB_DESTROY}, rep;
    int status = set_id(r, &q);
    if (status)
        return status;
    if (call(r, HB_EP_MANAGER, &q, &rep, DESTROY_MS, &status) < 0)
        return status;
    status = hb_reply_json(r->c, 200, json_pack("{s:s, s:s}", "id", r->route.id, "status",
                                                "destroyed"));
    hb_msg_clear(&rep);
    return status;
}

int hb_h_sandbox(hb_req_t *r)
{
    if (hb_method_is(r, "GET"))
        return get_one(r);
    if (hb_method_is(r, "DELETE"))
        return destroy(r);
    return hb_reply_405(r);
}

int hb_h_exec(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    hb_msg_t q, rep;
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    int rc = hb_req_parse_exec(body, len, &q, &e);
    free(body);
    if (rc < 0)
        return hb_reply_err(r, &e);
    int status = set_id(r, &q);
    if (status)
        return status;
    /* No command timeout: wait as long as it runs (SIGTERM still ends the wait). */
    int64_t ms = q.timeout_ms ? (int64_t)q.timeout_ms + EXEC_SLACK_MS : -1;
    if (call(r, HB_EP_MANAGER, &q, &rep, ms, &status) < 0)
        return status;
    status = hb_reply_json(r->c, 200, hb_json_exec(&rep));
    hb_msg_clear(&rep);
    return status;
}

int hb_h_analytics(hb_req_t *r)
{
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    hb_err_t e = {0};
    hb_msg_t q = {.type = HB_MSG_ANALYTICS}, rep;
    if (hb_req_parse_range(r->ri->query_string, &q.range_s, &e) < 0)
        return hb_reply_err(r, &e);
    int status;
    if (call(r, HB_EP_METRICS, &q, &rep, CALL_MS, &status) < 0)
        return status;
    status = hb_reply_json(r->c, 200, hb_json_samples(&rep, HB_METRICS_INTERVAL_S));
    hb_msg_clear(&rep);
    return status;
}

int hb_h_openapi(hb_req_t *r)
{
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    return hb_send(r->c, 200, "application/json", hb_openapi_json, (size_t)hb_openapi_json_len,
                   NULL, NULL);
}
