/* list_skills / read_skill_file: a sandbox's skills are what is mounted at
 * /opt/skills inside it (exactly the selection of its create request, see
 * the launcher), so both tools read through init like any file and can
 * never show a skill the sandbox was not given. */
#include "mcp_tools.h"

#include <stdlib.h>
#include <string.h>

#define SKILLS_ROOT "/opt/skills"
#define SKILL_MD_CAP (256u * 1024)

/* The description of a SKILL.md: its front matter's "description:", else
 * the first "# " heading. Points into s; *n gets the length. */
static const char *skill_desc(const char *s, size_t len, size_t *n)
{
    const char *end = s + len, *p = s;
    bool front = len >= 4 && strncmp(s, "---\n", 4) == 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (front && le - p >= 12 && strncmp(p, "description:", 12) == 0) {
            const char *v = p + 12;
            while (v < le && (*v == ' ' || *v == '"' || *v == '\''))
                v++;
            const char *ve = le;
            while (ve > v && (ve[-1] == '"' || ve[-1] == '\'' || ve[-1] == ' ' || ve[-1] == '\r'))
                ve--;
            *n = (size_t)(ve - v);
            return v;
        }
        if (!front && le - p > 2 && p[0] == '#' && p[1] == ' ') {
            *n = (size_t)(le - p - 2);
            return p + 2;
        }
        if (front && p != s && le - p == 3 && strncmp(p, "---", 3) == 0)
            front = false; /* front matter over without a description */
        p = nl ? nl + 1 : end;
    }
    *n = 0;
    return s;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const hb_dirent_t *)a)->name, ((const hb_dirent_t *)b)->name);
}

/* "- name: description" per skill into b; returns the number of skills. */
static size_t describe(const hb_lease_t *l, mcp_buf_t *b, bool with_paths)
{
    hb_dirent_t *ents;
    size_t n, count = 0;
    bool trunc;
    if (hb_lease_file_list(l, SKILLS_ROOT, false, 256, &ents, &n, &trunc, NULL) < 0)
        return 0;
    if (n > 1)
        qsort(ents, n, sizeof *ents, by_name);
    for (size_t i = 0; i < n; i++) {
        if (ents[i].type != HB_FT_DIR)
            continue;
        char md[HB_PATH_MAX], *text = NULL;
        size_t len = 0, dn = 0;
        snprintf(md, sizeof md, SKILLS_ROOT "/%s/SKILL.md", ents[i].name);
        const char *d = "";
        if (hb_lease_file_read_buf(l, md, SKILL_MD_CAP, &text, &len, NULL) == 0)
            d = skill_desc(text, len, &dn);
        json_t *jd = mcp_json_text_capped(d, dn, 600);
        mcp_buf_printf(b, "- %s: %s", ents[i].name, json_string_value(jd));
        if (with_paths)
            mcp_buf_printf(b, " (" SKILLS_ROOT "/%s)", ents[i].name);
        mcp_buf_puts(b, "\n");
        json_decref(jd);
        free(text);
        count++;
    }
    hb_dirents_free(ents, n);
    return count;
}

void mcp_skills_describe(const hb_lease_t *l, mcp_buf_t *b)
{
    describe(l, b, false);
}

void mcp_tool_list_skills(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    mcp_buf_t b;
    mcp_buf_init(&b, MCP_TEXT_CAP);
    if (describe(ctx->lease, &b, true) == 0)
        mcp_buf_puts(&b, "No skills are available in this sandbox.\n");
    else
        mcp_buf_puts(&b, "\nRead a skill's instructions with read_skill_file before using it; "
                         "run its scripts with exec.\n");
    mcp_res_buf(r, &b, NULL);
    mcp_buf_free(&b);
}

/* A file path inside a skill: relative, no "..", no empty or "." parts. */
static bool file_ok(const char *f)
{
    if (f[0] == '/')
        return false;
    for (const char *p = f; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n + (slash ? 1 : 0);
    }
    return true;
}

void mcp_tool_read_skill_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    const char *skill = mcp_arg_str(args, "skill"), *file = mcp_arg_str(args, "file");
    if (!file)
        file = "SKILL.md";
    if (!hb_name_valid(skill)) {
        mcp_res_error(r, "'%s' is not a skill name; see list_skills.", skill);
        return;
    }
    if (!file_ok(file)) {
        mcp_res_error(r, "file must be a relative path inside the skill without '..' "
                      "(e.g. \"SKILL.md\" or \"scripts/run.py\").");
        return;
    }
    char dir[HB_PATH_MAX], path[HB_PATH_MAX];
    snprintf(dir, sizeof dir, SKILLS_ROOT "/%s", skill);
    hb_stat_t st;
    if (hb_lease_file_stat(ctx->lease, dir, true, &st, NULL) < 0 || st.type != HB_FT_DIR) {
        mcp_res_error(r, "No skill named '%s' in this sandbox; see list_skills.", skill);
        return;
    }
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) {
        mcp_res_error(r, "file path too long");
        return;
    }
    char *buf;
    size_t len;
    hb_err_t e = {0};
    if (hb_lease_file_read_buf(ctx->lease, path, MCP_READ_CAP, &buf, &len, &e) < 0) {
        mcp_res_hberr(r, "read", path, &e);
        return;
    }
    if (mcp_looks_binary(buf, len))
        mcp_res_error(r, "%s is binary (%zu bytes); use it through exec.", path, len);
    else
        mcp_res_text(r, buf, len);
    free(buf);
}
