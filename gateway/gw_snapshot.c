/* Placeholder (issue 17): snapshots, fork and restore. Replaced by its owner. */
#include "gw_internal.h"

int hb_h_snapshots(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "not implemented yet");
}

int hb_h_fork(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "not implemented yet");
}

int hb_h_restore(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "not implemented yet");
}
