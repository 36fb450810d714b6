/* Placeholder (issue 17): OCI image import. Replaced by its owner. */
#include "gw_internal.h"

int hb_h_image_import(hb_req_t *r)
{
    return hb_reply_error(r->c, 501, "not implemented yet");
}
