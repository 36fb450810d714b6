/* The ?topics= filter of GET /api/v1/events: comma-separated topic
 * prefixes, matched as a ZeroMQ SUBSCRIBE matches. Absent means every
 * topic, metrics.sample included (as a ZeroMQ "" subscription). Pure, so it
 * is unit tested. */
#ifndef HB_EV_TOPICS_H
#define HB_EV_TOPICS_H

#include <stdbool.h>
#include <stddef.h>

#include "hberr.h"

#define HB_EV_TOPICS_MAX 16
#define HB_EV_TOPIC_MAX  64   /* bytes of one prefix */

typedef struct {
    size_t n;   /* 0: everything */
    char   prefix[HB_EV_TOPICS_MAX][HB_EV_TOPIC_MAX + 1];
} hb_ev_topics_t;

/* The decoded value of ?topics= (NULL when absent) into *t; 0, or -1 with
 * HB_E_INVALID naming `topics` (an empty item, more than HB_EV_TOPICS_MAX
 * prefixes, one longer than HB_EV_TOPIC_MAX bytes or not printable ASCII). */
int  hb_ev_topics_parse(const char *value, hb_ev_topics_t *t, hb_err_t *e);
bool hb_ev_topics_match(const hb_ev_topics_t *t, const char *topic);

#endif
