/* The "instructions" of initialize: what a model should know about the
 * sandbox before its first call. Asked of the sandbox itself (one short
 * probe command and a look at /opt/skills), so it is true for any image. */
#include "mcp_tools.h"

#include <stdlib.h>
#include <string.h>

static const char PROBE_SH[] =
    ". /etc/os-release 2>/dev/null; echo \"${PRETTY_NAME:-Linux}\"\n"
    "for t in python3 pip3 node npm git curl wget gcc g++ make jq sqlite3 apt-get; do\n"
    "  command -v \"$t\" >/dev/null 2>&1 && printf '%s ' \"$t\"\n"
    "done; echo\n";

static void probe(const hb_sandbox_t *sb, mcp_buf_t *b)
{
    hb_exec_req_t req = {.command = PROBE_SH, .timeout_ms = 5000, .out_cap = 4096};
    hb_exec_result_t res = {0};
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;
    if (hb_exec_collect(sb, &req, &res, &out, &out_len, &err, &err_len, NULL) == 0 &&
        res.exit_code == 0 && out) {
        char *nl = strchr(out, '\n');
        if (nl) {
            *nl = '\0';
            char *tools = nl + 1, *e2 = strchr(tools, '\n');
            if (e2)
                *e2 = '\0';
            json_t *os = mcp_json_text(out, strlen(out)), *tl = mcp_json_text(tools, strlen(tools));
            mcp_buf_printf(b, "Operating system: %s.\n", json_string_value(os));
            if (json_string_length(tl))
                mcp_buf_printf(b, "Installed tools: %s(install more with apt-get, pip or npm "
                                  "if the sandbox has network access).\n", json_string_value(tl));
            json_decref(os);
            json_decref(tl);
        }
    }
    free(out);
    free(err);
}

char *mcp_instructions(const hb_sandbox_t *sb)
{
    mcp_buf_t b;
    mcp_buf_init(&b, 64 * 1024);
    mcp_buf_printf(&b, "You are operating inside the HiveBox sandbox '%s': an isolated Linux "
                       "machine of your own.\n", sb ? sb->id : "(unknown)");
    if (sb)
        probe(sb, &b);
    mcp_buf_puts(&b,
                 "Commands run as root with /bin/sh -c; the working directory is /root, and "
                 "relative paths in every tool are resolved against /root.\n"
                 "Use exec for shell commands (builds, tests, package installs) and the file "
                 "tools (read_file, write_file, edit_file, list_directory, glob, search_files, "
                 "...) for files. Large outputs are truncated with a note.\n");
    if (sb) {
        mcp_buf_t sk;
        mcp_buf_init(&sk, 32 * 1024);
        mcp_skills_describe(sb, &sk);
        if (sk.len) {
            mcp_buf_puts(&b, "Skills (read-only under /opt/skills/<name>; read one with "
                             "read_skill_file before use, run its scripts with exec):\n");
            mcp_buf_add(&b, sk.s, sk.len);
        }
        mcp_buf_free(&sk);
    }
    return b.s; /* caller frees */
}
