/* HTTP request figures for GET /metrics: requests by method, route template
 * and status, their duration, and requests in flight. Civetweb's worker
 * threads count into a fixed table of atomics (no lock and no message on the
 * request path); the table is the gateway's own, read only by the page. */
#ifndef HB_HTTP_METRICS_H
#define HB_HTTP_METRICS_H

#include <stddef.h>

/* The HTTP section of the /metrics page (Prometheus text format 0.0.4, with
 * its # HELP and # TYPE lines), malloc'd and NUL-terminated, *len set; the
 * caller frees. NULL when out of memory. */
char *hb_http_metrics_text(size_t *len);

#endif
