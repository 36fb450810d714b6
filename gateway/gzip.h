/* gzip for the archive routes (zlib), streaming both ways with bounded
 * buffers: a compressor that hands its output on as it comes, and a
 * decompressing upload source (hb_src_cb) over another source. */
#ifndef HB_GZIP_H
#define HB_GZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "runtime.h"   /* hb_src_cb */

/* Whether an Accept-Encoding value allows gzip (the token, q not 0). */
bool hb_gz_accepted(const char *accept_encoding);

typedef int (*hb_gz_out_fn)(void *ud, const void *p, size_t n);

typedef struct {
    z_stream      z;
    unsigned char out[64 * 1024];
} hb_gz_deflate_t;

int  hb_gz_deflate_init(hb_gz_deflate_t *g);
/* Compress n bytes (finish: then end the gzip stream) and hand the output
 * to out. 0, or -1 when out failed. */
int  hb_gz_deflate(hb_gz_deflate_t *g, const void *p, size_t n, bool finish, hb_gz_out_fn out,
                   void *ud);
void hb_gz_deflate_end(hb_gz_deflate_t *g);

/* The upload's bytes, gunzipped: in() gives compressed bytes, read_src()
 * (with this struct as ud) gives what they inflate to. Several gzip
 * members one after the other are one stream, as for gunzip. in_max
 * bounds the compressed bytes (0: none). bad names the failure after -1
 * (a malformed or cut stream, or too much input). */
typedef struct {
    z_stream      z;
    hb_src_cb     in;
    void         *in_ud;
    uint64_t      in_total, in_max;
    bool          in_eof, done;
    const char   *bad;
    unsigned char buf[64 * 1024];
} hb_gz_inflate_t;

int  hb_gz_inflate_init(hb_gz_inflate_t *g, hb_src_cb in, void *in_ud, uint64_t in_max);
int  hb_gz_read_src(void *ud, void *buf, size_t cap, size_t *got);
void hb_gz_inflate_end(hb_gz_inflate_t *g);

#endif
