/* Handlers: sandboxes, exec, analytics, the OpenAPI document. Each one is
 * parse -> one actor call -> JSON. */
#include "gw_internal.h"
#include "mcp_http.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "exec_json.h"
#include "exec_sink.h"
#include "json_out.h"
#include "metrics.h"
#include "preview_auth.h"   /* issue 16 */
#include "cluster.h"        /* issue 20 */
#include "gw_cluster.h"     /* issue 20 */
#include "req_parse.h"

#define CALL_MS        30000     /* list, get, analytics: answered at once */
#define CREATE_MS      300000    /* creating a sandbox mounts, spawns, waits for init */
#define DESTROY_MS     120000
#define EXEC_SLACK_MS  60000     /* on top of the command's own timeout */

/* A call answered with R_TEXT, read in place (bus.h); replies with the
 * error itself when it fails. */
static int call_text(hb_req_t *r, const char *ep, hb_msg_t *q, hb_bus_text_t *rep, int *status)
{
    hb_err_t e = {0};
    int rc = hb_bus_call_text(ep, q, rep, CALL_MS, &e);
    hb_msg_clear(q);
    if (rc < 0)
        *status = hb_reply_err(r, &e);
    return rc;
}

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

/* issue 19: the manager answers with the body itself (SB_LIST_TEXT: rows
 * kept rendered, gateway/list_row.h); the filter travels as JSON text. */
static int list(hb_req_t *r)
{
    hb_msg_t q = {.type = HB_MSG_SB_LIST_TEXT, .opencode = r->oc->enabled};
    hb_bus_text_t rep;
    hb_err_t e = {0};
    json_t *filter = NULL;
    if (hb_req_parse_meta_filter(r->ri->query_string, &filter, &e) < 0)
        return hb_reply_err(r, &e);
    q.metadata = filter ? json_dumps(filter, JSON_COMPACT) : NULL;   /* q owns it */
    bool oom = filter && !q.metadata;
    json_decref(filter);
    if (oom)
        return hb_reply_error(r->c, 500, "out of memory");
    int status;
    if (call_text(r, r->conf->ep.manager, &q, &rep, &status) < 0)
        return status;
    status = hb_send(r->c, 200, "application/json", rep.data, rep.len, NULL, NULL);
    hb_bus_text_free(&rep);
    return status;
}

static int create(hb_req_t *r)
{
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    int status = hb_gw_create_body(r, body, len);
    free(body);
    return status;
}

/* issue 20: the cluster's create reads the body itself (gw_cluster.h). */
int hb_gw_create_body(hb_req_t *r, const char *body, size_t len)
{
    hb_err_t e = {0};
    hb_msg_t q, rep;
    int rc = hb_req_parse_create(body, len, r->oc, &q, &e);
    if (rc < 0)
        return hb_reply_err(r, &e);
    /* The sandbox's MCP token: made here, kept by its supervisor (0600),
     * shown only in this response (gateway/mcp/mcp_token.c). */
    char token[MCP_TOKEN_LEN + 1];
    if (mcp_token_new(token) < 0 || hb_str_set(&q.mcp_token, token) < 0) {
        hb_msg_clear(&q);
        return hb_reply_error(r->c, 500, "create: cannot make the MCP token");
    }
    int status;
    if (call(r, r->conf->ep.manager, &q, &rep, CREATE_MS, &status) < 0)
        return status;
    if (rep.sandboxes_n != 1) {
        status = hb_reply_error(r->c, 500, "create: malformed reply");
    } else {
        hb_log_ctx_sandbox(rep.sandboxes[0].id);   /* for the access line */
        if (hb_cluster_on())   /* issue 20: listed cluster-wide before the 201 */
            hb_cluster_created_row(&rep.sandboxes[0]);
        json_t *j = hb_json_created(&rep.sandboxes[0], r->oc->enabled);
        json_object_set_new(j, "mcp_token", json_string(token));
        hb_pv_token_show(j, token);   /* issue 16: derived from it (preview_auth.h) */
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

/* One call about the sandbox named in the path: 0 with *rep to clear, or
 * the status of the error reply already sent. */
static int call_for_id(hb_req_t *r, hb_msg_type_t type, int64_t ms, hb_msg_t *rep)
{
    hb_msg_t q = {.type = type};
    int status = set_id(r, &q);
    if (status)
        return status;
    return call(r, r->conf->ep.manager, &q, rep, ms, &status) < 0 ? status : 0;
}

static int get_one(hb_req_t *r)
{
    hb_msg_t rep;
    int status = call_for_id(r, HB_MSG_SB_GET, CALL_MS, &rep);
    if (status)
        return status;
    if (rep.sandboxes_n != 1) {
        status = hb_reply_error(r->c, 500, "get: malformed reply");
    } else {
        json_t *j = hb_json_sandbox(&rep.sandboxes[0], time(NULL), r->oc->enabled);
        json_t *llm = j && json_object_get(j, "opencode_url") ? hb_gw_agent_llm_json(r) : NULL;
        if (llm)   /* the agent's model, never its key */
            json_object_set_new(j, "llm", llm);
        status = hb_reply_json(r->c, 200, j);
    }
    hb_msg_clear(&rep);
    return status;
}

static int destroy(hb_req_t *r)
{
    hb_msg_t rep;
    int status = call_for_id(r, HB_MSG_SB_DESTROY, DESTROY_MS, &rep);
    if (status)
        return status;
    if (hb_cluster_on())   /* issue 20: off the cluster's list before the 200 */
        hb_cluster_destroyed(r->route.id);
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

static int put_conn(void *ud, const char *data, size_t len)
{
    return mg_write(ud, data, len) == (int)len ? 0 : -1;
}

/* Streamed: counted first for Content-Length, then written through a
 * small buffer, never held whole. */
static int reply_exec(struct mg_connection *c, const hb_msg_t *rep, const hb_outbuf_t *ob)
{
    enum { PIECE = 64 * 1024 };
    char *piece = malloc(PIECE);
    if (!piece)
        return hb_reply_error(c, 500, "out of memory");
    hb_jw_t w;
    hb_jw_init(&w, NULL, NULL, NULL, 0);
    hb_exec_json(&w, rep, ob);
    hb_send_head(c, 200, "application/json", w.total, NULL, NULL);
    hb_jw_init(&w, put_conn, c, piece, PIECE);
    hb_exec_json(&w, rep, ob);
    hb_jw_flush(&w);   /* a client gone mid-answer loses only its own answer */
    free(piece);
    return 200;
}

int hb_h_exec(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    hb_msg_t q, rep;
    int stream = -1;
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    int rc = hb_req_parse_exec(body, len, &q, &stream, &e);
    free(body);
    if (rc < 0)
        return hb_reply_err(r, &e);
    const char *accept = mg_get_header(r->c, "Accept");
    if (stream == 1 || (stream < 0 && accept && strstr(accept, "text/event-stream"))) {
        int st = hb_exec_stream(r, &q);
        hb_msg_clear(&q);
        return st;
    }
    int status = set_id(r, &q);
    if (status)
        return status;
    hb_sink_t *sink = hb_sink_open(&q.handle);
    if (!sink) {
        hb_msg_clear(&q);
        return hb_reply_error(r->c, 500, "out of memory");
    }
    /* No command timeout: wait as long as it runs (SIGTERM still ends the wait). */
    int64_t ms = q.timeout_ms ? (int64_t)q.timeout_ms + EXEC_SLACK_MS : -1;
    if (call(r, r->conf->ep.manager, &q, &rep, ms, &status) == 0) {
        status = reply_exec(r->c, &rep, hb_sink_buf(sink));
        hb_msg_clear(&rep);
    }
    hb_sink_close(sink);
    return status;
}

/* POST /:id/timeout {"timeout": s}: expires s seconds from now (E2B's
 * setTimeout: set, not added); the sandbox's JSON with its new expires_at. */
int hb_h_timeout(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    hb_msg_t q = {.type = HB_MSG_SB_TIMEOUT}, rep;
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    int rc = hb_req_parse_timeout(body, len, &q.timeout_s, &e);
    free(body);
    if (rc < 0)
        return hb_reply_err(r, &e);
    int status = set_id(r, &q);
    if (status || call(r, r->conf->ep.manager, &q, &rep, CALL_MS, &status) < 0)
        return status;
    if (rep.sandboxes_n != 1)
        status = hb_reply_error(r->c, 500, "timeout: malformed reply");
    else
        status = hb_reply_json(r->c, 200, hb_json_sandbox(&rep.sandboxes[0], time(NULL),
                                                          r->oc->enabled));
    hb_msg_clear(&rep);
    return status;
}

/* POST .../processes/kill-all: the way back from a fork bomb or a wedged
 * command, done by the daemon from outside; init and the files stay. */
int hb_h_kill_all(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    hb_msg_t rep;
    int status = call_for_id(r, HB_MSG_SB_KILLALL, CALL_MS, &rep);
    if (status)
        return status;
    status = hb_reply_json(r->c, 200, json_pack("{s:s, s:I}", "id", r->route.id, "killed",
                                                (json_int_t)rep.killed));
    hb_msg_clear(&rep);
    return status;
}

/* issue 19: the metrics actor's text with the members only the gateway
 * knows appended, as json_object_set_new on the parsed text would (so the
 * same bytes as one jansson document): "{...}" + {"a":..} is written as
 * "{..." "," "\"a\":..}", never copied into one buffer (megabytes at
 * thousands of sandboxes). */
static int reply_with_members(struct mg_connection *c, const hb_bus_text_t *text, json_t *extra)
{
    size_t elen = 0;
    char *etext = json_object_size(extra) ? hb_json_text(extra, &elen) : NULL;
    json_decref(extra);
    if (!etext)
        return hb_send(c, 200, "application/json", text->data, text->len, NULL, NULL);
    hb_send_head(c, 200, "application/json", text->len + elen - 1, NULL, NULL);
    mg_write(c, text->data, text->len - 1);
    mg_write(c, ",", 1);
    mg_write(c, etext + 1, elen - 1);
    free(etext);
    return 200;
}

int hb_h_analytics(hb_req_t *r)
{
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    hb_err_t e = {0};
    hb_msg_t q = {.type = HB_MSG_ANALYTICS_TEXT};
    hb_bus_text_t rep;
    if (hb_req_parse_range(r->ri->query_string, &q.range_s, &e) < 0)
        return hb_reply_err(r, &e);
    int status;
    if (call_text(r, r->conf->ep.metrics, &q, &rep, &status) < 0)
        return status;
    const char *t = rep.data;
    /* an object with members: the gateway's are written after them */
    if (rep.len < 3 || t[0] != '{' || t[rep.len - 1] != '}') {
        hb_bus_text_free(&rep);
        return hb_reply_error(r->c, 500, "analytics: malformed reply");
    }
    json_t *extra = json_object();
    if (extra && hb_cluster_on())   /* issue 20: per-node and total figures */
        json_object_set_new(extra, "cluster", hb_gw_cluster_nodes_json());
    hb_gw_pool_add(r, extra);   /* issue 19: the warm pool */
    status = extra ? reply_with_members(r->c, &rep, extra)
                   : hb_reply_error(r->c, 500, "out of memory");
    hb_bus_text_free(&rep);
    return status;
}

int hb_h_openapi(hb_req_t *r)
{
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    return hb_send(r->c, 200, "application/json", hb_openapi_json, (size_t)hb_openapi_json_len,
                   NULL, NULL);
}
