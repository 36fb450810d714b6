/* libFuzzer target: the tar reader (actors/runtime/shared/tar.c) on any bytes, fed
 * in pieces whose sizes the input chooses, and the entry name rules. The
 * first byte picks the piece size; the rest is the archive. */
#include "tar.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t size, got;   /* of the current entry */
    bool     in_entry;
    size_t   entries;
} seen_t;

static int on_entry(void *ud, const hb_tar_entry_t *e)
{
    seen_t *s = ud;
    assert(!s->in_entry);
    assert(memchr(e->name, '\0', sizeof e->name) && memchr(e->link, '\0', sizeof e->link));
    assert(e->mode <= 07777);
    char clean[HB_PATH_MAX];
    const char *why;
    if (hb_tar_clean_name(e->name, clean, sizeof clean, &why) == 0) {
        assert(clean[0] != '/' && !strstr(clean, "//"));
        for (const char *c = clean; *c;) {
            size_t l = strcspn(c, "/");
            assert(l > 0 && !(l == 1 && c[0] == '.') && !(l == 2 && c[0] == '.' && c[1] == '.'));
            c += l + (c[l] == '/');
        }
    }
    s->in_entry = true;
    s->size = e->size;
    s->got = 0;
    s->entries++;
    return 0;
}

static int on_data(void *ud, const void *p, size_t n)
{
    seen_t *s = ud;
    assert(s->in_entry && n > 0);
    s->got += n;
    assert(s->got <= s->size);
    return 0;
}

static int on_end(void *ud)
{
    seen_t *s = ud;
    assert(s->in_entry && s->got == s->size);
    s->in_entry = false;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = (size_t)data[0] * 7 + 1;
    data++, size--;
    hb_tar_reader_t *r = hb_tar_reader_new();
    const hb_tar_cb_t cb = {on_entry, on_data, on_end};
    seen_t s = {0};
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < size; off += piece)
        rc = hb_tar_feed(r, data + off, size - off < piece ? size - off : piece, &cb, &s);
    if (rc == 0)
        rc = hb_tar_finish(r) < 0 ? -1 : 0;
    if (rc < 0)
        assert(hb_tar_error(r)[0]);
    assert(s.entries <= size / HB_TAR_BLOCK + 1);
    hb_tar_reader_free(r);
    return 0;
}
