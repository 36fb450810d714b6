/* Streamable HTTP (MCP 2025-06-18, also 2025-03-26 and 2024-11-05 clients)
 * on /api/v1/hiveboxes/:id/mcp:
 *
 *   POST    one JSON-RPC message (or a batch, for versions that have them);
 *           a request gets 200 application/json, notifications and
 *           responses alone get 202 with no body
 *   DELETE  ends the session named by Mcp-Session-Id
 *   GET     405: this server never opens a server-to-client stream
 *
 * Auth: the admin key, or this sandbox's mcp_token (checked here, after the
 * gateway let the route through, because the token lives with the sandbox).
 * Every session starts with initialize, whose answer carries Mcp-Session-Id;
 * any other POST without that header is a 400 (the spec's SHOULD for a
 * server that issues session ids), and an unknown or ended one is a 404. */
#include "gw_internal.h"
#include "mcp_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "json_depth.h"

#define NO_SESSION_VERSION "2025-03-26" /* the spec's assumption without a header */

typedef struct {
    hb_req_t      *r;
    hb_lease_t    *lease;
    char           sid[MCP_SESSION_ID_LEN + 1];
    mcp_session_t  session;
} mcp_req_t;

static int send_rpc(struct mg_connection *c, int status, json_t *body, const char *sid)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        return hb_reply_error(c, 500, "out of memory");
    hb_send(c, status, "application/json", text, strlen(text), sid ? "Mcp-Session-Id" : NULL,
            sid);
    free(text);
    return status;
}

static int rpc_fail(struct mg_connection *c, int status, int code, const char *msg)
{
    return send_rpc(c, status, mcp_rpc_error(NULL, code, "%s", msg), NULL);
}

/* ---- auth and the sandbox ---- */

static int unauthorized(struct mg_connection *c)
{
    static const char msg[] = "{\"error\":\"missing or invalid API key or MCP token "
                              "(Authorization: Bearer <key>)\"}";
    return hb_send(c, 401, "application/json", msg, sizeof msg - 1, "WWW-Authenticate",
                   "Bearer");
}

/* Borrow the sandbox. A caller without the admin key learns nothing about
 * which sandboxes exist: a failure is 401 for it, except "busy" (503) and
 * "paused" (409, issue 17): a client holding the right token must be told
 * to retry or resume, not that its token is wrong, and either tells a
 * stranger only that the name is taken. */
static int take_sandbox(mcp_req_t *m, bool admin)
{
    hb_err_t e = {0};
    if (hb_lease_take(m->r->conf->ep.manager, m->r->route.id, &m->lease, &e) < 0)
        return admin || e.code == HB_E_UNAVAIL || e.code == HB_E_CONFLICT ? hb_reply_err(m->r, &e)
                                                                            : unauthorized(m->r->c);
    if (!admin && !mcp_token_ok(m->lease, mg_get_header(m->r->c, "Authorization"))) {
        hb_lease_release(&m->lease);
        return unauthorized(m->r->c);
    }
    return 0;
}

/* ---- header rules ---- */

/* DNS rebinding guard: a browser Origin must name this very host. */
static bool origin_ok(struct mg_connection *c)
{
    const char *origin = mg_get_header(c, "Origin"), *host = mg_get_header(c, "Host");
    if (!origin)
        return true;
    const char *p = strstr(origin, "://");
    return p && host && strcasecmp(p + 3, host) == 0;
}

static bool accepts_json(struct mg_connection *c)
{
    const char *a = mg_get_header(c, "Accept");
    return !a || strcasestr(a, "application/json") || strstr(a, "*/*") ||
           strcasestr(a, "application/*");
}

static bool is_json_body(struct mg_connection *c)
{
    const char *t = mg_get_header(c, "Content-Type");
    return t && strncasecmp(t, "application/json", 16) == 0;
}

/* The session named by the request (required). 0, or the status sent. */
static int load_session(mcp_req_t *m)
{
    const char *sid = mg_get_header(m->r->c, "Mcp-Session-Id");
    if (!sid)
        return rpc_fail(m->r->c, 400, MCP_E_REQUEST,
                        "Bad Request: no Mcp-Session-Id header; send initialize first and "
                        "repeat the Mcp-Session-Id of its answer on every later request");
    if (mcp_session_get(sid, m->r->route.id, hb_lease_created_at(m->lease), &m->session) < 0)
        return send_rpc(m->r->c, 404, mcp_rpc_error(NULL, -32001, "Session not found: start a "
                                                                  "new one with initialize"),
                        NULL);
    snprintf(m->sid, sizeof m->sid, "%s", sid);
    return 0;
}

/* MCP-Protocol-Version, when sent: a supported version, and the session's. */
static int check_version_header(mcp_req_t *m)
{
    const char *v = mg_get_header(m->r->c, "MCP-Protocol-Version");
    if (!v)
        return 0;
    if (!mcp_version_supported(v))
        return rpc_fail(m->r->c, 400, MCP_E_REQUEST, "Unsupported MCP-Protocol-Version");
    if (m->session.version[0] && strcmp(v, m->session.version) != 0)
        return rpc_fail(m->r->c, 400, MCP_E_REQUEST,
                        "MCP-Protocol-Version differs from the session's negotiated version");
    return 0;
}

/* ---- POST ---- */

static bool is_initialize(json_t *msg)
{
    const char *meth = json_string_value(json_object_get(msg, "method"));
    return meth && strcmp(meth, "initialize") == 0 && json_object_get(msg, "id");
}

static json_t *handle_one(mcp_req_t *m, json_t *msg, bool in_batch)
{
    mcp_ctx_t ctx = {.lease = m->lease, .session = &m->session};
    if (in_batch && json_is_object(msg) && is_initialize(msg))
        return mcp_rpc_error(json_object_get(msg, "id"), MCP_E_REQUEST,
                             "initialize must not be part of a batch");
    return mcp_handle(&ctx, msg);
}

static int post_single(mcp_req_t *m, json_t *msg)
{
    bool init = json_is_object(msg) && is_initialize(msg);
    mcp_session_t fresh = {{0}};
    if (init) /* a new session, whatever the request carried */
        m->session = fresh;
    json_t *res = handle_one(m, msg, false);
    if (!res) {
        hb_send(m->r->c, 202, "application/json", "", 0, NULL, NULL);
        return 202;
    }
    char sid[MCP_SESSION_ID_LEN + 1];
    if (init && json_object_get(res, "result") &&
        mcp_session_new(m->r->route.id, hb_lease_created_at(m->lease), m->session.version, sid) == 0)
        return send_rpc(m->r->c, 200, res, sid);
    return send_rpc(m->r->c, 200, res, NULL);
}

static int post_batch(mcp_req_t *m, json_t *arr)
{
    if (!mcp_version_allows_batch(m->session.version))
        return send_rpc(m->r->c, 400,
                        mcp_rpc_error(NULL, MCP_E_REQUEST, "JSON-RPC batches are not supported "
                                      "in MCP protocol version %s", m->session.version), NULL);
    if (json_array_size(arr) == 0)
        return rpc_fail(m->r->c, 400, MCP_E_REQUEST, "invalid request: empty batch");
    if (json_array_size(arr) > MCP_BATCH_MAX)
        return rpc_fail(m->r->c, 400, MCP_E_REQUEST, "invalid request: batch too large");
    json_t *out = json_array();
    size_t i;
    json_t *msg;
    json_array_foreach(arr, i, msg) {
        json_t *res = handle_one(m, msg, true);
        if (res)
            json_array_append_new(out, res);
    }
    if (json_array_size(out) == 0) {
        json_decref(out);
        hb_send(m->r->c, 202, "application/json", "", 0, NULL, NULL);
        return 202;
    }
    return send_rpc(m->r->c, 200, out, NULL);
}

/* The body as JSON; NULL with the error reply sent (*st). */
static json_t *read_message(mcp_req_t *m, int *st)
{
    struct mg_connection *c = m->r->c;
    char *body;
    size_t len;
    hb_err_t e = {0};
    if (hb_read_body(c, MCP_BODY_MAX, &body, &len, &e) < 0) {
        *st = e.code == HB_E_TOOBIG ? rpc_fail(c, 413, MCP_E_REQUEST, "request body too large")
                                    : hb_reply_err(m->r, &e);
        return NULL;
    }
    json_error_t je;
    /* NUL is legal JSON (file content may carry it); names and paths are
     * checked for it by the envelope and schema checks. */
    json_t *msg = hb_json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    free(body);
    if (!msg) {
        char why[200];
        snprintf(why, sizeof why, "Parse error: %s", je.text);
        *st = rpc_fail(c, 400, MCP_E_PARSE, why);
    }
    return msg;
}

static int do_post(mcp_req_t *m)
{
    struct mg_connection *c = m->r->c;
    if (!accepts_json(c))
        return hb_reply_error(c, 406, "Accept must include application/json");
    if (!is_json_body(c))
        return hb_reply_error(c, 415, "Content-Type must be application/json");
    int st = 0;
    json_t *msg = read_message(m, &st);
    if (!msg)
        return st;
    /* initialize starts afresh: a stale session or version header is moot */
    if (!(json_is_object(msg) && is_initialize(msg)) &&
        ((st = load_session(m)) || (st = check_version_header(m)))) {
        json_decref(msg);
        return st;
    }
    if (!m->session.version[0])
        snprintf(m->session.version, sizeof m->session.version, "%s", NO_SESSION_VERSION);
    st = json_is_array(msg) ? post_batch(m, msg) : post_single(m, msg);
    json_decref(msg);
    return st;
}

static int do_delete(mcp_req_t *m)
{
    const char *sid = mg_get_header(m->r->c, "Mcp-Session-Id");
    if (!sid)
        return rpc_fail(m->r->c, 400, MCP_E_REQUEST, "DELETE needs an Mcp-Session-Id header");
    if (!mcp_session_end(sid, m->r->route.id, hb_lease_created_at(m->lease)))
        return rpc_fail(m->r->c, 404, -32001, "Session not found");
    hb_send(m->r->c, 200, "application/json", "", 0, NULL, NULL);
    return 200;
}

int hb_h_mcp(hb_req_t *r)
{
    const char *authz = mg_get_header(r->c, "Authorization");
    bool admin = hb_auth_bearer_ok(authz, r->conf->api_key);
    if (!admin && !authz)
        return unauthorized(r->c);
    if (!origin_ok(r->c))
        return hb_reply_error(r->c, 403, "Origin not allowed");
    bool post = hb_method_is(r, "POST"), del = hb_method_is(r, "DELETE");
    if (!post && !del) {
        static const char msg[] = "{\"error\":\"MCP endpoint: use POST (JSON-RPC) or DELETE (end session); "
                     "no server-to-client stream is offered\"}";
        return hb_send(r->c, 405, "application/json", msg, sizeof msg - 1, "Allow",
                       "POST, DELETE");
    }
    mcp_req_t m = {.r = r};
    int st = take_sandbox(&m, admin);
    if (st)
        return st;
    st = post ? do_post(&m) : do_delete(&m);
    hb_lease_release(&m.lease);
    return st;
}
