/* Host-side file handling of the runtime: rmtree never follows a link the
 * sandbox planted, uid slots are exclusive and released only by their owner,
 * whole-file reads are bounded, an image's passwd is read inside its root. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_internal.h"
#include "read_all.h"
#include "rmtree.h"
#include "runtime.h"
#include "uidslot.h"

static char tmp[256];

static void mk_tmp(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/hb-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void touch(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    cr_assert_geq(fd, 0, "%s", path);
    close(fd);
}

Test(rmtree, removes_tree_but_not_link_targets)
{
    char p[600], outside[600], victim[700];
    mk_tmp();
    snprintf(outside, sizeof outside, "%s-outside", tmp);
    cr_assert_eq(mkdir(outside, 0755), 0);
    snprintf(victim, sizeof victim, "%s/keep", outside);
    touch(victim);
    snprintf(p, sizeof p, "%s/a/b/c", tmp);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && touch %s/f && ln -s %s %s/a/link-dir && ln -s %s %s/a/b/link-file",
             p, p, outside, tmp, victim, tmp);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(hb_rmtree(tmp), 0);
    cr_assert_neq(access(tmp, F_OK), 0, "tree still there");
    cr_assert_eq(access(victim, F_OK), 0, "rmtree followed a symlink out of the tree");
    hb_rmtree(outside);
}

/* A sandbox may nest directories far beyond PATH_MAX and any recursion
 * bound: the tree must still go, files at every level included. */
Test(rmtree, removes_trees_of_any_depth)
{
    mk_tmp();
    int fd = open(tmp, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 5000; i++) {
        cr_assert_eq(mkdirat(fd, "d", 0755), 0, "level %d", i);
        int f = openat(fd, "f", O_CREAT | O_WRONLY, 0644);
        cr_assert_geq(f, 0);
        close(f);
        int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY);
        cr_assert_geq(sub, 0);
        close(fd);
        fd = sub;
    }
    close(fd);
    cr_assert_eq(hb_rmtree(tmp), 0);
    cr_assert_neq(access(tmp, F_OK), 0, "tree still there");
}

Test(rmtree, missing_path_is_fine)
{
    cr_assert_eq(hb_rmtree("/tmp/hb-unit-does-not-exist-42"), 0);
}

Test(uidslot, claims_are_exclusive_and_owned)
{
    hb_runtime_t rt;
    memset(&rt, 0, sizeof rt);
    mk_tmp();
    snprintf(rt.uidslot_dir, sizeof rt.uidslot_dir, "%s", tmp);
    char d[600], alpha[300], beta[300];
    /* Owners are state dir paths; they must exist, or the claim is stale. */
    snprintf(alpha, sizeof alpha, "%s-alpha", tmp);
    snprintf(beta, sizeof beta, "%s-beta", tmp);
    cr_assert_eq(mkdir(alpha, 0700), 0);
    cr_assert_eq(mkdir(beta, 0700), 0);
    uint32_t a, b;
    hb_err_t e = {0};
    cr_assert_eq(hb_uidslot_claim(&rt, alpha, &a, &e), 0, "%s", e.msg);
    cr_assert_eq(hb_uidslot_claim(&rt, beta, &b, &e), 0, "%s", e.msg);
    cr_assert_neq(a, b);
    cr_assert_lt(a, HB_UID_SLOTS - 1, "the probe slot was handed out");
    cr_assert_eq(hb_uidslot_base(a), HB_UID_BASE + a * HB_UID_RANGE);
    /* Releasing with the wrong owner keeps the claim. */
    hb_uidslot_release(&rt, a, beta);
    snprintf(d, sizeof d, "%s/%u", tmp, a);
    cr_assert_eq(access(d, F_OK), 0);
    hb_uidslot_release(&rt, a, alpha);
    cr_assert_neq(access(d, F_OK), 0);
    /* beta's state dir disappears (deleted by hand): its slot is reclaimable. */
    hb_rmtree(beta);
    snprintf(d, sizeof d, "%s/%u", tmp, b);
    cr_assert_eq(access(d, F_OK), 0);
    uint32_t c;
    cr_assert_eq(hb_uidslot_claim_from(&rt, alpha, b, &c, &e), 0, "%s", e.msg);
    cr_assert_eq(c, b, "a stale slot was not reclaimed");
    hb_rmtree(alpha);
    hb_rmtree(tmp);
}

static void write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    cr_assert_geq(fd, 0, "%s", path);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static char *read_path(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "%s", path);
    char *buf = hb_read_all(fd, max, len);
    int err = errno;
    close(fd);
    errno = err;
    return buf;
}

Test(read_all, whole_file_bounded_and_terminated)
{
    char p[600];
    mk_tmp();
    snprintf(p, sizeof p, "%s/f", tmp);
    write_file(p, "abc\0def", 7);
    size_t len = 0;
    char *buf = read_path(p, 7, &len);
    cr_assert_not_null(buf);
    cr_assert_eq(len, 7);
    cr_assert_eq(memcmp(buf, "abc\0def", 8), 0, "7 bytes and a NUL after them");
    free(buf);
    cr_assert_null(read_path(p, 6, &len), "one byte over the bound");
    cr_assert_eq(errno, EFBIG);
    write_file(p, "", 0);
    buf = read_path(p, 0, &len);
    cr_assert(buf && len == 0 && buf[0] == '\0');
    free(buf);
    cr_assert_null(read_path(tmp, 4096, &len), "a directory is not read");
    cr_assert_eq(errno, EINVAL);
    hb_rmtree(tmp);
}

/* /proc files say size 0 and have more: the buffer grows, the bound holds. */
Test(read_all, file_larger_than_its_stat)
{
    size_t len = 0;
    char *buf = read_path("/proc/self/status", 1 << 20, &len);
    cr_assert_not_null(buf);
    cr_assert_gt(len, 100);
    cr_assert_not_null(strstr(buf, "\nPid:"));
    free(buf);
    cr_assert_null(read_path("/proc/self/status", 64, &len));
    cr_assert_eq(errno, EFBIG);
}

Test(read_all, passwd_lines_read_inside_the_rootfs)
{
    char p[600], host[700];
    mk_tmp();
    snprintf(p, sizeof p, "%s/etc", tmp);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/etc/passwd", tmp);
    const char *pw = "app:x:1:1::/:/bin/sh\nusers:x:2:2::/:/bin/sh\nuser:x:1000:1000::/:/bin/sh\n";
    write_file(p, pw, strlen(pw));
    int root = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(root, 0);
    cr_assert(hb_rootfs_has_user(root, "app"), "the first line");
    cr_assert(hb_rootfs_has_user(root, "user"), "the last line");
    cr_assert_not(hb_rootfs_has_user(root, "ap"), "a prefix of a name is not the name");
    cr_assert_not(hb_rootfs_has_user(root, "x"), "a field is not a name");
    /* An absolute link resolves inside the rootfs: the host's root user is
     * not this image's. */
    snprintf(host, sizeof host, "%s/outside-passwd", tmp);
    write_file(host, "root:x:0:0::/:/bin/sh\n", strlen("root:x:0:0::/:/bin/sh\n"));
    cr_assert_eq(unlink(p), 0);
    cr_assert_eq(symlink("/outside-passwd", p), 0);
    cr_assert(hb_rootfs_has_user(root, "root"), "/outside-passwd inside the rootfs");
    cr_assert_eq(unlink(host), 0);
    cr_assert_eq(symlink("/etc/passwd", host), 0);
    cr_assert_not(hb_rootfs_has_user(root, "root"), "a loop back to itself, never the host's");
    close(root);
    hb_rmtree(tmp);
}
