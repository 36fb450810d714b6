/* Timing helpers shared by the bench's C probes (vmcost.c, qgroupcost.c),
 * each built on its own as one file plus this header. */
#ifndef HB_BENCHCLOCK_H
#define HB_BENCHCLOCK_H

#include <time.h>

static inline double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
