/* PLACEHOLDER until the PTY WebSocket lands (being written). */
#include "gw_internal.h"

int hb_h_process_ws(hb_req_t *r) { return hb_reply_error(r->c, 501, "terminals: not implemented yet"); }
int hb_h_process_ticket(hb_req_t *r) { return hb_reply_error(r->c, 501, "terminals: not implemented yet"); }
int hb_h_terminal(hb_req_t *r) { return hb_reply_error(r->c, 501, "terminals: not implemented yet"); }
int hb_h_terminal_ticket(hb_req_t *r) { return hb_reply_error(r->c, 501, "terminals: not implemented yet"); }
