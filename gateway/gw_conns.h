/* Idle-connection limits: the slowloris defence.
 *
 * civetweb gives each connection one worker thread from accept to close,
 * and a connection that never completes its request head holds its worker
 * until civetweb's request timeout. So the gateway runs --threads workers
 * for requests plus one per allowed idle connection, and keeps the idle
 * ones within bounds itself:
 *
 *   idle   = connected and not inside a request: the head is not complete
 *            yet, or the connection waits between keep-alive requests;
 *   caps   = at most per_addr idle connections per client address (IPv6:
 *            per /64) and total overall; one more closes the OLDEST idle
 *            one (of that address, or overall), so a flood from one address
 *            cannot lock out a client behind the same address, whose head
 *            arrives at once (a connection younger than 0.2 s is spared: its
 *            head may be on the way; keep-alive ones go after those that
 *            never sent a request); the total also shrinks when busy
 *            requests would leave fewer than 16 workers free;
 *   timer  = an idle connection older than head_ms is closed too (checked
 *            every second; civetweb's own request timeout, the same value,
 *            is a second line).
 *
 * A small thread of our own (the enforcer) decides; workers only report.
 * Closing is done by interrupting the idle connection's worker in its poll
 * (a signal to that thread, HB_GW_KICK_SIGNAL): civetweb 1.15 treats the
 * interrupted read as a failed request head and closes the connection. A
 * worker is only ever signalled while its connection is idle, and it waits
 * for every signal sent to it to arrive before it enters a request handler
 * or takes its next connection, so no handler ever sees one. A busy worker
 * (inside a request) is never touched. */
#ifndef HB_GW_CONNS_H
#define HB_GW_CONNS_H

#include <civetweb.h>
#include <signal.h>
#include <stdbool.h>

#define HB_GW_KICK_SIGNAL (SIGRTMIN + 1)

typedef struct hb_gw_conns hb_gw_conns_t;

/* For `workers` civetweb workers; installs the signal handler and starts
 * the enforcer. NULL if it cannot. */
hb_gw_conns_t *hb_gw_conns_new(unsigned workers, unsigned per_addr, unsigned total, int head_ms);
void hb_gw_conns_free(hb_gw_conns_t *k);

/* civetweb callbacks, called on the worker thread concerned. */
void hb_gw_conns_worker_start(hb_gw_conns_t *k);                     /* init_thread (worker) */
void hb_gw_conns_opened(hb_gw_conns_t *k, const struct mg_connection *c); /* init_connection */
void hb_gw_conns_busy(hb_gw_conns_t *k);                             /* begin_request */
void hb_gw_conns_idle(hb_gw_conns_t *k);                             /* end_request */
void hb_gw_conns_closed(hb_gw_conns_t *k);                           /* connection_closed */

/* Why this worker's connection was closed by the limits (a static text for
 * the error civetweb sends then), or NULL. HB_GW_WHY_STOPPING: closed
 * because the daemon stops, which is answered with nothing. */
const char *hb_gw_conns_kicked_why(hb_gw_conns_t *k);
extern const char HB_GW_WHY_STOPPING[];

/* The daemon stops (before mg_stop): every idle connection is closed now,
 * and each one that becomes idle from now on, instead of waiting in
 * civetweb's poll for up to 2 s each before its worker sees the stop. */
void hb_gw_conns_stopping(hb_gw_conns_t *k);

#endif
