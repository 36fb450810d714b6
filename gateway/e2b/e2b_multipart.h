/* A pull parser of multipart/form-data bodies (RFC 7578) for POST /files:
 * the body is read from the connection as the parts are consumed, so an
 * upload of any size needs only the reader's fixed buffer. Each part's
 * filename is returned (E2B's SDKs put the target path there).
 *
 *   hb_mp_init(&m, boundary, read, ud);
 *   while ((rc = hb_mp_next(&m, name, sizeof name, &e)) == 1)
 *       while (hb_mp_read(&m, buf, cap, &got, &e) == 0 && got) ... ;
 *   rc == 0: the closing boundary was seen.
 *
 * Everything read from the client is bounded: header lines, their count,
 * the boundary; a body that ends before the closing boundary is an error. */
#ifndef HB_E2B_MULTIPART_H
#define HB_E2B_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "hberr.h"

#define HB_MP_BOUNDARY_MAX 70           /* RFC 2046 */
#define HB_MP_BUF          (64 * 1024)
#define HB_MP_HEADERS_MAX  16           /* header lines in one part */
#define HB_MP_LINE_MAX     4096

/* Fill buf with up to cap bytes of the raw body; *got 0 at its end. -1 on
 * a read error. */
typedef int (*hb_mp_read_fn)(void *ud, void *buf, size_t cap, size_t *got);

typedef struct {
    hb_mp_read_fn read;
    void         *ud;
    char          delim[HB_MP_BOUNDARY_MAX + 5];  /* "\r\n--" boundary */
    size_t        dlen;
    char          buf[HB_MP_BUF];
    size_t        pos, len;
    bool          eof;        /* read gave its end */
    bool          in_part;    /* between a part's headers and its delimiter */
    bool          done;       /* the closing delimiter was seen */
} hb_mp_t;

/* The boundary of a Content-Type header value ("multipart/form-data;
 * boundary=..."), quoted or not, into out. 0, or -1 with *e (HB_E_INVALID). */
int hb_mp_boundary(const char *ctype, char *out, size_t n, hb_err_t *e);
/* m is the caller's (it is large: allocate it); nothing else to free. */
void hb_mp_init(hb_mp_t *m, const char *boundary, hb_mp_read_fn read, void *ud);
/* The next part: 1 with its filename in name ("" when it has none), 0 at
 * the closing boundary, -1 with *e. Skips what is left of the current part. */
int hb_mp_next(hb_mp_t *m, char *name, size_t n, hb_err_t *e);
/* The current part's data: 0 with *got bytes (0: the part ended), -1 with *e. */
int hb_mp_read(hb_mp_t *m, void *buf, size_t cap, size_t *got, hb_err_t *e);

#endif
