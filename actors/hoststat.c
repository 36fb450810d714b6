/* Host memory and CPU from /proc (see hoststat.h). */
#include "hoststat.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int meminfo_kb(const char *text, const char *key, uint64_t *kb)
{
    size_t klen = strlen(key);
    const char *line = text;
    while (line && *line) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            return sscanf(line + klen + 1, "%" SCNu64, kb) == 1 ? 0 : -1;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -1;
}

int hb_parse_meminfo(const char *text, uint64_t *total, uint64_t *used)
{
    uint64_t t, avail;
    if (meminfo_kb(text, "MemTotal", &t) < 0 || meminfo_kb(text, "MemAvailable", &avail) < 0 ||
        t > UINT64_MAX / 1024)
        return -1;
    *total = t * 1024;
    *used = (avail < t ? t - avail : 0) * 1024;
    return 0;
}

int hb_parse_proc_stat(const char *text, hb_cpu_times_t *t)
{
    if (strncmp(text, "cpu ", 4) != 0)
        return -1;
    uint64_t v[10] = {0};
    int n = sscanf(text + 4,
                   "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
    if (n < 4)
        return -1;
    /* user nice system idle iowait irq softirq steal guest guest_nice;
     * guest time is already counted in user and nice. */
    uint64_t total = 0;
    for (int i = 0; i < n && i < 8; i++)
        total += v[i];
    uint64_t idle = v[3] + (n > 4 ? v[4] : 0);
    t->total = total;
    t->busy = total >= idle ? total - idle : 0;
    return 0;
}

double hb_cpu_percent(const hb_cpu_times_t *prev, const hb_cpu_times_t *cur)
{
    if (cur->total <= prev->total || cur->busy < prev->busy)
        return 0.0;
    double p = (double)(cur->busy - prev->busy) / (double)(cur->total - prev->total) * 100.0;
    return p > 100.0 ? 100.0 : p;
}

long hb_read_small_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || cap == 0)
        return -1;
    size_t got = 0;
    while (got + 1 < cap) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (long)got;
}
