/* libFuzzer target: the multipart/form-data pull parser of POST /files
 * (gateway/e2b/e2b_multipart.c). The first input line is the Content-Type
 * header's value, the rest the body, handed over in small, uneven reads. */
#include "e2b_multipart.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t left, step;
} src_t;

static int src_read(void *ud, void *buf, size_t cap, size_t *got)
{
    src_t *s = ud;
    size_t n = s->left < cap ? s->left : cap;
    if (n > s->step)
        n = s->step;
    s->step = s->step % 61 + 1;   /* vary the read sizes */
    memcpy(buf, s->p, n);
    s->p += n;
    s->left -= n;
    *got = n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    if (!nl)
        return 0;
    size_t hlen = (size_t)(nl - data);
    char ctype[257], boundary[HB_MP_BOUNDARY_MAX + 1], name[1024], buf[777];
    memcpy(ctype, data, hlen);
    ctype[hlen] = '\0';
    hb_err_t e = {0};
    if (hb_mp_boundary(ctype, boundary, sizeof boundary, &e) < 0)
        return 0;
    assert(strlen(boundary) > 0 && strlen(boundary) <= HB_MP_BOUNDARY_MAX);
    src_t s = {.p = nl + 1, .left = size - hlen - 1, .step = 7};
    hb_mp_t *m = malloc(sizeof *m);
    hb_mp_init(m, boundary, src_read, &s);
    size_t total = 0;
    int rc;
    while ((rc = hb_mp_next(m, name, sizeof name, &e)) == 1) {
        assert(strlen(name) < sizeof name);
        size_t got;
        do {
            if (hb_mp_read(m, buf, sizeof buf, &got, &e) < 0)
                goto out;
            assert(got <= sizeof buf);
            total += got;
        } while (got > 0);
    }
out:
    assert(total <= size);
    free(m);
    return 0;
}
