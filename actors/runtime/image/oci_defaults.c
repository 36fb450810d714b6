/* The defaults an imported image's config gives the commands of a sandbox
 * made from it: read from images/<image>/image.json ("config": {"env",
 * "workdir", "user"}, written by oci_import.c, copied to snapshots by the
 * layers code) into the sandbox handle at create and re-attach. The one
 * merge is hb_sandbox_env (Env under the sandbox's own env, under the
 * request's); cwd and user apply where a request names none
 * (hb_sandbox_cmd_defaults). The file is ours, but its values are checked
 * again as cheaply as they were at import. */
#include "runtime.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initproto.h"   /* HB_USER_MAX */

#define IMG_ENV_MAX 256u

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

void hb_image_defaults_free(hb_sandbox_t *sb)
{
    free_strv(sb->img_env);
    free(sb->img_cwd);
    free(sb->img_user);
    sb->img_env = NULL;
    sb->img_cwd = sb->img_user = NULL;
}

static char **env_of(json_t *a)
{
    size_t n = json_array_size(a), k = 0;
    if (n == 0 || n > IMG_ENV_MAX)
        return NULL;
    char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s && strchr(s, '=') && s[0] != '=' && strlen(s) <= 4096)
            v[k++] = strdup(s);
    }
    return v;
}

static char *str_of(json_t *s, char first)
{
    const char *v = json_string_value(s);
    return v && v[0] && (!first || v[0] == first) && strlen(v) < 1024 ? strdup(v) : NULL;
}

int hb_image_defaults_load(hb_sandbox_t *sb, hb_err_t *e)
{
    char path[HB_HOSTPATH_MAX + HB_ID_MAX + 32];
    hb_image_defaults_free(sb);
    if ((size_t)snprintf(path, sizeof path, "%s/images/%s/image.json", sb->rt->data_dir,
                         sb->spec.image) >= sizeof path)
        return hb_fail(e, HB_E_INTERNAL, 0, "image path too long");
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
    json_t *c = json_object_get(j, "config");
    if (json_is_object(c)) {
        sb->img_env = env_of(json_object_get(c, "env"));
        sb->img_cwd = str_of(json_object_get(c, "workdir"), '/');
        sb->img_user = str_of(json_object_get(c, "user"), 0);
        if (sb->img_user && strlen(sb->img_user) > HB_USER_MAX) {
            free(sb->img_user);
            sb->img_user = NULL;
        }
    }
    json_decref(j);   /* no image.json or no config: no defaults (base, old images) */
    return 0;
}

void hb_sandbox_cmd_defaults(const hb_sandbox_t *sb, const char **cwd, const char **user)
{
    if (!*cwd)
        *cwd = sb->img_cwd;
    if (!*user)
        *user = sb->img_user;
}
