/* Building tools/call results and reading validated arguments. A failure a
 * model can fix is a result with isError and a message saying what to do,
 * never a JSON-RPC error (those are for protocol faults). */
#include "mcp_tools.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void add_block(mcp_result_t *r, json_t *text)
{
    if (!r->content)
        r->content = json_array();
    json_array_append_new(r->content, json_pack("{s:s, s:o}", "type", "text", "text", text));
}

void mcp_res_text(mcp_result_t *r, const char *s, size_t n)
{
    add_block(r, mcp_json_text_capped(s, n, MCP_TEXT_CAP));
}

void mcp_res_buf(mcp_result_t *r, const mcp_buf_t *b, const char *trunc_note)
{
    if (!b->truncated) {
        mcp_res_text(r, b->s ? b->s : "", b->len);
        return;
    }
    mcp_buf_t t;
    mcp_buf_init(&t, b->len + 512);
    mcp_buf_add(&t, b->s, mcp_utf8_cut(b->s, b->len, b->len));
    mcp_buf_printf(&t, "\n[output truncated%s%s]", trunc_note ? ": " : "",
                   trunc_note ? trunc_note : "");
    add_block(r, mcp_json_text(t.s, t.len));
    mcp_buf_free(&t);
}

void mcp_res_error(mcp_result_t *r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        msg[0] = '\0';
    va_end(ap);
    r->is_error = true;
    add_block(r, mcp_json_text(msg, strlen(msg))); /* repairs a character cut at the end */
}

static const char *hint(hb_errcode_t c)
{
    switch (c) {
    case HB_E_NOTFOUND: return "Check the path with list_directory or glob.";
    case HB_E_INVALID: return "Check the arguments (is it the right kind of file or directory?).";
    case HB_E_EXISTS: return "Choose another path or remove the existing one first.";
    case HB_E_TOOBIG: return "Read part of it (head/tail) or process it with exec.";
    case HB_E_DEAD: return "The sandbox is no longer running; it must be recreated.";
    case HB_E_GONE: return "The sandbox was destroyed; it must be recreated.";
    case HB_E_UNAVAIL: return "Try again shortly.";
    case HB_E_NOSPACE: return "The sandbox's disk is full: remove files it no longer needs.";
    default: return "";
    }
}

void mcp_res_hberr(mcp_result_t *r, const char *what, const char *path, const hb_err_t *e)
{
    hb_errcode_t code = e ? e->code : HB_E_INTERNAL;
    if (e && e->msg[0]) /* the runtime's message names the operation and the path */
        mcp_res_error(r, "%s. %s", e->msg, hint(code));
    else
        mcp_res_error(r, "%s%s%s failed: %s. %s", what, path ? " " : "", path ? path : "",
                      hb_errcode_name(code), hint(code));
}

const char *mcp_arg_str(json_t *args, const char *key)
{
    return json_string_value(json_object_get(args, key));
}

long long mcp_arg_int(json_t *args, const char *key, long long dflt)
{
    json_t *v = json_object_get(args, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return dflt;
}

bool mcp_arg_bool(json_t *args, const char *key, bool dflt)
{
    json_t *v = json_object_get(args, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int mcp_arg_path(mcp_result_t *r, json_t *args, const char *key, char *out, size_t len)
{
    const char *p = mcp_arg_str(args, key);
    if (!p || mcp_abs_path(p, out, len) < 0) {
        mcp_res_error(r, "argument '%s' is not a usable path", key);
        return -1;
    }
    return 0;
}
