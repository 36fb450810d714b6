#include "launch_skills.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* The rule of hb_name_valid (spec.c is not part of this binary): the name
 * becomes a path component, so no '/', and it cannot be "." or "..". */
static bool name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len >= HB_ID_MAX ||
        !((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z') || (n[0] >= '0' && n[0] <= '9')))
        return false;
    return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len;
}

bool launch_skills_conf(launch_skills_t *s, hb_lckey_t key, const char *val)
{
    if (key == HB_LC_SKILLS_DIR) {
        snprintf(s->dir, sizeof s->dir, "%s", val);
        return true;
    }
    if (key == HB_LC_SKILL) {
        /* names were validated at create; check again, they become paths */
        if (s->n < HB_SKILLS_MAX_N && name_ok(val))
            snprintf(s->names[s->n++], HB_ID_MAX, "%s", val);
        return true;
    }
    return false;
}

int launch_skills_open(const launch_skills_t *s, int *fds, char *why, size_t len)
{
    for (int i = 0; i < s->n; i++) {
        char path[sizeof s->dir + HB_ID_MAX + 2];
        snprintf(path, sizeof path, "%s/%s", s->dir, s->names[i]);
        fds[i] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        struct mount_attr a = {
            .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        };
        if (fds[i] < 0 ||
            mount_setattr(fds[i], "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0) {
            snprintf(why, len, "skill %s (%s): %s", s->names[i], path, strerror(errno));
            for (int j = 0; j <= i; j++)
                if (fds[j] >= 0)
                    close(fds[j]);
            return -1;
        }
    }
    return 0;
}

int launch_skills_mount(const launch_skills_t *s, const char *root, int *fds, char *why,
                        size_t len)
{
    char top[1200], at[1300];
    int rc = 0;
    if (s->n == 0)
        return 0;
    snprintf(top, sizeof top, "%s/opt", root);
    mkdir(top, 0755); /* most images have it */
    snprintf(top, sizeof top, "%s/opt/skills", root);
    mkdir(top, 0755);
    if (mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") < 0) {
        snprintf(why, len, "tmpfs on /opt/skills: %s", strerror(errno));
        rc = -1;
    }
    for (int i = 0; i < s->n; i++) {
        snprintf(at, sizeof at, "%s/%s", top, s->names[i]);
        if (rc == 0 && (mkdir(at, 0755) < 0 ||
                        move_mount(fds[i], "", AT_FDCWD, at, MOVE_MOUNT_F_EMPTY_PATH) < 0)) {
            snprintf(why, len, "attach skill %s: %s", s->names[i], strerror(errno));
            rc = -1;
        }
        close(fds[i]);
    }
    /* The tmpfs itself read-only (not recursive: the skills already are). */
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
    if (rc == 0 && mount_setattr(AT_FDCWD, top, 0, &a, sizeof a) < 0) {
        snprintf(why, len, "read-only /opt/skills: %s", strerror(errno));
        rc = -1;
    }
    return rc;
}
