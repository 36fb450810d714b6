/* The seccomp allow-list applied to every command, modelled on Moby's
 * default profile: unknown syscalls fail with ENOSYS (so new libc wrappers
 * fall back cleanly), dangerous ones fail with EPERM, a foreign architecture
 * kills the process. Built with libseccomp by tools/seccomp/seccomp_gen.c at
 * build time (into build/gen/seccomp_filter.c, which hivebox-init loads) and
 * by the unit test that checks that array still matches these rules; never
 * linked into init (issue 19: 2.5 ms of CPU and ~550 KiB of heap per
 * sandbox). libseccomp 2.5 can only export BPF to an fd, so it goes through
 * a memfd and is read back. */
#include "seccomp_rules.h"

#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* Everything an ordinary workload (shells, python, node, git, apt, pip,
 * compilers, su) needs. Names unknown to this libseccomp/arch are skipped. */
static const char *const allowed[] = {
    "accept", "accept4", "access", "alarm", "arch_prctl", "bind", "brk", "cachestat",
    "capget", "capset", "chdir", "chmod", "chown", "chown32", "chroot", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
    "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
    "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
    "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
    "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
    "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
    "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake",
    "futimesat", "get_mempolicy", "get_robust_list", "get_thread_area", "getcpu", "getcwd",
    "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
    "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
    "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
    "getresuid", "getresuid32", "getrlimit", "getrusage", "getsid", "getsockname",
    "getsockopt", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
    "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
    "io_submit", "ioprio_get", "ioprio_set", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
    "link", "linkat", "listen", "listxattr", "llistxattr", "lremovexattr", "lseek",
    "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "mbind", "membarrier",
    "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat",
    "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget",
    "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
    "nanosleep", "newfstatat", "open", "openat", "openat2", "pause", "pidfd_open",
    "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect",
    "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2",
    "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
    "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
    "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "set_mempolicy", "set_mempolicy_home_node", "set_robust_list", "set_thread_area",
    "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
    "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority",
    "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
    "setreuid", "setreuid32", "setrlimit", "setsid", "setsockopt", "setuid", "setuid32",
    "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
    "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat",
    "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
    "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
    "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid",
    "write", "writev",
};

/* Refused outright with EPERM: namespace, mount, kernel, time, tracing and
 * keyring interfaces. (clone3 and io_uring_* are simply not allowed: ENOSYS,
 * so libc falls back to clone and runtimes to epoll.) */
static const char *const denied[] = {
    "mount", "umount", "umount2", "unshare", "setns", "ptrace", "bpf", "keyctl", "add_key",
    "request_key", "userfaultfd", "perf_event_open", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
    "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "settimeofday",
    "adjtimex", "stime", "open_by_handle_at", "pivot_root", "fsopen", "fsmount", "fsconfig",
    "fspick", "open_tree", "move_mount", "mount_setattr", "acct", "lookup_dcookie",
    "quotactl", "quotactl_fd", "vhangup", "iopl", "ioperm", "syslog", "process_vm_readv",
    "process_vm_writev",
    "sethostname", "setdomainname", "pidfd_getfd", "kcmp", "process_madvise",
    "fanotify_init", "nfsservctl", "vm86", "vm86old", "migrate_pages", "move_pages",
    "uselib", "_sysctl", "ustat", "sysfs", "create_module", "get_kernel_syms",
    "query_module", "modify_ldt",
};

#define NS_FLAGS 0x7E020000ull   /* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */

static int add_named(scmp_filter_ctx ctx, uint32_t act, const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0;               /* not a syscall here */
    int r = seccomp_rule_add(ctx, act, nr, 0);
    /* Pseudo-syscalls of other ABIs (negative numbers) may be refused. */
    return (r == 0 || nr < 0) ? 0 : r;
}

static int add_conditional(scmp_filter_ctx ctx)
{
    int r = 0;
    uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    /* clone without namespace flags; each namespace bit refused. */
    r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0));
    for (int b = 0; b < 64; b++)
        if (NS_FLAGS & (1ull << b))
            r |= seccomp_rule_add(ctx, eperm, SCMP_SYS(clone), 1,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, 1ull << b, 1ull << b));
    /* personality: only the values Moby allows. */
    static const uint64_t pers[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
    for (size_t i = 0; i < sizeof pers / sizeof pers[0]; i++)
        r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
                              SCMP_A0(SCMP_CMP_EQ, pers[i]));
    return r;
}

/* "Allow (or act) unless the low 32 bits of argument `arg` are one of bad[]".
 * libseccomp has no masked not-equal, and an unconditional allow swallows
 * conditional denials, so the allowed set is spelled out as bit prefixes:
 * walking the 32 bits from the top, every prefix that no refused value
 * starts with becomes one masked-equality allow rule (about 32 + a few per
 * refused value). Only the low word is compared because the kernel
 * truncates these arguments (ioctl request, socket domain) to 32 bits, so
 * garbage in the high word must not slip a refused value past. */
typedef struct {
    int nr;
    unsigned arg;
    const uint32_t *bad;
    size_t nbad;
    uint32_t act;               /* for every other value */
    const struct scmp_arg_cmp *pre;   /* NULL, or a condition every rule also has */
} except_t;

static int allow_prefixes(scmp_filter_ctx ctx, const except_t *x, int bit, uint32_t prefix)
{
    uint32_t mask = bit == 31 ? 0 : ~0u << (bit + 1);    /* bits above `bit` */
    bool hit = false;
    for (size_t i = 0; i < x->nbad; i++)
        hit |= (x->bad[i] & mask) == prefix;
    if (!hit) {
        struct scmp_arg_cmp c[2] = {SCMP_CMP(x->arg, SCMP_CMP_MASKED_EQ, mask, prefix)};
        if (x->pre)
            c[1] = *x->pre;
        return seccomp_rule_add_array(ctx, x->act, x->nr, x->pre ? 2 : 1, c);
    }
    if (bit < 0)
        return 0;               /* exactly a refused value */
    return allow_prefixes(ctx, x, bit - 1, prefix) |
           allow_prefixes(ctx, x, bit - 1, prefix | (1u << bit));
}

static int allow_except(scmp_filter_ctx ctx, int nr, unsigned arg, const uint32_t *bad,
                        size_t nbad)
{
    except_t x = {nr, arg, bad, nbad, SCMP_ACT_ALLOW, NULL};
    return allow_prefixes(ctx, &x, 31, 0);
}

/* ioctl: everything but terminal input injection. */
static int add_ioctl(scmp_filter_ctx ctx)
{
    static const uint32_t bad[] = {TIOCSTI, TIOCLINUX};
    int r = allow_except(ctx, SCMP_SYS(ioctl), 1, bad, 2);
    for (size_t i = 0; i < 2; i++)
        r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, bad[i]));
    return r;
}

/* AF_NETLINK: only the protocols ordinary tools use; any other fails as if
 * the kernel lacked it (EPROTONOSUPPORT), which is what libaudit and udev
 * users expect and handle. Moby leaves netlink open; we go further because
 * its other families are kernel interfaces a sandbox has no use for and a
 * steady source of kernel bugs: NETFILTER (nftables/conntrack), XFRM
 * (IPsec), CRYPTO (crypto_user), AUDIT (useradd, su and PAM carry on
 * without it), KOBJECT_UEVENT (device events), CONNECTOR, RDMA, SELINUX... */
static const uint32_t netlink_ok[] = {
    NETLINK_ROUTE,      /* iproute2 (`ip`), getifaddrs(), glibc's resolver */
    NETLINK_SOCK_DIAG,  /* `ss`, `netstat`-style socket listings */
    NETLINK_GENERIC,    /* ethtool, `wg`, taskstats (changes need CAP_NET_ADMIN) */
};
#define N_NETLINK_OK (sizeof netlink_ok / sizeof netlink_ok[0])

static int add_netlink(scmp_filter_ctx ctx)
{
    struct scmp_arg_cmp fam = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, AF_NETLINK);
    except_t x = {SCMP_SYS(socket), 2, netlink_ok, N_NETLINK_OK,
                  SCMP_ACT_ERRNO(EPROTONOSUPPORT), &fam};
    int r = allow_prefixes(ctx, &x, 31, 0);
    for (size_t i = 0; i < N_NETLINK_OK; i++)
        r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, fam,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffu, netlink_ok[i]));
    return r;
}

/* socket: no AF_PACKET at all, no SOCK_RAW for IPv4/IPv6 (what CAP_NET_RAW
 * would guard). Other families keep SOCK_RAW: netlink (iproute2) uses it.
 * As in Moby's profile, no AF_VSOCK (not network-namespaced: it would reach
 * the host from network mode none); no AF_ALG (kernel crypto, a recurring
 * source of kernel bugs); netlink restricted (add_netlink). */
static int add_socket(scmp_filter_ctx ctx)
{
    static const uint32_t special[] = {AF_INET, AF_INET6, AF_PACKET, AF_ALG, AF_VSOCK,
                                       AF_NETLINK};
    static const uint64_t types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RDM};
    uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    int r = allow_except(ctx, SCMP_SYS(socket), 0, special, 6) | add_netlink(ctx);
    for (size_t i = 2; i < 5; i++)   /* refused whatever the type */
        r |= seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, special[i]));
    for (int fam = 0; fam < 2; fam++) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, special[fam]),
                                  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, types[i]));
        r |= seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 2,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, special[fam]),
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW));
    }
    return r;
}

static int add_tables(scmp_filter_ctx ctx, const char **failed)
{
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (add_named(ctx, SCMP_ACT_ALLOW, allowed[i]) < 0) {
            *failed = allowed[i];
            return -1;
        }
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
        if (add_named(ctx, SCMP_ACT_ERRNO(EPERM), denied[i]) < 0) {
            *failed = denied[i];
            return -1;
        }
    if (add_conditional(ctx) != 0 || add_ioctl(ctx) != 0 || add_socket(ctx) != 0) {
        *failed = "conditional rules";
        return -1;
    }
    return 0;
}

scmp_filter_ctx hb_seccomp_build(const char **failed)
{
    *failed = "seccomp_init";
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
    if (!ctx)
        return NULL;
    *failed = "filter attributes";
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
        seccomp_release(ctx);
        return NULL;
    }
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);   /* binary tree, if supported */
    if (add_tables(ctx, failed) < 0) {
        seccomp_release(ctx);
        return NULL;
    }
    *failed = NULL;
    return ctx;
}

int hb_seccomp_export(scmp_filter_ctx ctx, struct sock_filter **ins, size_t *n)
{
    int rc = -1;
    int mfd = memfd_create("hb-seccomp", MFD_CLOEXEC);
    if (mfd < 0 || seccomp_export_bpf(ctx, mfd) < 0)
        goto out;
    off_t size = lseek(mfd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
        size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
        goto out;
    struct sock_filter *buf = malloc((size_t)size);   /* the caller's */
    if (!buf || pread(mfd, buf, (size_t)size, 0) != size) {
        free(buf);
        goto out;
    }
    *ins = buf;
    *n = (size_t)size / sizeof(struct sock_filter);
    rc = 0;
out:
    if (mfd >= 0)
        close(mfd);
    return rc;
}
