/* What btrfs quota accounting costs at the scale HiveBox runs it: one
 * subvolume per sandbox, a thousand and more on one filesystem. Run on an
 * empty btrfs mount, once per mode:
 *
 *   qgroupcost <mount> off|full|simple <N>
 *
 * off = no quotas, full = classic qgroups (backref-walking accounting),
 * simple = simple quotas (kernel >= 6.7, owner-attributed accounting).
 * Each subvolume is made the way the runtime makes a sandbox's writable
 * layer (create, limit, upper/ and work/) and given a little data (a 256 KiB
 * file and 100 files of 4 KiB), committed every 100 subvolumes. Then one
 * subvolume takes a 512 MiB write and 20,000 empty files, and every
 * subvolume is destroyed. Prints one JSON object. Not part of the daemon. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "benchclock.h"

#ifndef BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA
#define BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA 4
#endif

static double now_ms(void) { return now_us() / 1e3; }

/* "p50/p99/max" of v[from..to) in ms */
static void pct(const char *name, const double *v, int from, int to, int last)
{
    int n = to - from;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s || n <= 0)
        exit(1);
    memcpy(s, v + from, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += s[i];
    printf("  \"%s\": {\"mean\": %.3f, \"p50\": %.3f, \"p99\": %.3f, \"max\": %.3f}%s\n", name,
           sum / n, s[n / 2], s[n * 99 / 100], s[n - 1], last ? "" : ",");
    free(s);
}

static void die(const char *what)
{
    fprintf(stderr, "qgroupcost: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void write_file(int dfd, const char *name, size_t len)
{
    static char buf[1 << 20];
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die(name);
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof buf ? len - done : sizeof buf;
        ssize_t w = write(fd, buf, n);
        if (w <= 0)
            die("write");
        done += (size_t)w;
    }
    close(fd);
}

static double make_subvol(int top, const char *name, int quota)
{
    struct btrfs_ioctl_vol_args va = {0};
    snprintf(va.name, sizeof va.name, "%s", name);
    double t0 = now_ms();
    if (ioctl(top, BTRFS_IOC_SUBVOL_CREATE, &va) < 0)
        die("BTRFS_IOC_SUBVOL_CREATE");
    int fd = openat(top, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        die("open subvolume");
    if (quota) {
        struct btrfs_ioctl_qgroup_limit_args la = {0};
        la.lim.flags = BTRFS_QGROUP_LIMIT_MAX_RFER;
        la.lim.max_rfer = 1ull << 30;
        if (ioctl(fd, BTRFS_IOC_QGROUP_LIMIT, &la) < 0)
            die("BTRFS_IOC_QGROUP_LIMIT");
    }
    if (mkdirat(fd, "upper", 0755) < 0 || mkdirat(fd, "work", 0755) < 0)
        die("mkdir");
    double t = now_ms() - t0;
    close(fd);
    return t;
}

static double populate(int top, const char *name)
{
    char p[64];
    snprintf(p, sizeof p, "%s/upper", name);
    int fd = openat(top, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        die("open upper");
    double t0 = now_ms();
    write_file(fd, "blob", 256 << 10);
    for (int i = 0; i < 100; i++) {
        char f[16];
        snprintf(f, sizeof f, "f%d", i);
        write_file(fd, f, 4096);
    }
    close(fd);
    return now_ms() - t0;
}

static double commit(int top)
{
    double t0 = now_ms();
    if (syncfs(top) < 0)
        die("syncfs");
    return now_ms() - t0;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return fprintf(stderr, "usage: qgroupcost <btrfs mount> off|full|simple <N>\n"), 2;
    int n = atoi(argv[3]);
    int quota = strcmp(argv[2], "off") != 0;
    int top = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (top < 0 || n < 200)
        die("open mount / N >= 200");
    if (quota) {
        struct btrfs_ioctl_quota_ctl_args q = {
            .cmd = strcmp(argv[2], "simple") == 0 ? BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA
                                                   : BTRFS_QUOTA_CTL_ENABLE};
        if (ioctl(top, BTRFS_IOC_QUOTA_CTL, &q) < 0)
            die("BTRFS_IOC_QUOTA_CTL");
    }
    double *mk = calloc((size_t)n, sizeof *mk), *pop = calloc((size_t)n, sizeof *pop);
    double *del = calloc((size_t)n, sizeof *del), commits[64] = {0};
    int nc = 0;
    double t_all = now_ms();
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "sb%d", i);
        mk[i] = make_subvol(top, name, quota);
        pop[i] = populate(top, name);
        if ((i + 1) % 100 == 0 && nc < 64)
            commits[nc++] = commit(top);
    }
    t_all = now_ms() - t_all;
    /* With N subvolumes present: one big write and a small-file storm. */
    int up = openat(top, "sb0/upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    double t0 = now_ms();
    write_file(up, "big", 512u << 20);
    commit(top);
    double big_ms = now_ms() - t0;
    t0 = now_ms();
    for (int i = 0; i < 20000; i++) {
        char f[16];
        snprintf(f, sizeof f, "e%d", i);
        int fd = openat(up, f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            die("create empty file");
        close(fd);
    }
    commit(top);
    double small_ms = now_ms() - t0;
    close(up);
    double t_del = now_ms();
    for (int i = 0; i < n; i++) {
        struct btrfs_ioctl_vol_args va = {0};
        snprintf(va.name, sizeof va.name, "sb%d", i);
        t0 = now_ms();
        if (ioctl(top, BTRFS_IOC_SNAP_DESTROY, &va) < 0)
            die("BTRFS_IOC_SNAP_DESTROY");
        del[i] = now_ms() - t0;
    }
    double del_calls = now_ms() - t_del;
    double del_commit = commit(top);
    printf("{\n  \"mode\": \"%s\", \"subvolumes\": %d,\n", argv[2], n);
    pct("create_first100_ms", mk, 0, 100, 0);
    pct("create_last100_ms", mk, n - 100, n, 0);
    pct("populate_first100_ms", pop, 0, 100, 0);
    pct("populate_last100_ms", pop, n - 100, n, 0);
    pct("commit_per100_ms", commits, 0, nc, 0);
    pct("destroy_call_ms", del, 0, n, 0);
    printf("  \"create_all_s\": %.2f, \"write_512MiB_MBps\": %.1f, \"empty_files_per_s\": %.0f,\n",
           t_all / 1e3, 512.0 / (big_ms / 1e3), 20000.0 / (small_ms / 1e3));
    printf("  \"destroy_calls_s\": %.2f, \"destroy_commit_ms\": %.1f\n}\n", del_calls / 1e3,
           del_commit);
    return 0;
}
