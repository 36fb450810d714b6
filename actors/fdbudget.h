/* How many sandboxes the daemon's open-file limit allows (issue 19). An
 * idle sandbox holds one of the daemon's descriptors, init's pidfd (its
 * supervisor is a unit on a shared host thread: no socket of its own); a
 * sandbox with background processes also holds the process watch's
 * connection to its init while they run. Past RLIMIT_NOFILE libzmq cannot
 * make a socket and czmq aborts the daemon. The manager lowers
 * --max-sandboxes to this at start and re-attaches no more than this. */
#ifndef HB_FDBUDGET_H
#define HB_FDBUDGET_H

#include <stdint.h>

/* 3 per 2 sandboxes: the pidfd each (measured: 1 per idle sandbox), and a
 * watch connection for every second one. Operations in flight are bounded
 * by the gateway's threads, so HB_FDS_RESERVED covers them. */
#define HB_FDS_PER_SANDBOX_NUM 3
#define HB_FDS_PER_SANDBOX_DEN 2
#define HB_FDS_RESERVED    2560   /* HTTP connections (--threads + idle slots) and requests */

/* (RLIMIT_NOFILE soft - HB_FDS_RESERVED) x DEN / NUM; UINT64_MAX
 * when unlimited or unreadable. */
uint64_t hb_fd_sandbox_cap(void);

#endif
