/* libFuzzer target: the OpenCode proxy's handling of untrusted input: the
 * request path checked against the refused routes, the request body checked
 * for tool switches (a body nested past HB_JSON_DEPTH_MAX is refused, never
 * parsed), and upstream response bytes fed in arbitrary pieces through the
 * key redaction (which must mask every occurrence and never lose or add a
 * byte). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_depth.h"
#include "opencode_guard.h"
#include "opencode_redact.h"

typedef struct {
    char  *buf;
    size_t n, cap;
} out_t;

static int sink(void *ud, const char *d, size_t len)
{
    out_t *o = ud;
    if (o->n + len > o->cap)
        abort();
    memcpy(o->buf + o->n, d, len);
    o->n += len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char key[] = "sk-fuzz-key-123";
    char *path = malloc(size + 1);
    if (!path)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';
    hb_oc_route_blocked("GET", path);
    hb_oc_route_blocked("PATCH", path);
    const char *why = hb_oc_body_blocked((const char *)data, size);
    bool json_like = size && (data[0] == '{' || data[0] == '[');
    if (json_like && hb_json_too_deep((const char *)data, size, HB_JSON_DEPTH_MAX) >= 0 &&
        why != hb_oc_too_deep)
        abort();   /* a deep body got parsed, or went through */

    hb_redact_t r;
    out_t o = {.buf = malloc(size + 1), .cap = size + 1};
    if (o.buf && hb_redact_init(&r, key) == 0) {
        size_t off = 0, step = size ? (data[0] % 7) + 1 : 1;
        while (off < size) {
            size_t n = size - off < step ? size - off : step;
            hb_redact_feed(&r, (const char *)data + off, n, sink, &o);
            off += n;
        }
        hb_redact_flush(&r, sink, &o);
        if (o.n != size)
            abort();   /* redaction keeps the length */
        if (o.n >= sizeof key - 1 && memmem(o.buf, o.n, key, sizeof key - 1))
            abort();   /* the key got through */
        hb_redact_free(&r);
    }
    free(o.buf);
    free(path);
    return 0;
}
