/* The ?topics= filter (see ev_topics.h). */
#include "ev_topics.h"

#include <string.h>

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

int hb_ev_topics_parse(const char *value, hb_ev_topics_t *t, hb_err_t *e)
{
    memset(t, 0, sizeof *t);
    if (!value)
        return 0;
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0)
            return hb_fail(e, HB_E_INVALID, 0, "topics: an empty prefix (give "
                           "comma-separated prefixes such as sandbox.,process., or leave "
                           "topics out for every event)");
        if (t->n == HB_EV_TOPICS_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "topics: more than %d prefixes",
                           HB_EV_TOPICS_MAX);
        if (n > HB_EV_TOPIC_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "topics: a prefix longer than %d bytes",
                           HB_EV_TOPIC_MAX);
        if (!printable(p, n))
            return hb_fail(e, HB_E_INVALID, 0, "topics: a prefix with a character that is "
                           "not printable ASCII");
        memcpy(t->prefix[t->n], p, n);
        t->prefix[t->n++][n] = '\0';
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

bool hb_ev_topics_match(const hb_ev_topics_t *t, const char *topic)
{
    if (t->n == 0)
        return true;
    for (size_t i = 0; i < t->n; i++)
        if (strncmp(topic, t->prefix[i], strlen(t->prefix[i])) == 0)
            return true;
    return false;
}
