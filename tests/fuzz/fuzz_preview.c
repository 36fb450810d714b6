/* libFuzzer target: what a sandbox's service and a preview client control
 * (issue 16) -- the service's response head, the host form's Host header,
 * /proc/net/tcp as the sandbox shows it, our query parameters in a client's
 * query string, and the preview routes' JSON bodies. The first byte picks
 * the parser; every result must stay inside its bounds. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preview_body.h"
#include "preview_parse.h"
#include "preview_req.h"

static void head(char *s, size_t n)
{
    hb_pv_head_t h;
    int r = hb_pv_head_parse(s, n, &h);
    assert(r <= (int)n && r <= HB_PV_HEAD_MAX && h.n <= HB_PV_HEADERS_MAX);
    if (r > 0) {
        assert(h.status >= 100 && h.status <= 599);
        for (size_t i = 0; i < h.n; i++)
            assert(h.h[i].name >= s && h.h[i].value < s + r && strlen(h.h[i].value) < (size_t)r);
    }
}

static void host(const char *s)
{
    unsigned port = 0;
    char id[HB_ID_MAX];
    if (hb_pv_host_parse(s, "preview.test", &port, id) == 1)
        assert(port >= 1 && port <= 65535 && strlen(id) < HB_ID_MAX);
}

static void tcp(const char *s, size_t n)
{
    unsigned v[16];
    size_t k = 0;
    hb_pv_proc_tcp(s, n, v, 16, &k);
    assert(k <= 16);
    for (size_t i = 1; i < k; i++)
        assert(v[i - 1] < v[i] && v[i] <= 65535);
}

/* A parameter named exactly `name`, with or without a value. */
static bool ours(const char *p, const char *name)
{
    size_t n = strlen(name);
    return strncmp(p, name, n) == 0 && (p[n] == '=' || p[n] == '&' || p[n] == '\0');
}

static void query(const char *s)
{
    char out[256];
    if (hb_pv_query_strip(s, out, sizeof out) < 0)
        return;
    assert(strlen(out) < sizeof out);
    for (const char *p = out; p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
        assert(!ours(p, "hb_sig") && !ours(p, "hb_exp"));
}

static void bodies(const char *s, size_t n)
{
    hb_err_t e = {0};
    bool pub;
    int64_t secs;
    hb_pv_parse_public(s, n, &pub, &e);
    if (hb_pv_parse_expires(s, n, &secs, &e) == 0)
        assert(secs >= 1 && secs <= 30LL * 24 * 3600);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > HB_PV_HEAD_MAX + 1024)
        return 0;
    size_t n = size - 1;
    char *s = malloc(n + 1);
    if (!s)
        return 0;
    memcpy(s, data + 1, n);
    s[n] = '\0';
    switch (data[0] % 5) {
    case 0: head(s, n); break;
    case 1: host(s); break;
    case 2: tcp(s, n); break;
    case 3: query(s); break;
    default: bodies(s, n); break;
    }
    free(s);
    return 0;
}
