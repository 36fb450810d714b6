/* The command seccomp filter as BPF, generated at build time by
 * tools/seccomp/seccomp_gen.c into build/gen/seccomp_filter.c from the rules
 * in tools/seccomp/seccomp_rules.c (tests/unit/test_seccomp_bpf.c checks
 * they still agree). */
#ifndef HB_AGENT_SECCOMP_BPF_H
#define HB_AGENT_SECCOMP_BPF_H

#include <linux/filter.h>
#include <stdint.h>

extern const struct sock_filter hb_seccomp_bpf[];
extern const unsigned short hb_seccomp_bpf_len;
/* The AUDIT_ARCH_* the filter lets through: the architecture it was built
 * on, which the generated file also checks the compiler targets. */
extern const uint32_t hb_seccomp_bpf_arch;

#endif
