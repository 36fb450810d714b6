/* The uid pool: slot N gives a sandbox host uids/gids
 * [HB_UID_BASE + N*65536, +65536). A slot is claimed by creating
 * <uidslot_dir>/<N> with O_EXCL, holding the sandbox's state dir path, so
 * claims are atomic across threads, processes and daemons with different
 * data dirs, and survive daemon restarts. A slot whose owner dir no longer
 * exists (a data dir deleted by hand) is stale and taken over. */
#include "uidslot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static int slot_path(const hb_runtime_t *rt, uint32_t slot, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/%u", rt->uidslot_dir, slot);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static int owner_of(const char *path, char *owner, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, owner, len - 1);
    close(fd);
    if (n <= 0)
        return -1;
    owner[n] = '\0';
    return 0;
}

/* A slot file naming a state dir that is gone: remove it so it can be claimed. */
static void drop_if_stale(const char *path)
{
    char owner[HB_HOSTPATH_MAX + 128];
    if (owner_of(path, owner, sizeof owner) == 0 && owner[0] == '/' && access(owner, F_OK) != 0 &&
        errno == ENOENT)
        unlink(path);
}

/* Create the slot file at path for owner: 0, or -1 with errno (EEXIST: taken). */
static int take(const char *path, const char *owner)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, owner, strlen(owner));
    int saved = errno;
    close(fd);
    if (w != (ssize_t)strlen(owner)) {
        unlink(path);
        errno = w < 0 ? saved : EIO;
        return -1;
    }
    return 0;
}

int hb_uidslot_claim(const hb_runtime_t *rt, const char *owner, uint32_t *slot, hb_err_t *e)
{
    /* Start from a random slot so concurrent creators rarely collide. */
    uint32_t start = 0;
    if (getrandom(&start, sizeof start, 0) != sizeof start)
        start = (uint32_t)getpid();
    return hb_uidslot_claim_from(rt, owner, start, slot, e);
}

int hb_uidslot_claim_from(const hb_runtime_t *rt, const char *owner, uint32_t start,
                          uint32_t *slot, hb_err_t *e)
{
    /* The last slot is kept free for the start-up feature probe. */
    uint32_t usable = HB_UID_SLOTS - 1;
    for (uint32_t i = 0; i < usable; i++) {
        uint32_t s = (start + i) % usable;
        char path[HB_HOSTPATH_MAX];
        if (slot_path(rt, s, path, sizeof path) < 0)
            return hb_fail(e, HB_E_INTERNAL, ENAMETOOLONG, "uid pool: path too long");
        int r = take(path, owner);
        if (r < 0 && errno == EEXIST) {
            drop_if_stale(path);
            r = take(path, owner);
        }
        if (r < 0) {
            if (errno == EEXIST)
                continue;
            return hb_fail_sys(e, HB_E_INTERNAL, errno, "uid pool: %s", path);
        }
        *slot = s;
        return 0;
    }
    return hb_fail(e, HB_E_UNAVAIL, 0, "uid pool exhausted (%u sandboxes)", usable);
}

void hb_uidslot_release(const hb_runtime_t *rt, uint32_t slot, const char *owner)
{
    char path[HB_HOSTPATH_MAX], cur[HB_HOSTPATH_MAX + 128];
    if (slot >= HB_UID_SLOTS || slot_path(rt, slot, path, sizeof path) < 0)
        return;
    /* Only release a slot that is really ours: a crashed create may have
     * recorded a slot that another sandbox claimed since. */
    if (owner_of(path, cur, sizeof cur) == 0 && strcmp(cur, owner) == 0)
        unlink(path);
}

bool hb_uidslot_hold(const hb_runtime_t *rt, uint32_t slot, const char *owner)
{
    char path[HB_HOSTPATH_MAX], cur[HB_HOSTPATH_MAX + 128];
    if (slot >= HB_UID_SLOTS - 1 || slot_path(rt, slot, path, sizeof path) < 0)
        return false;
    if (owner_of(path, cur, sizeof cur) == 0)
        return strcmp(cur, owner) == 0;
    return take(path, owner) == 0;
}

uint32_t hb_uidslot_base(uint32_t slot)
{
    return HB_UID_BASE + slot * HB_UID_RANGE;
}
