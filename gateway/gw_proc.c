/* PLACEHOLDER until the process routes land (being written). */
#include "gw_internal.h"

int hb_h_processes(hb_req_t *r) { return hb_reply_error(r->c, 501, "background processes: not implemented yet"); }
int hb_h_process(hb_req_t *r) { return hb_reply_error(r->c, 501, "background processes: not implemented yet"); }
