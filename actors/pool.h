/* The warm pool (issue 19): what --pool asks for, what the manager holds,
 * and when it must give memory back. Pure bookkeeping: the manager owns the
 * pooled sandboxes (entries it keeps aside, never listed) and calls these.
 *
 * A slot is one (image, network) pair of --pool with its target count. A
 * create takes a pooled sandbox of the slot it matches (hb_wpool_match):
 * with or without a name (a pooled sandbox has a fresh random id, the kind
 * an unnamed create gets; a name is given to it: sandbox_rename.c), no
 * skills list (skills are bound at launch; none
 * given means every skill of the skills dir, as the pool's), a memory whose
 * /dev/shm size is the default's (sized at launch); image and network as
 * the slot's. Everything else a request sets is applied on adoption
 * (runtime/sandbox_adopt.c). */
#ifndef HB_POOL_H
#define HB_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "runtime.h"

#define HB_WPOOL_SLOTS   16
#define HB_WPOOL_MAX_N   64     /* per slot */
#define HB_WPOOL_CHECK_MS 1000  /* memory pressure read at most this often */
#define HB_WPOOL_RETRY_MS 5000  /* after a pooled create failed, doubled per failure in a row */
#define HB_WPOOL_RETRY_MAX_MS 300000   /* ... up to this: a host that cannot start one (no
                                          image, no privileges) is not retried every 5 s */
#define HB_WPOOL_FILL_MS  50    /* admission checked for a refill at most this often */

typedef struct {
    char         image[HB_ID_MAX];
    char         network[HB_ID_MAX + 8];   /* as a request spells it: none, isolated, ... */
    hb_netmode_t net_mode;
    char         net_group[HB_ID_MAX];
    uint32_t     target;
    uint32_t     ready, starting;   /* kept by the manager */
    uint64_t     hits, misses;      /* creates it served / found it empty */
    int64_t      retry_ms;          /* no new start before this (hb_now_ms) */
    uint32_t     failures;          /* failed starts in a row (0 once one is ready) */
} hb_wpool_slot_t;

typedef struct {
    hb_wpool_slot_t slot[HB_WPOOL_SLOTS];
    size_t   n;
    uint64_t misses;        /* creates no slot matched (the pool could not serve them) */
    uint64_t shrunk;        /* pooled sandboxes destroyed under memory pressure */
    uint64_t min_available; /* --pool-min-available */
    double   max_pressure;  /* --pool-max-pressure */
    const char *meminfo, *psi;   /* the files read (borrowed: the config's) */
    bool     pressed;       /* as of the last check */
    int64_t  next_check_ms;
    int64_t  next_fill_ms;  /* the manager's: its next admission check for a refill */
} hb_wpool_t;

/* --pool: "image:network=N,..."; NULL, "" or "0": no slot. HB_E_INVALID
 * naming --pool otherwise. */
int  hb_wpool_parse(hb_wpool_t *p, const char *text, hb_err_t *e);
/* The slot a create request can be served from, or -1 (counted in misses
 * when a pool is configured). */
int  hb_wpool_match(hb_wpool_t *p, const hb_msg_t *q);
/* A start of s failed: counts it, sets s->retry_ms (now + the backoff)
 * and returns the backoff in ms. */
int64_t hb_wpool_failed(hb_wpool_slot_t *s, int64_t now_ms);
/* Memory is short (PSI some avg10 above max_pressure, or MemAvailable
 * below min_available); read at most every HB_WPOOL_CHECK_MS. */
bool hb_wpool_pressed(hb_wpool_t *p, int64_t now_ms);
/* Pure parts of the check, for unit tests: PSI text ("some avg10=...")
 * -> percent, -1 if absent; meminfo text -> MemAvailable bytes. */
double hb_wpool_psi_some10(const char *text);
/* GET /metrics (Prometheus text) and /api/v1/analytics' "pool" (JSON);
 * malloc'd, NULL when out of memory. */
char *hb_wpool_prom(const hb_wpool_t *p, size_t *len);
char *hb_wpool_json(const hb_wpool_t *p, size_t *len);

#endif
