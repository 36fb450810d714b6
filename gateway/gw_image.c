/* Placeholder (issue 17): one image's details and removal. Replaced by its owner. */
#include "gw_internal.h"

int hb_h_image(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "not implemented yet");
}
