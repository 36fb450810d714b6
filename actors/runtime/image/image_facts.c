/* What a model is told about an image (the MCP "instructions"): its OS name
 * and which common tools it has. Read from the image's own files on the
 * host side, at build or import time, and kept in images/<name>/image.json,
 * so nothing a sandbox writes (its overlay hides, never changes, the image)
 * can reach the text a client puts into a model's system prompt. */
#include "image_internal.h"
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FACTS_FILE "image.json"

static const char *const TOOLS[] = {"python3", "pip3", "node", "npm", "git", "curl", "wget",
                                    "gcc", "g++", "make", "jq", "sqlite3", "apt-get"};
static const char *const BIN_DIRS[] = {"usr/local/bin", "usr/bin", "bin", "usr/sbin", "sbin"};

/* Resolved inside the image root: an absolute symlink never leads to a host
 * file. (openat2 refuses O_NOCTTY beside O_PATH.) */
static int open_in_root(int rootfd, const char *rel, int flags)
{
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | (flags & O_PATH ? 0 : O_NOCTTY)),
                           .resolve = RESOLVE_IN_ROOT};
    return (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
}

static bool has_program(int rootfd, const char *name)
{
    char rel[64];
    for (size_t i = 0; i < sizeof BIN_DIRS / sizeof *BIN_DIRS; i++) {
        snprintf(rel, sizeof rel, "%s/%s", BIN_DIRS[i], name);
        int fd = open_in_root(rootfd, rel, O_PATH);
        struct stat st;
        bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
        if (fd >= 0)
            close(fd);
        if (ok)
            return true;
    }
    return false;
}

/* Keep letters, digits and a few punctuation marks, at most cap - 1 bytes:
 * an OS name needs no more, and no quote, newline or markup gets through. */
static void keep_plain(char *out, size_t cap, const char *in, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            (c && strchr(" .,:;()/+_-", c)))
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

static void parse_pretty_name(const char *text, char *out, size_t cap)
{
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, "PRETTY_NAME=", 12) != 0)
            continue;
        const char *v = l + 12;
        size_t n = strcspn(v, "\n");
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v++;
            n -= 2;
        }
        keep_plain(out, cap, v, n);
        return;
    }
}

static void read_os(int rootfd, char *out, size_t cap)
{
    static const char *const files[] = {"etc/os-release", "usr/lib/os-release"};
    out[0] = '\0';
    for (size_t i = 0; i < 2 && !out[0]; i++) {
        int fd = open_in_root(rootfd, files[i], O_RDONLY | O_NONBLOCK);
        struct stat st;
        if (fd < 0)
            continue;
        char buf[4096];
        ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof buf - 1) : -1;
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        parse_pretty_name(buf, out, cap);
    }
}

static int derive(const char *image_dir, hb_image_facts_t *f)
{
    char path[HB_HOSTPATH_MAX + HB_ID_MAX + 48];
    memset(f, 0, sizeof *f);
    snprintf(path, sizeof path, "%s/rootfs", image_dir);
    int rootfd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (rootfd < 0)
        return -1;
    read_os(rootfd, f->os, sizeof f->os);
    for (size_t i = 0; i < sizeof TOOLS / sizeof *TOOLS; i++) {
        if (!has_program(rootfd, TOOLS[i]))
            continue;
        size_t used = strlen(f->tools);
        snprintf(f->tools + used, sizeof f->tools - used, "%s%s", used ? " " : "", TOOLS[i]);
    }
    close(rootfd);
    return 0;
}

int hb_image_facts_record(const char *image_dir, hb_err_t *e)
{
    hb_image_facts_t f;
    if (derive(image_dir, &f) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "image facts: %s/rootfs", image_dir);
    json_t *j = json_pack("{s:s, s:s}", "os", f.os, "tools", f.tools);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "image facts: out of memory");
    int rc = hb_write_atomic(image_dir, FACTS_FILE, text, strlen(text), 0644, e);
    free(text);
    return rc;
}

/* The recorded facts, cleaned again: the file is ours, but cheap to distrust. */
static int load(const char *image_dir, hb_image_facts_t *f)
{
    char path[HB_HOSTPATH_MAX + HB_ID_MAX + 48];
    snprintf(path, sizeof path, "%s/" FACTS_FILE, image_dir);
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
    const char *os = json_string_value(json_object_get(j, "os"));
    const char *tools = json_string_value(json_object_get(j, "tools"));
    if (os && tools) {
        keep_plain(f->os, sizeof f->os, os, strlen(os));
        keep_plain(f->tools, sizeof f->tools, tools, strlen(tools));
    }
    json_decref(j);
    return os && tools ? 0 : -1;
}

int hb_image_facts(const hb_runtime_t *rt, const char *name, hb_image_facts_t *f)
{
    char dir[HB_HOSTPATH_MAX + HB_ID_MAX + 16];
    memset(f, 0, sizeof *f);
    if (!name || !hb_name_valid(name) ||
        hb_pathf(dir, sizeof dir, NULL, "%s/images/%s", rt->data_dir, name) < 0)
        return -1;
    /* An image made before facts were recorded: read its files now, without
     * writing (the image dir may be shared with other daemons). */
    return load(dir, f) == 0 ? 0 : derive(dir, f);
}
