/* The reaper actor: one expiry timer per sandbox. When a sandbox's
 * expires_at comes it tells the manager (REAP_EXPIRE), which has the
 * sandbox destroyed and publishes sandbox.expired. The timers are exact
 * (the poll waits precisely until the earliest one), not a periodic scan. */
#ifndef HB_REAPER_H
#define HB_REAPER_H

#include "bus.h"

zactor_t *hb_reaper_new(void);

#endif
