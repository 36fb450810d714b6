/* One actor skeleton, on top of czmq's zactor: every actor of the daemon
 * (manager, supervisors, reaper, metrics, the OpenCode proxy) starts with
 * hb_actor_start and runs hb_loop_run.
 *
 * The shape of an actor's thread function, in this order:
 *   1. set up: bind its inbox (hb_actor_inbox), connect to its peers
 *      (hb_actor_pusher), at the endpoints its start arguments name;
 *   2. report with hb_actor_ready, exactly once: NULL when set up, else the
 *      setup error, which hb_actor_start hands to its caller;
 *   3. if ready, hb_loop_run until $TERM; 4. release everything it holds.
 * The actor owns its start arguments from its first line on, in success and
 * in failure.
 *
 * Endpoints are never compile-time constants inside an actor: the
 * composition root (tools/daemon.c) passes hb_endpoints_t (the default table
 * is HB_ENDPOINTS_DEFAULT in bus.h); unit tests pass their own, with fake
 * peers bound there.
 */
#ifndef HB_ACTOR_H
#define HB_ACTOR_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

typedef void(hb_actor_fn)(zsock_t *pipe, void *args);

/* Start fn(pipe, args) on a thread of its own, named name (its first 15
 * bytes: the kernel's limit), and wait for its hb_actor_ready. The actor,
 * or NULL with *e = "<name>: <its setup error>" (the actor has then
 * already released args). */
zactor_t *hb_actor_start(const char *name, hb_actor_fn *fn, void *args, hb_err_t *e);
/* The same with a malloc'd copy of the size bytes at args, which the actor
 * frees: for start arguments that are a flat struct. */
zactor_t *hb_actor_start_copy(const char *name, hb_actor_fn *fn, const void *args, size_t size,
                              hb_err_t *e);

/* In the actor: set up (err NULL) or not (err says why). Exactly once; the
 * starting thread waits for it, so nothing slow comes first (the manager's
 * re-attach of the survivors is the one exception, by design). */
void hb_actor_ready(zsock_t *pipe, const hb_err_t *err);

/* Setup helpers: a PULL bound at endpoint, a PUSH connected to it (see
 * hb_bus_pusher). NULL with *e naming the endpoint. */
zsock_t *hb_actor_inbox(const char *endpoint, hb_err_t *e);
zsock_t *hb_actor_pusher(const char *endpoint, hb_err_t *e);

/* ---- the run loop: the pipe, the inbox, and periodic work ---- */

typedef struct {
    const char *name;    /* in log lines */
    zsock_t    *pipe;
    zsock_t    *inbox;   /* NULL: none */
    /* A message from the inbox; raw is its frame as received (the metrics
     * actor publishes events exactly so). m is cleared afterwards. */
    void (*on_inbox)(void *self, hb_msg_t *m, zframe_t *raw);
    /* A message on the pipe other than $TERM; NULL: only $TERM comes there. */
    void (*on_pipe)(void *self, hb_msg_t *m);
    /* Before every wait: do the periodic work that is due and return the ms
     * the loop may wait at most (-1: until a message). NULL: none. */
    int64_t (*due)(void *self);
    /* Before every wait: true ends the loop. NULL: only $TERM ends it. */
    bool (*done)(void *self);
    /* Before every wait: a descriptor to watch for input besides the
     * sockets (the supervisor's pidfd of its init: the kernel says when it
     * died, no polling), or -1; on_fd runs when it is readable. NULL: none. */
    int (*watch_fd)(void *self);
    void (*on_fd)(void *self);
} hb_loop_t;

typedef enum {
    HB_LOOP_TERM,      /* $TERM on the pipe, the pipe broke or the context ended */
    HB_LOOP_DONE,      /* done() said so */
    HB_LOOP_TIMEOUT,   /* until_ms came */
} hb_loop_end_t;

/* Run l's handlers for self until $TERM, done(), or until_ms (hb_now_ms()
 * time; -1: no limit). */
hb_loop_end_t hb_loop_run(const hb_loop_t *l, void *self, int64_t until_ms);

#endif
