/* A sandbox's new expiry, through HiveBox's own timeout message (SB_TIMEOUT,
 * as POST /api/v1/hiveboxes/:id/timeout sends it: the supervisor saves the
 * record, the manager re-arms the reaper). */
#include "e2b_api.h"

int hb_e2b_api_set_timeout(hb_req_t *r, int64_t secs)
{
    hb_msg_t q = {.type = HB_MSG_SB_TIMEOUT, .timeout_s = (uint64_t)(secs < 1 ? 1 : secs)}, rep;
    int status = hb_e2b_api_call(r, &q, HB_E2B_CALL_MS, &rep);
    if (status == 0)
        hb_msg_clear(&rep);
    return status;
}
