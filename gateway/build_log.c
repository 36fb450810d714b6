/* The build log (see build_log.h). */
#include "build_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "textutil.h"

#define NOTE "\n[build log truncated: more than 4 MiB]\n"

void hb_build_log_init(hb_build_log_t *l) { memset(l, 0, sizeof *l); }

void hb_build_log_free(hb_build_log_t *l)
{
    free(l->buf);
    memset(l, 0, sizeof *l);
}

static void tail_add(hb_build_log_t *l, const char *p, size_t n)
{
    if (n >= HB_BUILD_TAIL_MAX) {
        memcpy(l->tail, p + n - HB_BUILD_TAIL_MAX, HB_BUILD_TAIL_MAX);
        l->tail_len = HB_BUILD_TAIL_MAX;
        return;
    }
    size_t keep = l->tail_len + n > HB_BUILD_TAIL_MAX ? HB_BUILD_TAIL_MAX - n : l->tail_len;
    memmove(l->tail, l->tail + l->tail_len - keep, keep);
    memcpy(l->tail + keep, p, n);
    l->tail_len = keep + n;
}

static bool grow(hb_build_log_t *l, size_t need)
{
    if (need <= l->cap)
        return true;
    size_t cap = l->cap ? l->cap : 16384;
    while (cap < need)
        cap *= 2;
    if (cap > HB_BUILD_LOG_MAX + sizeof NOTE)
        cap = HB_BUILD_LOG_MAX + sizeof NOTE;
    char *b = realloc(l->buf, cap);
    if (!b)
        return false;
    l->buf = b;
    l->cap = cap;
    return true;
}

void hb_build_log_add(hb_build_log_t *l, const void *data, size_t len, bool step_output)
{
    if (step_output)
        tail_add(l, data, len);
    if (l->cut)
        return;
    size_t room = HB_BUILD_LOG_MAX - l->len, n = len < room ? len : room;
    if (grow(l, l->len + n + (n < len ? sizeof NOTE : 0))) {
        memcpy(l->buf + l->len, data, n);
        l->len += n;
        if (n == len)
            return;
        memcpy(l->buf + l->len, NOTE, sizeof NOTE - 1);
        l->len += sizeof NOTE - 1;
    }
    l->cut = true;   /* over the cap, or out of memory: the log stops here */
}

void hb_build_log_printf(hb_build_log_t *l, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        hb_build_log_add(l, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, false);
}

void hb_build_log_step(hb_build_log_t *l) { l->tail_len = 0; }

char *hb_build_log_tail(const hb_build_log_t *l)
{
    size_t i = 0;
    /* Skip a UTF-8 sequence cut at the start; the rest is made valid text. */
    while (i < l->tail_len && i < 3 && ((unsigned char)l->tail[i] & 0xC0) == 0x80)
        i++;
    size_t n = 0;
    char *t = hb_utf8_sanitize(l->tail + i, l->tail_len - i, &n);
    if (t)
        for (size_t k = 0; k < n; k++)
            if (t[k] == '\0')
                t[k] = '?';
    return t;
}

int hb_build_log_save(const hb_build_log_t *l, const char *data_dir, const char *name,
                      hb_err_t *e)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/images/%s/build.log", data_dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "build log %s", tmp);
    size_t off = 0;
    while (off < l->len) {
        ssize_t w = write(fd, l->buf + off, l->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int err = errno;
            close(fd);
            unlink(tmp);
            return hb_fail_sys(e, HB_E_INTERNAL, err, "build log %s", tmp);
        }
        off += (size_t)w;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        return hb_fail_sys(e, HB_E_INTERNAL, err, "build log %s", path);
    }
    return 0;
}
