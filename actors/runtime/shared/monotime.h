/* Deadlines on CLOCK_MONOTONIC for timed waits (pthread_cond_clockwait, or a
 * condition variable whose clock attribute is CLOCK_MONOTONIC): a wall-clock
 * step must not shorten or stretch a wait. */
#ifndef HB_MONOTIME_H
#define HB_MONOTIME_H

#include <time.h>

/* *ts = now + ms on CLOCK_MONOTONIC. */
static inline void hb_deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

#endif
