/* The seccomp filter applied to every command. Its rules live in
 * tools/seccomp/seccomp_rules.c and are compiled to BPF at build time
 * (build/gen/seccomp_filter.c): building them with libseccomp here cost
 * every sandbox 2.5 ms of CPU and ~550 KiB of heap (issue 19). Applied with
 * prctl(PR_SET_SECCOMP) exactly as the libseccomp-built copy was (never
 * seccomp_load: no TSYNC, no log flag; no_new_privs is set by the caller). */
#include "agent.h"
#include "agent_seccomp_bpf.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

static struct sock_fprog g_prog;

/* The generated file refuses to compile for a foreign architecture; this
 * catches a filter with no instructions or an impossible length. */
int agent_seccomp_prepare(void)
{
    if (hb_seccomp_bpf_len == 0 || hb_seccomp_bpf_len > BPF_MAXINSNS)
        return -1;
    g_prog.len = hb_seccomp_bpf_len;
    /* The kernel copies the program and never writes it. */
    g_prog.filter = (struct sock_filter *)hb_seccomp_bpf;
    return 0;
}

int agent_seccomp_apply(void)
{
    if (!g_prog.filter) {
        errno = ENOSYS;
        return -1;
    }
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &g_prog, 0, 0);
}
