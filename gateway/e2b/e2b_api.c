/* E2B's control plane (docs/e2b.md): the key check, the paths, the error
 * shape. The SDKs send X-API-KEY; the JS SDK 2.x creates and connects
 * through /v2/sandboxes..., the Python SDK through /sandboxes..., so both
 * spellings reach the same handlers. */
#include "e2b_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "bus.h"
#include "e2b_call.h"
#include "http_status.h"
#include "json_out.h"
#include "log.h"
#include "req_parse.h"
#include "runtime.h"

int hb_e2b_api_json(struct mg_connection *c, int status, json_t *json, const char *hname,
                    const char *hval)
{
    size_t len = 0;
    char *text = json ? hb_json_text(json, &len) : NULL;
    json_decref(json);
    if (!text) {
        static const char oom[] = "{\"code\":500,\"message\":\"out of memory\"}";
        return hb_send(c, 500, "application/json", oom, sizeof oom - 1, NULL, NULL);
    }
    hb_send(c, status, "application/json", text, len, hname, hval);
    free(text);
    return status;
}

int hb_e2b_api_fail(struct mg_connection *c, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hb_e2b_api_json(c, status, json_pack("{s:i, s:s}", "code", status, "message", msg),
                           NULL, NULL);
}

int hb_e2b_api_err(hb_req_t *r, const hb_err_t *e)
{
    if (e->code == HB_E_INTERNAL)
        HB_LOG_ERROR("%s %s: %s", r->ri->request_method, r->ri->local_uri, e->msg);
    return hb_e2b_api_fail(r->c, hb_http_status(e->code), "%s", e->msg);
}

int hb_e2b_api_no_content(struct mg_connection *c)
{
    hb_response_start(c, 204);
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    mg_response_header_send(c);
    return 204;
}

json_t *hb_e2b_api_body(hb_req_t *r, bool empty_ok, int *status)
{
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    if (hb_read_body(r->c, HB_E2B_BODY_MAX, &body, &len, &e) < 0) {
        *status = hb_e2b_api_err(r, &e);
        return NULL;
    }
    json_t *o = (len == 0 && empty_ok) ? json_object() : hb_req_load_object(body, len, &e);
    free(body);
    if (!o)
        *status = e.msg[0] ? hb_e2b_api_err(r, &e)
                           : hb_e2b_api_fail(r->c, 500, "out of memory");
    return o;
}

int hb_e2b_api_call(hb_req_t *r, hb_msg_t *q, int64_t ms, hb_msg_t *rep)
{
    hb_err_t e = {0};
    if (hb_str_set(&q->id, r->route.id) < 0) {
        hb_msg_clear(q);
        return hb_e2b_api_fail(r->c, 500, "out of memory");
    }
    int rc = hb_bus_call(r->conf->ep.manager, q, rep, ms, &e);
    hb_msg_clear(q);
    if (rc == 0)
        return 0;
    if (e.code == HB_E_NOTFOUND)
        return hb_e2b_api_fail(r->c, 404, "sandbox \"%s\" not found", r->route.id);
    return hb_e2b_api_err(r, &e);
}

/* X-API-KEY: the E2B key or the admin key itself; or the admin key as a
 * Bearer token (HiveBox's own clients). Compared in constant time. */
static bool key_ok(const hb_req_t *r)
{
    const char *k = mg_get_header(r->c, "X-API-KEY");
    if (k) {
        char want[128];
        hb_e2b_api_key(r->conf, want, sizeof want);
        size_t n = strlen(k);
        bool e2b = hb_ct_equal(k, n, want, strlen(want));
        bool admin = hb_ct_equal(k, n, r->conf->api_key, strlen(r->conf->api_key));
        if (e2b || admin)
            return true;
    }
    return hb_auth_bearer_ok(mg_get_header(r->c, "Authorization"), r->conf->api_key);
}

/* E2B features HiveBox does not have (yet): an E2B-shaped error the SDKs
 * raise as SandboxError naming the feature. */
static int not_implemented(hb_req_t *r, const char *what)
{
    return hb_e2b_api_fail(r->c, 501, "%s is not implemented by HiveBox yet (see docs/e2b.md)",
                           what);
}

static int wrong_method(hb_req_t *r)
{
    return hb_e2b_api_fail(r->c, 405, "method %s is not allowed on %s", r->ri->request_method,
                           r->ri->local_uri);
}

/* /sandboxes/{id}/{action}: action is "" for the sandbox itself. */
static int one_sandbox(hb_req_t *r, const char *action)
{
    bool get = hb_method_is(r, "GET"), post = hb_method_is(r, "POST");
    if (!*action) {
        if (get)
            return hb_e2b_api_get(r);
        return hb_method_is(r, "DELETE") ? hb_e2b_api_kill(r) : wrong_method(r);
    }
    static const struct { const char *name; bool post; int (*fn)(hb_req_t *); } ACTIONS[] = {
        {"timeout", true, hb_e2b_api_timeout},   {"connect", true, hb_e2b_api_connect},
        {"refreshes", true, hb_e2b_api_refresh}, {"metrics", false, hb_e2b_api_metrics},
        {"pause", true, hb_e2b_api_pause},       {"resume", true, hb_e2b_api_resume},
    };
    for (size_t i = 0; i < sizeof ACTIONS / sizeof ACTIONS[0]; i++)
        if (strcmp(action, ACTIONS[i].name) == 0)
            return (ACTIONS[i].post ? post : get) ? ACTIONS[i].fn(r) : wrong_method(r);
    static const char *const LATER[] = {"snapshots", "fork", "network", "logs"};
    for (size_t i = 0; i < sizeof LATER / sizeof LATER[0]; i++)
        if (strcmp(action, LATER[i]) == 0)
            return not_implemented(r, action);
    return hb_e2b_api_fail(r->c, 404, "no such endpoint: %s", r->ri->local_uri);
}

/* rest follows "/sandboxes/": "{id}" or "{id}/{action}". */
static int route_id(hb_req_t *r, const char *rest)
{
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *action = slash ? slash + 1 : "";
    if (strchr(action, '/'))
        return hb_e2b_api_fail(r->c, 404, "no such endpoint: %s", r->ri->local_uri);
    if (n == 0 || n >= sizeof r->route.id)
        return hb_e2b_api_fail(r->c, 404, "sandbox not found");
    memcpy(r->route.id, rest, n);
    r->route.id[n] = '\0';
    if (!hb_name_valid(r->route.id))
        return hb_e2b_api_fail(r->c, 404, "sandbox \"%.64s\" not found", r->route.id);
    return one_sandbox(r, action);
}

int hb_e2b_api(hb_req_t *r)
{
    if (!key_ok(r))
        return hb_e2b_api_fail(r->c, 401, "invalid API key: give X-API-KEY (hivebox e2b-key "
                                          "prints it)");
    const char *uri = r->ri->local_uri;
    bool v2 = strncmp(uri, "/v2/", 4) == 0;
    const char *p = v2 ? uri + 3 : uri;   /* "/sandboxes..." */
    if (strcmp(p, "/sandboxes") == 0 || strcmp(p, "/sandboxes/") == 0) {
        if (hb_method_is(r, "GET"))
            return hb_e2b_api_list(r, v2);
        return hb_method_is(r, "POST") ? hb_e2b_api_create(r) : wrong_method(r);
    }
    if (strncmp(p, "/sandboxes/", 11) == 0)
        return route_id(r, p + 11);
    return hb_e2b_api_fail(r->c, 404, "no such endpoint: %s", uri);
}
