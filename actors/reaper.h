/* The reaper actor: one expiry timer per sandbox. When a sandbox's
 * expires_at comes it tells the manager (REAP_EXPIRE), which has the
 * sandbox destroyed and publishes sandbox.expired. The timers are exact
 * (the poll waits precisely until the earliest one), not a periodic scan. */
#ifndef HB_REAPER_H
#define HB_REAPER_H

#include "actor.h"

typedef struct {
    hb_endpoints_t ep;   /* its inbox: ep.reaper; expiries go to ep.manager */
} hb_reaper_args_t;

/* args is copied. NULL with *e if it could not set up. */
zactor_t *hb_reaper_new(const hb_reaper_args_t *args, hb_err_t *e);

#endif
