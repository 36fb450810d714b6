/* A sandbox's own env and metadata (given at create, kept in its record):
 * the copy into the handle, and the one merge of the sandbox's env with a
 * request's (see runtime.h; validation: spec.c). The values may be
 * secrets: nothing here logs them. */
#include "runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "K=" of kv set in v (NULL-terminated, may be NULL)? */
static bool has_name(const char *const *v, const char *kv)
{
    size_t kl = (size_t)(strchr(kv, '=') - kv) + 1;   /* with the '=' */
    for (size_t i = 0; v && v[i]; i++)
        if (strncmp(v[i], kv, kl) == 0)
            return true;
    return false;
}

static size_t count(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

int hb_sandbox_env(const hb_sandbox_t *sb, const char *const *req, const char ***out,
                   hb_err_t *e)
{
    const char *const *own = (const char *const *)sb->env;
    const char *const *img = (const char *const *)sb->img_env;   /* the image's Env */
    size_t n_own = count(own), n_req = count(req), n_img = count(img), n = 0;
    *out = NULL;
    if (n_own + n_req + n_img == 0)
        return 0;
    const char **v = calloc(n_img + n_own + n_req + 1, sizeof *v);
    if (!v)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    for (size_t i = 0; i < n_img; i++)
        if (!has_name(own, img[i]) && !has_name(req, img[i]))
            v[n++] = img[i];
    for (size_t i = 0; i < n_own; i++)
        if (!strchr(own[i], '=') || !has_name(req, own[i]))
            v[n++] = own[i];
    for (size_t i = 0; i < n_req; i++)
        v[n++] = req[i];
    *out = v;
    return 0;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

int hb_sandbox_set_extras(hb_sandbox_t *sb, const char *metadata, const char *const *env)
{
    char *meta = metadata ? strdup(metadata) : NULL;
    size_t n = count(env);
    char **v = n ? calloc(n + 1, sizeof *v) : NULL;
    bool ok = (!metadata || meta) && (!n || v);
    for (size_t i = 0; ok && i < n; i++)
        ok = (v[i] = strdup(env[i])) != NULL;
    if (!ok) {
        free(meta);
        free_strv(v);
        return -1;
    }
    free(sb->metadata);
    free_strv(sb->env);
    sb->metadata = meta;
    sb->env = v;
    return 0;
}
