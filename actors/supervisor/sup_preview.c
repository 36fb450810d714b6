/* SB_PORT_PUBLIC (issue 16): the supervisor is the one writer of its
 * sandbox's public preview ports (preview_ports.h). */
#include "supervisor.h"

#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "preview_ports.h"

void hb_sup_port_public(const char *dir, const hb_msg_t *q)
{
    hb_err_t e = {0};
    if (q->port < 1 || q->port > 65535) {
        hb_bus_reply_error(q->reply_to, HB_E_INVALID, "port: must be a number from 1 to 65535");
        return;
    }
    if (hb_pv_ports_set(dir, (unsigned)q->port, q->public_port, &e) < 0) {
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    uint16_t v[HB_PV_PUBLIC_MAX];
    size_t n = hb_pv_ports_load(dir, v), len = 0;
    char text[HB_PV_PUBLIC_MAX * 7 + 1] = "";
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%u\n", v[i]);
    hb_msg_t rep = {.type = HB_MSG_R_TEXT, .text = {.data = text, .len = len}};
    hb_bus_post(q->reply_to, &rep);
}
