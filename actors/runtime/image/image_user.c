/* The unprivileged default user of the image "base": `user` (uid 1000,
 * home /home/user, /bin/bash), as E2B templates have it, so code written
 * for E2B (whose commands run as `user` by default) finds the same account.
 * A NOPASSWD sudoers entry is added for the same reason, although inside a
 * sandbox every command runs with no_new_privs (DESIGN decision 6), so the
 * setuid sudo cannot raise privileges there: root is asked for by running
 * the command as root (exec `user`), never through sudo. */
#include "image_internal.h"
#include "read_all.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define USER_NAME "user"
#define USER_UID  "1000"
#define SUDOERS   "etc/sudoers.d/hivebox-user"
#define PASSWD_MAX (4u << 20)   /* an image's /etc/passwd is a few kB */

/* Lines of useradd's output are of no interest: its exit status is. */
static void ignore_line(void *ud, const char *line)
{
    (void)ud;
    (void)line;
}

static int add_account(const char *rootfs, hb_err_t *e)
{
    /* chroot: useradd edits the image's own passwd/group/shadow and copies
     * its /etc/skel; the host's NSS is never consulted. */
    const char *argv[] = {"chroot", rootfs, "useradd", "--create-home", "--uid", USER_UID,
                          "--user-group", "--shell", "/bin/bash", USER_NAME, NULL};
    int rc = hb_spawn_lines(argv, ignore_line, NULL, e);
    if (rc < 0)
        return -1;
    if (rc != 0)
        return hb_fail(e, HB_E_INTERNAL, 0,
                       "building image base: useradd " USER_NAME " failed (exit %d)", rc);
    return 0;
}

/* sudo ignores a sudoers file that is not root's or is writable by others:
 * created 0440 like visudo would, never through an existing link. */
static int add_sudoers(const char *rootfs, hb_err_t *e)
{
    static const char text[] = "# HiveBox: E2B-style passwordless sudo for the default user\n"
                               USER_NAME " ALL=(ALL:ALL) NOPASSWD: ALL\n";
    return hb_image_write_text(rootfs, SUDOERS, text, 0440, e);
}

int hb_image_add_default_user(const char *rootfs, hb_err_t *e)
{
    if (add_account(rootfs, e) < 0)
        return -1;
    return add_sudoers(rootfs, e);
}

/* Whether name has a line in the rootfs's etc/passwd, resolved inside the
 * rootfs (an absolute symlink there never leads to a host file); a file that
 * is not regular or is over PASSWD_MAX has no users. */
bool hb_rootfs_has_user(int rootfd, const char *name)
{
    struct open_how how = {.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT};
    int fd = (int)syscall(SYS_openat2, rootfd, "etc/passwd", &how, sizeof how);
    if (fd < 0)
        return false;
    char *text = hb_read_all(fd, PASSWD_MAX, NULL);
    close(fd);
    size_t len = strlen(name);
    bool found = false;
    for (const char *l = text; l && *l && !found; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        found = strncmp(l, name, len) == 0 && l[len] == ':';
    free(text);
    return found;
}

bool hb_image_has_default_user(const char *image_dir)
{
    char path[HB_HOSTPATH_MAX + 16];
    if (hb_pathf(path, sizeof path, NULL, "%s/rootfs", image_dir) < 0)
        return false;
    int rootfd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (rootfd < 0)
        return false;
    bool found = hb_rootfs_has_user(rootfd, USER_NAME);
    close(rootfd);
    return found;
}
