/* Shared by the process routes (gw_proc.c, gw_proc_sse.c). */
#ifndef HB_GW_PROC_H
#define HB_GW_PROC_H

#include "gw_internal.h"
#include "proc.h"

/* The :sel segment of the route: all digits is a pid, else a tag. 0, or
 * -1 with *e (HB_E_NOTFOUND: no process can have that name). sel->tag
 * points into r->route. */
int hb_gw_proc_sel(const hb_req_t *r, hb_proc_sel_t *sel, hb_err_t *e);
/* The process object of the HTTP API (a new reference; NULL on OOM). */
json_t *hb_gw_proc_json(const hb_proc_info_t *p);
/* GET .../processes/:sel/output (server-sent events). */
int hb_gw_proc_output(hb_req_t *r, const hb_proc_sel_t *sel);

#endif
