/* Request parsing and validation (see req_parse.h). Unknown fields are
 * refused rather than ignored: a typo must not silently become a default. */
#include "req_parse.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_depth.h"
#include "opencode_conf.h"
#include "path.h"
#include "query.h"
#include "runtime.h"

/* ---- shared helpers ---- */

static bool all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

/* The body as a JSON object (caller decrefs); an empty body is {}. */
json_t *hb_req_load_object(const char *body, size_t len, hb_err_t *e)
{
    if (len > HB_JSON_BODY_MAX) {
        hb_fail(e, HB_E_TOOBIG, 0, "body: larger than %u bytes", HB_JSON_BODY_MAX);
        return NULL;
    }
    if (!body || all_space(body, len))
        return json_object();
    json_error_t je;
    json_t *j = hb_json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!j && json_error_code(&je) == json_error_stack_overflow) {
        hb_fail(e, HB_E_INVALID, 0, "body: %s (at byte %d)", je.text, je.position);
        return NULL;
    }
    if (!j) {
        hb_fail(e, HB_E_INVALID, 0, "invalid JSON: %s (line %d, column %d)", je.text, je.line,
                je.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        hb_fail(e, HB_E_INVALID, 0, "body: expected a JSON object");
        return NULL;
    }
    return j;
}

int hb_req_parse_name_field(const char *body, size_t len, const char *field, const char *what,
                            char **out, hb_err_t *e)
{
    json_t *j = hb_req_load_object(body, len, e);
    if (!j)
        return -1;
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(j, key, v) {
        if (strcmp(key, field) != 0) {
            rc = hb_fail(e, HB_E_INVALID, 0, "%.64s: unknown field", key);
            break;
        }
    }
    const char *name = json_string_value(json_object_get(j, field));
    if (rc == 0 && !name)
        rc = hb_fail(e, HB_E_INVALID, 0, "%s: required (a string: %s)", field, what);
    else if (rc == 0 && !hb_name_valid(name))
        rc = hb_fail(e, HB_E_INVALID, 0, "%s: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$",
                     field);
    if (rc == 0 && hb_str_set(out, name) < 0)
        rc = hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    json_decref(j);
    return rc;
}

/* A JSON string without NUL, at most max bytes. */
static const char *get_str(json_t *v, const char *field, size_t max, hb_err_t *e)
{
    if (!json_is_string(v)) {
        hb_fail(e, HB_E_INVALID, 0, "%s: expected a string", field);
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n) {
        hb_fail(e, HB_E_INVALID, 0, "%s: must not contain NUL", field);
        return NULL;
    }
    if (n > max) {
        hb_fail(e, HB_E_INVALID, 0, "%s: longer than %zu bytes", field, max);
        return NULL;
    }
    return s;
}

static int set_str(char **dst, const char *s, hb_err_t *e)
{
    if (hb_str_set(dst, s) < 0)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    return 0;
}

static int set_json_text(char **dst, json_t *v, hb_err_t *e)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!t)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    free(*dst);
    *dst = t;
    return 0;
}

/* ---- create ---- */

typedef struct {
    hb_spec_t spec;
    bool      named;
} create_t;

typedef int (*create_fn)(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e);

static int c_name(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    const char *s = get_str(v, "name", HB_ID_MAX, e);
    if (!s)
        return -1;
    if (!hb_name_valid(s))
        return hb_fail(e, HB_E_INVALID, 0, "name: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$");
    snprintf(c->spec.name, sizeof c->spec.name, "%s", s);
    c->named = true;
    return 0;
}

static int c_image(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    const char *s = get_str(v, "image", HB_ID_MAX, e);
    if (!s)
        return -1;
    if (!hb_name_valid(s))
        return hb_fail(e, HB_E_INVALID, 0, "image: not a valid image name");
    snprintf(c->spec.image, sizeof c->spec.image, "%s", s);
    return 0;
}

/* A size given as a string ("512m"), handed to the spec's setter. */
_Static_assert(sizeof ((hb_spec_t *)0)->memory_str == sizeof ((hb_spec_t *)0)->disk_str,
               "size fields share one length bound");
typedef int (*size_set_fn)(hb_spec_t *s, const char *text, hb_err_t *e);

static int size_field(json_t *v, const char *field, const char *example, size_set_fn set,
                      create_t *c, hb_err_t *e)
{
    if (!json_is_string(v))
        return hb_fail(e, HB_E_INVALID, 0, "%s: expected a string like \"%s\"", field, example);
    const char *s = get_str(v, field, sizeof c->spec.memory_str - 1, e);
    return s ? set(&c->spec, s, e) : -1;
}

static int c_memory(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    return size_field(v, "memory", "512m", hb_spec_set_memory, c, e);
}

static int c_disk(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    return size_field(v, "disk", "10g", hb_spec_set_disk, c, e);
}

static int c_cpus(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    if (!json_is_number(v))
        return hb_fail(e, HB_E_INVALID, 0, "cpus: expected a number");
    c->spec.cpus = json_number_value(v);
    return 0;
}

static int c_pids(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    if (!json_is_integer(v))
        return hb_fail(e, HB_E_INVALID, 0, "pids: expected an integer");
    json_int_t n = json_integer_value(v);
    c->spec.pids = (n < 1 || n > UINT32_MAX) ? 0 : (uint32_t)n;   /* 0: validate names the range */
    return 0;
}

static int c_network(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    const char *s = get_str(v, "network", 2 * HB_ID_MAX, e);
    return s ? hb_spec_set_network(&c->spec, s, e) : -1;
}

static int c_timeout(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    if (!json_is_integer(v))
        return hb_fail(e, HB_E_INVALID, 0, "timeout: expected an integer number of seconds");
    json_int_t n = json_integer_value(v);
    c->spec.timeout_s = (n < 1 || n > UINT32_MAX) ? 0 : (uint32_t)n;
    return 0;
}

static int c_skills(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    if (!json_is_array(v))
        return hb_fail(e, HB_E_INVALID, 0, "skills: expected an array of skill names");
    if (json_array_size(v) > HB_SKILLS_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "skills: more than %d entries", HB_SKILLS_MAX);
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
        const char *name = get_str(s, "skills", HB_ID_MAX, e);
        if (!name)
            return -1;
        if (!hb_name_valid(name))
            return hb_fail(e, HB_E_INVALID, 0, "skills: '%s' is not a valid skill name", name);
    }
    return set_json_text(&q->skills, v, e);
}

static int c_mcps(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    /* Remote servers only: OpenCode would run a "local" one on the host. */
    if (hb_oc_validate_mcps(v, "custom_mcps", e) < 0)
        return -1;
    return set_json_text(&q->custom_mcps, v, e);
}

static int c_metadata(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    if (hb_req_check_metadata(v, e) < 0)
        return -1;
    return set_json_text(&q->metadata, v, e);
}

static int c_env(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    int rc = hb_req_parse_sb_env(v, &q->env, e);   /* once: duplicate keys are refused */
    c->spec.env = (const char *const *)q->env;   /* validated with the rest */
    return rc;
}

/* issue 17: a paused sandbox resumes on a request; what its expiry does. */
static int c_auto_resume(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    if (!json_is_boolean(v))
        return hb_fail(e, HB_E_INVALID, 0, "auto_resume: expected true or false");
    q->auto_resume = json_is_true(v);
    return 0;
}

static int c_on_timeout(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    const char *s = json_string_value(v);
    if (!s || (strcmp(s, "destroy") != 0 && strcmp(s, "pause") != 0))
        return hb_fail(e, HB_E_INVALID, 0, "on_timeout: expected \"destroy\" or \"pause\"");
    return set_str(&q->on_timeout, s, e);
}

/* issue 16: both lists are checked together once the network is known
 * (hb_req_create_egress, req_parse_egress.c). */
static int c_egress_later(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    return 0;
}

static int agent_str(json_t *v, const char *field, char **dst, hb_err_t *e)
{
    const char *s = get_str(v, field, HB_AGENT_STR_MAX, e);
    return s ? set_str(dst, s, e) : -1;
}

static int c_base_url(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    return agent_str(v, "llm_base_url", &q->llm_base_url, e);
}

static int c_api_key(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    return agent_str(v, "llm_api_key", &q->llm_api_key, e);
}

static int c_model(json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    return agent_str(v, "llm_model", &q->llm_model, e);
}

/* The LLM fields together, against the daemon's defaults (g: its settings). */
static int validate_llm(const hb_oc_settings_t *g, const hb_msg_t *q, hb_err_t *e)
{
    if (!q->llm_base_url && !q->llm_model)
        return 0;
    return hb_oc_validate_llm(g, q->llm_base_url, q->llm_model, e);
}

static const struct {
    const char *name;
    create_fn   fn;
} create_fields[] = {
    {"name", c_name},         {"image", c_image},           {"memory", c_memory},
    {"cpus", c_cpus},         {"pids", c_pids},             {"network", c_network},
    {"timeout", c_timeout},   {"skills", c_skills},         {"custom_mcps", c_mcps},
    {"llm_base_url", c_base_url}, {"llm_api_key", c_api_key}, {"llm_model", c_model},
    {"disk", c_disk},         {"metadata", c_metadata},     {"env", c_env},
    {"auto_resume", c_auto_resume}, {"on_timeout", c_on_timeout},
    {"allow_out", c_egress_later}, {"deny_out", c_egress_later},   /* issue 16 */
};

static int fill_create(const create_t *c, hb_msg_t *q, hb_err_t *e)
{
    const hb_spec_t *s = &c->spec;
    char net[2 * HB_ID_MAX + 8];
    if (s->net_mode == HB_NET_SHARED)
        snprintf(net, sizeof net, "shared:%s", s->net_group);
    else
        snprintf(net, sizeof net, "%s", hb_netmode_name(s->net_mode));
    q->type = HB_MSG_SB_CREATE;
    q->memory_bytes = s->memory_bytes;
    q->cpus = s->cpus;
    q->pids = s->pids;
    q->timeout_s = s->timeout_s;
    q->disk_bytes = s->disk_bytes;
    if ((c->named && set_str(&q->name, s->name, e) < 0) || set_str(&q->image, s->image, e) < 0 ||
        set_str(&q->memory, s->memory_str, e) < 0 || set_str(&q->network, net, e) < 0 ||
        set_str(&q->disk, s->disk_str, e) < 0)
        return -1;
    return 0;
}

static int create_field(const char *key, json_t *v, create_t *c, hb_msg_t *q, hb_err_t *e)
{
    for (size_t i = 0; i < sizeof create_fields / sizeof create_fields[0]; i++) {
        if (strcmp(key, create_fields[i].name) != 0)
            continue;
        if (json_is_null(v))
            return 0;   /* null means "use the default" */
        return create_fields[i].fn(v, c, q, e);
    }
    return hb_fail(e, HB_E_INVALID, 0, "%.64s: unknown field", key);
}

int hb_req_parse_create(const char *body, size_t len, const hb_oc_settings_t *g, hb_msg_t *q,
                        hb_err_t *e)
{
    memset(q, 0, sizeof *q);
    json_t *j = hb_req_load_object(body, len, e);
    if (!j)
        return -1;
    create_t c = {0};
    hb_spec_defaults(&c.spec);
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(j, key, v) {
        if ((rc = create_field(key, v, &c, q, e)) < 0)
            break;
    }
    if (rc == 0)
        rc = hb_req_create_egress(j, c.spec.net_mode, &q->egress, e);
    json_decref(j);
    if (rc == 0)
        rc = validate_llm(g, q, e);
    if (rc == 0)
        rc = hb_spec_validate(&c.spec, e);
    if (rc == 0)
        rc = fill_create(&c, q, e);
    if (rc < 0)
        hb_msg_clear(q);
    return rc;
}

/* ---- exec ---- */

static int env_add(char **v, size_t *n, const char *k, const char *val, hb_err_t *e)
{
    if (!k[0] || strchr(k, '='))
        return hb_fail(e, HB_E_INVALID, 0, "env: bad variable name '%.64s'", k);
    if (*n >= HB_ENV_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "env: more than %d variables", HB_ENV_MAX);
    if (asprintf(&v[*n], "%s=%s", k, val) < 0) {
        v[*n] = NULL;
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    }
    (*n)++;
    return 0;
}

static int env_from_object(json_t *o, char **v, size_t *n, hb_err_t *e)
{
    const char *k;
    json_t *val;
    json_object_foreach(o, k, val) {
        const char *s = get_str(val, "env", HB_COMMAND_MAX, e);
        if (!s || env_add(v, n, k, s, e) < 0)
            return -1;
    }
    return 0;
}

static int env_from_array(json_t *a, char **v, size_t *n, hb_err_t *e)
{
    size_t i;
    json_t *item;
    json_array_foreach(a, i, item) {
        const char *s = get_str(item, "env", HB_COMMAND_MAX, e);
        if (!s)
            return -1;
        const char *eq = strchr(s, '=');
        if (!eq || eq == s)
            return hb_fail(e, HB_E_INVALID, 0, "env: entries must look like \"NAME=value\"");
        if (*n >= HB_ENV_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "env: more than %d variables", HB_ENV_MAX);
        if (!(v[*n] = strdup(s)))
            return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        (*n)++;
    }
    return 0;
}

static int x_env(json_t *val, hb_msg_t *q, hb_err_t *e)
{
    if (!json_is_object(val) && !json_is_array(val))
        return hb_fail(e, HB_E_INVALID, 0, "env: expected an object of strings");
    char **v = calloc(HB_ENV_MAX + 1, sizeof *v);
    if (!v)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    q->env = v;   /* freed by hb_msg_clear, also when half filled */
    size_t n = 0;
    return json_is_object(val) ? env_from_object(val, v, &n, e) : env_from_array(val, v, &n, e);
}

static int x_command(json_t *v, hb_msg_t *q, hb_err_t *e)
{
    const char *s = get_str(v, "command", HB_COMMAND_MAX, e);
    if (!s)
        return -1;
    if (!s[0])
        return hb_fail(e, HB_E_INVALID, 0, "command: must not be empty");
    return set_str(&q->command, s, e);
}

static int x_timeout(json_t *v, hb_msg_t *q, hb_err_t *e)
{
    double t = json_is_number(v) ? json_number_value(v) : -1.0;
    if (!json_is_number(v) || !isfinite(t) || t < 0 || t > HB_EXEC_TIMEOUT_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "timeout: must be a number of seconds from 0 to %d",
                       HB_EXEC_TIMEOUT_MAX);
    q->timeout_ms = (uint64_t)llround(t * 1000.0);
    if (t > 0 && q->timeout_ms == 0)
        q->timeout_ms = 1;   /* 0 means no timeout: a tiny one is not that */
    return 0;
}

static int x_cwd(json_t *v, hb_msg_t *q, hb_err_t *e)
{
    const char *s = get_str(v, "cwd", HB_PATH_MAX, e);
    const char *why = NULL;
    if (!s)
        return -1;
    if (hb_path_check(s, &why) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "cwd: %s", why ? why : "not a valid path");
    return set_str(&q->cwd, s, e);
}

static int x_stdin(json_t *v, hb_msg_t *q, hb_err_t *e)
{
    if (!json_is_string(v))
        return hb_fail(e, HB_E_INVALID, 0, "stdin: expected a string");
    size_t n = json_string_length(v);
    if (n > HB_STDIN_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "stdin: longer than %u bytes", HB_STDIN_MAX);
    if (hb_bin_set(&q->stdin_data, json_string_value(v), n) < 0)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    return 0;
}

/* A user name (what useradd accepts, at most 32 bytes) or a numeric uid
 * (a string of digits or a JSON integer), resolved by the sandbox's init. */
static int x_user(json_t *v, hb_msg_t *q, hb_err_t *e)
{
    char buf[24];
    const char *s = buf;
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= INT32_MAX)
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        s = json_string_value(v);
    else
        return hb_fail(e, HB_E_INVALID, 0, "user: expected a user name or a uid from 0 to %d",
                       INT32_MAX);
    size_t n = strlen(s);
    bool digits = n > 0 && n <= 10 && strspn(s, "0123456789") == n;
    bool name = n > 0 && n <= 32 && (islower((unsigned char)s[0]) || s[0] == '_') &&
                strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-.") + (s[n - 1] == '$') == n;
    if (digits && strtoull(s, NULL, 10) > INT32_MAX)
        digits = false;
    if (json_is_string(v) && json_string_length(v) != n)
        digits = name = false;   /* a NUL inside */
    if (!digits && !name)
        return hb_fail(e, HB_E_INVALID, 0, "user: '%.40s' is neither a user name (a-z, 0-9, _ . -, "
                       "at most 32) nor a uid from 0 to %d", s, INT32_MAX);
    return set_str(&q->user, s, e);
}

int hb_req_exec_field(const char *key, json_t *v, hb_msg_t *q, int *stream, hb_err_t *e)
{
    if (strcmp(key, "command") == 0)
        return x_command(v, q, e);
    if (strcmp(key, "stream") == 0) {
        if (!json_is_boolean(v) && !json_is_null(v))
            return hb_fail(e, HB_E_INVALID, 0, "stream: expected true or false");
        *stream = json_is_null(v) ? -1 : json_is_true(v);
        return 0;
    }
    bool known = strcmp(key, "timeout") == 0 || strcmp(key, "cwd") == 0 ||
                 strcmp(key, "env") == 0 || strcmp(key, "stdin") == 0 ||
                 strcmp(key, "user") == 0;
    if (!known)
        return hb_fail(e, HB_E_INVALID, 0, "%.64s: unknown field", key);
    if (json_is_null(v))
        return 0;
    if (strcmp(key, "timeout") == 0)
        return x_timeout(v, q, e);
    if (strcmp(key, "cwd") == 0)
        return x_cwd(v, q, e);
    if (strcmp(key, "env") == 0)
        return x_env(v, q, e);
    if (strcmp(key, "user") == 0)
        return x_user(v, q, e);
    return x_stdin(v, q, e);
}

int hb_req_parse_command(const char *body, size_t len, hb_msg_t *q, hb_req_field_fn field,
                         void *ud, hb_err_t *e)
{
    memset(q, 0, sizeof *q);
    json_t *j = hb_req_load_object(body, len, e);
    if (!j)
        return -1;
    q->type = HB_MSG_SB_EXEC;
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(j, key, v) {
        if ((rc = field(key, v, q, ud, e)) < 0)
            break;
    }
    json_decref(j);
    if (rc == 0 && !q->command)
        rc = hb_fail(e, HB_E_INVALID, 0, "command: required");
    if (rc < 0)
        hb_msg_clear(q);
    return rc;
}

static int exec_field(const char *key, json_t *v, hb_msg_t *q, void *stream, hb_err_t *e)
{
    return hb_req_exec_field(key, v, q, stream, e);
}

int hb_req_parse_exec(const char *body, size_t len, hb_msg_t *q, int *stream, hb_err_t *e)
{
    *stream = -1;
    return hb_req_parse_command(body, len, q, exec_field, stream, e);
}

/* ---- query parameters ---- */

int hb_req_parse_path(const char *qs, bool required, char *path, size_t cap, hb_err_t *e)
{
    size_t len = 0;
    int found = hb_query_param(qs, "path", path, cap, &len);
    if (found < 0)
        return hb_fail(e, HB_E_INVALID, 0, "path: malformed or longer than %zu bytes", cap - 1);
    if (found == 0 || len == 0) {
        if (required)
            return hb_fail(e, HB_E_INVALID, 0, "path: required (?path=/absolute/path)");
        snprintf(path, cap, "/");
        return 0;
    }
    const char *why = NULL;
    if (hb_path_check_n(path, len, &why) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "path: %s", why ? why : "not a valid path");
    return 0;
}

int hb_req_parse_range(const char *qs, uint64_t *range_s, hb_err_t *e)
{
    char buf[32];
    size_t len = 0;
    *range_s = 0;
    int found = hb_query_param(qs, "range", buf, sizeof buf, &len);
    if (found == 0 || (found == 1 && len == 0))
        return 0;
    bool ok = found == 1 && len <= 10;
    for (size_t i = 0; ok && i < len; i++)
        ok = isdigit((unsigned char)buf[i]);
    if (!ok)
        return hb_fail(e, HB_E_INVALID, 0, "range: must be a non-negative integer (seconds)");
    *range_s = strtoull(buf, NULL, 10);
    return 0;
}
