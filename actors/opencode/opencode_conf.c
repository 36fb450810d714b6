/* OpenCode settings, validation and config generation (see opencode_conf.h). */
#include "opencode_conf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime.h"

/* OpenCode's tools that act on the host. All are denied by the "*" rule;
 * they are also switched off by name so that they are not even offered to
 * the model (and a future OpenCode that ignores one mechanism still obeys
 * the other). */
static const char *const host_tools[] = {
    "bash", "read", "write", "edit", "multiedit", "patch", "apply_patch", "list", "glob",
    "grep", "webfetch", "websearch", "codesearch", "task", "skill", "lsp", "question",
    NULL,
};

/* ---- small helpers ---- */

/* A literal backslash-n separates lines too: most ways of setting an
 * environment variable (docker -e, systemd) make a real newline awkward. */
static void unescape_newlines(char *s)
{
    if (!s)
        return;
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] == 'n') {
            *w++ = '\n';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static char *dup_set(const char *v)
{
    return v && v[0] ? strdup(v) : NULL;
}

static void warnf(char *warn, size_t wlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warnf(char *warn, size_t wlen, const char *fmt, ...)
{
    size_t n = strlen(warn);
    if (n + 1 >= wlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(warn + n, wlen - n, fmt, ap);
    va_end(ap);
}

static bool is_http_url(const char *u)
{
    size_t n = strlen(u);
    if (n > HB_OC_URL_MAX)
        return false;
    const char *rest = NULL;
    if (strncasecmp(u, "http://", 7) == 0)
        rest = u + 7;
    else if (strncasecmp(u, "https://", 8) == 0)
        rest = u + 8;
    if (!rest || !rest[0] || rest[0] == '/')
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* MCP server names end up in tool names ("<name>_<tool>") and permission
 * patterns, so they are kept to characters OpenCode never rewrites. */
static bool mcp_name_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 48 || !isalnum((unsigned char)k[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '-')
            return false;
    return true;
}

bool hb_oc_enabled_value(const char *v)
{
    if (!v || !v[0])
        return true;
    return !(strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0 ||
             strcasecmp(v, "off") == 0);
}

void hb_oc_url(char *buf, size_t len, const char *id)
{
    snprintf(buf, len, "/api/v1/hiveboxes/%s/opencode/", id);
}

/* "90", "90s", "15m", "2h" -> ms; -1 if malformed or zero. */
static int64_t parse_duration_ms(const char *s)
{
    char *end = NULL;
    unsigned long long n = strtoull(s, &end, 10);
    if (end == s || n == 0 || n > 10ULL * 365 * 86400)
        return -1;
    unsigned long long mul = 1000;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        mul = 60000, end++;
    else if (*end == 'h')
        mul = 3600000, end++;
    return *end ? -1 : (int64_t)(n * mul);
}

/* ---- validation ---- */

static int validate_headers(json_t *h, const char *field, const char *name, hb_err_t *e)
{
    if (!json_is_object(h))
        return hb_fail(e, HB_E_INVALID, 0, "%s: server '%s': headers must be an object", field,
                       name);
    const char *k;
    json_t *v;
    json_object_foreach(h, k, v) {
        if (!json_is_string(v) || json_string_length(v) > HB_OC_URL_MAX ||
            strlen(json_string_value(v)) != json_string_length(v) || strpbrk(json_string_value(v), "\r\n"))
            return hb_fail(e, HB_E_INVALID, 0, "%s: server '%s': header '%.64s' must be a string",
                           field, name, k);
        if (!k[0] || strpbrk(k, " :\r\n"))
            return hb_fail(e, HB_E_INVALID, 0, "%s: server '%s': bad header name", field, name);
    }
    return 0;
}

/* One field k of remote server `name`: 0 when fine, else -1 with *e saying why. */
static int validate_server_field(const char *k, json_t *v, const char *field, const char *name,
                                 hb_err_t *e)
{
    const char *why = NULL;
    if (strcmp(k, "type") == 0)
        return 0;
    if (strcmp(k, "headers") == 0)
        return validate_headers(v, field, name, e);
    if (strcmp(k, "url") == 0)
        why = json_is_string(v) && is_http_url(json_string_value(v))
                  ? NULL : "url must be http(s)://...";
    else if (strcmp(k, "enabled") == 0)
        why = json_is_boolean(v) ? NULL : "enabled must be a boolean";
    else if (strcmp(k, "timeout") == 0)
        why = json_is_integer(v) && json_integer_value(v) >= 1
                  ? NULL : "timeout must be a positive integer (ms)";
    else if (strcmp(k, "oauth") == 0)
        why = json_is_object(v) || json_is_false(v) ? NULL : "oauth must be an object or false";
    else
        return hb_fail(e, HB_E_INVALID, 0, "%s: server '%s': unknown field '%.64s'", field,
                       name, k);
    return why ? hb_fail(e, HB_E_INVALID, 0, "%s: server '%s': %s", field, name, why) : 0;
}

static int validate_server(json_t *s, const char *field, const char *name, hb_err_t *e)
{
    if (!json_is_object(s))
        return hb_fail(e, HB_E_INVALID, 0, "%s: server '%s' must be an object", field, name);
    const char *type = json_string_value(json_object_get(s, "type"));
    if (!type || strcmp(type, "remote") != 0)
        return hb_fail(e, HB_E_INVALID, 0,
                       "%s: server '%s': only {\"type\": \"remote\"} servers are accepted (a "
                       "local server would run a command on the host)", field, name);
    const char *k;
    json_t *v;
    json_object_foreach(s, k, v) {
        if (validate_server_field(k, v, field, name, e) < 0)
            return -1;
    }
    if (!json_is_string(json_object_get(s, "url")))
        return hb_fail(e, HB_E_INVALID, 0, "%s: server '%s': url is required", field, name);
    return 0;
}

int hb_oc_validate_mcps(json_t *mcps, const char *field, hb_err_t *e)
{
    if (!json_is_object(mcps))
        return hb_fail(e, HB_E_INVALID, 0, "%s: expected an object of MCP servers", field);
    if (json_object_size(mcps) > HB_OC_MCPS_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "%s: more than %d servers", field, HB_OC_MCPS_MAX);
    const char *k;
    json_t *v;
    json_object_foreach(mcps, k, v) {
        if (!mcp_name_ok(k))
            return hb_fail(e, HB_E_INVALID, 0, "%s: '%.64s' is not a valid server name "
                           "(letters, digits, '_' and '-', at most 48)", field, k);
        if (strcmp(k, "hivebox") == 0)
            return hb_fail(e, HB_E_INVALID, 0, "%s: the name 'hivebox' is reserved for the "
                           "sandbox's own MCP server", field);
        if (validate_server(v, field, k, e) < 0)
            return -1;
    }
    return 0;
}

int hb_oc_validate_llm(const hb_oc_settings_t *g, const char *base_url, const char *model,
                       hb_err_t *e)
{
    if (base_url && !is_http_url(base_url))
        return hb_fail(e, HB_E_INVALID, 0, "llm_base_url: expected an http:// or https:// URL");
    const char *m = model ? model : (g ? g->model : NULL);
    const char *u = base_url ? base_url : (g ? g->base_url : NULL);
    if (base_url && !m)
        return hb_fail(e, HB_E_INVALID, 0, "llm_base_url: needs llm_model (no default model "
                       "is configured)");
    if (model && !u && !strchr(model, '/'))
        return hb_fail(e, HB_E_INVALID, 0, "llm_model: without a base URL, name the provider: "
                       "\"provider/model\" (e.g. \"anthropic/claude-sonnet-4-5\")");
    return 0;
}

/* ---- settings ---- */

static void load_mcps(hb_oc_settings_t *s, const char *text, char *warn, size_t wlen)
{
    if (!text || !text[0])
        return;
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    hb_err_t e = {0};
    if (!j) {
        warnf(warn, wlen, "HIVEBOX_OPENCODE_MCPS is not valid JSON (%s); ignored\n", je.text);
        return;
    }
    if (hb_oc_validate_mcps(j, "HIVEBOX_OPENCODE_MCPS", &e) < 0) {
        warnf(warn, wlen, "%s; HIVEBOX_OPENCODE_MCPS ignored\n", e.msg);
        json_decref(j);
        return;
    }
    json_decref(s->mcps);
    s->mcps = j;
}

static void load_llm(hb_oc_settings_t *s, char *warn, size_t wlen)
{
    hb_err_t e = {0};
    if (s->base_url && !is_http_url(s->base_url)) {
        warnf(warn, wlen, "HIVEBOX_OPENCODE_BASE_URL '%.200s' is not an http(s) URL; ignored\n",
              s->base_url);
        free(s->base_url);
        s->base_url = NULL;
    }
    if (s->base_url && !s->model)
        warnf(warn, wlen, "HIVEBOX_OPENCODE_BASE_URL is set without HIVEBOX_OPENCODE_MODEL: "
              "sandboxes use it only when their create request names llm_model\n");
    if (s->model && !s->base_url && hb_oc_validate_llm(NULL, NULL, s->model, &e) < 0) {
        warnf(warn, wlen, "HIVEBOX_OPENCODE_MODEL: %s; ignored\n", e.msg);
        free(s->model);
        s->model = NULL;
    }
}

/* HIVEBOX_OPENCODE_START and HIVEBOX_OPENCODE_IDLE: a bad value warns and
 * keeps the default. */
static void load_lifecycle(hb_oc_settings_t *s, const char *start, const char *idle, char *warn,
                           size_t wlen)
{
    s->eager = start && strcasecmp(start, "eager") == 0;
    if (start && start[0] && !s->eager && strcasecmp(start, "lazy") != 0)
        warnf(warn, wlen, "HIVEBOX_OPENCODE_START='%.32s' is neither eager nor lazy; lazy\n",
              start);
    if (idle && idle[0]) {
        int64_t ms = parse_duration_ms(idle);
        if (ms > 0)
            s->idle_ms = ms;
        else
            warnf(warn, wlen, "HIVEBOX_OPENCODE_IDLE='%.32s' is not a duration; 30m\n", idle);
    }
}

int hb_oc_settings_load(hb_oc_settings_t *s, const hb_config_t *c, char *warn, size_t wlen)
{
    memset(s, 0, sizeof *s);
    if (wlen)
        warn[0] = '\0';
    s->enabled = hb_oc_enabled_value(c->opencode);
    s->idle_ms = HB_OC_DEFAULT_IDLE_MS;
    s->base_url = dup_set(c->opencode_base_url);
    s->api_key = dup_set(c->opencode_api_key);
    s->model = dup_set(c->opencode_model);
    s->skills_path = dup_set(c->opencode_skills_path);
    s->bin = dup_set(c->opencode_bin);
    s->instructions = dup_set(c->opencode_instructions);
    unescape_newlines(s->instructions);
    s->mcps = json_object();
    if (!s->mcps)
        return -1;
    load_lifecycle(s, c->opencode_start, c->opencode_idle, warn, wlen);
    load_llm(s, warn, wlen);
    load_mcps(s, c->opencode_mcps, warn, wlen);
    return 0;
}

void hb_oc_settings_clear(hb_oc_settings_t *s)
{
    free(s->base_url);
    free(s->api_key);
    free(s->model);
    free(s->skills_path);
    free(s->bin);
    free(s->instructions);
    json_decref(s->mcps);
    memset(s, 0, sizeof *s);
}

/* ---- resolution ---- */

void hb_oc_resolve_llm(const hb_oc_settings_t *g, const char *sb_base_url, const char *sb_key,
                       const char *sb_model, hb_oc_llm_t *out)
{
    out->base_url = sb_base_url ? sb_base_url : g->base_url;
    out->model = sb_model ? sb_model : g->model;
    if (sb_key)
        out->key = sb_key;
    else
        out->key = sb_base_url ? NULL : g->api_key;   /* never the operator's key to a client's URL */
}

/* The same cases as set_provider below. */
void hb_oc_llm_describe(const hb_oc_llm_t *llm, hb_oc_llm_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->has_key = llm->key != NULL;
    const char *slash = llm->model ? strchr(llm->model, '/') : NULL;
    if (llm->base_url && llm->model) {
        snprintf(out->provider, sizeof out->provider, "%s", HB_OC_PROVIDER);
        snprintf(out->model, sizeof out->model, "%s", llm->model);
    } else if (slash && (size_t)(slash - llm->model) < sizeof out->provider) {
        snprintf(out->provider, sizeof out->provider, "%.*s", (int)(slash - llm->model),
                 llm->model);
        snprintf(out->model, sizeof out->model, "%s", slash + 1);
    }
}

/* ---- config generation ---- */

static int set_provider(json_t *cfg, const hb_oc_llm_t *llm)
{
    if (llm->base_url && llm->model) {
        json_t *models = json_object(), *p = json_object();
        json_object_set_new(models, llm->model, json_pack("{s:s, s:b}", "name", llm->model,
                                                          "tool_call", 1));
        json_object_set_new(p, "npm", json_string("@ai-sdk/openai-compatible"));
        json_object_set_new(p, "name", json_string("HiveBox LLM"));
        if (llm->key)
            json_object_set_new(p, "env", json_pack("[s]", HB_OC_KEY_ENV));
        json_object_set_new(p, "options", json_pack("{s:s}", "baseURL", llm->base_url));
        json_object_set_new(p, "models", models);
        json_object_set_new(cfg, "provider", json_pack("{s:o}", HB_OC_PROVIDER, p));
        char model[HB_OC_URL_MAX + 32];
        snprintf(model, sizeof model, "%s/%s", HB_OC_PROVIDER, llm->model);
        json_object_set_new(cfg, "model", json_string(model));
        json_object_set_new(cfg, "small_model", json_string(model));
        return 0;
    }
    if (!llm->model || !strchr(llm->model, '/'))
        return 0;   /* OpenCode's defaults */
    json_object_set_new(cfg, "model", json_string(llm->model));
    json_object_set_new(cfg, "small_model", json_string(llm->model));
    if (llm->key) {
        char prov[128];
        size_t n = (size_t)(strchr(llm->model, '/') - llm->model);
        if (n == 0 || n >= sizeof prov)
            return 0;
        memcpy(prov, llm->model, n);
        prov[n] = '\0';
        json_object_set_new(cfg, "provider",
                            json_pack("{s:{s:{s:s}}}", prov, "options", "apiKey",
                                      "{env:" HB_OC_KEY_ENV "}"));
    }
    return 0;
}

static json_t *mcp_servers(const hb_oc_settings_t *g, const hb_oc_sandbox_t *sb)
{
    char url[256], auth[512];
    snprintf(url, sizeof url, "http://%s:%d/api/v1/hiveboxes/%s/mcp",
             sb->daemon_host ? sb->daemon_host : "127.0.0.1", sb->daemon_port, sb->id);
    snprintf(auth, sizeof auth, "Bearer %s", sb->mcp_token ? sb->mcp_token : "");
    json_t *m = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(g->mcps, k, v) {
        json_object_set(m, k, v);
    }
    if (sb->custom_mcps) {
        json_object_foreach(sb->custom_mcps, k, v) {
            json_object_set(m, k, v);   /* per-sandbox wins on a clash */
        }
    }
    json_object_set_new(m, "hivebox", json_pack("{s:s, s:s, s:b, s:b, s:{s:s}, s:i}", "type",
                                                "remote", "url", url, "enabled", 1, "oauth", 0,
                                                "headers", "Authorization", auth, "timeout",
                                                30000));
    return m;
}

/* Last matching rule wins: deny everything, then allow the MCP servers'
 * tools (they act inside the sandbox or on remote services) and the
 * in-memory todo list. */
static json_t *permissions(json_t *mcp)
{
    json_t *p = json_pack("{s:s}", "*", "deny");
    const char *k;
    json_t *v;
    json_object_foreach(mcp, k, v) {
        char pat[64];
        snprintf(pat, sizeof pat, "%s_*", k);
        json_object_set_new(p, pat, json_string("allow"));
    }
    json_object_set_new(p, "todowrite", json_string("allow"));
    json_object_set_new(p, "todoread", json_string("allow"));
    return p;
}

json_t *hb_oc_config(const hb_oc_settings_t *g, const hb_oc_sandbox_t *sb, const hb_oc_llm_t *llm)
{
    json_t *cfg = json_object();
    json_t *mcp = mcp_servers(g, sb);
    json_t *tools = json_object();
    if (!cfg || !mcp || !tools) {
        json_decref(cfg);
        json_decref(mcp);
        json_decref(tools);
        return NULL;
    }
    for (size_t i = 0; host_tools[i]; i++)
        json_object_set_new(tools, host_tools[i], json_false());
    json_object_set_new(cfg, "$schema", json_string("https://opencode.ai/config.json"));
    json_object_set_new(cfg, "autoupdate", json_false());
    json_object_set_new(cfg, "share", json_string("disabled"));
    json_object_set_new(cfg, "snapshot", json_false());
    json_object_set_new(cfg, "permission", permissions(mcp));
    json_object_set_new(cfg, "tools", tools);
    json_object_set_new(cfg, "mcp", mcp);
    json_object_set_new(cfg, "instructions", json_pack("[s]", sb->instructions_path));
    set_provider(cfg, llm);
    return cfg;
}

char *hb_oc_instructions(const hb_oc_settings_t *g, const hb_oc_sandbox_t *sb)
{
    char *text = NULL;
    const char *k;
    json_t *v;
    size_t extra = 0;
    json_t *mcp = mcp_servers(g, sb);
    if (!mcp)
        return NULL;
    char names[HB_OC_MCPS_MAX * 2 * 52 + 64] = "";
    json_object_foreach(mcp, k, v) {
        if (strcmp(k, "hivebox") == 0 || extra++ >= 2 * HB_OC_MCPS_MAX)
            continue;
        size_t n = strlen(names);
        snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", k);
    }
    json_decref(mcp);
    int rc = asprintf(
        &text,
        "# HiveBox sandbox %s\n\n"
        "You work inside the HiveBox sandbox \"%s\": an isolated Debian Linux machine where you "
        "are root. It has limited CPU, memory and processes, and it is destroyed when the user "
        "is done, so nothing in it persists.\n\n"
        "You have no access to the machine OpenCode runs on: OpenCode's own bash, file, search, "
        "web and sub-agent tools are disabled on purpose. Everything you do happens inside the "
        "sandbox through the tools of the `hivebox` MCP server (their names start with "
        "`hivebox_`):\n"
        "- `hivebox_exec` runs a shell command (stdout, stderr and the exit code); use it to "
        "build, test and install.\n"
        "- `hivebox_read_file`, `hivebox_write_file`, `hivebox_edit_file`, "
        "`hivebox_read_multiple_files`, `hivebox_list_directory`, `hivebox_directory_tree`, "
        "`hivebox_search_files`, `hivebox_glob`, `hivebox_get_file_info`, "
        "`hivebox_create_directory`, `hivebox_move_file`, `hivebox_read_media_file` and "
        "`hivebox_list_directory_with_sizes` work on the sandbox's files (absolute paths; the "
        "home directory is /root).\n"
        "- Skills: `hivebox_list_skills` lists them; read one with `hivebox_read_skill_file` "
        "(SKILL.md first, then the files it names). Their files are under /opt/skills/<name>; "
        "run their scripts with `hivebox_exec`.\n\n"
        "Installed: python3, pip, venv, nodejs, npm, git, curl. Check before installing (`pip "
        "show X`, `npm ls -g X`); pip needs `--break-system-packages` outside a venv.\n"
        "%s%s%s%s%s",
        sb->id, sb->id, names[0] ? "\nOther MCP servers available to you: " : "", names,
        names[0] ? ".\n" : "", g->instructions ? "\n## Instructions from the operator\n\n" : "",
        g->instructions ? g->instructions : "");
    if (rc < 0)
        return NULL;
    return text;
}
