/* DNS message reading (see dns_msg.h). */
#include "dns_msg.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#define HDR 12

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One label of l bytes at p into text at *out (lower case). 0, or -1 for a
 * byte no host name has: "a.b" as one label would pass for two. */
static int put_label(const uint8_t *p, size_t l, char *text, size_t *out)
{
    for (size_t i = 0; i < l; i++) {
        unsigned char c = p[i];
        if (c == '.' || c <= ' ' || c >= 0x7f)
            return -1;
        text[(*out)++] = (char)tolower(c);
    }
    text[(*out)++] = '.';
    return 0;
}

/* Follow the pointer at pos: its target, or 0 when it is bad (the target
 * of a good one is at least the header's end). */
static size_t follow(const uint8_t *m, size_t len, size_t pos, int *jumps)
{
    if (pos + 1 >= len || ++*jumps > HB_DNS_MAX_JUMPS)
        return 0;
    size_t to = (size_t)(m[pos] & 0x3f) << 8 | m[pos + 1];
    return to < pos ? to : 0;   /* only backwards: no loop */
}

/* Read the name at *off into text (NULL: skip it); *off moves past it
 * (past the first pointer when compressed). 0 or -1. */
static int read_name(const uint8_t *m, size_t len, size_t *off, char *text)
{
    size_t pos = *off, out = 0, end = 0, wire = 0;
    int jumps = 0;
    while (pos < len && m[pos] != 0) {
        uint8_t l = m[pos];
        if ((l & 0xc0) == 0xc0) {
            size_t to = follow(m, len, pos, &jumps);
            if (!to)
                return -1;
            end = end ? end : pos + 2;
            pos = to;
            continue;
        }
        wire += (size_t)l + 1;
        if ((l & 0xc0) || wire > 255 || pos + 1 + l > len ||
            (text && put_label(m + pos + 1, l, text, &out) < 0))
            return -1;   /* reserved label types, too long, cut short, bad bytes */
        pos += (size_t)l + 1;
    }
    if (pos >= len)
        return -1;
    if (text)
        text[out ? out - 1 : 0] = '\0';   /* the final dot */
    *off = end ? end : pos + 1;
    return 0;
}

static int question(const uint8_t *m, size_t len, bool answer, char name[HB_DNS_NAME_MAX],
                    uint16_t *qtype)
{
    if (len < HDR || len > HB_DNS_MAX_MSG)
        return -1;
    if (!!(m[2] & 0x80) != answer || ((m[2] >> 3) & 0x0f) != 0 || get16(m + 4) != 1)
        return -1;   /* the wrong direction, not QUERY, or not one question */
    size_t off = HDR;
    if (read_name(m, len, &off, name) < 0 || off + 4 > len)
        return -1;
    *qtype = get16(m + off);
    return (int)(off + 4);
}

int hb_dns_question(const uint8_t *m, size_t len, char name[HB_DNS_NAME_MAX], uint16_t *qtype)
{
    return question(m, len, false, name, qtype);
}

int hb_dns_answer_question(const uint8_t *m, size_t len, char name[HB_DNS_NAME_MAX],
                           uint16_t *qtype)
{
    return question(m, len, true, name, qtype);
}

int hb_dns_each_a(const uint8_t *m, size_t len,
                  void (*cb)(void *ud, const uint8_t addr[4], uint32_t ttl), void *ud)
{
    if (len < HDR || len > HB_DNS_MAX_MSG || !(m[2] & 0x80))
        return -1;
    unsigned qd = get16(m + 4), an = get16(m + 6);
    size_t off = HDR;
    for (unsigned i = 0; i < qd; i++) {
        if (read_name(m, len, &off, NULL) < 0 || off + 4 > len)
            return -1;
        off += 4;
    }
    int seen = 0;
    for (unsigned i = 0; i < an; i++) {
        if (read_name(m, len, &off, NULL) < 0 || off + 10 > len)
            return -1;
        uint16_t type = get16(m + off), klass = get16(m + off + 2), rdlen = get16(m + off + 8);
        uint32_t ttl = get32(m + off + 4);
        off += 10;
        if (off + rdlen > len)
            return -1;
        if (type == HB_DNS_TYPE_A && klass == 1 && rdlen == 4) {
            cb(ud, m + off, ttl);
            seen++;
        }
        off += rdlen;
    }
    return seen;
}

size_t hb_dns_reply_empty(const uint8_t *m, size_t qend, unsigned rcode, uint8_t *out, size_t cap)
{
    if (qend < HDR || qend > cap)
        return 0;
    memcpy(out, m, qend);
    out[2] = (uint8_t)(0x80 | (m[2] & 0x79));   /* QR, keep opcode and RD */
    out[3] = (uint8_t)(0x80 | (rcode & 0x0f));  /* RA */
    memset(out + 6, 0, 6);                      /* no answer, authority, additional */
    return qend;
}

size_t hb_dns_reply_tc(const uint8_t *m, size_t len, uint8_t *out, size_t cap)
{
    char name[HB_DNS_NAME_MAX];
    uint16_t qtype = 0;
    int qend = hb_dns_answer_question(m, len, name, &qtype);
    if (qend < HDR || (size_t)qend > cap)
        return 0;
    memcpy(out, m, (size_t)qend);
    out[2] |= 0x02;                             /* TC */
    memset(out + 6, 0, 6);                      /* no answer, authority, additional */
    return (size_t)qend;
}
