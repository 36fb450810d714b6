/* The request side of the in-sandbox plane (e2b_cx.h): pure parsing. */
#include "e2b_cx.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_depth.h"

/* ---- content types ---- */

/* ctype equals want up to optional parameters (";...") and spaces. */
static bool media_is(const char *ctype, const char *want)
{
    size_t n = strlen(want);
    if (strncasecmp(ctype, want, n) != 0)
        return false;
    const char *rest = ctype + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

int hb_cx_content_kind(const char *ctype)
{
    if (!ctype)
        return -1;
    while (*ctype == ' ')
        ctype++;
    if (media_is(ctype, "application/json"))
        return HB_CX_UNARY;
    if (media_is(ctype, "application/connect+json"))
        return HB_CX_STREAM;
    return -1;
}

/* ---- the request message ---- */

static bool all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

static json_t *load_message(const char *text, size_t len, hb_err_t *e)
{
    if (all_space(text, len))
        return json_object();
    json_error_t je;
    json_t *j = hb_json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!j) {
        hb_fail(e, HB_E_INVALID, 0, "message: invalid JSON: %s (at byte %d)", je.text,
                je.position);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        hb_fail(e, HB_E_INVALID, 0, "message: expected a JSON object");
        return NULL;
    }
    return j;
}

json_t *hb_cx_parse_request(const char *body, size_t len, hb_cx_kind_t kind, hb_err_t *e)
{
    if (len > HB_CX_BODY_MAX) {
        hb_fail(e, HB_E_TOOBIG, 0, "body: larger than %u bytes", HB_CX_BODY_MAX);
        return NULL;
    }
    if (kind == HB_CX_UNARY)
        return load_message(body ? body : "", body ? len : 0, e);
    if (!body || len < HB_CX_ENVELOPE_HEAD) {
        hb_fail(e, HB_E_INVALID, 0, "envelope: %zu bytes, shorter than its 5-byte head", len);
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)body;
    uint32_t n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    if (p[0] & HB_CX_FLAG_COMPRESSED) {
        hb_fail(e, HB_E_INVALID, 0, "envelope: compressed messages are not accepted "
                "(no Connect-Content-Encoding is supported)");
        return NULL;
    }
    if (p[0] != 0) {
        hb_fail(e, HB_E_INVALID, 0, "envelope: flags 0x%02x, expected 0 (one message)", p[0]);
        return NULL;
    }
    if ((size_t)n != len - HB_CX_ENVELOPE_HEAD) {
        hb_fail(e, HB_E_INVALID, 0, "envelope: its length says %u bytes, the body has %zu "
                "(a server stream's request is exactly one message)", n,
                len - HB_CX_ENVELOPE_HEAD);
        return NULL;
    }
    return load_message(body + HB_CX_ENVELOPE_HEAD, n, e);
}

/* ---- headers ---- */

/* What exec's `user` accepts as a name (req_parse.c), or a uid. */
static bool user_ok(const char *s, size_t n)
{
    bool digits = n > 0 && n <= 10 && strspn(s, "0123456789") == n;
    bool name = n > 0 && n <= 32 && (islower((unsigned char)s[0]) || s[0] == '_') &&
                strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-.") + (s[n - 1] == '$') == n;
    return (digits && strtoull(s, NULL, 10) <= INT32_MAX) || name;
}

int hb_cx_basic_user(const char *authz, char *user, size_t cap, hb_err_t *e)
{
    snprintf(user, cap, "user");
    if (!authz || !authz[0])
        return 0;
    if (strncasecmp(authz, "Basic ", 6) != 0)
        return hb_fail(e, HB_E_INVALID, 0, "Authorization: expected Basic base64(\"<user>:\")");
    const char *b = authz + 6;
    while (*b == ' ')
        b++;
    unsigned char *dec = NULL;
    size_t n = 0;
    if (hb_b64_decode(b, strlen(b), 128, &dec, &n) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "Authorization: not base64 (or too long)");
    /* "<user>:<password>": envd ignores the password */
    char *colon = memchr(dec, ':', n);
    size_t un = colon ? (size_t)(colon - (char *)dec) : n;
    bool ok = un < cap && !memchr(dec, '\0', un) && user_ok((char *)dec, un);
    if (ok) {
        memcpy(user, dec, un);
        user[un] = '\0';
    }
    free(dec);
    if (!ok)
        return hb_fail(e, HB_E_INVALID, 0, "Authorization: the user is not a user name (a-z, "
                       "0-9, _ . -, at most 32) or a uid");
    return 0;
}

/* s is 1..maxd digits and nothing else: its value; -1 otherwise. */
static long long digits_value(const char *s, size_t maxd)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > maxd || strspn(s, "0123456789") != n)
        return -1;
    return strtoll(s, NULL, 10);
}

int hb_cx_keepalive_ms(const char *hdr)
{
    long long s = digits_value(hdr, 9);
    return s >= 1 && s <= HB_CX_KEEPALIVE_MAX_S ? (int)s * 1000 : HB_CX_KEEPALIVE_DEF_MS;
}

int hb_cx_timeout_ms(const char *hdr, int64_t *ms, hb_err_t *e)
{
    *ms = 0;
    if (!hdr)
        return 0;
    long long v = digits_value(hdr, 10);
    if (v < 0)
        return hb_fail(e, HB_E_INVALID, 0, "Connect-Timeout-Ms: expected 1 to 10 digits");
    if (v > HB_CX_TIMEOUT_MAX_MS)
        return hb_fail(e, HB_E_INVALID, 0, "Connect-Timeout-Ms: more than %lld",
                       (long long)HB_CX_TIMEOUT_MAX_MS);
    *ms = v;
    return 0;
}

/* ---- base64 ---- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int hb_b64_decode(const char *s, size_t len, size_t max, unsigned char **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    while (len > 0 && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return -1;
    size_t cap = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (cap > max)
        return -1;
    unsigned char *o = malloc(cap + 1);
    if (!o)
        return -1;
    uint32_t acc = 0;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) {
            free(o);
            return -1;
        }
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            o[k++] = (unsigned char)(acc >> 16);
            o[k++] = (unsigned char)(acc >> 8);
            o[k++] = (unsigned char)acc;
            acc = 0;
        }
    }
    if (len % 4 == 2) {
        o[k++] = (unsigned char)(acc >> 4);
    } else if (len % 4 == 3) {
        o[k++] = (unsigned char)(acc >> 10);
        o[k++] = (unsigned char)(acc >> 2);
    }
    o[k] = '\0';
    *out = o;
    *n = k;
    return 0;
}

char *hb_b64_encode(const void *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    char *o = malloc((len + 2) / 3 * 4 + 1), *w = o;
    if (!o)
        return NULL;
    size_t i = 0;
    for (; i + 3 <= len; i += 3, w += 4) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        w[0] = tab[v >> 18];
        w[1] = tab[v >> 12 & 63];
        w[2] = tab[v >> 6 & 63];
        w[3] = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        w[0] = tab[v >> 18];
        w[1] = tab[v >> 12 & 63];
        w[2] = i + 1 < len ? tab[v >> 6 & 63] : '=';
        w[3] = '=';
        w += 4;
    }
    *w = '\0';
    return o;
}
