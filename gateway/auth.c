/* Bearer-token check (see auth.h). */
#include "auth.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

bool hb_ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    /* Walk the whole of b whatever a is, so the timing reveals neither a
     * matching prefix nor where a mismatch is. */
    volatile uint8_t diff = (uint8_t)(alen != blen);
    for (size_t i = 0; i < blen; i++) {
        uint8_t x = i < alen ? (uint8_t)a[i] : 0;
        diff |= (uint8_t)(x ^ (uint8_t)b[i]);
    }
    return diff == 0;
}

bool hb_auth_bearer_ok(const char *header, const char *key)
{
    if (!header || !key || !key[0] || strncasecmp(header, "Bearer ", 7) != 0)
        return false;
    const char *tok = header + 7;
    while (*tok == ' ')
        tok++;
    size_t n = strlen(tok);
    while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
        n--;
    return hb_ct_equal(tok, n, key, strlen(key));
}
