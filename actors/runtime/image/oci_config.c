/* The image config of an OCI/docker image: the defaults a sandbox's
 * commands get (Env, WorkingDir, User) and the layers' diff_ids. Values
 * are checked here, at import, so image.json only ever holds clean ones. */
#include "oci.h"

#include <stdlib.h>
#include <string.h>

#include "json_depth.h"

#define ENV_ENTRY_MAX 4096u   /* one "K=V" */
#define USER_MAX      64u
#define WORKDIR_MAX   1024u

void hb_oci_config_free(hb_oci_config_t *c)
{
    for (size_t i = 0; c->env && c->env[i]; i++)
        free(c->env[i]);
    free(c->env);
    free(c->workdir);
    free(c->user);
    memset(c, 0, sizeof *c);
}

static bool env_ok(const char *s)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s || strlen(s) > ENV_ENTRY_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (const char *p = s; p < eq; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

static int take_env(json_t *env, hb_oci_config_t *c, hb_err_t *e)
{
    if (!env || json_is_null(env))
        return 0;
    if (!json_is_array(env) || json_array_size(env) > HB_OCI_ENV_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "config: Env is not an array of at most %u strings",
                       HB_OCI_ENV_MAX);
    c->env = calloc(json_array_size(env) + 1, sizeof *c->env);
    if (!c->env)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(env, i, v) {
        const char *s = json_string_value(v);
        if (!s || !env_ok(s))
            return hb_fail(e, HB_E_INVALID, 0, "config: Env[%zu] is not NAME=VALUE", i);
        if (!(c->env[n++] = strdup(s)))
            return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    }
    return 0;
}

static bool workdir_ok(const char *s)
{
    if (s[0] != '/' || strlen(s) >= WORKDIR_MAX)
        return false;
    for (const char *p = s; (p = strstr(p, "..")); p += 2)
        if ((p == s || p[-1] == '/') && (p[2] == '/' || !p[2]))
            return false;
    return true;
}

/* A name or a uid; "user:group" keeps the user part (the command runs
 * with that user's group from the image's /etc/passwd, or gid = uid). */
static int take_user(const char *s, hb_oci_config_t *c, hb_err_t *e)
{
    size_t n = strcspn(s, ":");
    if (n == 0)
        return 0;
    if (n > USER_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "config: User is longer than %u bytes", USER_MAX);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i])))
            return hb_fail(e, HB_E_INVALID, 0, "config: User '%.64s' is not a user name or "
                           "uid", s);
    c->user = strndup(s, n);
    return c->user ? 0 : hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
}

static int take_diff_ids(json_t *ids, hb_oci_config_t *c, hb_err_t *e)
{
    size_t i;
    json_t *v;
    if (!json_is_array(ids) || json_array_size(ids) > HB_OCI_LAYERS_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "config: rootfs.diff_ids missing or too many");
    json_array_foreach(ids, i, v) {
        const char *d = json_string_value(v);
        if (!hb_oci_digest_valid(d))
            return hb_fail(e, HB_E_INVALID, 0, "config: rootfs.diff_ids[%zu] is not a sha256 "
                           "digest", i);
        memcpy(c->diff_ids[i], d, HB_OCI_DIGEST_LEN + 1);
        c->n_diff = i + 1;
    }
    return 0;
}

static int take(json_t *j, hb_oci_config_t *c, hb_err_t *e)
{
    json_t *cc = json_object_get(j, "config");
    if (!json_is_object(j))
        return hb_fail(e, HB_E_INVALID, 0, "config: not a JSON object");
    if (take_diff_ids(json_object_get(json_object_get(j, "rootfs"), "diff_ids"), c, e) < 0 ||
        take_env(json_object_get(cc, "Env"), c, e) < 0)
        return -1;
    const char *wd = json_string_value(json_object_get(cc, "WorkingDir"));
    if (wd && wd[0] && !workdir_ok(wd))
        return hb_fail(e, HB_E_INVALID, 0, "config: WorkingDir '%.80s' is not a clean absolute "
                       "path", wd);
    if (wd && wd[0] && !(c->workdir = strdup(wd)))
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    const char *u = json_string_value(json_object_get(cc, "User"));
    return u ? take_user(u, c, e) : 0;
}

int hb_oci_config_parse(const char *text, size_t len, hb_oci_config_t *c, hb_err_t *e)
{
    json_error_t je;
    memset(c, 0, sizeof *c);
    if (len > HB_OCI_JSON_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "config: larger than %u bytes", HB_OCI_JSON_MAX);
    json_t *j = hb_json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return hb_fail(e, HB_E_INVALID, 0, "config: not valid JSON: %s", je.text);
    int rc = take(j, c, e);
    json_decref(j);
    if (rc < 0)
        hb_oci_config_free(c);
    return rc;
}

json_t *hb_oci_config_json(const hb_oci_config_t *c)
{
    json_t *env = json_array();
    for (size_t i = 0; env && c->env && c->env[i]; i++)
        json_array_append_new(env, json_string(c->env[i]));
    return json_pack("{s:o, s:s?, s:s?}", "env", env ? env : json_array(), "workdir",
                     c->workdir, "user", c->user);
}
