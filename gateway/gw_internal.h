/* Shared between the gateway's request handlers (gateway/gw_*.c). */
#ifndef HB_GW_INTERNAL_H
#define HB_GW_INTERNAL_H

#include <civetweb.h>
#include <jansson.h>
#include <stdint.h>

#include "ev_hub.h"
#include "gateway.h"
#include "lease.h"
#include "opencode_conf.h"
#include "route.h"

typedef struct {
    struct mg_connection         *c;
    const struct mg_request_info *ri;
    const hb_gateway_conf_t      *conf;
    const hb_oc_settings_t       *oc;      /* the daemon's, loaded at start */
    hb_ev_hub_t                  *events;  /* the event relay; NULL without --events */
    hb_route_t                    route;
} hb_req_t;

/* Responses; each returns the status sent. json is consumed. */
/* mg_response_header_start plus the request's X-Request-Id: every
 * response head that is not hb_send_head's starts here. */
int hb_response_start(struct mg_connection *c, int status);
int hb_send(struct mg_connection *c, int status, const char *ctype, const void *body, size_t len,
            const char *hname, const char *hval);
/* The status line and headers of a body of len bytes the caller then writes. */
void hb_send_head(struct mg_connection *c, int status, const char *ctype, uint64_t len,
                  const char *hname, const char *hval);
int hb_reply_json(struct mg_connection *c, int status, json_t *json);
int hb_reply_error(struct mg_connection *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Status from hb_http_status; daemon faults (HB_E_INTERNAL) are logged with context. */
int hb_reply_err(hb_req_t *r, const hb_err_t *e);

/* The request body, bounded by max (HB_E_TOOBIG past it); malloc'd, NUL
 * terminated, caller frees. */
int hb_read_body(struct mg_connection *c, size_t max, char **buf, size_t *len, hb_err_t *e);
bool hb_method_is(const hb_req_t *r, const char *m);
int hb_reply_405(hb_req_t *r);

/* gw_sandbox.c */
int hb_h_sandboxes(hb_req_t *r);
int hb_h_sandbox(hb_req_t *r);
int hb_h_exec(hb_req_t *r);
int hb_h_analytics(hb_req_t *r);
/* gw_pool.c (issue 19): the warm pool's state as obj's "pool" (left out if the
 * manager does not answer). */
void hb_gw_pool_add(const hb_req_t *r, json_t *obj);
int hb_h_openapi(hb_req_t *r);
/* gw_catalog.c: GET /api/v1/images and /api/v1/skills (the create form's choices) */
int hb_h_images(hb_req_t *r);
int hb_h_skills(hb_req_t *r);
/* gw_dashboard.c: /dashboard and its assets (no key) */
int hb_h_dashboard(hb_req_t *r);
int hb_h_kill_all(hb_req_t *r);
int hb_h_timeout(hb_req_t *r);
int hb_h_stats(hb_req_t *r);     /* gw_stats.c */
/* gw_pause.c: POST /:id/pause and /:id/resume (the cgroup freezer) */
int hb_h_pause(hb_req_t *r);
int hb_h_resume(hb_req_t *r);
/* gw_snapshot.c: /:id/snapshots, /:id/fork, /:id/restore */
int hb_h_snapshots(hb_req_t *r);
int hb_h_fork(hb_req_t *r);
int hb_h_restore(hb_req_t *r);
/* gw_image.c: GET and DELETE /api/v1/images/:name */
int hb_h_image(hb_req_t *r);
/* gw_image_import.c: POST /api/v1/images with an OCI archive as the body */
int hb_h_image_import(hb_req_t *r);
/* gw_image_build.c: POST /api/v1/images with a JSON body (build steps) and
 * GET /api/v1/images/:name/log */
int hb_h_image_build(hb_req_t *r);
int hb_h_image_log(hb_req_t *r);
int hb_h_metrics(hb_req_t *r);   /* gw_metrics.c: checks its own tokens */
/* gw_events.c: GET /api/v1/events, the event feed as server-sent events. */
int hb_h_events(hb_req_t *r);
/* Background processes (gw_proc.c): /processes and /processes/:sel/... */
int hb_h_processes(hb_req_t *r);
int hb_h_process(hb_req_t *r);
/* PTY over WebSocket (gw_ws.c, gw_ticket.c): /processes/:sel/ws and
 * /ticket, /terminal and /terminal/ticket. */
int hb_h_process_ws(hb_req_t *r);
int hb_h_process_ticket(hb_req_t *r);
int hb_h_terminal(hb_req_t *r);
int hb_h_terminal_ticket(hb_req_t *r);
/* A WebSocket route's ?ticket= (never the API key): true if it was a live
 * ticket for this route, now used up. hb_h_process_ws and hb_h_terminal
 * serve the session to its end and return 101 (gw_ws.h). */
bool hb_ws_ticket_ok(const hb_req_t *r);
/* gw_exec_stream.c: the exec q (parsed, "stream": true) as server-sent events. */
int hb_exec_stream(hb_req_t *r, const hb_msg_t *q);
/* gw_files.c */
int hb_h_files(hb_req_t *r);
int hb_h_files_list(hb_req_t *r);
/* gw_files_manage.c: POST files/mkdir, POST files/move, DELETE files. */
int hb_h_files_mkdir(hb_req_t *r);
int hb_h_files_move(hb_req_t *r);
int hb_gw_files_delete(hb_req_t *r);
/* A request body as an upload source (hb_src_cb), read as it arrives. */
typedef struct {
    struct mg_connection *c;
    long long             expect;   /* Content-Length, -1 if chunked */
    long long             got;
} hb_gw_body_t;
int hb_gw_body_src(void *ud, void *buf, size_t cap, size_t *got);
/* The required ?path= of a files route (malloc'd); NULL with *e set. */
char *hb_gw_query_path(hb_req_t *r, hb_err_t *e);
/* A file streamed to the client as hb_lease_file_read reads it: the 200
 * head once its size is known, then the bytes (hb_size_cb, hb_sink_cb). */
typedef struct {
    struct mg_connection *c;
    bool                  started;   /* the head is out */
} hb_gw_download_t;
int hb_gw_download_size(void *ud, uint64_t size);
int hb_gw_download_sink(void *ud, const void *data, size_t len);
/* The status of a streamed download that ended with rc: the error's, if
 * nothing was sent yet (started false); else 200, and a warning. */
int hb_gw_download_done(hb_req_t *r, int rc, bool started, const hb_err_t *e, const char *path);
/* gw_archive.c */
int hb_h_files_archive(hb_req_t *r);

/* hb_lease_take (lease.h) for the route's sandbox, answering a failure:
 * 0 with *l set, or the status of the error reply sent. Give it back with
 * hb_lease_release. */
int hb_gw_lease_take(hb_req_t *r, hb_lease_t **l);

/* POST /api/v1/hiveboxes/:id/mcp, authenticated already. Provided by the
 * MCP transport (gateway/mcp/mcp_http.c); weak so the gateway links without it
 * and answers 404 then. */
int hb_h_mcp(hb_req_t *r) __attribute__((weak));
/* gw_opencode.c: the OpenCode agent proxy */
int hb_h_opencode(hb_req_t *r);
/* gw_agent.c: the model a sandbox's agent is configured with. The details'
 * "llm" object (NULL when it cannot be told), and the check made before a
 * prompt is forwarded: 0 when it may go, else the status of the 400 sent. */
json_t *hb_gw_agent_llm_json(const hb_req_t *r);
int hb_gw_prompt_check(hb_req_t *r, const char *path, const char *body, size_t len);

/* openapi_blob.c: schemas/openapi.json, embedded at build time. */
extern const char hb_openapi_json[];
extern const uint64_t hb_openapi_json_len;   /* the assembler measured it */

#endif
