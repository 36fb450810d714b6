/* A sandbox's writable layer: <dir>/layer, a btrfs subvolume whose qgroup
 * limit is the sandbox's `disk`, holding the overlay's upper/ and work/
 * (overlayfs wants both on one filesystem, and btrfs renames never cross a
 * subvolume). <dir>/upper and <dir>/work are root-owned relative symlinks
 * into it, so the launcher finds them where it always did.
 *
 * Inodes are bounded by the same limit: btrfs has no inode quota, but every
 * inode, name and inline extent is metadata in the subvolume's own tree,
 * which its qgroup counts (about 350 bytes per empty file).
 *
 * layer/ is 0700 and owned by the sandbox's root uid: the launcher's child
 * (that uid, in the sandbox's user namespace) may walk into it, no other
 * host user may; the state dir above stays traversable for the OpenCode
 * server's uid. */
#include "layer.h"

#include "btrfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LAYER "layer"

static int open_layer(const hb_sandbox_t *sb)
{
    char path[sizeof sb->dir + 8];
    snprintf(path, sizeof path, "%s/" LAYER, sb->dir);
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

static int fill(int dfd, const hb_sandbox_t *sb)
{
    static const char *const subs[] = {"upper", "work"};
    int lfd = openat(dfd, LAYER, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (lfd < 0)
        return -1;
    int r = hb_btrfs_limit(lfd, sb->spec.disk_bytes);
    for (size_t i = 0; r == 0 && i < 2; i++) {
        char link[16];
        snprintf(link, sizeof link, LAYER "/%s", subs[i]);
        if (mkdirat(lfd, subs[i], 0755) < 0 ||
            fchownat(lfd, subs[i], sb->uid_base, sb->uid_base, AT_SYMLINK_NOFOLLOW) < 0 ||
            symlinkat(link, dfd, subs[i]) < 0)
            r = -1;
    }
    if (r == 0 && (fchown(lfd, sb->uid_base, sb->uid_base) < 0 || fchmod(lfd, 0700) < 0))
        r = -1;
    int saved = errno;
    close(lfd);
    errno = saved;
    return r;
}

int hb_layer_create(const hb_sandbox_t *sb, hb_err_t *e)
{
    int dfd = open(sb->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "open %s", sb->dir);
    int r = hb_btrfs_subvol_create(dfd, LAYER) < 0 ? -1 : fill(dfd, sb);
    int saved = errno;
    close(dfd);
    if (r < 0)   /* the subvolume goes with the state dir (hb_rmtree) */
        return hb_fail_sys(e, HB_E_INTERNAL, saved, "writable layer in %s", sb->dir);
    return 0;
}

void hb_layer_release(const hb_sandbox_t *sb)
{
    int fd = open_layer(sb);
    if (fd < 0)
        return;
    hb_btrfs_limit(fd, 0);
    close(fd);
}

int hb_layer_reset(const hb_sandbox_t *sb, hb_err_t *e)
{
    hb_layer_release(sb);
    int dfd = open(sb->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "open %s", sb->dir);
    int r = hb_btrfs_subvol_destroy(dfd, LAYER);
    int saved = errno;
    unlinkat(dfd, "upper", 0);
    unlinkat(dfd, "work", 0);
    close(dfd);
    if (r < 0 && saved != ENOENT)
        return hb_fail_sys(e, HB_E_INTERNAL, saved, "remove the writable layer of %s", sb->id);
    return hb_layer_create(sb, e);
}

int hb_sandbox_disk_usage(const hb_sandbox_t *sb, hb_usage_t *u)
{
    u->disk_bytes = 0;
    u->disk_limit_bytes = sb->spec.disk_bytes;
    int fd = open_layer(sb);
    if (fd < 0)
        return -1;
    uint64_t id = 0;
    int r = hb_btrfs_subvol_id(fd, &id) < 0 ? -1 : hb_btrfs_qgroup_used(fd, id, &u->disk_bytes);
    close(fd);
    return r;
}
