/* The webhook section of /metrics (see webhook_stats.h). */
#include "webhook_stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

char *hb_webhook_stats_text(const hb_webhook_stats_t *s)
{
    char *text = NULL;
    int n = asprintf(
        &text,
        "# HELP hivebox_webhook_deliveries_total Webhook deliveries (one per event and URL) by "
        "outcome: delivered (a 2xx), failed (no 2xx within the retry time), dropped (the URL's "
        "queue was full).\n"
        "# TYPE hivebox_webhook_deliveries_total counter\n"
        "hivebox_webhook_deliveries_total{outcome=\"delivered\"} %" PRIu64 "\n"
        "hivebox_webhook_deliveries_total{outcome=\"failed\"} %" PRIu64 "\n"
        "hivebox_webhook_deliveries_total{outcome=\"dropped\"} %" PRIu64 "\n"
        "# HELP hivebox_webhook_retries_total Webhook attempts after an event's first one.\n"
        "# TYPE hivebox_webhook_retries_total counter\n"
        "hivebox_webhook_retries_total %" PRIu64 "\n"
        "# HELP hivebox_webhook_queue_length Webhook deliveries waiting or in flight, over "
        "every URL.\n"
        "# TYPE hivebox_webhook_queue_length gauge\n"
        "hivebox_webhook_queue_length %" PRIu64 "\n"
        "# HELP hivebox_webhook_endpoints Webhook URLs configured (--webhook).\n"
        "# TYPE hivebox_webhook_endpoints gauge\n"
        "hivebox_webhook_endpoints %d\n",
        s->delivered, s->failed, s->dropped, s->retries, s->queued, s->endpoints);
    return n < 0 ? NULL : text;
}
