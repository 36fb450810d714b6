/* The gateway's pure parts: request parsing and validation, query strings,
 * routing, auth, the error -> status map, timestamps, UTF-8 repair, JSON
 * shapes, and the host figures parsed for analytics. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "hoststat.h"
#include "http_status.h"
#include "json_out.h"
#include "query.h"
#include "req_parse.h"
#include "route.h"
#include "textutil.h"

static int create(const char *body, hb_msg_t *q, hb_err_t *e)
{
    return hb_req_parse_create(body, strlen(body), NULL, q, e);
}

Test(req_create, empty_body_gives_the_seed_defaults)
{
    hb_msg_t q;
    hb_err_t e = {0};
    cr_assert_eq(create("", &q, &e), 0, "%s", e.msg);
    cr_assert_eq(q.type, HB_MSG_SB_CREATE);
    cr_assert_null(q.name);
    cr_assert_str_eq(q.image, "base");
    cr_assert_str_eq(q.memory, "512m");
    cr_assert_float_eq(q.cpus, 1.0, 1e-12);
    cr_assert_eq(q.pids, 128);
    cr_assert_str_eq(q.network, "none");
    cr_assert_eq(q.timeout_s, 3600);
    cr_assert_str_eq(q.disk, "10g");
    cr_assert_eq(q.disk_bytes, 10ull << 30);
    hb_msg_clear(&q);
}

Test(req_create, fields_are_taken_and_memory_echoed_lower_case)
{
    hb_msg_t q;
    hb_err_t e = {0};
    cr_assert_eq(create("{\"name\":\"my-box\",\"memory\":\"256M\",\"cpus\":1,\"pids\":50,"
                        "\"timeout\":86400,\"skills\":[],"
                        "\"custom_mcps\":{\"s\":{\"type\":\"remote\",\"url\":\"http://x/\"}},"
                        "\"llm_api_key\":\"sk\",\"llm_model\":null}",
                        &q, &e),
                 0, "%s", e.msg);
    cr_assert_str_eq(q.name, "my-box");
    cr_assert_str_eq(q.memory, "256m");
    cr_assert_eq(q.memory_bytes, 256u << 20);
    cr_assert_eq(q.pids, 50);
    cr_assert_eq(q.timeout_s, 86400);
    cr_assert_str_eq(q.skills, "[]");
    cr_assert(strstr(q.custom_mcps, "\"url\":\"http://x/\""), "%s", q.custom_mcps);
    cr_assert_str_eq(q.llm_api_key, "sk");
    cr_assert_null(q.llm_model);
    hb_msg_clear(&q);
}

/* Each bad body is refused with HB_E_INVALID and a message naming field. */
static const struct {
    const char *body, *field;
} bad_creates[] = {
    {"{\"name\":12}", "name"},          {"{\"name\":\"-x\"}", "name"},
    {"{\"name\":\"a/b\"}", "name"},     {"{\"bogus\":1}", "bogus"},
    {"{\"memory\":512}", "memory"},     {"{\"memory\":\"12q\"}", "memory"},
    {"{\"cpus\":\"2\"}", "cpus"},       {"{\"cpus\":0}", "cpus"},
    {"{\"pids\":1.5}", "pids"},         {"{\"pids\":-1}", "pids"},
    {"{\"timeout\":0}", "timeout"},     {"{\"timeout\":86401}", "timeout"},
    {"{\"timeout\":\"1\"}", "timeout"}, {"{\"network\":\"wifi\"}", "network"},
    {"{\"skills\":\"pdf\"}", "skills"}, {"{\"skills\":[1]}", "skills"},
    {"{\"custom_mcps\":[]}", "custom_mcps"}, {"{\"llm_api_key\":5}", "llm_api_key"},
    {"{\"image\":\"../x\"}", "image"},  {"[1]", "body"},
    {"{\"name\":\"a\",\"name\":\"b\"}", "JSON"}, {"{", "JSON"},
    {"{\"disk\":10}", "disk"},        {"{\"disk\":\"ten\"}", "disk"},
    {"{\"disk\":\"1m\"}", "disk"},  {"{\"disk\":\"-1g\"}", "disk"},
};

Test(req_create, bad_input_names_the_field)
{
    for (size_t i = 0; i < sizeof bad_creates / sizeof bad_creates[0]; i++) {
        hb_msg_t q;
        hb_err_t e = {0};
        cr_assert_eq(create(bad_creates[i].body, &q, &e), -1, "accepted %s", bad_creates[i].body);
        cr_assert_eq(e.code, HB_E_INVALID, "%s", bad_creates[i].body);
        cr_assert(strstr(e.msg, bad_creates[i].field), "'%s' does not name %s for %s", e.msg,
                  bad_creates[i].field, bad_creates[i].body);
    }
}

Test(req_create, oversized_body_is_413)
{
    size_t n = HB_JSON_BODY_MAX + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    hb_msg_t q;
    hb_err_t e = {0};
    cr_assert_eq(hb_req_parse_create(big, n, NULL, &q, &e), -1);
    cr_assert_eq(e.code, HB_E_TOOBIG);
    free(big);
}

Test(req_exec, fields_and_defaults)
{
    const char *b = "{\"command\":\"echo hi\",\"timeout\":1.5,\"cwd\":\"/tmp\","
                    "\"env\":{\"A\":\"1\"},\"stdin\":\"x\\u0000y\",\"stream\":true,\"user\":\"nobody\"}";
    hb_msg_t q;
    int stream = -1;
    hb_err_t e = {0};
    cr_assert_eq(hb_req_parse_exec(b, strlen(b), &q, &stream, &e), 0, "%s", e.msg);
    cr_assert_eq(q.type, HB_MSG_SB_EXEC);
    cr_assert_str_eq(q.command, "echo hi");
    cr_assert_eq(q.timeout_ms, 1500);
    cr_assert_str_eq(q.cwd, "/tmp");
    cr_assert_str_eq(q.env[0], "A=1");
    cr_assert_null(q.env[1]);
    cr_assert_eq(q.stdin_data.len, 3);
    cr_assert_eq(stream, 1);
    cr_assert_str_eq(q.user, "nobody");
    hb_msg_clear(&q);
    const char *arr = "{\"command\":\"x\",\"env\":[\"K=V\"]}";
    cr_assert_eq(hb_req_parse_exec(arr, strlen(arr), &q, &stream, &e), 0, "%s", e.msg);
    cr_assert_str_eq(q.env[0], "K=V");
    cr_assert_eq(q.timeout_ms, 0);
    cr_assert_eq(stream, -1, "absent");
    cr_assert_null(q.user);
    hb_msg_clear(&q);
    const char *uid = "{\"command\":\"x\",\"user\":1000}";
    cr_assert_eq(hb_req_parse_exec(uid, strlen(uid), &q, &stream, &e), 0, "%s", e.msg);
    cr_assert_str_eq(q.user, "1000");
    hb_msg_clear(&q);
}

Test(req_exec, bad_input_names_the_field)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{}", "command"},
        {"{\"command\":\"\"}", "command"},
        {"{\"command\":7}", "command"},
        {"{\"command\":\"a\\u0000b\"}", "command"},
        {"{\"command\":\"x\",\"timeout\":-1}", "timeout"},
        {"{\"command\":\"x\",\"timeout\":\"5\"}", "timeout"},
        {"{\"command\":\"x\",\"cwd\":\"rel\"}", "cwd"},
        {"{\"command\":\"x\",\"env\":{\"A=B\":\"1\"}}", "env"},
        {"{\"command\":\"x\",\"env\":{\"A\":1}}", "env"},
        {"{\"command\":\"x\",\"env\":[\"NOEQUALS\"]}", "env"},
        {"{\"command\":\"x\",\"stdin\":5}", "stdin"},
        {"{\"command\":\"x\",\"shell\":\"bash\"}", "shell"},
        {"{\"command\":\"x\",\"stream\":1}", "stream"},
        {"{\"command\":\"x\",\"user\":\"\"}", "user"},
        {"{\"command\":\"x\",\"user\":\"Bad User\"}", "user"},
        {"{\"command\":\"x\",\"user\":\"a\\u0000b\"}", "user"},
        {"{\"command\":\"x\",\"user\":-1}", "user"},
        {"{\"command\":\"x\",\"user\":\"99999999999\"}", "user"},
        {"{\"command\":\"x\",\"user\":true}", "user"},
        {"{\"command\":\"x\",\"stream\":\"yes\"}", "stream"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hb_msg_t q;
        int stream = -1;
        hb_err_t e = {0};
        cr_assert_eq(hb_req_parse_exec(bad[i].body, strlen(bad[i].body), &q, &stream, &e), -1, "accepted %s",
                     bad[i].body);
        cr_assert(strstr(e.msg, bad[i].field), "'%s' does not name %s", e.msg, bad[i].field);
    }
}

Test(req_query, path_rules)
{
    char p[64];
    hb_err_t e = {0};
    cr_assert_eq(hb_req_parse_path("path=%2Fetc%2Fos-release", true, p, sizeof p, &e), 0);
    cr_assert_str_eq(p, "/etc/os-release");
    cr_assert_eq(hb_req_parse_path(NULL, false, p, sizeof p, &e), 0);
    cr_assert_str_eq(p, "/");
    cr_assert_eq(hb_req_parse_path(NULL, true, p, sizeof p, &e), -1);
    cr_assert(strstr(e.msg, "path"));
    cr_assert_eq(hb_req_parse_path("path=etc", true, p, sizeof p, &e), -1);
    cr_assert_eq(hb_req_parse_path("path=/a%00b", true, p, sizeof p, &e), -1);
    cr_assert_eq(hb_req_parse_path("path=/a%zz", true, p, sizeof p, &e), -1);
    cr_assert_eq(hb_req_parse_path("path=/a%2", true, p, sizeof p, &e), -1);
}

Test(req_query, range)
{
    uint64_t r = 99;
    hb_err_t e = {0};
    cr_assert_eq(hb_req_parse_range(NULL, &r, &e), 0);
    cr_assert_eq(r, 0);
    cr_assert_eq(hb_req_parse_range("x=1&range=300", &r, &e), 0);
    cr_assert_eq(r, 300);
    cr_assert_eq(hb_req_parse_range("range=abc", &r, &e), -1);
    cr_assert(strstr(e.msg, "range"));
    cr_assert_eq(hb_req_parse_range("range=-5", &r, &e), -1);
    cr_assert_eq(hb_req_parse_range("range=99999999999", &r, &e), -1);
}

Test(query, decoding_and_first_match)
{
    char out[16];
    size_t n;
    cr_assert_eq(hb_query_param("a=1&b=x+y%21&b=2", "b", out, sizeof out, &n), 1);
    cr_assert_str_eq(out, "x y!");
    cr_assert_eq(hb_query_param("ab=1", "a", out, sizeof out, &n), 0);
    cr_assert_eq(hb_query_param("a", "a", out, sizeof out, &n), 1);
    cr_assert_eq(n, 0);
    cr_assert_eq(hb_query_param("a=0123456789abcdefXYZ", "a", out, sizeof out, &n), -1);
}

Test(route, paths)
{
    hb_route_t r;
    hb_route_match("/healthz", &r);
    cr_assert_eq(r.kind, HB_RT_HEALTHZ);
    cr_assert_not(hb_route_needs_auth(r.kind));
    hb_route_match("/api/v1/hiveboxes", &r);
    cr_assert_eq(r.kind, HB_RT_SANDBOXES);
    cr_assert(hb_route_needs_auth(r.kind));
    hb_route_match("/api/v1/hiveboxes/box-1/", &r);
    cr_assert_eq(r.kind, HB_RT_SANDBOX);
    cr_assert_str_eq(r.id, "box-1");
    hb_route_match("/api/v1/hiveboxes/box-1/files/list", &r);
    cr_assert_eq(r.kind, HB_RT_FILES_LIST);
    hb_route_match("/api/v1/hiveboxes/box-1/exec", &r);
    cr_assert_eq(r.kind, HB_RT_EXEC);
    hb_route_match("/api/v1/hiveboxes/..%2f/exec", &r);
    cr_assert(r.bad_id);
    hb_route_match("/api/v1/images", &r);
    cr_assert_eq(r.kind, HB_RT_IMAGES);
    cr_assert(hb_route_needs_auth(r.kind));
    hb_route_match("/api/v1/images/my-snap/", &r);
    cr_assert(r.kind == HB_RT_IMAGE && hb_route_needs_auth(r.kind));
    cr_assert_str_eq(r.id, "my-snap");
    cr_assert_str_eq(hb_route_template(&r), "/api/v1/images/:name");
    hb_route_match("/api/v1/images/..", &r);
    cr_assert(r.kind == HB_RT_IMAGE && r.id[0] == '\0');
    hb_route_match("/api/v1/images/my-snap/log", &r);
    cr_assert(r.kind == HB_RT_IMAGE_LOG && !strcmp(r.id, "my-snap"));
    cr_assert_str_eq(hb_route_template(&r), "/api/v1/images/:name/log");
    hb_route_match("/api/v1/images/a/b", &r);
    cr_assert_eq(r.kind, HB_RT_API_OTHER);
    static const struct { const char *tail; hb_route_kind_t kind; const char *tpl; } lc[] = {
        {"pause", HB_RT_PAUSE, "/pause"},           {"resume", HB_RT_RESUME, "/resume"},
        {"snapshots", HB_RT_SNAPSHOTS, "/snapshots"}, {"fork", HB_RT_FORK, "/fork"},
        {"restore", HB_RT_RESTORE, "/restore"},     {"network", HB_RT_NETWORK, "/network"},
    };
    for (size_t i = 0; i < sizeof lc / sizeof lc[0]; i++) {
        char path[96], tpl[96];
        snprintf(path, sizeof path, "/api/v1/hiveboxes/box-1/%s", lc[i].tail);
        snprintf(tpl, sizeof tpl, "/api/v1/hiveboxes/:id%s", lc[i].tpl);
        hb_route_match(path, &r);
        cr_assert(r.kind == lc[i].kind && hb_route_needs_auth(r.kind), "%s", path);
        cr_assert_str_eq(r.id, "box-1");
        cr_assert_str_eq(hb_route_template(&r), tpl);
    }
    hb_route_match("/api/v1/skills/", &r);
    cr_assert_eq(r.kind, HB_RT_SKILLS);
    hb_route_match("/api/v1/skillsx", &r);
    cr_assert_eq(r.kind, HB_RT_API_OTHER);
    hb_route_match("/api/v1/nope", &r);
    cr_assert_eq(r.kind, HB_RT_API_OTHER);
    cr_assert(hb_route_needs_auth(r.kind));
    hb_route_match("/dashboard/app.js", &r);
    cr_assert_eq(r.kind, HB_RT_DASHBOARD);
    hb_route_match("/other", &r);
    cr_assert_eq(r.kind, HB_RT_NONE);
    hb_route_match("/api/v1/hiveboxes/box-1/processes/kill-all", &r);
    cr_assert_eq(r.kind, HB_RT_KILL_ALL);
    cr_assert_str_eq(r.id, "box-1");
    cr_assert(hb_route_needs_auth(r.kind));
    hb_route_match("/api/v1/hiveboxes/box-1/processes", &r);
    cr_assert_eq(r.kind, HB_RT_PROCESSES);
    hb_route_match("/api/v1/hiveboxes/box-1/processes/42/", &r);
    cr_assert(r.kind == HB_RT_PROCESS && r.action == HB_PA_NONE && !r.bad_proc);
    cr_assert_str_eq(r.proc, "42");
    hb_route_match("/api/v1/hiveboxes/box-1/processes/web/stdin/close", &r);
    cr_assert(r.kind == HB_RT_PROCESS && r.action == HB_PA_STDIN_CLOSE);
    cr_assert_str_eq(r.proc, "web");
    hb_route_match("/api/v1/hiveboxes/box-1/processes/web/ws", &r);
    cr_assert_eq(r.action, HB_PA_WS);
    hb_route_match("/api/v1/hiveboxes/box-1/processes/web/nope", &r);
    cr_assert_eq(r.action, HB_PA_UNKNOWN);
    hb_route_match("/api/v1/hiveboxes/box-1/processes//output", &r);
    cr_assert(r.kind == HB_RT_PROCESS && r.bad_proc);
    hb_route_match("/api/v1/hiveboxes/box-1/terminal/ticket", &r);
    cr_assert_eq(r.kind, HB_RT_TERMINAL_TICKET);
    hb_route_match("/api/v1/hiveboxes/box-1/terminal", &r);
    cr_assert_eq(r.kind, HB_RT_TERMINAL);
}

Test(auth, bearer)
{
    cr_assert(hb_auth_bearer_ok("Bearer sekrit", "sekrit"));
    cr_assert(hb_auth_bearer_ok("bearer  sekrit ", "sekrit"));
    cr_assert_not(hb_auth_bearer_ok("Bearer sekri", "sekrit"));
    cr_assert_not(hb_auth_bearer_ok("Bearer sekrit2", "sekrit"));
    cr_assert_not(hb_auth_bearer_ok("Basic sekrit", "sekrit"));
    cr_assert_not(hb_auth_bearer_ok(NULL, "sekrit"));
    cr_assert_not(hb_auth_bearer_ok("Bearer ", ""));
    cr_assert(hb_ct_equal("abc", 3, "abc", 3));
    cr_assert_not(hb_ct_equal("abd", 3, "abc", 3));
    cr_assert_not(hb_ct_equal("", 0, "a", 1));
}

Test(http_status, one_map)
{
    cr_assert_eq(hb_http_status(HB_E_INVALID), 400);
    cr_assert_eq(hb_http_status(HB_E_NOTFOUND), 404);
    cr_assert_eq(hb_http_status(HB_E_EXISTS), 409);
    cr_assert_eq(hb_http_status(HB_E_DEAD), 409);
    cr_assert_eq(hb_http_status(HB_E_TOOBIG), 413);
    cr_assert_eq(hb_http_status(HB_E_NOSPACE), 507);
    cr_assert_eq(hb_http_status(HB_E_UNAVAIL), 503);
    cr_assert_eq(hb_http_status(HB_E_NOTSUP), 503);
    cr_assert_eq(hb_http_status(HB_E_GONE), 410);
    cr_assert_eq(hb_http_status(HB_E_INTERNAL), 500);
    cr_assert_eq(hb_http_status(HB_E_CONFLICT), 409);
    cr_assert_eq(hb_http_status(HB_E_LIMIT), 429);
}

Test(textutil, rfc3339_utc)
{
    char b[HB_RFC3339_LEN];
    cr_assert_str_eq(hb_rfc3339(1736937000, b, sizeof b), "2025-01-15T10:30:00Z");
    cr_assert_str_eq(hb_rfc3339(0, b, sizeof b), "1970-01-01T00:00:00Z");
}

Test(textutil, utf8_repair)
{
    size_t n;
    char *s = hb_utf8_sanitize("ok \xc3\xa9 \xff end \xe2\x82", 14, &n);
    cr_assert_str_eq(s, "ok \xc3\xa9 \xef\xbf\xbd end \xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    s = hb_utf8_sanitize("\xed\xa0\x80", 3, &n);   /* a UTF-16 surrogate is not UTF-8 */
    cr_assert_eq(n, 9);
    free(s);
}

Test(json_out, create_shape_is_the_seed)
{
    hb_sbinfo_t s = {.id = "my", .status = "running", .image = "base", .created_at = 1736937000,
                     .expires_at = 1736940600, .memory = "512m", .cpus = 2.0, .pids = 128,
                     .network = "none"};
    json_t *j = hb_json_created(&s, true);
    json_object_del(j, "opencode_url");   /* the OpenCode section's addition */
    json_object_del(json_object_get(j, "limits"), "disk");   /* the disk quota's */
    cr_assert_eq(json_object_size(json_object_get(j, "metadata")), 0);   /* E2B's additions */
    cr_assert_eq(json_array_size(json_object_get(j, "env_names")), 0);
    json_object_del(j, "metadata");
    json_object_del(j, "env_names");
    /* issue 17's (pause): the create options, paused_at only while paused */
    cr_assert(json_is_false(json_object_get(j, "auto_resume")));
    cr_assert_str_eq(json_string_value(json_object_get(j, "on_timeout")), "destroy");
    cr_assert_null(json_object_get(j, "paused_at"));
    json_object_del(j, "auto_resume");
    json_object_del(j, "on_timeout");
    char *t = hb_json_text(j, NULL);
    cr_assert_str_eq(t, "{\"id\":\"my\",\"status\":\"running\",\"image\":\"base\","
                        "\"created_at\":\"2025-01-15T10:30:00Z\","
                        "\"network\":{\"mode\":\"none\",\"ip\":null},"
                        "\"limits\":{\"memory\":\"512m\",\"cpus\":2.0,\"pids\":128},"
                        "\"expires_at\":\"2025-01-15T11:30:00Z\"}");
    free(t);
    json_decref(j);
}

Test(json_out, failed_sandbox_says_why_only_when_failed)
{
    hb_sbinfo_t s = {.id = "my", .status = "running", .image = "base", .created_at = 1736937000,
                     .expires_at = 1736940600, .memory = "512m", .network = "none",
                     .failure = ""};
    json_t *j = hb_json_sandbox(&s, 1736937060, true);
    cr_assert_null(json_object_get(j, "failure_reason"));
    cr_assert_null(json_object_get(j, "failed_at"));
    json_decref(j);
    s.status = "failed";
    s.failure = "its init process (PID 1) was killed by the OOM killer";
    s.failed_at = 1736937060;
    j = hb_json_sandbox(&s, 1736937070, true);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "failed");
    cr_assert_str_eq(json_string_value(json_object_get(j, "failure_reason")), s.failure);
    cr_assert_str_eq(json_string_value(json_object_get(j, "failed_at")), "2025-01-15T10:31:00Z");
    json_decref(j);
    j = hb_json_list(&s, 1, 1736937070, true);
    json_t *e = json_array_get(json_object_get(j, "sandboxes"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(e, "failure_reason")), s.failure);
    json_decref(j);
}

Test(hoststat, parsers)
{
    uint64_t total, used;
    cr_assert_eq(hb_parse_meminfo("MemTotal:  1000 kB\nMemFree: 10 kB\nMemAvailable:  250 kB\n",
                                  &total, &used),
                 0);
    cr_assert_eq(total, 1000 * 1024);
    cr_assert_eq(used, 750 * 1024);
    cr_assert_eq(hb_parse_meminfo("MemTotal: 5 kB\n", &total, &used), -1);
    hb_cpu_times_t a, b;
    cr_assert_eq(hb_parse_proc_stat("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1\n", &a), 0);
    cr_assert_eq(hb_parse_proc_stat("cpu  150 0 150 750 150 0 0 0 0 0\n", &b), 0);
    cr_assert_float_eq(hb_cpu_percent(&a, &b), 50.0, 1e-9);
    cr_assert_float_eq(hb_cpu_percent(&b, &a), 0.0, 1e-9);
    cr_assert_eq(hb_parse_proc_stat("intr 5\n", &a), -1);
}
