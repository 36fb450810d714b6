/* Server-sent events of command output, one writer for every stream that
 * relays a process's bytes (streamed exec, a background process's output):
 * the response head, and one `stdout`/`stderr` event per chunk. */
#ifndef HB_SSE_OUT_H
#define HB_SSE_OUT_H

#include <civetweb.h>
#include <stdbool.h>
#include <stddef.h>

#define HB_SSE_PIECE (64u * 1024)   /* the writer's buffer: callers give one this big */

/* 200, text/event-stream, chunked, no caching or proxy buffering. */
void hb_sse_head(struct mg_connection *c);
/* Whether a chunk goes out as text: valid UTF-8 without NUL bytes. A NUL
 * marks binary output (and JSON would spend six bytes on each). */
bool hb_sse_is_text(const void *data, size_t len);
/* One event: `event: stdout|stderr` (fd 1|2), data {"data", "encoding"
 * utf-8|base64 <extra>} where extra is more JSON members (",\"offset\":N")
 * or "". piece: HB_SSE_PIECE bytes of scratch. 0, or -1 when the client is
 * gone (or out of memory). */
int  hb_sse_output(struct mg_connection *c, char *piece, int fd, const void *data, size_t len,
                   const char *extra);

#endif
