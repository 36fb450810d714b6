/* Placeholder (issue 17): images from build steps. Replaced by its owner. */
#include "gw_internal.h"

int hb_h_image_build(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "not implemented yet");
}

int hb_h_image_log(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "not implemented yet");
}
