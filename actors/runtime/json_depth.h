/* Bounded JSON nesting, checked before jansson parses anything a client or
 * a sandbox sent. jansson's parser recurses once per array/object level on
 * the caller's stack, and the gateway parses on civetweb workers whose stack
 * is 100 KiB (Debian's build sets it): ~1,500 levels overflowed it. A text
 * nested deeper than HB_JSON_DEPTH_MAX is refused unparsed; real requests
 * (create specs, MCP calls, OpenCode messages) stay below ten levels. */
#ifndef HB_JSON_DEPTH_H
#define HB_JSON_DEPTH_H

#include <jansson.h>
#include <stddef.h>

#define HB_JSON_DEPTH_MAX 64u

/* The offset of the first '[' or '{' that opens level max+1 in
 * text[0..len), or -1 when nothing nests that deep. One pass, no
 * allocation; brackets inside strings (escapes included) do not count, and
 * the text need not be valid JSON (the parser judges that afterwards). */
long hb_json_too_deep(const char *text, size_t len, unsigned max);

/* json_loadb with the nesting bounded by HB_JSON_DEPTH_MAX first. Deeper
 * text fails like a parse error: NULL, je (if non-NULL) says "JSON nested
 * deeper than 64 levels" at the offending bracket, and
 * json_error_code(je) == json_error_stack_overflow (jansson's own code for
 * its own, much higher, limit). */
json_t *hb_json_loadb(const char *text, size_t len, size_t flags, json_error_t *je);

#endif
