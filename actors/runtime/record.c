/* sandbox.json: the record that lets a new daemon re-attach to a sandbox.
 * Written atomically (temp + rename); read back with every field checked,
 * since a damaged record must not become a bad uid range or pid. */
#include "read_all.h"
#include "record.h"
#include "sbdir.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>   /* fchmod */
#include <unistd.h>

int hb_write_atomic(const char *dir, const char *name, const void *buf, size_t len, mode_t mode,
                    hb_err_t *e)
{
    char tmp[HB_HOSTPATH_MAX], dst[HB_HOSTPATH_MAX];
    if (strchr(name, '/') || snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst ||
        snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp)
        return hb_fail(e, HB_E_INTERNAL, ENAMETOOLONG, "bad state file name %s", name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "write %s", tmp);
    ssize_t w = write(fd, buf, len);
    int saved = errno;
    if (fchmod(fd, mode) < 0 || close(fd) < 0 || w != (ssize_t)len) {
        unlink(tmp);
        return hb_fail_sys(e, HB_E_INTERNAL, saved, "write %s", tmp);
    }
    if (rename(tmp, dst) < 0) {
        saved = errno;
        unlink(tmp);
        return hb_fail_sys(e, HB_E_INTERNAL, saved, "rename %s", dst);
    }
    return 0;
}

/* metadata (a JSON object, as text) and env ("K=V" strings) into j: the
 * record is 0600 in the daemon's own dir, so env's values (maybe secrets)
 * may stay there. Absent when empty (and in records older than them). */
static int save_extras(json_t *j, const hb_sandbox_t *sb)
{
    if (sb->metadata) {
        json_t *m = json_loads(sb->metadata, 0, NULL);
        if (!json_is_object(m) || json_object_set_new(j, "metadata", m) < 0)
            return -1;
    }
    if (!sb->env)
        return 0;
    json_t *a = json_array();
    if (json_object_set_new(j, "env", a) < 0)
        return -1;
    for (size_t i = 0; sb->env[i]; i++)
        if (json_array_append_new(a, json_string(sb->env[i])) < 0)
            return -1;
    return 0;
}

int hb_record_save(const hb_sandbox_t *sb, hb_err_t *e)
{
    const hb_spec_t *s = &sb->spec;
    json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:f, s:I, s:{s:s, s:s, s:s, s:s, s:I}, "
                          "s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I}",
                          "id", sb->id, "image", s->image, "memory_bytes", (json_int_t)s->memory_bytes,
                          "memory", s->memory_str, "cpus", s->cpus, "pids", (json_int_t)s->pids,
                          "network", "mode", hb_netmode_name(s->net_mode), "group", s->net_group,
                          "ip", sb->ip, "if", sb->net_if, "gid", (json_int_t)sb->net_gid,
                          "timeout", (json_int_t)s->timeout_s, "created_at", (json_int_t)sb->created_at,
                          "expires_at", (json_int_t)sb->expires_at, "init_pid", (json_int_t)sb->init_pid,
                          "init_start", (json_int_t)sb->init_start, "uid_slot", (json_int_t)sb->uid_slot,
                          "disk", s->disk_str, "disk_bytes", (json_int_t)s->disk_bytes);
    if (!j || save_extras(j, sb) < 0) {
        json_decref(j);
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "record: out of memory");
    }
    /* issue 17: absent when unset, as in records older than them */
    if (s->auto_resume)
        json_object_set_new(j, "auto_resume", json_true());
    if (s->on_timeout_pause)
        json_object_set_new(j, "on_timeout", json_string("pause"));
    if (s->pooled)   /* issue 19: a warm-pool sandbox */
        json_object_set_new(j, "pool", json_true());
    if (sb->paused_at)
        json_object_set_new(j, "paused_at", json_integer((json_int_t)sb->paused_at));
    if (sb->failure[0]) {       /* its init died: kept, status failed */
        json_object_set_new(j, "failure", json_string(sb->failure));
        json_object_set_new(j, "failed_at", json_integer((json_int_t)sb->failed_at));
    }
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "record: out of memory");
    int r = hb_write_atomic(sb->dir, HB_SBDIR_RECORD, text, strlen(text), 0600, e);
    free(text);
    return r;
}

static int get_int(json_t *j, const char *key, json_int_t lo, json_int_t hi, json_int_t *out)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_integer(v))
        return -1;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static int get_str(json_t *j, const char *key, char *out, size_t len)
{
    const char *v = json_string_value(json_object_get(j, key));
    if (!v || strlen(v) >= len)
        return -1;
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

/* The record's metadata and env, checked as strictly as the API checks
 * them: a damaged record must not hand commands a bad env. */
static int load_extras(json_t *j, hb_sandbox_t *sb)
{
    json_t *m = json_object_get(j, "metadata"), *a = json_object_get(j, "env"), *v;
    const char *k;
    if (m && !json_is_object(m))
        return -1;
    json_object_foreach(m, k, v)
        if (!json_is_string(v))
            return -1;
    if (a && (!json_is_array(a) || json_array_size(a) > HB_SB_ENV_MAX))
        return -1;
    const char *env[HB_SB_ENV_MAX + 1] = {0};
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!(env[i] = json_string_value(json_array_get(a, i))))
            return -1;
    if (hb_env_validate(env, NULL) < 0)
        return -1;
    char *text = m ? json_dumps(m, JSON_COMPACT) : NULL;
    int rc = (m && !text) ? -1 : hb_sandbox_set_extras(sb, text, env[0] ? env : NULL);
    free(text);
    return rc;
}

static int parse_record(json_t *j, hb_sandbox_t *sb)
{
    hb_spec_t *s = &sb->spec;
    json_int_t mem, pids, timeout, created, expires, pid, start, slot;
    json_t *net = json_object_get(j, "network");
    json_t *cpus = json_object_get(j, "cpus");
    const char *mode = json_string_value(json_object_get(net, "mode"));
    if (get_str(j, "id", sb->id, sizeof sb->id) < 0 || !hb_name_valid(sb->id) ||
        get_str(j, "image", s->image, sizeof s->image) < 0 ||
        get_str(j, "memory", s->memory_str, sizeof s->memory_str) < 0 ||
        get_int(j, "memory_bytes", 1, INT64_MAX, &mem) < 0 ||
        get_int(j, "pids", 1, UINT32_MAX, &pids) < 0 ||
        get_int(j, "timeout", 0, UINT32_MAX, &timeout) < 0 ||
        get_int(j, "created_at", 0, INT64_MAX, &created) < 0 ||
        get_int(j, "expires_at", 0, INT64_MAX, &expires) < 0 ||
        get_int(j, "init_pid", 0, INT32_MAX, &pid) < 0 ||
        get_int(j, "init_start", 0, INT64_MAX, &start) < 0 ||
        get_int(j, "uid_slot", 0, HB_UID_SLOTS - 1, &slot) < 0 || !json_is_number(cpus) || !mode)
        return -1;
    s->memory_bytes = (uint64_t)mem;
    s->pids = (uint32_t)pids;
    s->timeout_s = (uint32_t)timeout;
    s->cpus = json_number_value(cpus);
    if (hb_spec_set_network(s, mode, NULL) < 0)
        return -1;
    json_int_t disk;
    if (get_int(j, "disk_bytes", HB_DISK_MIN, INT64_MAX, &disk) < 0 ||
        get_str(j, "disk", s->disk_str, sizeof s->disk_str) < 0)
        return -1;
    s->disk_bytes = (uint64_t)disk;
    get_str(net, "group", s->net_group, sizeof s->net_group);
    /* Absent in mode none; checked again where used (net.c). */
    json_int_t gid = 0;
    if (get_str(net, "ip", sb->ip, sizeof sb->ip) < 0 ||
        get_str(net, "if", sb->net_if, sizeof sb->net_if) < 0)
        sb->ip[0] = sb->net_if[0] = '\0';
    if (get_int(net, "gid", 0, UINT32_MAX, &gid) == 0)
        sb->net_gid = (uint32_t)gid;
    json_int_t failed_at = 0;
    if (get_str(j, "failure", sb->failure, sizeof sb->failure) == 0 && sb->failure[0] &&
        get_int(j, "failed_at", 0, INT64_MAX, &failed_at) == 0)
        sb->failed_at = failed_at;
    else
        sb->failure[0] = '\0';
    if (load_extras(j, sb) < 0)
        return -1;
    json_int_t paused_at = 0;
    const char *ot = json_string_value(json_object_get(j, "on_timeout"));
    s->auto_resume = json_is_true(json_object_get(j, "auto_resume"));
    s->on_timeout_pause = ot && strcmp(ot, "pause") == 0;
    s->pooled = json_is_true(json_object_get(j, "pool"));
    if (get_int(j, "paused_at", 0, INT64_MAX, &paused_at) == 0)
        sb->paused_at = paused_at;
    snprintf(s->name, sizeof s->name, "%s", sb->id);
    sb->created_at = created;
    sb->expires_at = expires;
    sb->init_pid = (pid_t)pid;
    sb->init_start = (uint64_t)start;
    sb->uid_slot = (uint32_t)slot;
    sb->uid_base = HB_UID_BASE + sb->uid_slot * HB_UID_RANGE;
    return 0;
}

/* Larger than any record hb_record_save writes (128 variables of 32 KiB,
 * escaped): a bigger file is damaged, not read. */
#define RECORD_MAX (64u << 20)

static json_t *fail_load(json_error_t *jerr, int err)
{
    snprintf(jerr->text, sizeof jerr->text, "%s", strerror(err));
    errno = err;
    return NULL;
}

/* The whole file in one buffer, parsed: json_load_file reads a character at
 * a time through stdio, which was a tenth of the manager's time while it
 * re-attached 4,000 sandboxes. */
static json_t *load_record(const char *path, json_error_t *jerr)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return fail_load(jerr, errno);
    size_t n = 0;
    char *buf = hb_read_all(fd, RECORD_MAX, &n);
    int err = errno;
    close(fd);
    if (!buf)
        return fail_load(jerr, err);
    json_t *j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, jerr);
    free(buf);
    if (!j)
        errno = EINVAL;   /* damaged, not missing */
    return j;
}

int hb_record_load(hb_sandbox_t *sb, hb_err_t *e)
{
    char path[HB_HOSTPATH_MAX];
    if (hb_sbdir_file(path, sizeof path, sb->dir, HB_SBDIR_RECORD, e) < 0)
        return hb_err_wrap(e, "record");
    json_error_t jerr;
    json_t *j = load_record(path, &jerr);
    if (!j)
        return hb_fail(e, errno == ENOENT ? HB_E_NOTFOUND : HB_E_INTERNAL, errno,
                       "record %s: %s", path, jerr.text);
    int r = parse_record(j, sb);
    json_decref(j);
    if (r < 0)
        return hb_fail(e, HB_E_INTERNAL, EINVAL, "record %s is damaged", path);
    return 0;
}
