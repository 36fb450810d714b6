/* The BPF array hivebox-init loads (build/gen/seccomp_filter.c, generated at
 * build time) is exactly what libseccomp builds from the rules now: a rule
 * changed without regenerating, or a different libseccomp, fails here. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "agent_seccomp_bpf.h"
#include "seccomp_rules.h"

Test(seccomp_bpf, generated_array_matches_the_rules)
{
    const char *failed = NULL;
    scmp_filter_ctx ctx = hb_seccomp_build(&failed);
    cr_assert_not_null(ctx, "building the rules failed at %s", failed ? failed : "?");
    struct sock_filter *ins = NULL;
    size_t n = 0;
    cr_assert_eq(hb_seccomp_export(ctx, &ins, &n), 0);
    seccomp_release(ctx);
    cr_assert_eq(n, hb_seccomp_bpf_len, "libseccomp: %zu instructions, generated: %u", n,
                 (unsigned)hb_seccomp_bpf_len);
    for (size_t i = 0; i < n; i++) {
        const struct sock_filter *a = &ins[i], *b = &hb_seccomp_bpf[i];
        cr_assert(a->code == b->code && a->jt == b->jt && a->jf == b->jf && a->k == b->k,
                  "instruction %zu: libseccomp {0x%x,%u,%u,0x%x}, generated {0x%x,%u,%u,0x%x}",
                  i, a->code, a->jt, a->jf, a->k, b->code, b->jt, b->jf, b->k);
    }
    free(ins);
    cr_assert_eq(hb_seccomp_bpf_arch, seccomp_arch_native());
}

/* The array is a real filter of the expected shape: it starts by checking
 * the architecture, and its verdicts include the ones the rules name. */
Test(seccomp_bpf, array_checks_arch_and_has_the_verdicts)
{
    cr_assert_gt(hb_seccomp_bpf_len, 100);
    cr_assert_leq(hb_seccomp_bpf_len, BPF_MAXINSNS);
    const struct sock_filter *f = hb_seccomp_bpf;
    cr_assert_eq(f[0].code, BPF_LD | BPF_W | BPF_ABS);
    cr_assert_eq(f[0].k, 4u, "the first load is seccomp_data.arch");
    cr_assert_eq(f[1].k, hb_seccomp_bpf_arch);
    unsigned want = 0;
    for (unsigned i = 0; i < hb_seccomp_bpf_len; i++) {
        if (f[i].code != (BPF_RET | BPF_K))
            continue;
        want |= f[i].k == SCMP_ACT_ALLOW ? 1u : 0u;
        want |= f[i].k == SCMP_ACT_ERRNO(EPERM) ? 2u : 0u;
        want |= f[i].k == SCMP_ACT_ERRNO(ENOSYS) ? 4u : 0u;
        want |= f[i].k == SCMP_ACT_KILL_PROCESS ? 8u : 0u;
        want |= f[i].k == SCMP_ACT_ERRNO(EPROTONOSUPPORT) ? 16u : 0u;
    }
    cr_assert_eq(want, 31u, "verdicts seen: 0x%x", want);
}
