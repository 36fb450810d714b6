#include "read_all.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *fail(char *buf, int err)
{
    free(buf);
    errno = err;
    return NULL;
}

char *hb_read_all(int fd, size_t max, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return NULL;
    if (!S_ISREG(st.st_mode))
        return fail(NULL, EINVAL);
    if ((unsigned long long)st.st_size > max)
        return fail(NULL, EFBIG);
    /* One byte past the size seen: a file that grew shows as more than max
     * only if it really is, and the common case ends on the first read of 0. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return fail(NULL, ENOMEM);
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return fail(buf, errno);
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max)
            return fail(buf, EFBIG);
        if (n == cap) {
            size_t more = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(buf, more + 1);
            if (!nb)
                return fail(buf, ENOMEM);
            buf = nb;
            cap = more;
        }
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}
