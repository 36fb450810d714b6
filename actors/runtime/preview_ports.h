/* The public preview ports of a sandbox, kept in its state dir
 * (HB_SBDIR_PREVIEW: one decimal per line) so they survive a daemon
 * restart and go with the sandbox. Its supervisor alone writes the file
 * (atomically); the gateway reads it. */
#ifndef HB_PREVIEW_PORTS_H
#define HB_PREVIEW_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hberr.h"

#define HB_PV_PUBLIC_MAX 256   /* public ports per sandbox */

/* The ports in dir's file, sorted, at most HB_PV_PUBLIC_MAX: their count
 * (0 without a file; malformed lines are skipped). */
size_t hb_pv_ports_load(const char *dir, uint16_t out[HB_PV_PUBLIC_MAX]);
bool   hb_pv_ports_has(const char *dir, unsigned port);
/* Set port public or private. 0, or -1 (HB_E_LIMIT past the cap). */
int    hb_pv_ports_set(const char *dir, unsigned port, bool public_port, hb_err_t *e);

#endif
