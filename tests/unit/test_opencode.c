/* OpenCode config generation: settings from the daemon's config, validation of
 * the create request's agent fields, LLM key handling, MCP merging, the
 * denial of host tools, and the streaming redaction of the key. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "opencode_conf.h"
#include "opencode_guard.h"
#include "opencode_proc.h"
#include "opencode_redact.h"

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    cr_assert_not_null(j, "bad JSON in test: %s", text);
    return j;
}

static int validate(const char *text, hb_err_t *e)
{
    json_t *j = parse(text);
    int rc = hb_oc_validate_mcps(j, "custom_mcps", e);
    json_decref(j);
    return rc;
}

/* ---- settings ---- */

Test(opencode_settings, enabled_values)
{
    cr_assert(hb_oc_enabled_value(NULL), "unset means enabled");
    cr_assert(hb_oc_enabled_value(""), "empty means enabled");
    const char *on[] = {"true", "1", "yes", "TRUE"}, *off[] = {"false", "0", "False", "no"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert(hb_oc_enabled_value(on[i]), "%s", on[i]);
        cr_assert_not(hb_oc_enabled_value(off[i]), "%s", off[i]);
    }
}

Test(opencode_settings, defaults_idle_start_and_instructions)
{
    hb_config_t c = {0};
    hb_oc_settings_t s;
    char warn[512];
    cr_assert_eq(hb_oc_settings_load(&s, &c, warn, sizeof warn), 0);
    cr_assert(s.enabled);
    cr_assert_not(s.eager);
    cr_assert_eq(s.idle_ms, 30LL * 60 * 1000);
    cr_assert_null(s.api_key);
    cr_assert_eq(json_object_size(s.mcps), 0);
    hb_oc_settings_clear(&s);

    c.opencode_start = "eager";
    c.opencode_idle = "90";
    c.opencode_instructions = "one\\ntwo";
    cr_assert_eq(hb_oc_settings_load(&s, &c, warn, sizeof warn), 0);
    cr_assert(s.eager);
    cr_assert_eq(s.idle_ms, 90000);
    cr_assert_str_eq(s.instructions, "one\ntwo");
    hb_oc_settings_clear(&s);

    c.opencode_idle = "5m";
    cr_assert_eq(hb_oc_settings_load(&s, &c, warn, sizeof warn), 0);
    cr_assert_eq(s.idle_ms, 300000);
    hb_oc_settings_clear(&s);

    c.opencode_idle = "soon";
    cr_assert_eq(hb_oc_settings_load(&s, &c, warn, sizeof warn), 0);
    cr_assert_eq(s.idle_ms, 30LL * 60 * 1000);
    cr_assert(strstr(warn, "HIVEBOX_OPENCODE_IDLE"), "%s", warn);
    hb_oc_settings_clear(&s);
}

Test(opencode_settings, global_local_mcp_is_ignored)
{
    hb_config_t c = {.opencode_mcps = "{\"evil\":{\"type\":\"local\",\"command\":[\"sh\"]}}"};
    hb_oc_settings_t s;
    char warn[512];
    cr_assert_eq(hb_oc_settings_load(&s, &c, warn, sizeof warn), 0);
    cr_assert_eq(json_object_size(s.mcps), 0);
    cr_assert(strstr(warn, "HIVEBOX_OPENCODE_MCPS"), "%s", warn);
    hb_oc_settings_clear(&s);

    c.opencode_mcps = "{\"docs\":{\"type\":\"remote\",\"url\":\"https://x/mcp\"}}";
    cr_assert_eq(hb_oc_settings_load(&s, &c, warn, sizeof warn), 0);
    cr_assert_eq(json_object_size(s.mcps), 1);
    hb_oc_settings_clear(&s);
}

/* ---- validation ---- */

Test(opencode_validate, local_mcp_refused)
{
    hb_err_t e = {0};
    cr_assert_eq(validate("{\"x\":{\"type\":\"local\",\"command\":[\"touch\",\"/tmp/p\"]}}", &e), -1);
    cr_assert_eq(e.code, HB_E_INVALID);
    cr_assert(strstr(e.msg, "custom_mcps") && strstr(e.msg, "remote"), "%s", e.msg);
    /* no type at all is not remote either */
    cr_assert_eq(validate("{\"x\":{\"url\":\"http://a/\"}}", &e), -1);
    /* a remote server smuggling a command */
    cr_assert_eq(validate("{\"x\":{\"type\":\"remote\",\"url\":\"http://a/\",\"command\":[\"sh\"]}}",
                          &e), -1);
    cr_assert(strstr(e.msg, "command"), "%s", e.msg);
}

Test(opencode_validate, remote_mcp_rules)
{
    hb_err_t e = {0};
    cr_assert_eq(validate("{\"docs\":{\"type\":\"remote\",\"url\":\"https://example.com/mcp\","
                          "\"enabled\":true,\"headers\":{\"X-Token\":\"t\"},\"timeout\":5000}}", &e),
                 0, "%s", e.msg);
    cr_assert_eq(validate("{}", &e), 0);
    cr_assert_eq(validate("{\"hivebox\":{\"type\":\"remote\",\"url\":\"http://a/\"}}", &e), -1);
    cr_assert(strstr(e.msg, "reserved"), "%s", e.msg);
    cr_assert_eq(validate("{\"x\":{\"type\":\"remote\",\"url\":\"file:///etc/passwd\"}}", &e), -1);
    cr_assert_eq(validate("{\"x\":{\"type\":\"remote\"}}", &e), -1);
    cr_assert_eq(validate("{\"a b\":{\"type\":\"remote\",\"url\":\"http://a/\"}}", &e), -1);
    cr_assert_eq(validate("{\"x\":{\"type\":\"remote\",\"url\":\"http://a/\",\"headers\":{\"h\":1}}}",
                          &e), -1);
    cr_assert_eq(validate("[]", &e), -1);
}

Test(opencode_validate, llm_fields)
{
    hb_err_t e = {0};
    hb_oc_settings_t none = {0};
    cr_assert_eq(hb_oc_validate_llm(&none, "http://127.0.0.1:9/v1", "m", &e), 0);
    cr_assert_eq(hb_oc_validate_llm(&none, "ftp://x/", "m", &e), -1);
    cr_assert(strstr(e.msg, "llm_base_url"), "%s", e.msg);
    cr_assert_eq(hb_oc_validate_llm(&none, "http://x/v1", NULL, &e), -1, "a base URL needs a model");
    hb_oc_settings_t g = {.model = "gm"};
    cr_assert_eq(hb_oc_validate_llm(&g, "http://x/v1", NULL, &e), 0, "the global model serves");
    cr_assert_eq(hb_oc_validate_llm(&none, NULL, "gpt-4o", &e), -1, "no provider named");
    cr_assert(strstr(e.msg, "provider/model"), "%s", e.msg);
    cr_assert_eq(hb_oc_validate_llm(&none, NULL, "openai/gpt-4o", &e), 0);
    hb_oc_settings_t gu = {.base_url = "http://llm/v1"};
    cr_assert_eq(hb_oc_validate_llm(&gu, NULL, "plain", &e), 0, "the global base URL serves");
}

/* ---- key resolution ---- */

Test(opencode_llm, sandbox_url_never_gets_the_global_key)
{
    hb_oc_settings_t g = {.base_url = "http://global/v1", .api_key = "sk-global",
                          .model = "gm"};
    hb_oc_llm_t l;
    hb_oc_resolve_llm(&g, "http://attacker/v1", NULL, NULL, &l);
    cr_assert_str_eq(l.base_url, "http://attacker/v1");
    cr_assert_null(l.key, "the operator's key must not go to a URL the client chose");
    cr_assert_str_eq(l.model, "gm");

    hb_oc_resolve_llm(&g, "http://mine/v1", "sk-mine", "mm", &l);
    cr_assert_str_eq(l.key, "sk-mine");
    cr_assert_str_eq(l.model, "mm");

    hb_oc_resolve_llm(&g, NULL, NULL, "other", &l);
    cr_assert_str_eq(l.base_url, "http://global/v1");
    cr_assert_str_eq(l.key, "sk-global", "the operator's own URL gets the operator's key");

    hb_oc_resolve_llm(&g, NULL, "sk-own", NULL, &l);
    cr_assert_str_eq(l.key, "sk-own");
}

/* ---- config ---- */

static json_t *config_for(hb_oc_settings_t *g, json_t *custom, const hb_oc_llm_t *l, char **text)
{
    hb_oc_sandbox_t sb = {.id = "box1", .daemon_port = 7070, .mcp_token = "tok123",
                          .custom_mcps = custom, .instructions_path = "/x/hivebox.md"};
    json_t *cfg = hb_oc_config(g, &sb, l);
    cr_assert_not_null(cfg);
    *text = json_dumps(cfg, 0);
    return cfg;
}

Test(opencode_config, openai_compatible_provider_without_the_key_in_it)
{
    hb_oc_settings_t g = {.mcps = json_object()};
    hb_oc_llm_t l = {.base_url = "http://127.0.0.1:9/v1", .model = "m1", .key = "sk-secret-1"};
    char *text;
    json_t *cfg = config_for(&g, NULL, &l, &text);
    cr_assert_null(strstr(text, "sk-secret-1"), "the key must not be written: %s", text);
    json_t *p = json_object_get(json_object_get(cfg, "provider"), HB_OC_PROVIDER);
    cr_assert_str_eq(json_string_value(json_object_get(p, "npm")), "@ai-sdk/openai-compatible");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(p, "options"), "baseURL")),
                     "http://127.0.0.1:9/v1");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(p, "env"), 0)),
                     HB_OC_KEY_ENV);
    cr_assert_not_null(json_object_get(json_object_get(p, "models"), "m1"));
    cr_assert_str_eq(json_string_value(json_object_get(cfg, "model")), HB_OC_PROVIDER "/m1");
    free(text);
    json_decref(cfg);
    /* no key: no env entry either */
    l.key = NULL;
    cfg = config_for(&g, NULL, &l, &text);
    p = json_object_get(json_object_get(cfg, "provider"), HB_OC_PROVIDER);
    cr_assert_null(json_object_get(p, "env"));
    free(text);
    json_decref(cfg);
    json_decref(g.mcps);
}

Test(opencode_config, model_and_key_use_the_models_own_provider)
{
    hb_oc_settings_t g = {.mcps = json_object()};
    hb_oc_llm_t l = {.model = "anthropic/claude-sonnet-4-5", .key = "sk-ant-xyz"};
    char *text;
    json_t *cfg = config_for(&g, NULL, &l, &text);
    cr_assert_null(strstr(text, "sk-ant-xyz"), "%s", text);
    cr_assert_str_eq(json_string_value(json_object_get(cfg, "model")), "anthropic/claude-sonnet-4-5");
    json_t *opt = json_object_get(json_object_get(json_object_get(cfg, "provider"), "anthropic"),
                                  "options");
    cr_assert_str_eq(json_string_value(json_object_get(opt, "apiKey")), "{env:" HB_OC_KEY_ENV "}");
    free(text);
    json_decref(cfg);
    json_decref(g.mcps);
}

Test(opencode_config, nothing_means_opencode_defaults)
{
    hb_oc_settings_t g = {.mcps = json_object()};
    hb_oc_llm_t l = {0};
    char *text;
    json_t *cfg = config_for(&g, NULL, &l, &text);
    cr_assert_null(json_object_get(cfg, "provider"));
    cr_assert_null(json_object_get(cfg, "model"));
    free(text);
    json_decref(cfg);
    json_decref(g.mcps);
}

Test(opencode_config, hivebox_mcp_and_merge_order)
{
    hb_oc_settings_t g = {.mcps = parse("{\"shared\":{\"type\":\"remote\",\"url\":\"http://g/\"},"
                                        "\"docs\":{\"type\":\"remote\",\"url\":\"http://global-docs/\"}}")};
    json_t *custom = parse("{\"docs\":{\"type\":\"remote\",\"url\":\"http://mine/\"}}");
    hb_oc_llm_t l = {0};
    char *text;
    json_t *cfg = config_for(&g, custom, &l, &text);
    json_t *mcp = json_object_get(cfg, "mcp");
    json_t *hb = json_object_get(mcp, "hivebox");
    cr_assert_str_eq(json_string_value(json_object_get(hb, "type")), "remote");
    cr_assert_str_eq(json_string_value(json_object_get(hb, "url")),
                     "http://127.0.0.1:7070/api/v1/hiveboxes/box1/mcp");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(hb, "headers"),
                                                       "Authorization")), "Bearer tok123");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(mcp, "docs"), "url")),
                     "http://mine/", "the sandbox's server wins a clash");
    cr_assert_not_null(json_object_get(mcp, "shared"));
    /* their tools are allowed, everything else denied */
    json_t *perm = json_object_get(cfg, "permission");
    cr_assert_str_eq(json_string_value(json_object_get(perm, "*")), "deny");
    cr_assert_str_eq(json_string_value(json_object_get(perm, "hivebox_*")), "allow");
    cr_assert_str_eq(json_string_value(json_object_get(perm, "docs_*")), "allow");
    cr_assert_eq(strncmp(text + strcspn(text, "*") - 1, "\"*\"", 3), 0, "\"*\" must come first");
    free(text);
    json_decref(cfg);
    json_decref(custom);
    json_decref(g.mcps);
}

Test(opencode_config, host_tools_denied)
{
    hb_oc_settings_t g = {.mcps = json_object()};
    hb_oc_llm_t l = {0};
    char *text;
    json_t *cfg = config_for(&g, NULL, &l, &text);
    json_t *tools = json_object_get(cfg, "tools");
    const char *host[] = {"bash", "read", "write", "edit", "list", "glob", "grep", "patch",
                          "webfetch", "task"};
    for (size_t i = 0; i < sizeof host / sizeof host[0]; i++)
        cr_assert(json_is_false(json_object_get(tools, host[i])), "%s is not off", host[i]);
    json_t *perm = json_object_get(cfg, "permission");
    cr_assert_null(json_object_get(perm, "bash"), "bash must fall under the deny-all rule");
    free(text);
    json_decref(cfg);
    json_decref(g.mcps);
}

Test(opencode_config, instructions_name_the_sandbox_and_operator_lines)
{
    hb_oc_settings_t g = {.mcps = json_object(), .instructions = "Always answer in French."};
    hb_oc_sandbox_t sb = {.id = "box9", .daemon_port = 7070};
    char *t = hb_oc_instructions(&g, &sb);
    cr_assert_not_null(t);
    cr_assert(strstr(t, "box9") && strstr(t, "hivebox_exec"), "%s", t);
    cr_assert(strstr(t, "Always answer in French."), "%s", t);
    free(t);
    json_decref(g.mcps);
}

/* ---- redaction ---- */

typedef struct {
    char buf[512];
    size_t n;
} sink_t;

static int collect(void *ud, const char *d, size_t len)
{
    sink_t *s = ud;
    cr_assert_leq(s->n + len, sizeof s->buf);
    memcpy(s->buf + s->n, d, len);
    s->n += len;
    return 0;
}

Test(opencode_redact, key_split_across_chunks)
{
    hb_redact_t r;
    cr_assert_eq(hb_redact_init(&r, "sk-secret-42"), 0);
    sink_t s = {0};
    const char *parts[] = {"{\"key\":\"sk-se", "cret-4", "2\",\"x\":\"sk-", "no\"}"};
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(hb_redact_feed(&r, parts[i], strlen(parts[i]), collect, &s), 0);
    cr_assert_eq(hb_redact_flush(&r, collect, &s), 0);
    s.buf[s.n] = '\0';
    cr_assert_str_eq(s.buf, "{\"key\":\"************\",\"x\":\"sk-no\"}");
    hb_redact_free(&r);
}

Test(opencode_redact, events_are_not_held_back)
{
    hb_redact_t r;
    cr_assert_eq(hb_redact_init(&r, "sk-secret-42"), 0);
    sink_t s = {0};
    const char *ev = "data: {\"type\":\"server.heartbeat\"}\n\n";
    cr_assert_eq(hb_redact_feed(&r, ev, strlen(ev), collect, &s), 0);
    cr_assert_eq(s.n, strlen(ev), "a whole event must go out at once");
    hb_redact_free(&r);
}

Test(opencode_redact, no_key_passes_through)
{
    hb_redact_t r;
    cr_assert_eq(hb_redact_init(&r, NULL), 0);
    sink_t s = {0};
    cr_assert_eq(hb_redact_feed(&r, "abc", 3, collect, &s), 0);
    cr_assert_eq(s.n, 3);
    hb_redact_free(&r);
}

/* ---- small process helpers ---- */

Test(opencode_proc, auth_header_is_basic_base64)
{
    char buf[HB_OC_AUTH_MAX];
    hb_oc_auth_header("pw", buf, sizeof buf);
    cr_assert_str_eq(buf, "Basic b3BlbmNvZGU6cHc=");   /* base64("opencode:pw") */
    char pw[HB_OC_PASS_LEN + 1], pw2[HB_OC_PASS_LEN + 1];
    hb_err_t e;
    cr_assert_eq(hb_oc_password(pw, &e), 0);
    cr_assert_eq(hb_oc_password(pw2, &e), 0);
    cr_assert_eq(strlen(pw), HB_OC_PASS_LEN);
    cr_assert_str_neq(pw, pw2);
}

/* ---- routes that reach the host ---- */

Test(opencode_guard, host_routes_refused)
{
    cr_assert_not_null(hb_oc_route_blocked("POST", "/session/ses_1/shell"));
    cr_assert_not_null(hb_oc_route_blocked("POST", "/session/ses_1/shell/"));
    cr_assert_not_null(hb_oc_route_blocked("POST", "//session//ses_1/SHELL"));
    cr_assert_not_null(hb_oc_route_blocked("POST", "/session/x/y/../shell"), "dot segments");
    cr_assert_not_null(hb_oc_route_blocked("POST", "/pty"));
    cr_assert_not_null(hb_oc_route_blocked("GET", "/pty/p1/connect"));
    cr_assert_not_null(hb_oc_route_blocked("GET", "/file/content"));
    cr_assert_not_null(hb_oc_route_blocked("GET", "/file"));
    cr_assert_not_null(hb_oc_route_blocked("GET", "/find/file"));
    cr_assert_not_null(hb_oc_route_blocked("GET", "/api/fs/read/etc/shadow"));
    cr_assert_not_null(hb_oc_route_blocked("PATCH", "/config"));
    cr_assert_not_null(hb_oc_route_blocked("PATCH", "/global/config"));
    cr_assert_not_null(hb_oc_route_blocked("POST", "/mcp"));
    cr_assert_not_null(hb_oc_route_blocked("POST", "/global/upgrade"));
    cr_assert_not_null(hb_oc_route_blocked("POST", "/experimental/worktree"));
    cr_assert_not_null(hb_oc_route_blocked("POST", "/api/session/s1/permission"));
    cr_assert_not_null(hb_oc_route_blocked("POST", "/api/session/s1/permission/p1/reply"));
    cr_assert_not_null(hb_oc_route_blocked("POST", "/permission/p1/reply"));
    cr_assert_not_null(hb_oc_route_blocked("POST", "/session/s1/permissions/p1"));
}

/* The guard sees the decoded path: anything that would change it once it
 * is a URL again is refused, and dots are found past the segment limit. */
Test(opencode_guard, decoded_specials_and_deep_dots_refused)
{
    const char *bad[] = {
        "/pty?", "/session/s1/shell?x=1", "/session/s1/shell#x", "/pty%2F", "/pty\\",
        "/session/s1/shell\r\n", "/a\x7f",
        "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/../../x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not_null(hb_oc_route_blocked("GET", bad[i]), "%s", bad[i]);
    cr_assert_null(hb_oc_route_blocked("GET", "/session/ses_1/message/msg 1"));
}

Test(opencode_guard, agent_routes_allowed)
{
    const char *ok[][2] = {
        {"GET", "/"}, {"GET", "/global/health"}, {"GET", "/event"}, {"GET", "/session"},
        {"POST", "/session"}, {"POST", "/session/ses_1/prompt_async"},
        {"POST", "/session/ses_1/message"}, {"POST", "/session/ses_1/abort"},
        {"DELETE", "/session/ses_1"}, {"GET", "/config"}, {"GET", "/config/providers"},
        {"GET", "/provider"}, {"GET", "/doc"}, {"GET", "/mcp"}, {"GET", "/agent"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_assert_null(hb_oc_route_blocked(ok[i][0], ok[i][1]), "%s %s", ok[i][0], ok[i][1]);
}

Test(opencode_guard, bodies_that_switch_tools_on_are_refused)
{
    const char *bad[] = {
        "{\"parts\":[],\"tools\":{\"*\":true}}",
        "  {\"permission\":[{\"permission\":\"bash\",\"pattern\":\"*\",\"action\":\"allow\"}]}",
        "{\"\\u0074ools\":{\"bash\":true}}",                 /* escaped key */
        "{\"tools\":{\"bash\":true},\"x\":\"a\\u0000b\"}",   /* NUL in a string */
        "{\"tools\":{\"bash\":true},\"n\":123456789012345678901234567890}",
        "{\"tools\":{\"bash\":true},\"n\":1e400}",            /* unparsable here: refused */
        "{\"tools\":1",                                       /* broken JSON: refused */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not_null(hb_oc_body_blocked(bad[i], strlen(bad[i])), "%s", bad[i]);
    const char *ok[] = {
        "{\"parts\":[{\"type\":\"text\",\"text\":\"use tools and permission words freely\"}]}",
        "{}", "", "not json", "[1,2]", "{\"title\":\"x\",\"nested\":{\"tools\":true}}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_assert_null(hb_oc_body_blocked(ok[i], strlen(ok[i])), "%s", ok[i]);
}
