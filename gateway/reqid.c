/* Request ids and civetweb's access line (reqid.h). */
#include "reqid.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '-';
}

bool hb_reqid_sane(const char *s)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= HB_LOG_REQID_MAX || !id_char(s[n]))
            return false;
    return true;
}

void hb_reqid_new(char out[HB_LOG_REQID_MAX + 1])
{
    static const char hex[] = "0123456789abcdef";
    static atomic_uint_fast64_t seq;
    unsigned char b[16];
    if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
        /* No entropy yet (early boot): unique is all an id must be. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t v[2] = {(uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                         atomic_fetch_add(&seq, 1)};
        memcpy(b, v, sizeof b);
    }
    for (size_t i = 0; i < sizeof b; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * sizeof b] = '\0';
}

void hb_reqid_take(const char *hdr, char out[HB_LOG_REQID_MAX + 1])
{
    if (hb_reqid_sane(hdr))
        snprintf(out, HB_LOG_REQID_MAX + 1, "%s", hdr);
    else
        hb_reqid_new(out);
}

void hb_reqid_parse_civetweb(const char *line, int *status, long long *bytes)
{
    /* "<addr> - <user> [<date with a space>] "<method> <uri> HTTP/<v>" <status> <bytes> ..."
     * Neither the method, the uri nor the version holds a space (they are
     * the request line's three words); the date is the only bracket. */
    *status = -1;
    *bytes = -1;
    const char *p = line ? strstr(line, "] \"") : NULL;
    if (!p)
        return;
    p += 3;
    for (int words = 0; words < 3; words++) {
        p = strchr(p, ' ');
        if (!p)
            return;
        p++;
    }
    char *end;
    long st = strtol(p, &end, 10);
    if (end == p || *end != ' ' || st < -1 || st > 999)
        return;
    p = end + 1;
    long long b = strtoll(p, &end, 10);
    if (end == p || (*end != ' ' && *end != '\0') || b < 0)
        return;
    *status = (int)st;
    *bytes = b;
}
