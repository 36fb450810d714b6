#ifndef HB_UIDSLOT_H
#define HB_UIDSLOT_H
#include "runtime.h"
int      hb_uidslot_claim(const hb_runtime_t *rt, const char *id, uint32_t *slot, hb_err_t *e);
void     hb_uidslot_release(const hb_runtime_t *rt, uint32_t slot, const char *id);
uint32_t hb_uidslot_base(uint32_t slot);
#endif
