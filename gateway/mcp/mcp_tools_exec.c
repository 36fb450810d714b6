/* The exec tool: one command through the init agent (hb_exec_collect),
 * shown as text and returned as structuredContent {exit_code, stdout, stderr}. */
#include "mcp_tools.h"


#include <stdlib.h>
#include <string.h>

#define EXEC_DEFAULT_TIMEOUT_S 120
#define EXEC_OUT_CAP (1024u * 1024)   /* kept per stream before we cut for display */

static void add_stream(mcp_buf_t *b, const char *label, const char *s, size_t n, bool runtime_cut)
{
    if (n == 0)
        return;
    json_t *j = mcp_json_text_capped(s, n, MCP_EXEC_SHOW_CAP);
    mcp_buf_printf(b, "--- %s%s ---\n", label, runtime_cut ? " (truncated)" : "");
    mcp_buf_add(b, json_string_value(j), json_string_length(j));
    if (json_string_length(j) && json_string_value(j)[json_string_length(j) - 1] != '\n')
        mcp_buf_puts(b, "\n");
    json_decref(j);
}

void mcp_tool_exec(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char cwd[HB_PATH_MAX];
    const char *cwd_arg = mcp_arg_str(args, "cwd");
    if (cwd_arg && mcp_arg_path(r, args, "cwd", cwd, sizeof cwd) < 0)
        return;
    long long timeout = mcp_arg_int(args, "timeout", EXEC_DEFAULT_TIMEOUT_S);
    hb_exec_req_t req = {
        .command = mcp_arg_str(args, "command"),
        .cwd = cwd_arg ? cwd : NULL,
        .timeout_ms = (uint32_t)(timeout * 1000),
        .out_cap = EXEC_OUT_CAP,
    };
    hb_exec_result_t res = {0};
    hb_err_t e = {0};
    hb_outbuf_t ob;
    if (hb_lease_exec_collect(ctx->lease, &req, &res, &ob, &e) < 0) {
        hb_outbuf_free(&ob);
        hb_lease_explain_gone(ctx->lease, "command", &e);
        mcp_res_hberr(r, "exec", NULL, &e);
        return;
    }
    size_t out_len, err_len;
    const char *out = hb_outbuf_text(&ob, 1, &out_len), *err = hb_outbuf_text(&ob, 2, &err_len);
    hb_lease_executed(ctx->lease, &res);   /* agents' commands count like the API's */
    mcp_buf_t b;
    mcp_buf_init(&b, 3 * MCP_EXEC_SHOW_CAP);
    if (res.timed_out)
        mcp_buf_printf(&b, "Command timed out after %llds and was killed.\n", timeout);
    if (res.oom_killed)
        mcp_buf_puts(&b, "Command was killed: the sandbox ran out of memory.\n");
    if (res.term_signal && !res.timed_out)
        mcp_buf_printf(&b, "Command was killed by signal %d.\n", res.term_signal);
    mcp_buf_printf(&b, "exit code: %d\n", res.exit_code);
    add_stream(&b, "stdout", out, out_len, res.stdout_truncated);
    add_stream(&b, "stderr", err, err_len, res.stderr_truncated);
    if (out_len == 0 && err_len == 0)
        mcp_buf_puts(&b, "(no output)\n");
    mcp_res_buf(r, &b, NULL);
    mcp_buf_free(&b);
    r->is_error = res.timed_out;
    r->structured = json_pack("{s:i, s:o, s:o}", "exit_code", res.exit_code, "stdout",
                              mcp_json_text_capped(out, out_len, MCP_EXEC_SHOW_CAP), "stderr",
                              mcp_json_text_capped(err, err_len, MCP_EXEC_SHOW_CAP));
    hb_outbuf_free(&ob);
}
