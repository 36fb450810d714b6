/* glob (a listing through init, matched here) and search_files (grep run in
 * the sandbox). No argument is ever pasted into a shell string: grep's
 * pattern, path and include glob reach a fixed script through the command's
 * environment and are only ever expanded inside double quotes. */
#include "mcp_tools.h"

#include <stdlib.h>
#include <string.h>

#define GLOB_MAX_RESULTS 500
#define GLOB_MAX_SCAN    20000
#define SEARCH_MAX_LINES 200

/* ---- glob tool ---- */

static int cmp_path(const void *a, const void *b)
{
    return strcmp(((const hb_dirent_t *)a)->path, ((const hb_dirent_t *)b)->path);
}

void mcp_tool_glob(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char base[HB_PATH_MAX];
    const char *pattern = mcp_arg_str(args, "pattern");
    if (pattern[0] == '/') { /* an absolute pattern searches from / */
        strcpy(base, "/");
        while (*pattern == '/')
            pattern++;
    } else if (mcp_arg_str(args, "path")) {
        if (mcp_arg_path(r, args, "path", base, sizeof base) < 0)
            return;
    } else {
        strcpy(base, "/root");
    }
    if (!*pattern) {
        mcp_res_error(r, "pattern names no file");
        return;
    }
    hb_dirent_t *ents;
    size_t n;
    bool trunc;
    hb_err_t e = {0};
    if (hb_lease_file_list(ctx->lease, base, true, GLOB_MAX_SCAN, &ents, &n, &trunc, &e) < 0) {
        mcp_res_hberr(r, "glob in", base, &e);
        return;
    }
    if (n > 1)
        qsort(ents, n, sizeof *ents, cmp_path);
    size_t blen = strcmp(base, "/") == 0 ? 0 : strlen(base);
    mcp_buf_t b;
    mcp_buf_init(&b, MCP_TEXT_CAP);
    size_t found = 0;
    for (size_t i = 0; i < n && found < GLOB_MAX_RESULTS; i++) {
        const char *rel = ents[i].path + blen;
        if (strncmp(ents[i].path, base, blen) != 0 || *rel != '/')
            continue;
        if (mcp_glob_match(pattern, rel + 1)) {
            mcp_buf_printf(&b, "%s%s\n", ents[i].path, ents[i].type == HB_FT_DIR ? "/" : "");
            found++;
        }
    }
    if (found == 0)
        mcp_buf_printf(&b, "No files match %s under %s\n", pattern, base);
    if (found == GLOB_MAX_RESULTS)
        mcp_buf_printf(&b, "[stopped at %d results: narrow the pattern or the path]\n",
                       GLOB_MAX_RESULTS);
    if (trunc)
        mcp_buf_printf(&b, "[only the first %d entries under %s were scanned: give a narrower "
                           "path]\n", GLOB_MAX_SCAN, base);
    mcp_res_buf(r, &b, NULL);
    mcp_buf_free(&b);
    hb_dirents_free(ents, n);
}

/* ---- search_files tool ---- */

/* Fixed script; the arguments arrive as $HB_PATTERN, $HB_PATH, $HB_INCLUDE. */
static const char SEARCH_SH[] =
    "set -f\n"
    "if [ -n \"$HB_INCLUDE\" ]; then set -- \"--include=$HB_INCLUDE\"; else set --; fi\n"
    "if [ \"$HB_PATH\" = / ]; then set -- \"$@\" --exclude-dir=proc --exclude-dir=sys "
    "--exclude-dir=dev; fi\n"
    "grep -rnIE --color=never --exclude-dir=.git \"$@\" -e \"$HB_PATTERN\" -- \"$HB_PATH\" "
    "| head -n 201 | cut -c1-500\n";

static char *env_kv(const char *k, const char *v)
{
    size_t n = strlen(k) + strlen(v) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s=%s", k, v);
    return s;
}

static void show_matches(mcp_result_t *r, const char *out, size_t len, const char *err,
                         size_t err_len, const char *pattern, const char *path)
{
    mcp_buf_t b;
    mcp_buf_init(&b, MCP_TEXT_CAP);
    size_t lines = 0, i = 0;
    for (; i < len && lines < SEARCH_MAX_LINES; i++)
        lines += out[i] == '\n';
    json_t *shown = mcp_json_text(out, i);
    mcp_buf_add(&b, json_string_value(shown), json_string_length(shown));
    json_decref(shown);
    if (i < len)
        mcp_buf_printf(&b, "[more than %d matches: showing the first %d; narrow the path, the "
                           "pattern or file_pattern]\n", SEARCH_MAX_LINES, SEARCH_MAX_LINES);
    if (len == 0)
        mcp_buf_printf(&b, "No matches for /%s/ under %s\n", pattern, path);
    if (err_len) {
        json_t *je = mcp_json_text_capped(err, err_len, 2000);
        mcp_buf_printf(&b, "[grep reported: %s]\n", json_string_value(je));
        json_decref(je);
    }
    mcp_res_buf(r, &b, NULL);
    mcp_buf_free(&b);
}

void mcp_tool_search_files(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char path[HB_PATH_MAX];
    if (mcp_arg_path(r, args, "path", path, sizeof path) < 0)
        return;
    const char *pattern = mcp_arg_str(args, "pattern"), *inc = mcp_arg_str(args, "file_pattern");
    char *env[4] = {env_kv("HB_PATTERN", pattern), env_kv("HB_PATH", path),
                    env_kv("HB_INCLUDE", inc ? inc : ""), NULL};
    hb_exec_req_t req = {.command = SEARCH_SH, .env = (const char *const *)env,
                         .timeout_ms = 60000, .out_cap = 512 * 1024};
    hb_exec_result_t res = {0};
    hb_err_t e = {0};
    hb_outbuf_t ob;
    hb_outbuf_init(&ob, 0);
    int rc = env[0] && env[1] && env[2] ? hb_lease_exec_collect(ctx->lease, &req, &res, &ob, &e)
                                        : hb_fail(&e, HB_E_INTERNAL, 0, "out of memory");
    size_t out_len, err_len;
    const char *out = hb_outbuf_text(&ob, 1, &out_len), *err = hb_outbuf_text(&ob, 2, &err_len);
    for (int i = 0; i < 3; i++)
        free(env[i]);
    if (rc < 0)
        mcp_res_hberr(r, "search in", path, &e);
    else if (res.timed_out)
        mcp_res_error(r, "Search under %s timed out after 60s: search a smaller directory or "
                      "add file_pattern.", path);
    else if (out_len == 0 && err_len > 0)
        mcp_res_error(r, "Search failed: %.*s", (int)(err_len > 800 ? 800 : err_len), err);
    else
        show_matches(r, out, out_len, err, err_len, pattern, path);
    hb_outbuf_free(&ob);
}
