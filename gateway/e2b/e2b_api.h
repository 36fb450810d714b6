/* Inside E2B's control plane (e2b_api*.c): the request as parsed by the
 * entry point, the error shape, and the E2B objects made from HiveBox's
 * sandbox descriptions. Each route is one or two actor calls, as the REST
 * API's are (gw_sandbox.c); nothing here keeps state. */
#ifndef HB_E2B_API_H
#define HB_E2B_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "e2b.h"
#include "e2b_api_parse.h"
#include "messages.h"

#define HB_E2B_CALL_MS     30000    /* get, list, timeout: answered at once */
#define HB_E2B_CREATE_MS   300000   /* as the REST API's create */
#define HB_E2B_DESTROY_MS  120000
#define HB_E2B_BODY_MAX    (1u << 20)

/* ---- e2b_api.c ---- */

/* {"code": status, "message": ...} with that status (what the SDKs parse:
 * the JS SDK branches on the body's code). Returns status. */
int hb_e2b_api_fail(struct mg_connection *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for an hb_err_t (hb_http_status; faults logged). */
int hb_e2b_api_err(hb_req_t *r, const hb_err_t *e);
/* 204, no body. */
int hb_e2b_api_no_content(struct mg_connection *c);
/* json (consumed) with status and an optional extra header. */
int hb_e2b_api_json(struct mg_connection *c, int status, json_t *json, const char *hname,
                    const char *hval);
/* The request body as a JSON object; an empty body is {} when empty_ok.
 * NULL after the error reply was sent (*status). */
json_t *hb_e2b_api_body(hb_req_t *r, bool empty_ok, int *status);
/* One manager call about r->route.id (set by the entry point): 0 with *rep
 * to clear, or the status of the error reply sent. q is cleared. */
int hb_e2b_api_call(hb_req_t *r, hb_msg_t *q, int64_t ms, hb_msg_t *rep);

/* ---- e2b_api_json.c: E2B's shapes from a sandbox's description ---- */

/* Sandbox (create, connect): token is the sandbox's envd access token. */
json_t *hb_e2b_sandbox_json(const hb_sbinfo_t *s, const char *token);
/* ListedSandbox (lists) and SandboxDetail (GET; token NULL: absent). */
json_t *hb_e2b_listed_json(const hb_sbinfo_t *s);
json_t *hb_e2b_detail_json(const hb_sbinfo_t *s, const char *token);
/* Its metadata as an object (new reference; {} when it has none). */
json_t *hb_e2b_metadata_of(const hb_sbinfo_t *s);
/* The envd token of sandbox id, through its lease: 0, or -1 with *e. */
int hb_e2b_api_token(hb_req_t *r, const char *id, char *out, size_t n, hb_err_t *e);

/* ---- the routes; r->route.id holds the path's sandbox id ---- */
int hb_e2b_api_create(hb_req_t *r);                 /* e2b_api_create.c */
int hb_e2b_api_list(hb_req_t *r, bool v2);          /* e2b_api_list.c */
int hb_e2b_api_get(hb_req_t *r);                    /* e2b_api_one.c */
int hb_e2b_api_kill(hb_req_t *r);
int hb_e2b_api_timeout(hb_req_t *r);
int hb_e2b_api_connect(hb_req_t *r);
int hb_e2b_api_pause(hb_req_t *r);     /* issue 17: POST .../pause, .../resume */
int hb_e2b_api_resume(hb_req_t *r);
int hb_e2b_api_refresh(hb_req_t *r);
int hb_e2b_api_metrics(hb_req_t *r);                /* e2b_api_metrics.c */

/* ---- e2b_api_timeout.c ---- */
/* Sandbox r->route.id now expires secs from now (set, not add). 0, or the
 * status of the error reply sent. */
int hb_e2b_api_set_timeout(hb_req_t *r, int64_t secs);

#endif
