/* Shared by proc.c and proc_stream.c (not for other callers): turning
 * init's `proc` and `err` answers into hb_proc_info_t and hb_err_t. */
#ifndef HB_PROC_WIRE_H
#define HB_PROC_WIRE_H

#include "initclient.h"
#include "proc.h"

/* 0, or -1 (out of memory). p owns its copies: hb_proc_info_clear. */
int hb_proc_info_from(const hb_initans_t *a, hb_proc_info_t *p);
/* Put sel's pid or tag into q (sel checked; q borrows the tag). */
void hb_proc_sel_put(hb_initreq_t *q, const hb_proc_sel_t *sel);
/* HB_E_INVALID naming "tag"/"process" when sel selects nothing valid. */
int hb_proc_sel_check(const hb_proc_sel_t *sel, hb_err_t *e);
hb_errcode_t hb_proc_errcode(hb_initop_t op, int err);
/* -1 with *e: init's `err` for op, or "unexpected answer". */
int hb_proc_fail_set(const hb_initans_t *a, hb_initop_t op, hb_err_t *e);

#endif
