/* The MCP server's pure layers: the JSON-RPC envelope, version negotiation,
 * tool argument validation against the schemas, dispatch without a sandbox,
 * the glob matcher, the text helpers and the skills selection at create. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcp.h"
#include "mcp_http.h"
#include "mcp_text.h"
#include "skills.h"
#include "mcp_tools.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    cr_assert(j, "bad test JSON %s: %s", text, e.text);
    return j;
}

/* ---- envelope ---- */

static int invalid_code(const char *text, json_t **id_out)
{
    json_t *m = J(text), *err = NULL;
    mcp_rpc_t r;
    mcp_kind_t k = mcp_rpc_parse(m, &r, &err);
    cr_assert_eq(k, MCP_MSG_INVALID, "accepted: %s", text);
    cr_assert(err);
    int code = (int)json_integer_value(json_object_get(json_object_get(err, "error"), "code"));
    if (id_out)
        *id_out = json_incref(json_object_get(err, "id"));
    json_decref(err);
    json_decref(m);
    return code;
}

Test(mcp_rpc, classifies_requests_notifications_responses)
{
    json_t *m = J("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"ping\"}"), *err;
    mcp_rpc_t r;
    cr_assert_eq(mcp_rpc_parse(m, &r, &err), MCP_MSG_REQUEST);
    cr_assert_str_eq(r.method, "ping");
    cr_assert_str_eq(json_string_value(r.id), "x");
    json_decref(m);
    m = J("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\",\"params\":{}}");
    cr_assert_eq(mcp_rpc_parse(m, &r, &err), MCP_MSG_NOTIFICATION);
    cr_assert_null(r.id);
    json_decref(m);
    m = J("{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}}");
    cr_assert_eq(mcp_rpc_parse(m, &r, &err), MCP_MSG_RESPONSE);
    json_decref(m);
}

Test(mcp_rpc, rejects_malformed_envelopes_with_32600)
{
    const char *bad[] = {
        "[]", "3", "\"x\"", "{}", "{\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(invalid_code(bad[i], NULL), MCP_E_REQUEST, "%s", bad[i]);
}

Test(mcp_rpc, error_keeps_a_usable_id_only)
{
    json_t *id;
    invalid_code("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"params\":3}", &id);
    cr_assert_eq(json_integer_value(id), 9);
    json_decref(id);
    invalid_code("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", &id);
    cr_assert(json_is_null(id));
    json_decref(id);
}

Test(mcp_rpc, version_negotiation)
{
    cr_assert_str_eq(mcp_version_negotiate("2025-06-18"), "2025-06-18");
    cr_assert_str_eq(mcp_version_negotiate("2025-03-26"), "2025-03-26");
    cr_assert_str_eq(mcp_version_negotiate("2024-11-05"), "2024-11-05");
    cr_assert_str_eq(mcp_version_negotiate("2030-01-01"), "2025-06-18");
    cr_assert_str_eq(mcp_version_negotiate(NULL), "2025-06-18");
    cr_assert(mcp_version_allows_batch("2025-03-26"));
    cr_assert(mcp_version_allows_batch("2024-11-05"));
    cr_assert_not(mcp_version_allows_batch("2025-06-18"));
    cr_assert_not(mcp_version_supported("2025-06-1"));
}

/* ---- argument validation ---- */

static int validate(const char *tool, const char *args, char *msg, size_t len)
{
    const mcp_tool_t *t = mcp_tool_find(tool);
    cr_assert(t, "no tool %s", tool);
    json_t *a = args ? J(args) : NULL;
    msg[0] = '\0';
    int r = mcp_tool_validate(t, a, msg, len);
    json_decref(a);
    return r;
}

#define VALID(tool, args)                                                                   \
    do {                                                                                    \
        char m_[400];                                                                       \
        cr_assert_eq(validate(tool, args, m_, sizeof m_), 0, "%s %s: %s", tool, args, m_); \
    } while (0)

#define INVALID(tool, args, needle)                                                         \
    do {                                                                                    \
        char m_[400];                                                                       \
        cr_assert_eq(validate(tool, args, m_, sizeof m_), -1, "%s %s accepted", tool, args); \
        cr_assert(strstr(m_, needle), "%s %s: '%s' lacks '%s'", tool, args, m_, needle);   \
    } while (0)

Test(mcp_args, accepts_what_the_schemas_allow)
{
    VALID("exec", "{\"command\":\"ls\"}");
    VALID("exec", "{\"command\":\"ls\",\"timeout\":3600,\"cwd\":\"/tmp\"}");
    VALID("exec", "{\"command\":\"ls\",\"timeout\":5.0}");
    VALID("read_file", "{\"path\":\"a\",\"head\":1}");
    VALID("read_multiple_files", "{\"paths\":[\"a\",\"/b\"]}");
    VALID("edit_file", "{\"path\":\"a\",\"old_text\":\"x\",\"new_text\":\"\",\"replace_all\":true}");
    VALID("list_directory_with_sizes", "{\"path\":\"/\",\"sort_by\":\"size\"}");
    VALID("write_file", "{\"path\":\"a\",\"content\":\"with \\u0000 inside\"}");
    VALID("list_skills", NULL);
    VALID("list_skills", "{}");
    VALID("glob", "{\"pattern\":\"**/*.ts\"}");
}

Test(mcp_args, rejects_types_bounds_unknowns_and_missing)
{
    INVALID("exec", "{}", "missing required argument 'command'");
    INVALID("exec", "{\"command\":5}", "argument 'command' must be a string, got integer");
    INVALID("exec", "{\"command\":\"\"}", "must not be empty");
    INVALID("exec", "{\"command\":\"ls\",\"timeout\":0}", "between 1 and 3600");
    INVALID("exec", "{\"command\":\"ls\",\"timeout\":2.5}", "must be an integer");
    INVALID("exec", "{\"command\":\"ls\",\"timeout\":\"5\"}", "must be an integer");
    INVALID("exec", "{\"command\":\"ls\",\"shell\":\"bash\"}", "unknown argument 'shell'");
    INVALID("read_file", "{\"path\":\"a\\u0000b\"}", "NUL");
    INVALID("read_file", "{\"path\":\"a\",\"head\":-1}", "at least 1");
    INVALID("read_multiple_files", "{\"paths\":[]}", "at least 1");
    INVALID("read_multiple_files", "{\"paths\":[\"a\",3]}", "argument 'paths'[1] must be a string");
    INVALID("read_multiple_files", "{\"paths\":\"a\"}", "must be an array");
    INVALID("edit_file", "{\"path\":\"a\",\"old_text\":\"x\",\"new_text\":\"y\",\"replace_all\":1}",
            "must be a boolean");
    INVALID("edit_file", "{\"path\":\"a\",\"old_text\":\"\",\"new_text\":\"y\"}", "must not be empty");
    INVALID("list_directory_with_sizes", "{\"path\":\"/\",\"sort_by\":\"date\"}", "must be one of");
    INVALID("list_skills", "{\"x\":1}", "unknown argument 'x'");
    INVALID("read_file", NULL, "missing required argument 'path'");
}

Test(mcp_args, path_length_is_bounded)
{
    char *big = malloc(5000 + 32);
    strcpy(big, "{\"path\":\"");
    memset(big + 9, 'a', 5000);
    strcpy(big + 9 + 5000, "\"}");
    INVALID("read_file", big, "too long");
    free(big);
}

Test(mcp_tools, list_has_sixteen_described_tools)
{
    json_t *l = mcp_tools_list(true);
    cr_assert_eq(json_array_size(l), 16);
    size_t i;
    json_t *t;
    int with_output = 0;
    json_array_foreach(l, i, t) {
        cr_assert(json_string_length(json_object_get(t, "description")) > 20);
        json_t *s = json_object_get(t, "inputSchema");
        cr_assert_str_eq(json_string_value(json_object_get(s, "type")), "object");
        cr_assert(json_is_false(json_object_get(s, "additionalProperties")));
        const char *k;
        json_t *p;
        json_object_foreach(json_object_get(s, "properties"), k, p)
            cr_assert(json_string_length(json_object_get(p, "description")) > 3, "%s.%s",
                      json_string_value(json_object_get(t, "name")), k);
        with_output += json_object_get(t, "outputSchema") != NULL;
    }
    cr_assert_eq(with_output, 1, "exec has the only output schema");
    json_decref(l);
    l = mcp_tools_list(false);
    json_array_foreach(l, i, t)
        cr_assert_null(json_object_get(t, "outputSchema"), "older protocols have no outputSchema");
    json_decref(l);
}

/* ---- dispatch without a sandbox ---- */

static json_t *handle(mcp_session_t *s, const char *text)
{
    mcp_ctx_t ctx = {.lease = NULL, .session = s};
    json_t *m = J(text);
    json_t *r = mcp_handle(&ctx, m);
    json_decref(m);
    return r;
}

static int err_code(json_t *r)
{
    return (int)json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
}

Test(mcp_core, initialize_negotiates_and_describes_the_server)
{
    mcp_session_t s = {{0}};
    json_t *r = handle(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
                           "{\"protocolVersion\":\"2025-03-26\",\"capabilities\":{}}}");
    json_t *res = json_object_get(r, "result");
    cr_assert_str_eq(json_string_value(json_object_get(res, "protocolVersion")), "2025-03-26");
    cr_assert_str_eq(s.version, "2025-03-26");
    cr_assert(json_is_object(json_object_get(json_object_get(res, "capabilities"), "tools")));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "serverInfo"), "name")),
                     "hivebox");
    cr_assert(strstr(json_string_value(json_object_get(res, "instructions")), "/root"));
    json_decref(r);
    r = handle(&s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{}}");
    cr_assert_eq(err_code(r), MCP_E_PARAMS);
    json_decref(r);
}

Test(mcp_core, methods_and_errors)
{
    mcp_session_t s = {"2025-06-18"};
    cr_assert_null(handle(&s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
    cr_assert_null(handle(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"));
    json_t *r = handle(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    json_t *empty = json_object();
    cr_assert(json_equal(json_object_get(r, "result"), empty));
    json_decref(empty);
    json_decref(r);
    r = handle(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}");
    cr_assert_eq(err_code(r), MCP_E_METHOD);
    json_decref(r);
    r = handle(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{}}");
    cr_assert_eq(err_code(r), MCP_E_PARAMS);
    json_decref(r);
    r = handle(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                   "{\"name\":\"rm_rf\"}}");
    cr_assert_eq(err_code(r), MCP_E_PARAMS);
    cr_assert(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                     "Unknown tool: rm_rf"));
    json_decref(r);
    r = handle(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                   "{\"name\":\"exec\",\"arguments\":[]}}");
    cr_assert_eq(err_code(r), MCP_E_PARAMS);
    json_decref(r);
    /* valid call, no sandbox: a tool failure, not a protocol error */
    r = handle(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                   "{\"name\":\"exec\",\"arguments\":{\"command\":\"ls\"}}}");
    json_t *res = json_object_get(r, "result");
    cr_assert(json_is_true(json_object_get(res, "isError")));
    cr_assert_eq(json_array_size(json_object_get(res, "content")), 1);
    json_decref(r);
}

/* ---- glob ---- */

Test(mcp_glob, double_star_and_names)
{
    cr_assert(mcp_glob_match("**/*.ts", "a.ts"));
    cr_assert(mcp_glob_match("**/*.ts", "src/x/y/a.ts"));
    cr_assert_not(mcp_glob_match("**/*.ts", "src/a.tsx"));
    cr_assert(mcp_glob_match("*.json", "deep/dir/p.json"), "no slash: any depth");
    cr_assert(mcp_glob_match("src/*.c", "src/main.c"));
    cr_assert_not(mcp_glob_match("src/*.c", "src/sub/main.c"));
    cr_assert(mcp_glob_match("src/**/main.c", "src/main.c"));
    cr_assert(mcp_glob_match("src/**/main.c", "src/a/b/main.c"));
    cr_assert_not(mcp_glob_match("**/*.js", ".git/hooks/x.js"), "** skips hidden dirs");
    cr_assert_not(mcp_glob_match("*", ".bashrc"), "* skips dot files");
    cr_assert(mcp_glob_match(".*", ".bashrc"));
    cr_assert(mcp_glob_match("./a/?.txt", "a/b.txt"));
    cr_assert(mcp_glob_match("**/**/**/**/x", "a/b/c/d/e/f/g/h/x"));
}

/* ---- text ---- */

Test(mcp_text, utf8_repair_and_cut)
{
    json_t *j = mcp_json_text("ok\xff\xe2\x82", 5);
    cr_assert_str_eq(json_string_value(j), "ok\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    json_decref(j);
    const char *euro = "ab\xe2\x82\xac"; /* "ab€" */
    cr_assert_eq(mcp_utf8_cut(euro, 5, 4), 2);
    cr_assert_eq(mcp_utf8_cut(euro, 5, 5), 5);
    cr_assert_eq(mcp_utf8_cut(euro, 5, 2), 2);
    char big[1000];
    memset(big, 'x', sizeof big);
    j = mcp_json_text_capped(big, sizeof big, 100);
    cr_assert(strstr(json_string_value(j), "omitted"));
    cr_assert_lt(json_string_length(j), 300);
    json_decref(j);
}

Test(mcp_text, sizes_base64_paths)
{
    char b[32];
    mcp_human_size(17, b, sizeof b);
    cr_assert_str_eq(b, "17 B");
    mcp_human_size(1536, b, sizeof b);
    cr_assert_str_eq(b, "1.5 KB");
    mcp_human_size(5ull << 30, b, sizeof b);
    cr_assert_str_eq(b, "5.0 GB");
    char *s = mcp_base64("foobar", 6);
    cr_assert_str_eq(s, "Zm9vYmFy");
    free(s);
    s = mcp_base64("fooba", 5);
    cr_assert_str_eq(s, "Zm9vYmE=");
    free(s);
    s = mcp_base64("f", 1);
    cr_assert_str_eq(s, "Zg==");
    free(s);
    char p[HB_PATH_MAX];
    cr_assert_eq(mcp_abs_path("proj/a.py", p, sizeof p), 0);
    cr_assert_str_eq(p, "/root/proj/a.py");
    cr_assert_eq(mcp_abs_path("/tmp/../etc//x/", p, sizeof p), 0);
    cr_assert_str_eq(p, "/etc/x");
    cr_assert_eq(mcp_abs_path(".", p, sizeof p), 0);
    cr_assert_str_eq(p, "/root");
    cr_assert_eq(mcp_abs_path("../../..", p, sizeof p), 0);
    cr_assert_str_eq(p, "/");
}

/* ---- skills selection ---- */

static char g_dir[64];

static void make_skills(void)
{
    strcpy(g_dir, "/tmp/hb-unit-skills-XXXXXX");
    cr_assert(mkdtemp(g_dir));
    char p[128];
    const char *names[] = {"pdf", "docx", "a-b.c"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        cr_assert_eq(mkdir(p, 0755), 0);
    }
    snprintf(p, sizeof p, "%s/not-a-dir", g_dir);
    FILE *f = fopen(p, "w");
    fclose(f);
    snprintf(p, sizeof p, "%s/.hidden", g_dir);
    mkdir(p, 0755);
}

static void rm_skills(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    cr_assert_eq(system(cmd), 0);
}

Test(mcp_skills, selection_rules, .init = make_skills, .fini = rm_skills)
{
    char out[HB_SKILLS_MAX_N * 16];
    hb_err_t e = {0};
    cr_assert_eq(hb_skills_select(g_dir, NULL, out, sizeof out, &e), 0, "%s", e.msg);
    cr_assert_str_eq(out, "a-b.c\ndocx\npdf\n", "omitted: every skill dir, sorted");
    cr_assert_eq(hb_skills_select(g_dir, "[]", out, sizeof out, &e), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(hb_skills_select(g_dir, "[\"pdf\",\"docx\",\"pdf\"]", out, sizeof out, &e), 0);
    cr_assert_str_eq(out, "pdf\ndocx\n");
    cr_assert_eq(hb_skills_select(g_dir, "[\"pdf\",\"nope\"]", out, sizeof out, &e), -1);
    cr_assert_eq(e.code, HB_E_INVALID);
    cr_assert(strstr(e.msg, "unknown skill 'nope'"), "%s", e.msg);
    cr_assert_eq(hb_skills_select(g_dir, "[\"not-a-dir\"]", out, sizeof out, &e), -1);
    cr_assert_eq(hb_skills_select(g_dir, "[\"../etc\"]", out, sizeof out, &e), -1);
    cr_assert_eq(e.code, HB_E_INVALID);
    cr_assert_eq(hb_skills_select(g_dir, "[\".hidden\"]", out, sizeof out, &e), -1);
    cr_assert_eq(hb_skills_select(g_dir, "{\"pdf\":1}", out, sizeof out, &e), -1);
    cr_assert_eq(hb_skills_select("/nonexistent-skills-dir", NULL, out, sizeof out, &e), 0);
    cr_assert_str_eq(out, "", "no skills dir: no skills");
}

/* ---- sessions ---- */

/* One sandbox opening sessions without end (its own token is enough)
 * recycles its own, never another sandbox's. */
Test(mcp_session, one_sandbox_cannot_evict_the_others)
{
    char victim[MCP_SESSION_ID_LEN + 1], id[MCP_SESSION_ID_LEN + 1], first[MCP_SESSION_ID_LEN + 1];
    mcp_session_t out;
    cr_assert_eq(mcp_session_new("quiet", 1, "2025-06-18", victim), 0);
    cr_assert_eq(mcp_session_new("noisy", 2, "2025-06-18", first), 0);
    for (int i = 0; i < 3 * MCP_SESSIONS_MAX; i++)
        cr_assert_eq(mcp_session_new("noisy", 2, "2025-06-18", id), 0);
    cr_assert_eq(mcp_session_get(victim, "quiet", 1, &out), 0, "another sandbox's session went");
    cr_assert_str_eq(out.version, "2025-06-18");
    cr_assert_eq(mcp_session_get(id, "noisy", 2, &out), 0, "the newest session is there");
    cr_assert_neq(mcp_session_get(first, "noisy", 2, &out), 0, "its own oldest was reused");
    cr_assert_neq(mcp_session_get(victim, "noisy", 2, &out), 0, "bound to its sandbox");
}
