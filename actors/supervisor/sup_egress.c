/* PUT/GET /api/v1/hiveboxes/:id/network (issue 16): the supervisor owns
 * its sandbox, so a policy change runs here, one at a time per sandbox,
 * never concurrently with its destroy. */
#include "supervisor.h"

#include <stdlib.h>

#include "egress.h"

void hb_sup_on_network(const hb_sandbox_t *sb, const hb_msg_t *q)
{
    hb_err_t e = {0};
    char *text = NULL;
    uint64_t denied = 0;
    if (q->host_only) {   /* replace */
        char *canon = NULL;
        if (hb_egress_set(sb, q->egress ? q->egress : "{}", &canon, &e) < 0) {
            hb_bus_reply_err(q->reply_to, &e);
            return;
        }
        HB_LOG_INFO("sandbox %s: egress policy %s", sb->id, canon[0] ? canon : "removed");
        free(canon);
    }
    if (hb_egress_get(sb, &text, &denied) < 0) {
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "egress policy unreadable");
        return;
    }
    hb_msg_t r = {.type = HB_MSG_R_NETWORK, .egress = text, .denied = denied,
                  .net_ip = sb->ip[0] ? (char *)sb->ip : NULL};
    hb_bus_post(q->reply_to, &r);   /* borrows */
    free(text);
}
