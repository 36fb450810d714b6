/* Parsers of the preview proxy's untrusted input, pure so they are unit
 * tested and fuzzed (tests/fuzz/fuzz_preview.c): a sandbox service's
 * response head, and the Host header of the host form
 * ({port}-{id}.{preview-domain}). */
#ifndef HB_PREVIEW_PARSE_H
#define HB_PREVIEW_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime.h"   /* HB_ID_MAX */

#define HB_PV_HEAD_MAX    16384   /* a response head past it: 502 */
#define HB_PV_HEADERS_MAX 100     /* header lines in it */

typedef struct {
    const char *name, *value;     /* into the parsed buffer, NUL-terminated there */
} hb_pv_header_t;

typedef struct {
    int status;                   /* 100..599 */
    int minor;                    /* HTTP/1.minor */
    size_t n;
    hb_pv_header_t h[HB_PV_HEADERS_MAX];
} hb_pv_head_t;

/* A response head at the start of buf[0..len): the length of the head
 * (its blank line included) once it is complete, 0 when more bytes are
 * needed (and len is under HB_PV_HEAD_MAX), -1 when it is malformed or too
 * large. On success the head's line ends in buf are overwritten with NULs
 * and h points into buf. Bare LF line ends are accepted, obsolete line
 * folding is not. */
int hb_pv_head_parse(char *buf, size_t len, hb_pv_head_t *h);
/* The value of header name (case-insensitive), the first one; or NULL. */
const char *hb_pv_head_get(const hb_pv_head_t *h, const char *name);

/* A port as the URL spells it: 1-65535 in decimal, no sign, no leading
 * zero. n bytes of s. 0 with *port, or -1. */
int hb_pv_port_parse(const char *s, size_t n, unsigned *port);

/* The Host header against --preview-domain: 1 with *port and id when it
 * is "{port}-{id}.{domain}" (an optional ":port" after it, the domain
 * matched without regard to case), 0 when the host is not below the
 * domain (a request for the API), -1 when it is below it but malformed
 * (the port or the id cannot be). */
int hb_pv_host_parse(const char *host, const char *domain, unsigned *port, char id[HB_ID_MAX]);

/* The listening TCP ports in the text of a /proc/net/tcp or tcp6 file (read
 * from inside a sandbox: untrusted), added to out (sorted, no duplicates,
 * at most cap; *n in and out). Lines that do not parse are skipped. */
void hb_pv_proc_tcp(const char *text, size_t len, unsigned *out, size_t cap, size_t *n);

#endif
