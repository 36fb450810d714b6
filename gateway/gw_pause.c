/* Placeholder (issue 17): pause and resume. Replaced by its owner. */
#include "gw_internal.h"

int hb_h_pause(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "not implemented yet");
}

int hb_h_resume(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "not implemented yet");
}
