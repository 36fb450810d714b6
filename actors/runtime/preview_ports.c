/* Public preview ports on disk (preview_ports.h). */
#include "preview_ports.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"         /* hb_write_atomic */
#include "sbdir_names.h"

#define FILE_MAX (HB_PV_PUBLIC_MAX * 7)

static int cmp(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

size_t hb_pv_ports_load(const char *dir, uint16_t out[HB_PV_PUBLIC_MAX])
{
    char path[4096], buf[FILE_MAX + 1];
    snprintf(path, sizeof path, "%s/" HB_SBDIR_PREVIEW, dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, FILE_MAX);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    size_t k = 0;
    for (char *save = NULL, *t = strtok_r(buf, "\n", &save); t && k < HB_PV_PUBLIC_MAX;
         t = strtok_r(NULL, "\n", &save)) {
        char *end;
        long v = strtol(t, &end, 10);
        if (*end == '\0' && v >= 1 && v <= 65535)
            out[k++] = (uint16_t)v;
    }
    qsort(out, k, sizeof *out, cmp);
    return k;
}

bool hb_pv_ports_has(const char *dir, unsigned port)
{
    uint16_t v[HB_PV_PUBLIC_MAX];
    size_t n = hb_pv_ports_load(dir, v);
    for (size_t i = 0; i < n; i++)
        if (v[i] == port)
            return true;
    return false;
}

int hb_pv_ports_set(const char *dir, unsigned port, bool public_port, hb_err_t *e)
{
    uint16_t v[HB_PV_PUBLIC_MAX + 1];
    size_t n = hb_pv_ports_load(dir, v), k = 0;
    char buf[FILE_MAX + 8];
    size_t len = 0;
    bool seen = false;
    for (size_t i = 0; i < n; i++) {
        seen |= v[i] == port;
        if (v[i] != port || public_port)
            v[k++] = v[i];
    }
    if (public_port && !seen) {
        if (k >= HB_PV_PUBLIC_MAX)
            return hb_fail(e, HB_E_LIMIT, 0, "port: %d ports are public already; make one "
                           "private first", HB_PV_PUBLIC_MAX);
        v[k++] = (uint16_t)port;
    }
    for (size_t i = 0; i < k; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%u\n", v[i]);
    return hb_write_atomic(dir, HB_SBDIR_PREVIEW, buf, len, 0600, e);
}
