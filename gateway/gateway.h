/* The HTTP gateway: civetweb, the REST API of the seed, auth. Its worker
 * threads turn a request into an actor message (actors/bus.h: a private
 * reply endpoint per call) and the reply into JSON. They hold no sandbox
 * state; the one exception, streamed file bodies, borrows the sandbox handle
 * from its supervisor for the length of the transfer (gw_files.c). */
#ifndef HB_GATEWAY_H
#define HB_GATEWAY_H

#include <stdint.h>

#include "bus.h"      /* hb_endpoints_t */
#include "config.h"
#include "hberr.h"
#include "runtime.h"  /* hb_runtime_t (image import) */

typedef struct {
    const char *host;            /* "0.0.0.0" */
    int         port;            /* 7070 */
    const char *api_key;         /* never empty: auth is always on */
    uint64_t    max_file_size;   /* upload cap, 413 past it */
    int         threads;         /* workers for requests in progress */
    int         idle_per_addr;   /* idle connections per client address (gw_conns.h) */
    int         idle_total;      /* idle connections in all; one worker each, on top */
    int         head_timeout_s;  /* request head; also a stalled body read or write */
    const hb_config_t *cfg;      /* read at start only: the OpenCode settings; NULL: defaults */
    hb_endpoints_t ep;           /* the actors' inboxes the handlers call */
    const char *events;          /* the PUB endpoint GET /api/v1/events relays; NULL: 503 */
    const char *webui_dir;       /* --webui-dir: serve /dashboard from it; NULL: embedded */
    const char *e2b_api_key;     /* E2B's X-API-KEY; NULL: derived from api_key (e2b_token.c) */
    /* GET /metrics (gw_metrics.c) */
    const char *metrics_token;   /* --metrics-token: a read-only Bearer token; NULL: none */
    bool        metrics_public;  /* --metrics-public: no token needed */
    /* issue 17 (oci): POST /api/v1/images archive imports run on the request
     * thread against the daemon's runtime (its data dir; NULL: 503) */
    const hb_runtime_t *rt;
    uint64_t    max_image_import;  /* --max-image-import: upload and extraction cap */
    const char *data_dir;        /* --data-dir: build logs under images/ (gw_image_build.c); NULL: none */
} hb_gateway_conf_t;

typedef struct hb_gateway hb_gateway_t;

/* conf is copied (strings too; not cfg: the OpenCode settings are loaded
 * from it once, here, never per request). NULL with *e set if it cannot listen. */
hb_gateway_t *hb_gateway_start(const hb_gateway_conf_t *conf, hb_err_t *e);
/* Stop accepting, let in-flight requests finish (bounded by the bus
 * deadline, see hb_bus_set_deadline), free. */
void hb_gateway_stop(hb_gateway_t *g);

#endif
