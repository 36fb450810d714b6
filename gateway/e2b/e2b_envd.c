/* The in-sandbox plane's front door (e2b.h): every request with an
 * E2b-Sandbox-Id header. In order:
 *   1. the sandbox: a valid name whose lease can be taken, else 502 with
 *      E2B's proxy JSON (the SDKs read 502 as "sandbox gone");
 *   2. GET /health: 204 once its init answers;
 *   3. the token: X-Access-Token must be the sandbox's envd token (401),
 *      except on /files, which may carry a signed URL instead;
 *   4. a Connect method from schemas/e2b_envd.def: POST, the content type of
 *      its kind (415), a bounded body holding one JSON object message;
 *   5. its handler, which answers once through hb_cx_* (e2b_connect.c).
 * The lease is held for the whole call and given back here. */
#include "e2b_cx.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "bus.h"
#include "http_status.h"
#include "log.h"
#include "runtime.h"

typedef struct {
    const char      *path;
    hb_cx_kind_t     kind;
    hb_e2b_method_fn fn;
} method_t;

#define HB_E2B_ROW(p, k, f) {p, HB_CX_##k, f},
static const method_t methods[] = {HB_E2B_METHODS(HB_E2B_ROW)};
#undef HB_E2B_ROW

bool hb_e2b_is_envd(const struct mg_connection *c)
{
    return mg_get_header(c, HB_E2B_SANDBOX_HEADER) != NULL;
}

/* E2B's edge proxy answers for a sandbox it cannot reach. */
static int sandbox_gone(hb_req_t *r, const char *id)
{
    json_t *j = json_pack("{s:s, s:s, s:i}", "sandboxId", id, "message",
                          "The sandbox was not found", "code", 502);
    return hb_reply_json(r->c, 502, j);
}

static bool gone_code(hb_errcode_t c)
{
    return c == HB_E_NOTFOUND || c == HB_E_GONE || c == HB_E_DEAD;
}

static int lease_failed(hb_req_t *r, const hb_err_t *e)
{
    if (gone_code(e->code))
        return sandbox_gone(r, r->route.id);
    if (e->code == HB_E_INTERNAL)
        HB_LOG_ERROR("e2b lease %s: %s", r->route.id, e->msg);
    const char *code = hb_connect_code(e->code);
    return hb_cx_error_http(r->c, hb_connect_http_status(code), code, e->msg);
}

/* GET /health: 204 when the sandbox's init answers a request. */
static int health(hb_req_t *r, const hb_lease_t *l)
{
    hb_proc_info_t *v = NULL;
    size_t n = 0;
    hb_err_t e = {0};
    int rc = hb_lease_proc_list(l, NULL, &v, &n, &e);
    hb_proc_infos_free(v, n);
    if (rc < 0)
        return sandbox_gone(r, r->route.id);
    return hb_send(r->c, 204, "text/plain", "", 0, NULL, NULL);
}

static bool token_ok(const hb_req_t *r, const hb_e2b_call_t *k)
{
    const char *t = mg_get_header(r->c, "X-Access-Token");
    return t && hb_ct_equal(t, strlen(t), k->token, strlen(k->token));
}

static const method_t *method_of(const char *path)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].path, path) == 0)
            return &methods[i];
    return NULL;
}

/* The call's headers: user, keepalive, deadline. 0, or -1 with *e. */
static int call_headers(hb_e2b_call_t *k, hb_err_t *e)
{
    struct mg_connection *c = k->r->c;
    int64_t timeout = 0;
    if (hb_cx_basic_user(mg_get_header(c, "Authorization"), k->user, sizeof k->user, e) < 0 ||
        hb_cx_timeout_ms(mg_get_header(c, "Connect-Timeout-Ms"), &timeout, e) < 0)
        return -1;
    k->keepalive_ms = hb_cx_keepalive_ms(mg_get_header(c, "Keepalive-Ping-Interval"));
    k->deadline_ms = timeout > 0 ? hb_now_ms() + timeout : 0;
    return 0;
}

/* Step 4 and 5 for method m: the status sent. */
static int connect_call(hb_e2b_call_t *k, const method_t *m)
{
    struct mg_connection *c = k->r->c;
    if (!hb_method_is(k->r, "POST"))
        return hb_cx_error_http(c, 405, "unimplemented", "Connect methods take POST only");
    int kind = hb_cx_content_kind(mg_get_header(c, "Content-Type"));
    if (kind != (int)m->kind)
        return hb_cx_error_http(c, 415, "invalid_argument",
                                m->kind == HB_CX_STREAM
                                    ? "Content-Type: expected application/connect+json"
                                    : "Content-Type: expected application/json");
    k->kind = m->kind;
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    if (hb_read_body(c, HB_CX_BODY_MAX, &body, &len, &e) < 0)
        return e.code == HB_E_TOOBIG ? hb_cx_error_http(c, 413, "resource_exhausted", e.msg)
                                     : hb_cx_fail_err(k, &e);
    k->msg = hb_cx_parse_request(body, len, m->kind, &e);
    free(body);
    if (!k->msg || call_headers(k, &e) < 0)
        return hb_cx_fail_err(k, &e);
    int status = m->fn(k);
    if (!k->answered)   /* a handler that forgot to answer: never a hung client */
        status = hb_cx_fail(k, "internal", "%s gave no answer", m->path);
    return status;
}

static int serve(hb_req_t *r, hb_lease_t *l)
{
    const char *path = r->ri->local_uri;
    hb_e2b_call_t k = {.r = r, .lease = l, .sandbox_id = r->route.id,
                       .keepalive_ms = HB_CX_KEEPALIVE_DEF_MS};
    hb_err_t e = {0};
    snprintf(k.user, sizeof k.user, "user");
    if (strcmp(path, "/health") == 0)
        return hb_method_is(r, "GET") ? health(r, l) : hb_reply_405(r);
    if (hb_e2b_envd_token(l, k.token, &e) < 0)
        return hb_cx_error_http(r->c, 401, "unauthenticated", e.msg);
    k.token_ok = token_ok(r, &k);
    int status;
    if (strcmp(path, "/files") == 0) {
        status = hb_e2b_files(&k);
    } else if (!k.token_ok) {
        status = hb_cx_error_http(r->c, 401, "unauthenticated",
                                  "X-Access-Token: missing or not this sandbox's envd token");
    } else {
        const method_t *m = method_of(path);
        status = m ? connect_call(&k, m)
                   : hb_cx_error_http(r->c, 404, "unimplemented", "no such method");
    }
    json_decref(k.msg);
    return status;
}

int hb_e2b_envd(hb_req_t *r)
{
    const char *id = mg_get_header(r->c, HB_E2B_SANDBOX_HEADER);
    if (!id || strlen(id) >= sizeof r->route.id || !hb_name_valid(id))
        return sandbox_gone(r, "");   /* never echo what cannot be a name */
    snprintf(r->route.id, sizeof r->route.id, "%s", id);
    hb_lease_t *l = NULL;
    hb_err_t e = {0};
    if (hb_lease_take(r->conf->ep.manager, r->route.id, &l, &e) < 0)
        return lease_failed(r, &e);
    int status = serve(r, l);
    hb_lease_release(&l);
    return status;
}
