/* The sandbox command filter's rules (seccomp_rules.c), for the build-time
 * generator and the unit test: both link libseccomp, hivebox-init does not. */
#ifndef HB_SECCOMP_RULES_H
#define HB_SECCOMP_RULES_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>

/* The filter context, or NULL with *failed naming the step or syscall. */
scmp_filter_ctx hb_seccomp_build(const char **failed);
/* The context's BPF in a malloc'd array (*ins, the caller frees), *n
 * instructions. 0 or -1. */
int hb_seccomp_export(scmp_filter_ctx ctx, struct sock_filter **ins, size_t *n);

#endif
