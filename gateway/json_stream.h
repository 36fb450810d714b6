/* A JSON writer that streams: text goes out in pieces of a fixed buffer,
 * so an answer carrying megabytes of command output is never built whole
 * (and NUL bytes, six times longer escaped, cost the connection, not
 * memory). The same calls with no sink only count, which gives the
 * Content-Length before the first byte is sent.
 *
 * Strings are escaped as jansson's json_dumps escapes them, after the repair
 * hb_utf8_sanitize does (each byte that is not valid UTF-8 becomes U+FFFD),
 * so streamed and jansson-built answers are byte for byte the same. */
#ifndef HB_JSON_STREAM_H
#define HB_JSON_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the text goes: 0, or -1 to stop (the client went away). */
typedef int (*hb_jw_sink_fn)(void *ud, const char *data, size_t len);

typedef struct {
    hb_jw_sink_fn sink;    /* NULL: count only */
    void         *ud;
    char         *buf;
    size_t        len, cap;
    uint64_t      total;   /* bytes produced so far */
    bool          failed;  /* the sink refused: nothing more is written */
} hb_jw_t;

/* buf (cap >= 16 bytes) is the caller's; unused when sink is NULL. */
void hb_jw_init(hb_jw_t *w, hb_jw_sink_fn sink, void *ud, char *buf, size_t cap);
void hb_jw_raw(hb_jw_t *w, const char *s, size_t n);
void hb_jw_rawz(hb_jw_t *w, const char *s);
/* The escaped body of a JSON string (no quotes). */
void hb_jw_escaped(hb_jw_t *w, const void *data, size_t len);
/* Send what is buffered; -1 if the sink failed at any point. */
int  hb_jw_flush(hb_jw_t *w);

#endif
