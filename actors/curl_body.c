/* A bounded libcurl response body (curl_body.h). */
#include "curl_body.h"

#include <stdlib.h>
#include <string.h>

size_t hb_curl_body_sink(char *data, size_t size, size_t n, void *ud)
{
    hb_curl_body_t *b = ud;
    size_t add = size * n;
    if (b->len + add > b->max) {
        b->over = true;
        return 0;   /* libcurl ends the transfer with CURLE_WRITE_ERROR */
    }
    char *np = realloc(b->p, b->len + add + 1);
    if (!np)
        return 0;
    memcpy(np + b->len, data, add);
    b->p = np;
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}
