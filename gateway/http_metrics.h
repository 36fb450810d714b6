/* HTTP request figures for GET /metrics: requests by method, route template
 * and status, their duration, and requests in flight. Civetweb's worker
 * threads count into a fixed table of atomics (no lock and no message on the
 * request path); the table is the gateway's own, read only by the page. */
#ifndef HB_HTTP_METRICS_H
#define HB_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"   /* hb_route_tpl_t */

/* The HTTP section of the /metrics page (Prometheus text format 0.0.4, with
 * its # HELP and # TYPE lines), malloc'd and NUL-terminated, *len set; the
 * caller frees. NULL when out of memory. */
char *hb_http_metrics_text(size_t *len);

/* A request starts (in flight + 1) ... */
void hb_http_metrics_begin(void);
/* ... and ends: counted once, whatever its length (a stream counts when it
 * closes). Label values are bounded: a method outside the usual seven is
 * "other", a status outside the fixed list its class ("5xx"), a status
 * that is no HTTP status "unknown". */
void hb_http_metrics_end(hb_route_tpl_t tpl, const char *method, int status,
                         uint64_t duration_us);

#endif
