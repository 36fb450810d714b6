/* A faster mg_stop.
 *
 * civetweb 1.15's accept loop polls its listening socket in turns of 2 s
 * and reads mg_stop's flag only between turns, so every stop waited up to
 * 2 s (1.2 s on average, measured) before the workers were even told. While
 * mg_stop runs, a thread of ours knocks on the listener every 20 ms: a
 * connection ends the turn, and the loop sees the flag. A knock accepted
 * before the flag is set is a connection closed without a request, which
 * its worker drops at once; after the flag the listener is closed and the
 * knocks are refused. */
#ifndef HB_GW_WAKE_H
#define HB_GW_WAKE_H

typedef struct hb_gw_waker hb_gw_waker_t;

/* Knocks on host:port (the gateway's listen address; 0.0.0.0 and :: are
 * knocked on over loopback) from now until hb_gw_waker_stop. NULL when the
 * host is not a numeric address or no thread can start: the stop then
 * takes civetweb's own time. */
hb_gw_waker_t *hb_gw_waker_start(const char *host, int port);
void hb_gw_waker_stop(hb_gw_waker_t *w);

#endif
