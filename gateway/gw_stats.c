/* GET /api/v1/hiveboxes/:id/stats: live figures of one sandbox.
 *
 * Two readings of its cgroups (SB_GET, answered by its supervisor),
 * CPU_WINDOW_MS apart: CPU % is the CPU time used between them, so it is
 * live rather than the last 10 s report's. Everything else comes from the
 * second reading. A failed sandbox has no cgroups left to read: 409. */
#include "gw_internal.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "json_out.h"

#define STATS_MS      30000
#define CPU_WINDOW_MS 250

/* One reading: 0 with *rep holding sandboxes[0], or -1 with the status
 * of the error reply sent in *status. */
static int reading(hb_req_t *r, hb_msg_t *rep, int64_t *at, int *status)
{
    hb_msg_t q = {.type = HB_MSG_SB_GET};
    hb_err_t e = {0};
    memset(rep, 0, sizeof *rep);
    *at = hb_now_ms();
    if (hb_str_set(&q.id, r->route.id) < 0) {
        *status = hb_reply_error(r->c, 500, "out of memory");
        return -1;
    }
    int rc = hb_bus_call(r->conf->ep.manager, &q, rep, STATS_MS, &e);
    hb_msg_clear(&q);
    *at = hb_now_ms();
    if (rc < 0) {
        *status = hb_reply_err(r, &e);
        return -1;
    }
    if (rep->sandboxes_n != 1) {
        hb_msg_clear(rep);
        *status = hb_reply_error(r->c, 500, "stats: malformed reply");
        return -1;
    }
    if (!rep->sandboxes[0].has_usage) {
        const hb_sbinfo_t *s = &rep->sandboxes[0];
        *status = hb_reply_error(r->c, 409, "sandbox '%s' has failed: %s; it has no live stats",
                                 r->route.id, s->failure && s->failure[0] ? s->failure : "");
        hb_msg_clear(rep);
        return -1;
    }
    return 0;
}

int hb_h_stats(hb_req_t *r)
{
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    hb_msg_t a, b;
    int64_t ta = 0, tb = 0;
    int status = 0;
    if (reading(r, &a, &ta, &status) < 0)
        return status;
    usleep(CPU_WINDOW_MS * 1000);
    if (reading(r, &b, &tb, &status) < 0) {
        hb_msg_clear(&a);
        return status;
    }
    json_t *j = hb_json_stats(&a.sandboxes[0], &b.sandboxes[0], tb - ta, time(NULL));
    hb_msg_clear(&a);
    hb_msg_clear(&b);
    return hb_reply_json(r->c, 200, j);
}
