/* libFuzzer target: what a client controls in the request log — the
 * X-Request-Id check, the JSON escaping of any bytes into a log line (the
 * result must parse as a JSON string and stay in its bounds), and civetweb's
 * access line (built from the raw request line) parsed for its bytes. */
#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reqid.h"

static void check_escape(const char *s, size_t n)
{
    char out[512], quoted[520];
    int cut = 0;
    size_t w = hb_log_json_escape(out, sizeof out, s, n, &cut);
    assert(w < sizeof out && out[w] == '\0' && strlen(out) == w);
    quoted[0] = '"';
    memcpy(quoted + 1, out, w);
    quoted[w + 1] = '"';
    json_error_t err;
    json_t *j = json_loadb(quoted, w + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    assert(j && json_is_string(j));
    if (!cut)
        assert(json_string_length(j) <= n + 2 * n);   /* U+FFFD: 3 bytes for 1 */
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char id[HB_LOG_REQID_MAX + 1];
    hb_reqid_take(s, id);
    assert(hb_reqid_sane(id));
    assert(strcmp(id, s) == 0 || !hb_reqid_sane(s));
    check_escape(s, size);
    int status;
    long long bytes;
    hb_reqid_parse_civetweb(s, &status, &bytes);
    assert(bytes >= -1 && status >= -1 && status <= 999);
    free(s);
    return 0;
}
