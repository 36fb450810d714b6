/* Streaming redaction (see opencode_redact.h). */
#include "opencode_redact.h"

#include <stdlib.h>
#include <string.h>

int hb_redact_init(hb_redact_t *r, const char *key)
{
    memset(r, 0, sizeof *r);
    if (!key || strlen(key) < HB_REDACT_MIN)
        return 0;
    r->klen = strlen(key);
    r->key = strdup(key);
    r->hold = malloc(r->klen);
    if (!r->key || !r->hold) {
        hb_redact_free(r);
        return -1;
    }
    return 0;
}

void hb_redact_free(hb_redact_t *r)
{
    if (r->key) {
        memset(r->key, 0, r->klen);
        free(r->key);
    }
    free(r->hold);
    memset(r, 0, sizeof *r);
}

/* The longest proper prefix of the key that buf ends with. */
static size_t partial_tail(const hb_redact_t *r, const char *buf, size_t len)
{
    size_t max = r->klen - 1 < len ? r->klen - 1 : len;
    for (size_t l = max; l > 0; l--)
        if (memcmp(buf + len - l, r->key, l) == 0)
            return l;
    return 0;
}

int hb_redact_feed(hb_redact_t *r, const char *data, size_t len, hb_redact_out_fn out, void *ud)
{
    if (!r->key)
        return len ? out(ud, data, len) : 0;
    size_t n = r->nhold + len;
    char *buf = malloc(n ? n : 1);
    if (!buf)
        return -1;
    memcpy(buf, r->hold, r->nhold);
    memcpy(buf + r->nhold, data, len);
    for (char *p = buf; (p = memmem(p, (size_t)(buf + n - p), r->key, r->klen));)
        memset(p, '*', r->klen), p += r->klen;
    size_t keep = partial_tail(r, buf, n);
    memcpy(r->hold, buf + n - keep, keep);
    r->nhold = keep;
    int rc = n - keep ? out(ud, buf, n - keep) : 0;
    free(buf);
    return rc;
}

int hb_redact_flush(hb_redact_t *r, hb_redact_out_fn out, void *ud)
{
    if (!r->key || r->nhold == 0)
        return 0;
    size_t n = r->nhold;
    r->nhold = 0;
    return out(ud, r->hold, n);
}
