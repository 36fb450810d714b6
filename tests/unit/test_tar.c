/* tar archives (actors/runtime/shared/tar*.c): the reader and writer round trip,
 * byte by byte too; hostile archives cannot write outside the target. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tar_x.h"

typedef struct {
    char  *p;
    size_t n, cap;
} buf_t;

static int to_buf(void *ud, const void *p, size_t n)
{
    buf_t *b = ud;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return 0;
}

static char *tmpdir(void)
{
    char t[] = "/tmp/hb-tar-XXXXXX";
    char *d = mkdtemp(t);
    cr_assert_not_null(d);
    return strdup(d);
}

/* Run tmpl with every "%s" in it replaced by arg. */
static void sh(const char *tmpl, const char *arg)
{
    char cmd[8192];
    size_t o = 0, al = strlen(arg);
    for (const char *t = tmpl; *t && o + al + 1 < sizeof cmd; t++) {
        if (t[0] == '%' && t[1] == 's') {
            memcpy(cmd + o, arg, al);
            o += al;
            t++;
        } else {
            cmd[o++] = *t;
        }
    }
    cmd[o] = '\0';
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void put_file(buf_t *b, const char *name, const char *data)
{
    hb_tar_entry_t e = {.type = HB_TAR_FILE, .mode = 0644, .size = strlen(data)};
    snprintf(e.name, sizeof e.name, "%s", name);
    cr_assert_eq(hb_tar_put_header(&e, to_buf, b), 0);
    to_buf(b, data, e.size);
    hb_tar_put_pad(e.size, to_buf, b);
}

static void put_link(buf_t *b, const char *name, const char *target)
{
    hb_tar_entry_t e = {.type = HB_TAR_SYMLINK, .mode = 0777};
    snprintf(e.name, sizeof e.name, "%s", name);
    snprintf(e.link, sizeof e.link, "%s", target);
    cr_assert_eq(hb_tar_put_header(&e, to_buf, b), 0);
}

/* Extract b into dir; the feed result, and the error text into why. */
static int extract(const char *dir, const buf_t *b, const char *top, size_t step, char *why)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    cr_assert_geq(dfd, 0);
    hb_tar_x_t *x = hb_tar_x_new(dfd, top);
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < b->n; off += step)
        rc = hb_tar_x_feed(x, b->p + off, b->n - off < step ? b->n - off : step);
    if (rc == 0)
        rc = hb_tar_x_finish(x);
    snprintf(why, 256, "%s", rc < 0 ? hb_tar_x_error(x) : "");
    hb_tar_x_free(x);
    close(dfd);
    return rc;
}

Test(tar, round_trip_of_a_tree_whole_and_byte_by_byte)
{
    char *src = tmpdir(), *dst = tmpdir(), why[256];
    char long_name[200];
    memset(long_name, 'n', 150);
    long_name[150] = '\0';
    sh("mkdir -p %s/t/a/b %s/t/empty && printf 'hello' > %s/t/a/b/f && "
       "head -c 70000 /dev/urandom > %s/t/bin", src);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "printf x > %%s/t/a/%s && ln -s ../bin %%s/t/a/link", long_name);
    /* cmd now holds "%s" placeholders for sh() */
    sh(cmd, src);
    chmod(strcat(strcpy(cmd, src), "/t/a/b/f"), 0751);
    buf_t b = {0};
    char path[300];
    snprintf(path, sizeof path, "%s/t", src);
    cr_assert_eq(hb_tar_create(path, "t", NULL, to_buf, &b, why, sizeof why), 0, "%s", why);
    cr_assert_eq(b.n % HB_TAR_BLOCK, 0);
    for (size_t step = b.n; step >= 1; step = step == b.n ? 1 : 0) {
        sh("rm -rf %s/t", dst);
        cr_assert_geq(extract(dst, &b, NULL, step, why), 0, "%s", why);
        snprintf(cmd, sizeof cmd, "diff -r --no-dereference %s/t ", src);
        sh(strcat(cmd, "%s/t"), dst);
    }
    struct stat st;
    snprintf(path, sizeof path, "%s/t/a/link", dst);
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "a link stays a link");
    snprintf(path, sizeof path, "%s/t/a/b/f", dst);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0751);
    snprintf(path, sizeof path, "%s/t/empty", dst);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    /* under a new top name */
    cr_assert_geq(extract(dst, &b, "copy", 4096, why), 0, "%s", why);
    snprintf(path, sizeof path, "%s/copy/a/b/f", dst);
    cr_assert_eq(stat(path, &st), 0);
    free(b.p);
    sh("rm -rf %s", src);
    sh("rm -rf %s", dst);
    free(src);
    free(dst);
}

static void refused(const buf_t *b, const char *needle)
{
    char *dst = tmpdir(), why[256];
    char outside[300];
    snprintf(outside, sizeof outside, "%s/target", dst);
    mkdir(outside, 0755);
    cr_assert_eq(extract(outside, b, NULL, 7, why), -1, "accepted (%s)", needle);
    cr_assert(strstr(why, needle), "'%s' not in '%s'", needle, why);
    /* nothing next to the target, where an escape would land */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s)\" = target", dst);
    cr_assert_eq(system(cmd), 0, "something was written outside the target");
    sh("rm -rf %s", dst);
    free(dst);
}

Test(tar, hostile_names_and_links_are_refused)
{
    buf_t b = {0};
    put_file(&b, "../x", "escape");
    refused(&b, "'..'");
    b.n = 0;
    put_file(&b, "/x", "escape");
    refused(&b, "absolute");
    b.n = 0;
    put_file(&b, "ok/../../x", "escape");
    refused(&b, "'..'");
    b.n = 0;
    put_link(&b, "l", "..");
    put_file(&b, "l/x", "through the link");
    refused(&b, "symbolic link");
    b.n = 0;
    put_link(&b, "d", "/");
    put_file(&b, "d/x", "through the link");
    refused(&b, "symbolic link");
    free(b.p);
}

Test(tar, an_existing_link_in_the_target_is_not_followed)
{
    char *dst = tmpdir(), why[256];
    sh("mkdir %s/target %s/elsewhere && ln -s ../elsewhere %s/target/l", dst);
    char target[300];
    snprintf(target, sizeof target, "%s/target", dst);
    buf_t b = {0};
    put_file(&b, "l/x", "through the old link");
    cr_assert_eq(extract(target, &b, NULL, 512, why), -1);
    cr_assert(strstr(why, "symbolic link"), "%s", why);
    sh("test -z \"$(ls -A %s/elsewhere)\"", dst);
    /* a file entry on the link's name replaces the link, never writes through it */
    b.n = 0;
    put_file(&b, "l", "new");
    cr_assert_eq(extract(target, &b, NULL, 512, why), 0, "%s", why);
    sh("test -f %s/target/l && ! test -L %s/target/l && test -z \"$(ls -A %s/elsewhere)\"", dst);
    free(b.p);
    sh("rm -rf %s", dst);
    free(dst);
}

Test(tar, other_types_and_broken_archives_are_refused)
{
    buf_t b = {0};
    hb_tar_entry_t e = {.type = HB_TAR_FILE, .mode = 0644};
    strcpy(e.name, "hard");
    hb_tar_put_header(&e, to_buf, &b);
    b.p[156] = '1';   /* a hard link; fix the checksum */
    memset(b.p + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (unsigned char)b.p[i];
    snprintf(b.p + 148, 8, "%06o", sum);
    refused(&b, "not supported");
    b.n = 0;
    put_file(&b, "f", "data");
    b.p[148] ^= 1;
    refused(&b, "checksum");
    b.n = 0;
    put_file(&b, "cut", "0123456789");
    b.n = 512 + 4;   /* the data is cut */
    refused(&b, "cut short");
    free(b.p);
}

Test(tar, pax_path_and_long_names_are_read)
{
    buf_t b = {0};
    const char *rec = "27 path=pax/named/file.txt\n";
    cr_assert_eq(strlen(rec), 27);
    hb_tar_entry_t e = {.type = HB_TAR_FILE, .mode = 0644, .size = strlen(rec)};
    strcpy(e.name, "PaxHeader");
    hb_tar_put_header(&e, to_buf, &b);
    b.p[156] = 'x';
    memset(b.p + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (unsigned char)b.p[i];
    snprintf(b.p + 148, 8, "%06o", sum);
    to_buf(&b, rec, strlen(rec));
    hb_tar_put_pad(strlen(rec), to_buf, &b);
    put_file(&b, "short-name-ignored", "via pax");
    char long_dir[HB_PATH_MAX];
    memset(long_dir, 'd', 250);
    strcpy(long_dir + 250, "/");
    memset(long_dir + 251, 'f', 250);
    long_dir[501] = '\0';
    put_file(&b, long_dir, "via a GNU long name");
    hb_tar_put_end(to_buf, &b);
    char *dst = tmpdir(), why[256], path[HB_PATH_MAX + 64];
    cr_assert_geq(extract(dst, &b, NULL, 100, why), 0, "%s", why);
    snprintf(path, sizeof path, "%s/pax/named/file.txt", dst);
    cr_assert_eq(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/%s", dst, long_dir);
    cr_assert_eq(access(path, F_OK), 0);
    free(b.p);
    sh("rm -rf %s", dst);
    free(dst);
}

Test(tar, clean_names)
{
    char out[HB_PATH_MAX];
    const char *why;
    cr_assert_eq(hb_tar_clean_name("./a//b/./c/", out, sizeof out, &why), 0);
    cr_assert_str_eq(out, "a/b/c");
    cr_assert_eq(hb_tar_clean_name("./", out, sizeof out, &why), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(hb_tar_clean_name("a/..", out, sizeof out, &why), -1);
    cr_assert_eq(hb_tar_clean_name("/a", out, sizeof out, &why), -1);
    cr_assert_eq(hb_tar_clean_name("a/..b", out, sizeof out, &why), 0, "'..b' is a name");
}
