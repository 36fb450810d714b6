/* File tools: every read and write goes through the init agent's file
 * operations (hb_file_*), so a path is always resolved inside the sandbox. */
#include "mcp_tools.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Lines [from, to) of s, 0-based, as a pointer range. */
static void line_range(const char *s, size_t n, size_t from, size_t to, size_t *b, size_t *e)
{
    size_t line = 0, i = 0;
    *b = n;
    for (; i < n && line < from; i++)
        if (s[i] == '\n')
            line++;
    *b = i;
    for (; i < n && line < to; i++)
        if (s[i] == '\n')
            line++;
    *e = i;
}

static size_t count_lines(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += s[i] == '\n';
    return c + (n && s[n - 1] != '\n');
}

/* Read a text file into *buf; -1 with an error result. */
static int read_text(const mcp_ctx_t *ctx, mcp_result_t *r, const char *path, char **buf,
                     size_t *len)
{
    hb_err_t e = {0};
    if (hb_lease_file_read_buf(ctx->lease, path, MCP_READ_CAP, buf, len, &e) < 0) {
        if (e.code == HB_E_TOOBIG)
            mcp_res_error(r, "%s is larger than %u MB: read part of it with exec (e.g. "
                          "\"sed -n '1,200p' %s\") or use head/tail of a smaller file.",
                          path, MCP_READ_CAP >> 20, path);
        else
            mcp_res_hberr(r, "read", path, &e);
        return -1;
    }
    if (mcp_looks_binary(*buf, *len)) {
        mcp_res_error(r, "%s looks like a binary file (%zu bytes); use read_media_file for "
                      "images and audio, or exec (xxd, file, base64) for other data.", path, *len);
        free(*buf);
        *buf = NULL;
        return -1;
    }
    return 0;
}

/* The shown part of a file: everything, the first/last N lines, capped. */
static void show_text(mcp_buf_t *b, const char *path, const char *s, size_t n, long long head,
                      long long tail, size_t cap)
{
    size_t from = 0, to = n;
    if (head > 0)
        line_range(s, n, 0, (size_t)head, &from, &to);
    else if (tail > 0) {
        size_t lines = count_lines(s, n);
        size_t first = lines > (size_t)tail ? lines - (size_t)tail : 0;
        line_range(s, n, first, lines, &from, &to);
    }
    size_t shown = to - from;
    if (shown > cap) {
        shown = mcp_utf8_cut(s + from, to - from, cap);
        mcp_buf_add(b, s + from, shown);
        mcp_buf_printf(b, "\n[truncated: showed %zu of %zu bytes of %s; read the rest with "
                          "head/tail or exec \"sed -n 'START,ENDp' %s\"]\n",
                       shown, n, path, path);
        return;
    }
    mcp_buf_add(b, s + from, shown);
}

void mcp_tool_read_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char path[HB_PATH_MAX];
    long long head = mcp_arg_int(args, "head", 0), tail = mcp_arg_int(args, "tail", 0);
    if (mcp_arg_path(r, args, "path", path, sizeof path) < 0)
        return;
    if (head && tail) {
        mcp_res_error(r, "Give head or tail, not both.");
        return;
    }
    char *buf;
    size_t len;
    if (read_text(ctx, r, path, &buf, &len) < 0)
        return;
    mcp_buf_t b;
    mcp_buf_init(&b, MCP_TEXT_CAP + 1024);
    show_text(&b, path, buf, len, head, tail, MCP_TEXT_CAP);
    if (len == 0)
        mcp_buf_printf(&b, "(%s is empty)", path);
    mcp_res_text(r, b.s ? b.s : "", b.len);
    mcp_buf_free(&b);
    free(buf);
}

void mcp_tool_read_multiple_files(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    json_t *paths = json_object_get(args, "paths");
    size_t n = json_array_size(paths);
    size_t each = MCP_TEXT_CAP / (n ? n : 1);
    mcp_buf_t b;
    mcp_buf_init(&b, MCP_TEXT_CAP + 4096);
    for (size_t i = 0; i < n; i++) {
        char path[HB_PATH_MAX];
        const char *p = json_string_value(json_array_get(paths, i));
        mcp_buf_printf(&b, "%s=== %s ===\n", i ? "\n" : "", p);
        if (mcp_abs_path(p, path, sizeof path) < 0) {
            mcp_buf_puts(&b, "Error: path too long\n");
            continue;
        }
        mcp_result_t one = {0};
        char *buf;
        size_t len;
        if (read_text(ctx, &one, path, &buf, &len) < 0) {
            json_t *t = json_object_get(json_array_get(one.content, 0), "text");
            mcp_buf_printf(&b, "Error: %s\n", json_string_value(t));
            json_decref(one.content);
            continue;
        }
        show_text(&b, path, buf, len, 0, 0, each);
        free(buf);
    }
    mcp_res_text(r, b.s ? b.s : "", b.len);
    mcp_buf_free(&b);
}

/* Keep an existing file's permission bits across a rewrite (an edited
 * script stays executable); new files get init's default. */
static uint32_t existing_mode(const mcp_ctx_t *ctx, const char *path)
{
    hb_stat_t st;
    if (hb_lease_file_stat(ctx->lease, path, true, &st, NULL) < 0 || st.type != HB_FT_FILE)
        return 0;
    return st.mode & 07777;
}

typedef struct {
    const char *p;
    size_t left;
} src_t;

static int src_fill(void *ud, void *buf, size_t cap, size_t *got)
{
    src_t *s = ud;
    *got = s->left < cap ? s->left : cap;
    memcpy(buf, s->p, *got);
    s->p += *got;
    s->left -= *got;
    return 0;
}

static int write_keep_mode(const mcp_ctx_t *ctx, const char *path, const char *data, size_t len,
                           hb_err_t *e)
{
    src_t s = {data, len};
    return hb_lease_file_write(ctx->lease, path, existing_mode(ctx, path), 0, src_fill, &s, NULL, e);
}

void mcp_tool_write_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char path[HB_PATH_MAX];
    if (mcp_arg_path(r, args, "path", path, sizeof path) < 0)
        return;
    json_t *c = json_object_get(args, "content");
    hb_err_t e = {0};
    if (write_keep_mode(ctx, path, json_string_value(c), json_string_length(c), &e) < 0) {
        mcp_res_hberr(r, "write", path, &e);
        return;
    }
    char msg[HB_PATH_MAX + 64];
    int n = snprintf(msg, sizeof msg, "Wrote %zu bytes to %s", json_string_length(c), path);
    mcp_res_text(r, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

/* Occurrences of needle (non-overlapping). */
static size_t count_occ(const char *h, size_t hn, const char *nd, size_t nn)
{
    size_t c = 0;
    for (const char *p = h; (p = memmem(p, hn - (size_t)(p - h), nd, nn)); p += nn)
        c++;
    return c;
}

static char *replace(const char *h, size_t hn, const char *old, size_t on, const char *nw,
                     size_t nn, bool all, size_t *out_len)
{
    size_t occ = all ? count_occ(h, hn, old, on) : 1;
    size_t len = hn - occ * on + occ * nn;
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    const char *p = h, *end = h + hn;
    for (size_t i = 0; i < occ; i++) {
        const char *m = memmem(p, (size_t)(end - p), old, on);
        memcpy(o, p, (size_t)(m - p));
        o += m - p;
        memcpy(o, nw, nn);
        o += nn;
        p = m + on;
    }
    memcpy(o, p, (size_t)(end - p));
    out[len] = '\0';
    *out_len = len;
    return out;
}

void mcp_tool_edit_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char path[HB_PATH_MAX];
    if (mcp_arg_path(r, args, "path", path, sizeof path) < 0)
        return;
    json_t *jo = json_object_get(args, "old_text"), *jn = json_object_get(args, "new_text");
    const char *old = json_string_value(jo), *nw = json_string_value(jn);
    size_t on = json_string_length(jo), nn = json_string_length(jn);
    bool all = mcp_arg_bool(args, "replace_all", false);
    char *buf;
    size_t len;
    if (read_text(ctx, r, path, &buf, &len) < 0)
        return;
    size_t occ = count_occ(buf, len, old, on);
    if (occ == 0 || (occ > 1 && !all)) {
        if (occ == 0)
            mcp_res_error(r, "old_text was not found in %s. It must match the file exactly, "
                          "including whitespace and indentation: read the file and copy the "
                          "text to replace.", path);
        else
            mcp_res_error(r, "old_text occurs %zu times in %s. Include more surrounding lines "
                          "to make it unique, or set replace_all to true.", occ, path);
        free(buf);
        return;
    }
    size_t out_len;
    char *out = replace(buf, len, old, on, nw, nn, all, &out_len);
    free(buf);
    hb_err_t e = {0};
    if (!out) {
        mcp_res_error(r, "out of memory editing %s", path);
        return;
    }
    int rc = write_keep_mode(ctx, path, out, out_len, &e);
    free(out);
    if (rc < 0) {
        mcp_res_hberr(r, "write", path, &e);
        return;
    }
    char msg[HB_PATH_MAX + 64];
    int n = snprintf(msg, sizeof msg, "Replaced %zu occurrence%s in %s", occ, occ == 1 ? "" : "s",
                     path);
    mcp_res_text(r, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

static const char *type_word(hb_ftype_t t)
{
    switch (t) {
    case HB_FT_FILE: return "file";
    case HB_FT_DIR: return "directory";
    case HB_FT_SYMLINK: return "symlink";
    default: return "other";
    }
}

static void fmt_time(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "%lld", (long long)t);
}

static void mode_string(uint32_t m, hb_ftype_t t, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";
    out[0] = t == HB_FT_DIR ? 'd' : t == HB_FT_SYMLINK ? 'l' : t == HB_FT_FILE ? '-' : '?';
    for (int i = 0; i < 9; i++)
        out[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
    out[10] = '\0';
}

void mcp_tool_get_file_info(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char path[HB_PATH_MAX];
    if (mcp_arg_path(r, args, "path", path, sizeof path) < 0)
        return;
    hb_stat_t st;
    hb_err_t e = {0};
    if (hb_lease_file_stat(ctx->lease, path, false, &st, &e) < 0) {
        mcp_res_hberr(r, "stat", path, &e);
        return;
    }
    char size[32], mt[40], at[40], ct[40], ms[11];
    mcp_human_size(st.size, size, sizeof size);
    fmt_time(st.mtime, mt, sizeof mt);
    fmt_time(st.atime, at, sizeof at);
    fmt_time(st.ctime, ct, sizeof ct);
    mode_string(st.mode, st.type, ms);
    mcp_buf_t b;
    mcp_buf_init(&b, 2 * HB_PATH_MAX);
    mcp_buf_printf(&b, "path: %s\ntype: %s\nsize: %llu bytes (%s)\npermissions: %04o (%s)\n"
                       "owner: uid %u, gid %u\nmodified: %s\naccessed: %s\nchanged: %s\n",
                   path, type_word(st.type), (unsigned long long)st.size, size,
                   st.mode & 07777, ms, st.uid, st.gid, mt, at, ct);
    mcp_res_buf(r, &b, NULL);
    mcp_buf_free(&b);
    r->structured = json_pack("{s:s, s:s, s:I, s:s, s:i, s:i, s:s, s:s, s:s}", "path", path,
                              "type", type_word(st.type), "size", (json_int_t)st.size, "mode",
                              ms, "uid", (int)st.uid, "gid", (int)st.gid, "modified", mt,
                              "accessed", at, "changed", ct); /* NULL if path is not UTF-8 */
}

void mcp_tool_create_directory(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char path[HB_PATH_MAX];
    if (mcp_arg_path(r, args, "path", path, sizeof path) < 0)
        return;
    hb_err_t e = {0};
    if (hb_lease_file_mkdir(ctx->lease, path, true, &e) < 0) {
        mcp_res_hberr(r, "mkdir", path, &e);
        return;
    }
    char msg[HB_PATH_MAX + 32];
    int n = snprintf(msg, sizeof msg, "Directory %s exists", path);
    mcp_res_text(r, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

void mcp_tool_move_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char from[HB_PATH_MAX], to[HB_PATH_MAX];
    if (mcp_arg_path(r, args, "source", from, sizeof from) < 0 ||
        mcp_arg_path(r, args, "destination", to, sizeof to) < 0)
        return;
    hb_stat_t st;
    hb_err_t e = {0};
    if (hb_lease_file_stat(ctx->lease, to, false, &st, NULL) == 0) {
        mcp_res_error(r, "Destination %s already exists: remove it first (exec rm) or choose "
                      "another name.", to);
        return;
    }
    if (hb_lease_file_rename(ctx->lease, from, to, &e) < 0) {
        mcp_res_hberr(r, "move", from, &e);
        return;
    }
    char msg[2 * HB_PATH_MAX + 32];
    int n = snprintf(msg, sizeof msg, "Moved %s to %s", from, to);
    mcp_res_text(r, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}
