#include "path.h"

#include <string.h>

int hb_path_check_n(const char *p, size_t len, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!p || len == 0 || p[0] != '/') {
        *why = "path must be absolute";
        return -1;
    }
    if (len >= HB_PATH_MAX) {
        *why = "path too long";
        return -1;
    }
    if (memchr(p, '\0', len)) {
        *why = "path contains NUL";
        return -1;
    }
    size_t comp = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '/') {
            comp = 0;
        } else if (++comp > HB_NAME_MAX) {
            *why = "path component too long";
            return -1;
        }
    }
    return 0;
}

int hb_path_check(const char *p, const char **why)
{
    if (!p)
        return hb_path_check_n(p, 0, why);
    return hb_path_check_n(p, strnlen(p, HB_PATH_MAX), why);
}

int hb_path_normalize(const char *in, char *out, size_t cap)
{
    if (hb_path_check(in, NULL) < 0 || cap < 2)
        return -1;
    size_t o = 0;               /* length of out, without the root "/" case */
    const char *s = in;
    while (*s) {
        while (*s == '/')
            s++;
        const char *c = s;
        while (*s && *s != '/')
            s++;
        size_t n = (size_t)(s - c);
        if (n == 0 || (n == 1 && c[0] == '.'))
            continue;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;            /* drop the slash before the popped name */
            continue;
        }
        if (o + 1 + n + 1 > cap)
            return -1;
        out[o++] = '/';
        memcpy(out + o, c, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return 0;
}

int hb_path_split(const char *path, char *dir, size_t dcap, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash || dcap < 2)
        return -1;
    size_t dlen = (size_t)(slash - path);
    if (dlen == 0)
        dlen = 1;               /* parent of "/x" is "/" */
    if (dlen >= dcap)
        return -1;
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    *base = slash + 1;
    return 0;
}

int hb_path_join(const char *dir, const char *name, char *out, size_t cap)
{
    size_t dl = strlen(dir), nl = strlen(name);
    bool slash = !(dl > 0 && dir[dl - 1] == '/');
    size_t total = dl + (slash ? 1 : 0) + nl;
    if (total + 1 > cap || total >= HB_PATH_MAX || nl > HB_NAME_MAX)
        return -1;
    memcpy(out, dir, dl);
    if (slash)
        out[dl++] = '/';
    memcpy(out + dl, name, nl);
    out[total] = '\0';
    return hb_path_check_n(out, total, NULL);
}

bool hb_path_is_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 1 && prefix[0] == '/')
        return path[0] == '/';
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
