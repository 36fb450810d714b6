/* The skills directory on the host and a create request's selection from
 * it (see skills.h). The selection ends up in hb_spec_t.skills, which the
 * launcher turns into read-only binds at /opt/skills/<name> inside the
 * sandbox; from then on everything (list_skills, read_skill_file, exec of a
 * skill's scripts) happens inside the sandbox. */
#include "skills.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

static bool skill_exists(const char *dir, const char *name)
{
    char path[HB_HOSTPATH_MAX + HB_ID_MAX + 16];
    struct stat st;
    if (!hb_name_valid(name) ||
        snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return false;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append name + '\n' to out; -1 when it does not fit. */
static int add(char *out, size_t outlen, size_t *used, size_t *count, const char *name,
               hb_err_t *e)
{
    size_t n = strlen(name);
    if (*count >= HB_SKILLS_MAX_N || *used + n + 2 > outlen)
        return hb_fail(e, HB_E_INVALID, 0, "skills: more than %d skills selected",
                       HB_SKILLS_MAX_N);
    memcpy(out + *used, name, n);
    out[*used + n] = '\n';
    *used += n + 1;
    out[*used] = '\0';
    (*count)++;
    return 0;
}

/* Every skill of the directory (none if it does not exist). */
static int select_all(const char *dir, char *out, size_t outlen, hb_err_t *e)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR
                   ? 0
                   : hb_fail(e, HB_E_INTERNAL, errno, "skills dir %s unreadable", dir);
    char *names[HB_SKILLS_MAX_N];
    size_t n = 0, used = 0, count = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!skill_exists(dir, de->d_name))
            continue;
        if (n == HB_SKILLS_MAX_N) {
            rc = hb_fail(e, HB_E_INVALID, 0, "skills: the skills directory holds more than %d "
                         "skills; select some by name", HB_SKILLS_MAX_N);
            break;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = add(out, outlen, &used, &count, names[i], e);
        free(names[i]);
    }
    return rc;
}

int hb_skills_select(const char *skills_dir, const char *skills_json, char *out, size_t outlen,
                     hb_err_t *e)
{
    if (outlen == 0)
        return hb_fail(e, HB_E_INTERNAL, 0, "skills: no room");
    out[0] = '\0';
    if (!skills_json)
        return select_all(skills_dir, out, outlen, e);
    json_t *v = json_loads(skills_json, JSON_DECODE_ANY, NULL);
    if (!json_is_array(v)) {
        json_decref(v);
        return hb_fail(e, HB_E_INVALID, 0, "skills: expected an array of skill names");
    }
    size_t i, used = 0, count = 0;
    json_t *s;
    int rc = 0;
    json_array_foreach(v, i, s) {
        const char *name = json_string_value(s);
        if (!name || !hb_name_valid(name)) {
            rc = hb_fail(e, HB_E_INVALID, 0, "skills: entry %zu is not a valid skill name", i);
            break;
        }
        if (!skill_exists(skills_dir, name)) {
            rc = hb_fail(e, HB_E_INVALID, 0, "skills: unknown skill '%s'", name);
            break;
        }
        /* a repeated name is harmless: keep the first */
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(json_string_value(json_array_get(v, j)), name) == 0;
        if (!dup && (rc = add(out, outlen, &used, &count, name, e)) < 0)
            break;
    }
    json_decref(v);
    return rc;
}

/* ---- the catalogue (GET /api/v1/skills) ---- */

#define SKILL_MD_HEAD 8192
#define SKILL_DESC_MAX 300

void hb_catitems_free(hb_catitem_t *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].name);
        free(items[i].state);
        free(items[i].description);
    }
    free(items);
}

/* The first SKILL_MD_HEAD bytes of dir/name/SKILL.md (a regular file, not
 * through a symlink) into buf, NUL-terminated; the length, or -1. */
static ssize_t read_head(const char *dir, const char *name, char *buf)
{
    char path[HB_HOSTPATH_MAX + HB_ID_MAX + 16];
    if (snprintf(path, sizeof path, "%s/%s/SKILL.md", dir, name) >= (int)sizeof path)
        return -1;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    ssize_t got = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        got = read(fd, buf, SKILL_MD_HEAD);
    close(fd);
    if (got >= 0)
        buf[got] = '\0';
    return got;
}

/* v (a front matter value) into out: leading blanks and quotes dropped,
 * only printable ASCII kept, trailing blanks and quotes trimmed. */
static void desc_copy(const char *v, char *out, size_t outlen)
{
    while (*v == ' ' || *v == '"' || *v == '\'')
        v++;
    size_t k = 0;
    for (; *v && k + 1 < outlen; v++)
        if (*v >= 0x20 && *v < 0x7f)
            out[k++] = *v;
    while (k > 0 && (out[k - 1] == ' ' || out[k - 1] == '"' || out[k - 1] == '\''))
        k--;
    out[k] = '\0';
}

/* The "description:" line of a front matter ("---" first line) in the
 * head of dir/name/SKILL.md; "" when there is none. */
static void front_desc(const char *dir, const char *name, char *out, size_t outlen)
{
    char buf[SKILL_MD_HEAD + 1];
    out[0] = '\0';
    if (read_head(dir, name, buf) < 4 ||
        (strncmp(buf, "---\n", 4) != 0 && strncmp(buf, "---\r\n", 5) != 0))
        return;
    for (char *p = strchr(buf, '\n') + 1; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(p, "---", 3) == 0)
            return;   /* the front matter is over */
        if (strncmp(p, "description:", 12) == 0) {
            desc_copy(p + 12, out, outlen);
            return;
        }
        p = nl ? nl + 1 : NULL;
    }
}

static int add_item(const char *dir, const char *name, hb_catitem_t *it)
{
    char desc[SKILL_DESC_MAX + 1];
    char path[HB_HOSTPATH_MAX + HB_ID_MAX + 16];
    struct stat st;
    front_desc(dir, name, desc, sizeof desc);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    it->created_at = stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
    it->name = strdup(name);
    it->state = strdup("");
    it->description = strdup(desc);
    return it->name && it->state && it->description ? 0 : -1;
}

int hb_skills_list(const char *skills_dir, hb_catitem_t **items, size_t *n, bool *truncated,
                   const char **state)
{
    *items = NULL;
    *n = 0;
    *truncated = false;
    struct dirent **ents = NULL;
    int cnt = scandir(skills_dir, &ents, NULL, alphasort);
    if (cnt < 0) {
        *state = errno == ENOENT || errno == ENOTDIR ? "missing" : "unreadable";
        return 0;
    }
    *state = "ok";
    hb_catitem_t *v = calloc(HB_SKILLS_MAX_N, sizeof *v);
    int rc = v ? 0 : -1;
    for (int i = 0; i < cnt; i++) {
        if (rc == 0 && skill_exists(skills_dir, ents[i]->d_name)) {
            if (*n == HB_SKILLS_MAX_N)
                *truncated = true;
            else
                rc = add_item(skills_dir, ents[i]->d_name, &v[(*n)++]);   /* freed with the
                                                                          * others if half made */
        }
        free(ents[i]);
    }
    free(ents);
    if (rc < 0) {
        hb_catitems_free(v, *n);
        *n = 0;
        return -1;
    }
    *items = v;
    return 0;
}
