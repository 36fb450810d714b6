/* How many sandboxes the daemon's open-file limit allows (issue 19). Each
 * live sandbox holds ~6 of the daemon's descriptors (its supervisor's zmq
 * sockets, one eventfd each, and init's pidfd); past RLIMIT_NOFILE libzmq
 * cannot make a socket and czmq aborts the daemon. The manager lowers
 * --max-sandboxes to this at start and re-attaches no more than this. */
#ifndef HB_FDBUDGET_H
#define HB_FDBUDGET_H

#include <stdint.h>

#define HB_FDS_PER_SANDBOX 7      /* 6 measured, 1 for an operation in flight */
#define HB_FDS_RESERVED    2560   /* HTTP connections (--threads + idle slots) and requests */

/* (RLIMIT_NOFILE soft - HB_FDS_RESERVED) / HB_FDS_PER_SANDBOX; UINT64_MAX
 * when unlimited or unreadable. */
uint64_t hb_fd_sandbox_cap(void);

#endif
