#include "initproto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Upper bound on decoded objects per frame: the largest legitimate frame
 * (a batch of directory entries) holds a few thousand. */
#define HB_OBJ_MAX 16384

void hb_frame_init(hb_frame_t *f)
{
    memset(f, 0, sizeof *f);
    msgpack_unpacked_init(&f->up);
}

void hb_frame_free(hb_frame_t *f)
{
    msgpack_unpacked_destroy(&f->up);
    free(f->buf);
    memset(f, 0, sizeof *f);
}

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* What one msgpack header announces: a container of items (map entries
 * count twice), or a scalar whose payload is skip bytes. */
typedef struct {
    uint64_t items, skip;
    bool container, is_map;
} hdr_t;

/* The headers whose size is in the first byte itself: 0, or 1 when c
 * starts a longer header (long_header's). */
static int short_header(unsigned c, hdr_t *h)
{
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 0;                               /* fixint, nil, bool */
    if (c <= 0x8f) {
        *h = (hdr_t){.items = c & 0x0f, .container = true, .is_map = true};
        return 0;
    }
    if (c <= 0x9f) {
        *h = (hdr_t){.items = c & 0x0f, .container = true};
        return 0;
    }
    if (c <= 0xbf) {
        h->skip = c & 0x1f;                     /* fixstr */
        return 0;
    }
    return 1;
}

/* The headers 0xc4..0xdf: a fixed-size scalar, or a length field of
 * *lenbytes bytes (str, bin, array, map). -1 for 0xc1 and ext types,
 * which this protocol never uses. */
static int long_header(unsigned c, hdr_t *h, int *lenbytes)
{
    switch (c) {
    case 0xc4: case 0xd9: *lenbytes = 1; return 0;
    case 0xc5: case 0xda: *lenbytes = 2; return 0;
    case 0xc6: case 0xdb: *lenbytes = 4; return 0;
    case 0xcc: case 0xd0: h->skip = 1; return 0;
    case 0xcd: case 0xd1: h->skip = 2; return 0;
    case 0xca: case 0xce: case 0xd2: h->skip = 4; return 0;
    case 0xcb: case 0xcf: case 0xd3: h->skip = 8; return 0;
    case 0xdc: h->container = true; *lenbytes = 2; return 0;
    case 0xdd: h->container = true; *lenbytes = 4; return 0;
    case 0xde: h->container = h->is_map = true; *lenbytes = 2; return 0;
    case 0xdf: h->container = h->is_map = true; *lenbytes = 4; return 0;
    default: return -1;
    }
}

/* Decode the header at p[*pos] into h, moving *pos past it (not past a
 * scalar's payload). -1 when it is unknown or cut off. */
static int read_header(const unsigned char *p, size_t len, size_t *pos, hdr_t *h)
{
    int lenbytes = 0;
    unsigned c = p[(*pos)++];
    *h = (hdr_t){0};
    if (short_header(c, h) != 0 &&
        (long_header(c, h, &lenbytes) < 0 || len - *pos < (size_t)lenbytes))
        return -1;
    if (lenbytes) {
        uint64_t n = be(p + *pos, lenbytes);
        *pos += (size_t)lenbytes;
        if (h->container)
            h->items = n;
        else
            h->skip = n;
    }
    if (h->is_map)
        h->items *= 2;
    return 0;
}

static bool starts_with_map(const unsigned char *p, size_t len)
{
    return len > 0 && ((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf);
}

/* After header h at *pos (left bytes follow it): skip a scalar's payload,
 * or open a container one level below d (need[d] counts the objects still
 * expected at depth d). -1 when the header claims more than is left, a map
 * sits below the top, or nesting goes past HB_DEPTH_MAX. */
static int step(const hdr_t *h, size_t left, size_t *pos, uint64_t *need, int *d)
{
    if (!h->container) {
        if (h->skip > left)
            return -1;
        *pos += (size_t)h->skip;
        return 0;
    }
    if ((h->is_map && *d > 0) || h->items > left)
        return -1;
    if (h->items == 0)
        return 0;
    if (*d + 1 > HB_DEPTH_MAX)
        return -1;
    need[++*d] = h->items;
    return 0;
}

/* Walk the encoded bytes once, checking every header against the bytes
 * left: container counts can then never exceed the input size, so msgpack-c
 * allocates at most HB_OBJ_MAX objects. Maps are only allowed at the top. */
static int validate(const unsigned char *p, size_t len)
{
    uint64_t need[HB_DEPTH_MAX + 1] = {1};
    size_t pos = 0, objs = 0;
    int d = 0;
    hdr_t h;
    if (!starts_with_map(p, len))
        return -1;
    while (d >= 0) {
        if (need[d] == 0) {
            d--;
            continue;
        }
        need[d]--;
        if (++objs > HB_OBJ_MAX || pos >= len || read_header(p, len, &pos, &h) < 0 ||
            step(&h, len - pos, &pos, need, &d) < 0)
            return -1;
    }
    return pos == len ? 0 : -1;
}

static int decode_buf(hb_frame_t *f)
{
    f->decoded = false;
    memset(&f->map, 0, sizeof f->map);
    if (validate((const unsigned char *)f->buf, f->len) < 0)
        goto bad;
    msgpack_unpacked_destroy(&f->up);
    msgpack_unpacked_init(&f->up);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&f->up, f->buf, f->len, &off);
    if (r != MSGPACK_UNPACK_SUCCESS || off != f->len || f->up.data.type != MSGPACK_OBJECT_MAP)
        goto bad;
    const msgpack_object_map *m = &f->up.data.via.map;
    for (uint32_t i = 0; i < m->size; i++)
        if (m->ptr[i].key.type != MSGPACK_OBJECT_STR)
            goto bad;
    f->map = *m;
    f->decoded = true;
    return 0;
bad:
    errno = EPROTO;
    return -1;
}

static int reserve(hb_frame_t *f, size_t len)
{
    if (len <= f->cap)
        return 0;
    size_t cap = len < 64 * 1024 ? 64 * 1024 : len;
    char *nb = realloc(f->buf, cap);
    if (!nb)
        return -1;
    f->buf = nb;
    f->cap = cap;
    return 0;
}

int hb_frame_decode(hb_frame_t *f, const void *data, size_t len)
{
    if (len == 0 || len > HB_FRAME_MAX) {
        errno = EPROTO;
        return -1;
    }
    if (reserve(f, len) < 0)
        return -1;
    memcpy(f->buf, data, len);
    f->len = len;
    return decode_buf(f);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly len bytes. Returns 0, or -1 with errno; *got says how many
 * arrived (to tell a clean EOF from a torn frame). */
/* Wait until fd is readable, up to the deadline (none when < 0). 0 ready,
 * 1 interrupted (call again), -1 with errno (ETIMEDOUT, or poll's). */
static int wait_readable(int fd, int64_t deadline)
{
    if (deadline < 0)
        return 0;
    int64_t left = deadline - now_ms();
    if (left < 0)
        left = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int pr = poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left));
    if (pr < 0)
        return errno == EINTR ? 1 : -1;
    if (pr == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t len, int64_t deadline, size_t *got)
{
    char *p = buf;
    *got = 0;
    while (*got < len) {
        int w = wait_readable(fd, deadline);
        if (w < 0)
            return -1;
        if (w > 0)
            continue;
        ssize_t n = read(fd, p + *got, len - *got);
        if (n < 0 && (errno == EINTR || (errno == EAGAIN && deadline >= 0)))
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        *got += (size_t)n;
    }
    return 0;
}

int hb_frame_read(int fd, hb_frame_t *f, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    unsigned char hdr[4];
    size_t got;
    f->decoded = false;
    memset(&f->map, 0, sizeof f->map);
    if (read_full(fd, hdr, 4, deadline, &got) < 0)
        return (got == 0 && errno == ECONNRESET) ? 1 : -1;
    uint64_t len = be(hdr, 4);
    if (len == 0 || len > HB_FRAME_MAX) {
        errno = EPROTO;
        return -1;
    }
    if (reserve(f, (size_t)len) < 0)
        return -1;
    if (read_full(fd, f->buf, (size_t)len, deadline, &got) < 0)
        return -1;
    f->len = (size_t)len;
    return decode_buf(f);
}

/* ---- writing ---- */

/* One sendmsg, or writev once fd has proved not to be a socket. */
static ssize_t send_once(int fd, struct iovec *iov, int cnt, bool *not_sock)
{
    if (!*not_sock) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n >= 0 || errno != ENOTSOCK)
            return n;
        *not_sock = true;
    }
    return writev(fd, iov, cnt);
}

/* After a failed send: 0 to try again (interrupted, or a non-blocking fd
 * had no room: waited for some), -1 with errno to give up. */
static int may_retry(int fd)
{
    if (errno == EINTR)
        return 0;
    if (errno != EAGAIN)
        return -1;
    if (!(fcntl(fd, F_GETFL) & O_NONBLOCK)) {
        errno = ETIMEDOUT;   /* a blocking socket's SO_SNDTIMEO ran out */
        return -1;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    poll(&pfd, 1, 1000);
    return 0;
}

/* Drop the first n bytes sent from the vector. */
static void advance(struct iovec **iov, int *cnt, size_t n)
{
    while (*cnt > 0 && n >= (*iov)->iov_len) {
        n -= (*iov)->iov_len;
        (*iov)++;
        (*cnt)--;
    }
    if (*cnt > 0) {
        (*iov)->iov_base = (char *)(*iov)->iov_base + n;
        (*iov)->iov_len -= n;
    }
}

static int sendv_all(int fd, struct iovec *iov, int cnt)
{
    bool not_sock = false;
    while (cnt > 0) {
        ssize_t n = send_once(fd, iov, cnt, &not_sock);
        if (n < 0 && may_retry(fd) < 0)
            return -1;
        if (n >= 0)
            advance(&iov, &cnt, (size_t)n);
    }
    return 0;
}

int hb_write_all(int fd, const void *buf, size_t len)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    return sendv_all(fd, &iov, 1);
}

void hb_frame_begin(msgpack_sbuffer *sb)
{
    sb->size = 0;
    msgpack_sbuffer_write(sb, "\0\0\0\0", 4);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

int hb_frame_send(int fd, msgpack_sbuffer *sb)
{
    if (!sb->data || sb->size <= 4 || sb->size - 4 > HB_FRAME_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    put_be32((unsigned char *)sb->data, (uint32_t)(sb->size - 4));
    return hb_write_all(fd, sb->data, sb->size);
}

int hb_frame_send_chunk(int fd, const char *t, int ofd, const void *data, size_t len)
{
    unsigned char h[64];
    size_t tl = strlen(t), p = 4;
    if (tl > 16 || len > HB_CHUNK_MAX || ofd > 127) {
        errno = EINVAL;
        return -1;
    }
    h[p++] = ofd > 0 ? 0x83 : 0x82;
    h[p++] = 0xa1;
    h[p++] = 't';
    h[p++] = (unsigned char)(0xa0 | tl);
    memcpy(h + p, t, tl);
    p += tl;
    if (ofd > 0) {
        memcpy(h + p, "\xa2" "fd", 3);
        p += 3;
        h[p++] = (unsigned char)ofd;
    }
    memcpy(h + p, "\xa4" "data", 5);
    p += 5;
    h[p++] = 0xc6;                 /* bin32 always: fixed header size */
    put_be32(h + p, (uint32_t)len);
    p += 4;
    put_be32(h, (uint32_t)(p - 4 + len));
    struct iovec iov[2] = {{h, p}, {(void *)data, len}};
    return sendv_all(fd, iov, len ? 2 : 1);
}

void hb_pk_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void hb_pk_kstr(msgpack_packer *pk, const char *k, const char *v)
{
    hb_pk_str(pk, k);
    hb_pk_str(pk, v);
}

void hb_pk_kuint(msgpack_packer *pk, const char *k, uint64_t v)
{
    hb_pk_str(pk, k);
    msgpack_pack_uint64(pk, v);
}

void hb_pk_kint(msgpack_packer *pk, const char *k, int64_t v)
{
    hb_pk_str(pk, k);
    msgpack_pack_int64(pk, v);
}

void hb_pk_kbool(msgpack_packer *pk, const char *k, bool v)
{
    hb_pk_str(pk, k);
    if (v)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

void hb_pk_kbin(msgpack_packer *pk, const char *k, const void *v, size_t n)
{
    hb_pk_str(pk, k);
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, v, n);
}

/* ---- lookups ---- */

const msgpack_object *hb_map_get(const msgpack_object_map *m, const char *key)
{
    if (!m)
        return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
            memcmp(k->via.str.ptr, key, kl) == 0)
            return &m->ptr[i].val;
    }
    return NULL;
}

int hb_obj_str(const msgpack_object *o, size_t max, const char **p, size_t *len)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > max)
        return -1;
    *p = o->via.str.ptr;
    *len = o->via.str.size;
    return 0;
}

int hb_obj_uint(const msgpack_object *o, uint64_t max, uint64_t *v)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
        return -1;
    *v = o->via.u64;
    return 0;
}

int hb_map_str(const msgpack_object_map *m, const char *key, size_t max,
               const char **p, size_t *len)
{
    const msgpack_object *o = hb_map_get(m, key);
    if (!o)
        return 1;
    return hb_obj_str(o, max, p, len);
}

int hb_obj_int(const msgpack_object *o, int64_t min, int64_t max, int64_t *v)
{
    int64_t x;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > (uint64_t)INT64_MAX)
            return -1;
        x = (int64_t)o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        x = o->via.i64;
    } else {
        return -1;
    }
    if (x < min || x > max)
        return -1;
    *v = x;
    return 0;
}
