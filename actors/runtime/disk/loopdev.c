/* Loop devices (see loopdev.h). */
#include "loopdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "procfs.h"

static int configure(int dev, int file, const char *name)
{
    struct loop_config c;
    memset(&c, 0, sizeof c);
    c.fd = (unsigned)file;
    snprintf((char *)c.info.lo_file_name, sizeof c.info.lo_file_name, "%s", name);
    /* Direct I/O: the image's pages are not cached twice (once by btrfs,
     * once by the host filesystem). Not every host filesystem allows it. */
    c.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
    if (ioctl(dev, LOOP_CONFIGURE, &c) == 0)
        return 0;
    if (errno != EINVAL)
        return -1;
    c.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    return ioctl(dev, LOOP_CONFIGURE, &c);
}

/* Open /dev/loopN. In a container, /dev is a copy made at its start: a loop
 * device the kernel created later (LOOP_CTL_GET_FREE adds one when all are
 * busy) has no node there, so make it (block major 7, minor N). */
static int open_loop(const char *dev, int n)
{
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && mknod(dev, S_IFBLK | 0660, makedev(7, (unsigned)n)) == 0)
        fd = open(dev, O_RDWR | O_CLOEXEC);
    return fd;
}

int hb_loop_attach(const char *file, char *dev, size_t len, hb_err_t *e)
{
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0)
        return hb_fail_sys(e, HB_E_NOTSUP, errno, "loop devices: /dev/loop-control");
    int file_fd = open(file, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (file_fd < 0) {
        close(ctl);
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "open %s", file);
    }
    int fd = -1, err = EBUSY;
    /* Another process may take the free device between the two calls. */
    for (int tries = 0; tries < 16 && fd < 0 && err == EBUSY; tries++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) {
            err = errno;
            break;
        }
        snprintf(dev, len, "/dev/loop%d", n);
        fd = open_loop(dev, n);
        if (fd >= 0 && configure(fd, file_fd, file) < 0) {
            err = errno;
            close(fd);
            fd = -1;
        } else if (fd < 0) {
            err = errno;
        }
    }
    close(file_fd);
    close(ctl);
    if (fd < 0)
        return hb_fail_sys(e, HB_E_NOTSUP, err, "loop device for %s", file);
    return fd;
}

int hb_loop_backing(const char *dev, char *out, size_t len)
{
    struct stat st;
    char sys[96];
    if (stat(dev, &st) < 0 || !S_ISBLK(st.st_mode))
        return -1;
    snprintf(sys, sizeof sys, "/sys/dev/block/%u:%u/loop/backing_file", major(st.st_rdev),
             minor(st.st_rdev));
    ssize_t n = hb_read_small(sys, out, len);
    if (n <= 0)
        return -1;
    out[strcspn(out, "\n")] = '\0';
    return 0;
}

int hb_loop_refresh(const char *dev, hb_err_t *e)
{
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    int r = fd < 0 ? -1 : ioctl(fd, LOOP_SET_CAPACITY, 0);
    int err = errno;
    if (fd >= 0)
        close(fd);
    return r < 0 ? hb_fail_sys(e, HB_E_INTERNAL, err, "grow %s", dev) : 0;
}
