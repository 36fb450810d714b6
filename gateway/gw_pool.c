/* issue 19: the warm pool's state in GET /api/v1/analytics ("pool"),
 * asked of the manager, which owns the pool (actors/pool.h). */
#include "gw_internal.h"

#include <jansson.h>

#include "bus.h"

#define POOL_MS 2000   /* optional: analytics answers without it */

void hb_gw_pool_add(const hb_req_t *r, json_t *obj)
{
    hb_msg_t q = {.type = HB_MSG_POOL_STATE}, rep;
    hb_err_t e = {0};
    int rc = hb_bus_call(r->conf->ep.manager, &q, &rep, POOL_MS, &e);
    hb_msg_clear(&q);
    if (rc < 0 || !obj)
        return;
    json_t *pool = rep.text.data ? json_loadb(rep.text.data, rep.text.len, 0, NULL) : NULL;
    if (pool)
        json_object_set_new(obj, "pool", pool);
    hb_msg_clear(&rep);
}
