/* A sandbox's new expiry, through HiveBox's own timeout message (the
 * manager re-arms the reaper and updates the record). */
#include "e2b_api.h"

int hb_e2b_api_set_timeout(hb_req_t *r, int64_t secs)
{
    (void)secs;
    return hb_e2b_api_fail(r->c, 501, "setting a timeout is not available in this build");
}
