/* Warm exec (issue 19): what agent_warm.c (the taker and the arming)
 * and agent_warm_worker.c (the pre-forked worker) share: the message
 * between them. */
#ifndef HB_AGENT_WARM_H
#define HB_AGENT_WARM_H

#include "agent.h"

#include <stdint.h>

#define WARM_MSG_MAX  (128 * 1024)         /* a longer request takes agent_spawn */
#define WARM_ENV_MAX  (HB_ENV_MAX + 16)    /* the request's entries plus the defaults */
#define WARM_NFDS     4                    /* stdin, stdout, stderr, report */
#define WARM_ACK      'k'                  /* the worker holds the request */

typedef struct {
    uint32_t has_cwd, nenv;                /* then [cwd\0] cmd\0 env\0... */
} warm_hdr_t;

/* The worker's start (clone): arg is a warm_start_t in the parent's
 * memory, which the child has a copy of. Never returns. */
typedef struct {
    int sock;                              /* the worker's end of the socketpair */
    cap_t caps;                            /* the command capability set */
} warm_start_t;
int agent_warm_worker_main(void *arg);

#endif
