/* DNS message reading (see dns_msg.h). */
#include "dns_msg.h"

#include <ctype.h>
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

/* Read the name at *off into text (NULL: skip it); *off moves past it
 * (past the first pointer when compressed). 0 or -1. */
static int read_name(const uint8_t *m, size_t len, size_t *off, char *text)
{
    size_t pos = *off, out = 0, end = 0, wire = 0;
    int jumps = 0;
    for (;;) {
        if (pos >= len)
            return -1;
        uint8_t l = m[pos];
        if ((l & 0xc0) == 0xc0) {
            if (pos + 1 >= len || ++jumps > HB_DNS_MAX_JUMPS)
                return -1;
            size_t to = (size_t)(l & 0x3f) << 8 | m[pos + 1];
            if (!end)
                end = pos + 2;
            if (to >= pos)
                return -1;   /* only backwards: no loop */
            pos = to;
            continue;
        }
        if (l & 0xc0)
            return -1;       /* the reserved label types */
        if (l == 0)
            break;
        wire += (size_t)l + 1;
        if (wire > 255 || pos + 1 + l > len)
            return -1;
        for (size_t i = 0; text && i < l; i++) {
            unsigned char c = m[pos + 1 + i];
            if (c == '.' || c <= ' ' || c >= 0x7f)
                return -1;   /* "a.b" as one label would pass for two */
            text[out++] = (char)tolower(c);
        }
        if (text)
            text[out++] = '.';
        pos += (size_t)l + 1;
    }
    if (text) {
        if (out)
            out--;   /* the final dot */
        text[out] = '\0';
    }
    *off = end ? end : pos + 1;
    return 0;
}

int hb_dns_question(const uint8_t *m, size_t len, char name[HB_DNS_NAME_MAX], uint16_t *qtype)
{
    if (len < HDR || len > HB_DNS_MAX_MSG)
        return -1;
    if ((m[2] & 0x80) || ((m[2] >> 3) & 0x0f) != 0 || get16(m + 4) != 1)
        return -1;   /* a response, not QUERY, or not one question */
    size_t off = HDR;
    if (read_name(m, len, &off, name) < 0 || off + 4 > len)
        return -1;
    *qtype = get16(m + off);
    return (int)(off + 4);
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
