/* POST /api/v1/hiveboxes/:id/fork and .../restore (issue 17). */
#include "gw_internal.h"

int hb_h_fork(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "not implemented yet");
}

int hb_h_restore(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "restore is not implemented yet");
}
