/* issue 19, the warm pool: a sandbox made ahead of time (spec.pooled)
 * becomes a user's by rewriting what a create request chooses and a running
 * sandbox can take without a restart: cgroup limits, the disk quota, the
 * record (expiry, env, metadata, created_at). What only a launch sets (image,
 * network, skills, the /dev/shm size derived from memory) must already be
 * what the request asks: hb_sandbox_adoptable. The id stays: the pool made
 * it with a fresh random id, the same kind a create without a name gets. */
#include "cgroup.h"
#include "diskpool.h"
#include "record.h"
#include "runtime.h"

#include "btrfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool hb_sandbox_adoptable(const hb_sandbox_t *sb, const hb_spec_t *spec)
{
    const hb_spec_t *p = &sb->spec;
    return p->pooled && !sb->failure[0] && strcmp(p->image, spec->image) == 0 &&
           p->net_mode == spec->net_mode && strcmp(p->net_group, spec->net_group) == 0 &&
           strcmp(p->skills, spec->skills) == 0 && hb_cg_shm_bytes(p) == hb_cg_shm_bytes(spec);
}

/* The writable layer's quota (layer.c): admitted like a create's. */
static int set_disk(const hb_sandbox_t *sb, uint64_t bytes, hb_err_t *e)
{
    char path[sizeof sb->dir + 8];
    snprintf(path, sizeof path, "%s/layer", sb->dir);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT)
        return 0;   /* no layer of its own: no quota to set */
    if (fd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "open %s", path);
    int rc = hb_pool_admit(sb->rt, bytes, e);
    if (rc == 0) {
        if (hb_btrfs_limit(fd, bytes) < 0)
            rc = hb_fail_sys(e, HB_E_INTERNAL, errno, "disk quota of %s", sb->id);
        hb_pool_settled(sb->rt, bytes);   /* from here the layer's own limit counts */
    }
    close(fd);
    return rc;
}

int hb_sandbox_adopt(hb_sandbox_t *sb, const hb_spec_t *spec, hb_err_t *e)
{
    if (!hb_sandbox_adoptable(sb, spec))
        return hb_fail(e, HB_E_INTERNAL, 0, "sandbox %s cannot take this request", sb->id);
    const hb_spec_t *p = &sb->spec;   /* a request at the defaults writes no cgroup file */
    bool same = p->memory_bytes == spec->memory_bytes && p->pids == spec->pids &&
                p->cpus == spec->cpus;
    if (!same && hb_cg_set_limits(sb->rt, sb->id, spec, e) < 0)
        return -1;
    if (spec->disk_bytes != sb->spec.disk_bytes && set_disk(sb, spec->disk_bytes, e) < 0)
        return -1;
    if (hb_sandbox_set_extras(sb, spec->metadata, spec->env) < 0)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    sb->spec = *spec;
    sb->spec.metadata = NULL;   /* the handle keeps its own copies (set_extras) */
    sb->spec.env = NULL;
    sb->spec.pooled = false;
    snprintf(sb->spec.name, sizeof sb->spec.name, "%s", sb->id);
    sb->created_at = time(NULL);
    sb->expires_at = sb->created_at + spec->timeout_s;
    return hb_record_save(sb, e);
}
