/* GET /api/v1/hiveboxes/:id/stats (placeholder until it lands). */
#include "gw_internal.h"

int hb_h_stats(hb_req_t *r)
{
    return hb_reply_error(r->c, 404, "no such endpoint: stats (not built yet)");
}
