/* The preview proxy's parsers (preview_parse.h). Every length is checked
 * before it is used; nothing is allocated. */
#include "preview_parse.h"

#include <string.h>
#include <strings.h>

static bool tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The end of the line starting at p (its '\n'), or NULL within end. */
static char *line_end(char *p, const char *end)
{
    char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl;
}

/* Cut the line [p, nl) (a trailing CR dropped); no CR or NUL left inside. */
static int cut(char *p, char *nl)
{
    char *e = nl;
    if (e > p && e[-1] == '\r')
        e--;
    *e = '\0';
    *nl = '\0';
    return memchr(p, '\r', (size_t)(e - p)) || strlen(p) != (size_t)(e - p) ? -1 : 0;
}

static int status_line(char *p, hb_pv_head_t *h)
{
    if (strncmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return -1;
    h->minor = p[7] - '0';
    const char *s = p + 9;
    if (s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
        (s[3] != ' ' && s[3] != '\0'))
        return -1;
    h->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    return 0;
}

static int header_line(char *p, hb_pv_head_t *h)
{
    char *colon = strchr(p, ':');
    if (!colon || colon == p || h->n >= HB_PV_HEADERS_MAX)
        return -1;
    for (char *q = p; q < colon; q++)
        if (!tchar((unsigned char)*q))
            return -1;   /* folding (a leading space) lands here too */
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t vn = strlen(v);
    while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        v[--vn] = '\0';
    h->h[h->n].name = p;
    h->h[h->n].value = v;
    h->n++;
    return 0;
}

int hb_pv_head_parse(char *buf, size_t len, hb_pv_head_t *h)
{
    memset(h, 0, sizeof *h);
    size_t lim = len < HB_PV_HEAD_MAX ? len : HB_PV_HEAD_MAX;
    const char *end = buf + lim;
    /* Complete? A blank line within the limit. */
    size_t total = 0;
    for (char *p = buf; p < end;) {
        char *nl = line_end(p, end);
        if (!nl)
            return len >= HB_PV_HEAD_MAX ? -1 : 0;
        if (nl == p || (nl == p + 1 && *p == '\r')) {
            total = (size_t)(nl + 1 - buf);
            break;
        }
        p = nl + 1;
    }
    if (!total)
        return len >= HB_PV_HEAD_MAX ? -1 : 0;
    char *p = buf;
    for (bool first = true;; first = false) {
        char *nl = line_end(p, buf + total);
        if (cut(p, nl) < 0)
            return -1;
        if (!*p)
            break;   /* the blank line */
        if (first ? status_line(p, h) < 0 : header_line(p, h) < 0)
            return -1;
        p = nl + 1;
    }
    return h->status ? (int)total : -1;
}

const char *hb_pv_head_get(const hb_pv_head_t *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->h[i].name, name) == 0)
            return h->h[i].value;
    return NULL;
}

int hb_pv_port_parse(const char *s, size_t n, unsigned *port)
{
    if (n == 0 || n > 5 || s[0] == '0')
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *port = v;
    return 0;
}

int hb_pv_host_parse(const char *host, const char *domain, unsigned *port, char id[HB_ID_MAX])
{
    if (!host || !domain || !*domain)
        return 0;
    const char *colon = strrchr(host, ':');
    size_t hn = colon ? (size_t)(colon - host) : strlen(host);
    if (hn && host[hn - 1] == '.')
        hn--;   /* a fully qualified "name." */
    size_t dn = strlen(domain);
    if (hn <= dn + 1 || host[hn - dn - 1] != '.' || strncasecmp(host + hn - dn, domain, dn) != 0)
        return 0;
    size_t label = hn - dn - 1;   /* "{port}-{id}" */
    const char *dash = memchr(host, '-', label);
    if (!dash || hb_pv_port_parse(host, (size_t)(dash - host), port) < 0)
        return -1;
    size_t in = label - (size_t)(dash + 1 - host);
    if (in == 0 || in >= HB_ID_MAX)
        return -1;
    memcpy(id, dash + 1, in);
    id[in] = '\0';
    return hb_name_valid(id) ? 1 : -1;
}

/* One line: "  0: 0100007F:1F40 00000000:0000 0A ...": local port and state. */
static int tcp_line(const char *p, const char *end, unsigned *port)
{
    const char *colon = memchr(p, ':', (size_t)(end - p));   /* after "sl" */
    if (!colon)
        return -1;
    const char *q = colon + 1;
    while (q < end && *q == ' ')
        q++;
    const char *pc = memchr(q, ':', (size_t)(end - q));      /* address:PORT */
    if (!pc || end - pc < 1 + 4 + 1 + 1)
        return -1;
    unsigned v = 0;
    for (int i = 1; i <= 4; i++) {
        char c = pc[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + (unsigned)d;
    }
    const char *rem = pc + 5;              /* " remote:port st" */
    while (rem < end && *rem == ' ')
        rem++;
    const char *sp = memchr(rem, ' ', (size_t)(end - rem));
    if (!sp || end - sp < 3 || sp[1] != '0' || sp[2] != 'A' || v == 0)
        return -1;                         /* state 0A: TCP_LISTEN */
    *port = v;
    return 0;
}

static void add_port(unsigned *out, size_t cap, size_t *n, unsigned v)
{
    size_t i = 0;
    while (i < *n && out[i] < v)
        i++;
    if ((i < *n && out[i] == v) || *n >= cap)
        return;
    memmove(out + i + 1, out + i, (*n - i) * sizeof *out);
    out[i] = v;
    (*n)++;
}

void hb_pv_proc_tcp(const char *text, size_t len, unsigned *out, size_t cap, size_t *n)
{
    const char *end = text + len;
    const char *p = memchr(text, '\n', len);   /* the title line */
    while (p && p < end) {
        p++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        unsigned v;
        if (tcp_line(p, le, &v) == 0)
            add_port(out, cap, n, v);
        p = nl;
    }
}
