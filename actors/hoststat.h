/* Host-wide figures for the metrics sampler, parsed from /proc/meminfo and
 * /proc/stat (the two host files; sandboxes are measured from cgroups). The
 * parsers are pure functions of the file text so they can be tested. */
#ifndef HB_HOSTSTAT_H
#define HB_HOSTSTAT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t busy, total;   /* jiffies summed over all cpus */
} hb_cpu_times_t;

/* MemTotal and MemTotal - MemAvailable, in bytes. -1 if either is missing. */
int hb_parse_meminfo(const char *text, uint64_t *total, uint64_t *used);
/* The aggregate "cpu " line. -1 if missing or malformed. */
int hb_parse_proc_stat(const char *text, hb_cpu_times_t *t);
/* Busy share between two readings, 0..100; 0 when nothing elapsed. */
double hb_cpu_percent(const hb_cpu_times_t *prev, const hb_cpu_times_t *cur);
/* Read a small file into buf (NUL-terminated). Bytes read, or -1. */
long hb_read_small_file(const char *path, char *buf, size_t cap);

#endif
