/* One image build from steps in progress, as the request's worker thread
 * runs it (gw_image_build.c orchestrates; gw_build_steps.c writes the files
 * and runs the steps in the leased build sandbox, streaming their output).
 * Nothing here outlives the request; the manager holds no build state. */
#ifndef HB_GW_BUILD_H
#define HB_GW_BUILD_H

#include <jansson.h>
#include <stdbool.h>

#include "build_log.h"
#include "build_req.h"
#include "gw_internal.h"

typedef struct {
    hb_req_t             *r;
    const hb_build_req_t *b;
    bool                  sse;        /* Accept: text/event-stream */
    bool                  started;    /* the SSE head is out */
    bool                  gone;       /* an SSE write failed: the client left */
    bool                  stopping;   /* the daemon is stopping: the step was abandoned */
    char                  sb_id[HB_ID_MAX];   /* the build sandbox; "" before it exists */
    hb_build_log_t        log;
    /* how it failed: step (-1: not a step), its exit code (-1: none) */
    int                   fail_step;
    int                   exit_code;
    hb_err_t              e;
} hb_build_t;

/* One SSE event (name, data consumed); no-op without SSE. -1 when the
 * client is gone (s->gone set). */
int hb_build_event(hb_build_t *s, const char *name, json_t *data);
/* Write the request's files, then run the steps in order in the build
 * sandbox (leased here). 0 when every step exited 0; else -1 with
 * s->e, s->fail_step, s->exit_code set (or s->gone). */
int hb_build_run_steps(hb_build_t *s);

#endif
