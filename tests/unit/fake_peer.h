/* Fake peers for the actors' unit tests (czmq's self-test spirit: each
 * actor runs for real on its own thread, its peers are inproc PULL sockets
 * the test reads, so no test needs root or a sandbox). */
#ifndef HB_TEST_FAKE_PEER_H
#define HB_TEST_FAKE_PEER_H

#include "actor.h"
#include "runtime.h"

/* A PULL bound at endpoint, standing in for the actor that owns it. */
zsock_t *fake_peer(const char *endpoint);
/* The next message on peer within timeout_ms into *m (caller clears):
 * 0, or -1 if none came. */
int fake_expect(zsock_t *peer, int timeout_ms, hb_msg_t *m);
/* A data dir for a fake runtime: <tmp>/sandboxes exists. */
void fake_data_dir(char *out, size_t len);
void fake_data_dir_remove(const char *dir);
/* A runtime that is only a fresh data dir (out): enough for the actors'
 * bookkeeping, nothing that needs root. */
void fake_runtime(hb_runtime_t *rt, char *out, size_t len);

#endif
