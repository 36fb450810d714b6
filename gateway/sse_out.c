/* Output events as server-sent events (see sse_out.h). */
#include "sse_out.h"

#include <stdlib.h>
#include <string.h>

#include "gw_internal.h"
#include "json_stream.h"
#include "mcp_text.h"
#include "textutil.h"

static int put_chunk(void *ud, const char *data, size_t len)
{
    return mg_send_chunk(ud, data, (unsigned)len) > 0 ? 0 : -1;
}

void hb_sse_head(struct mg_connection *c)
{
    hb_response_start(c, 200);
    mg_response_header_add(c, "Content-Type", "text/event-stream", -1);
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    mg_response_header_add(c, "Transfer-Encoding", "chunked", -1);
    mg_response_header_add(c, "X-Accel-Buffering", "no", -1);
    mg_response_header_send(c);
}

bool hb_sse_is_text(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (memchr(p, '\0', len))
        return false;
    for (size_t i = 0; i < len;) {
        size_t k = p[i] < 0x80 ? 1 : hb_utf8_seq(p + i, len - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

int hb_sse_output(struct mg_connection *c, char *piece, int fd, const void *data, size_t len,
                  const char *extra)
{
    hb_jw_t w;
    bool text = hb_sse_is_text(data, len);
    hb_jw_init(&w, put_chunk, c, piece, HB_SSE_PIECE);
    hb_jw_rawz(&w, fd == 2 ? "event: stderr\ndata: {\"data\":\"" : "event: stdout\ndata: {\"data\":\"");
    if (text) {
        hb_jw_escaped(&w, data, len);
    } else {
        char *b64 = mcp_base64(data, len);
        if (!b64)
            return -1;
        hb_jw_rawz(&w, b64);
        free(b64);
    }
    hb_jw_rawz(&w, text ? "\",\"encoding\":\"utf-8\"" : "\",\"encoding\":\"base64\"");
    hb_jw_rawz(&w, extra);
    hb_jw_rawz(&w, "}\n\n");
    return hb_jw_flush(&w);
}
