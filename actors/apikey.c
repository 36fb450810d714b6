/* The API key (see apikey.h). */
#include "apikey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

bool hb_apikey_valid(const char *key)
{
    size_t n = strnlen(key, HB_APIKEY_MAX);
    if (n == 0 || n >= HB_APIKEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (key[i] <= ' ' || key[i] > '~')
            return false;
    return true;
}

static int read_key(const char *path, char *out, size_t cap, hb_err_t *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 1
                               : hb_fail_sys(e, HB_E_INTERNAL, errno, "api key: open %s", path);
    fchmod(fd, 0600);   /* a key file someone loosened is tightened again */
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    if (n < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "api key: read %s", path);
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (!hb_apikey_valid(out))
        return hb_fail(e, HB_E_INVALID, 0, "api key: %s does not hold a usable key", path);
    return 0;
}

static int make_key(const char *path, char *out, size_t cap, hb_err_t *e)
{
    unsigned char raw[24];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw || cap < 2 * sizeof raw + 1)
        return hb_fail(e, HB_E_INTERNAL, errno, "api key: no randomness");
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "api key: create %s", path);
    size_t n = strlen(out);
    bool ok = write(fd, out, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        unlink(path);
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "api key: write %s", path);
    }
    return 0;
}

int hb_apikey_resolve(const char *data_dir, const char *given, char *out, size_t cap,
                      bool *generated, hb_err_t *e)
{
    *generated = false;
    if (given && given[0]) {
        if (!hb_apikey_valid(given))
            return hb_fail(e, HB_E_INVALID, 0,
                           "api key: must be 1-%d visible ASCII characters without spaces",
                           HB_APIKEY_MAX - 1);
        snprintf(out, cap, "%s", given);
        return 0;
    }
    char path[HB_HOSTPATH_MAX + 16];
    snprintf(path, sizeof path, "%s/api_key", data_dir);
    int rc = read_key(path, out, cap, e);
    if (rc <= 0)
        return rc;
    if (make_key(path, out, cap, e) < 0)
        return -1;
    *generated = true;
    return 0;
}
