#ifndef HB_UIDSLOT_H
#define HB_UIDSLOT_H
#include "runtime.h"
/* owner: the sandbox's state dir path, unique on the host. */
int      hb_uidslot_claim(const hb_runtime_t *rt, const char *owner, uint32_t *slot, hb_err_t *e);
/* The same, scanning from slot `start` (mod the pool size) rather than a random one. */
int      hb_uidslot_claim_from(const hb_runtime_t *rt, const char *owner, uint32_t start,
                               uint32_t *slot, hb_err_t *e);
void     hb_uidslot_release(const hb_runtime_t *rt, uint32_t slot, const char *owner);
/* Make sure owner holds exactly this slot, claiming it again if its file is
 * gone (the pool lives in /run: a reboot empties it). false if another
 * sandbox holds it. */
bool     hb_uidslot_hold(const hb_runtime_t *rt, uint32_t slot, const char *owner);
uint32_t hb_uidslot_base(uint32_t slot);
#endif
