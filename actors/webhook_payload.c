/* The webhook body and its id (see webhook_payload.h). */
#include "webhook_payload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ev_json.h"

bool hb_webhook_wanted(hb_msg_type_t t)
{
    switch (t) {
    case HB_MSG_EV_CREATED:
    case HB_MSG_EV_DESTROYED:
    case HB_MSG_EV_EXPIRED:
    case HB_MSG_EV_OOM:
    case HB_MSG_EV_FAILED:
    case HB_MSG_EV_PAUSED:      /* issue 17 */
    case HB_MSG_EV_RESUMED:
    case HB_MSG_EV_PROC_EXITED: return true;
    default: return false;
    }
}

int hb_webhook_new_id(char out[HB_WEBHOOK_ID_MAX])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[12];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    memcpy(out, "evt_", 4);
    for (size_t i = 0; i < sizeof r; i++) {
        out[4 + 2 * i] = hex[r[i] >> 4];
        out[5 + 2 * i] = hex[r[i] & 15];
    }
    out[4 + 2 * sizeof r] = '\0';
    return 0;
}

char *hb_webhook_body(const char *id, const char *type, int64_t timestamp, const void *map,
                      size_t len, size_t *out_len, hb_err_t *e)
{
    size_t dlen = 0;
    char *data = hb_ev_json(map, len, &dlen, e);
    if (!data)
        return NULL;
    /* id and type are ours (hex, a topic name): nothing to escape */
    size_t cap = dlen + strlen(id) + strlen(type) + 96;
    char *body = malloc(cap);
    int n = body ? snprintf(body, cap, "{\"id\":\"%s\",\"type\":\"%s\",\"timestamp\":%" PRId64
                                       ",\"data\":%s}",
                            id, type, timestamp, data)
                 : -1;
    free(data);
    if (n < 0 || (size_t)n >= cap) {
        free(body);
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        return NULL;
    }
    *out_len = (size_t)n;
    return body;
}
