/* The open-file budget for sandboxes (see fdbudget.h). */
#include "fdbudget.h"

#include <sys/resource.h>

uint64_t hb_fd_sandbox_cap(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return UINT64_MAX;
    if (rl.rlim_cur <= HB_FDS_RESERVED)
        return 0;
    return (uint64_t)(rl.rlim_cur - HB_FDS_RESERVED) * HB_FDS_PER_SANDBOX_DEN /
           HB_FDS_PER_SANDBOX_NUM;
}
