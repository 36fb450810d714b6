/* Long-lived streams per sandbox (followed output, attached terminals,
 * streamed execs): each holds an init connection and a daemon worker for
 * as long as the client stays, so one sandbox's clients may hold at most
 * HB_STREAMS_PER_SANDBOX of them; past it a new one answers 429. */
#ifndef HB_GW_STREAMS_H
#define HB_GW_STREAMS_H

#include "hberr.h"

#define HB_STREAMS_PER_SANDBOX 16

/* Count one more stream of sandbox id: 0, or -1 with HB_E_LIMIT. */
int  hb_streams_enter(const char *id, hb_err_t *e);
/* It ended (once per successful enter). */
void hb_streams_leave(const char *id);
/* How many sandbox id holds now (tests, analytics). */
int  hb_streams_count(const char *id);

#endif
