/* GET /metrics (placeholder until the metrics page lands). */
#include "gw_internal.h"

int hb_h_metrics(hb_req_t *r)
{
    return hb_reply_error(r->c, 404, "no such endpoint: /metrics (not built yet)");
}
