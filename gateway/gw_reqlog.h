/* A request's observability, from civetweb's begin_request to its access
 * log callback (gateway.c calls these on the worker thread serving it): the
 * request id (X-Request-Id, and the log context so every line the worker
 * writes meanwhile carries it), one access-log line, the HTTP metrics. */
#ifndef HB_GW_REQLOG_H
#define HB_GW_REQLOG_H

#include <civetweb.h>

#include "route.h"

/* begin_request: the id from the request's X-Request-Id when sane, else a
 * new one; the clock starts; in flight + 1. */
void hb_reqlog_begin(const struct mg_connection *c);
/* Once routed; sandbox is a valid sandbox name or NULL (kept if NULL). */
void hb_reqlog_route(hb_route_tpl_t tpl, const char *sandbox);
/* What begin_request returns to civetweb (0: a WebSocket goes on). */
void hb_reqlog_handled(int status);
/* civetweb's access-log callback, after end_request: the line, the counts;
 * civetweb's own line gives the bytes sent (its format: civetweb.c
 * log_access). The context is cleared. */
void hb_reqlog_finish(const struct mg_connection *c, const char *civetweb_line);
/* civetweb answers a malformed request itself (http_error) with no
 * begin_request: outside a request this makes one and returns true; the
 * caller answers, then calls hb_reqlog_finish(c, NULL). */
bool hb_reqlog_adhoc(const struct mg_connection *c);
/* The current request's id for its X-Request-Id header (made if none). */
const char *hb_reqlog_id(void);

#endif
