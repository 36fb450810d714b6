/* Small reads of /proc and /sys files, shared by the daemon and hivebox-init. */
#ifndef HB_PROCFS_H
#define HB_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read at most len-1 bytes of path into buf, NUL-terminated. Bytes read, or -1. */
ssize_t hb_read_small(const char *path, char *buf, size_t len);
/* starttime (field 22 of /proc/<pid>/stat), which tells a pid's incarnations
 * apart; 0 if the process is gone. *state (if not NULL) gets field 3. */
uint64_t hb_proc_starttime(pid_t pid, char *state);

#endif
