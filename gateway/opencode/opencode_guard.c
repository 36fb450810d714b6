/* Refused OpenCode routes (see opencode_guard.h). Rules match path segments
 * case-insensitively: "*" is one segment, a final "**" any rest (or none). */
#include "opencode_guard.h"

#include <jansson.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "json_depth.h"

#define SEG_MAX 16

typedef enum { ANY, WRITES } meth_t;   /* WRITES: every method but GET/HEAD */

static const struct {
    meth_t      m;
    const char *pattern;
    const char *why;
} rules[] = {
    {ANY, "session/*/shell", "runs a shell command on the host"},
    {ANY, "pty/**", "opens a terminal on the host"},
    {ANY, "api/pty/**", "opens a terminal on the host"},
    {ANY, "file/**", "reads the host's files"},
    {ANY, "find/**", "searches the host's files"},
    {ANY, "api/fs/**", "reads the host's files"},
    {ANY, "vcs/apply", "writes the host's files"},
    {ANY, "project/git/**", "writes the host's files"},
    {WRITES, "project/*", "changes the host project"},
    {ANY, "experimental/worktree/**", "writes the host's files"},
    {ANY, "experimental/workspace/**", "writes the host's files"},
    {ANY, "experimental/project/**", "writes the host's files"},
    {ANY, "experimental/control-plane/**", "moves sessions between host directories"},
    {ANY, "sync/**", "writes the host's files"},
    {ANY, "global/upgrade", "replaces the OpenCode binary on the host"},
    {WRITES, "config", "would change the agent's permissions or run host commands"},
    {WRITES, "global/config", "would change the agent's permissions or run host commands"},
    {WRITES, "mcp", "would add an MCP server that runs a host command"},
    /* Nothing asks for a permission here (every rule is allow or deny); a
     * made-up request answered "always" would be a saved allow rule. */
    {WRITES, "api/session/*/permission/**", "grants the agent permissions"},
    {WRITES, "permission/**", "grants the agent permissions"},
    {WRITES, "session/*/permissions/**", "grants the agent permissions"},
    {WRITES, "api/permission/**", "grants the agent permissions"},
};

static size_t split(const char *path, const char **seg, size_t *len, size_t max, bool *dots)
{
    size_t n = 0;
    *dots = false;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t l = (size_t)(p - s);
        if ((l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
            *dots = true;
        if (n < max) {   /* past max: only counted, and still checked for dots */
            seg[n] = s;
            len[n] = l;
        }
        n++;
    }
    return n;
}

static bool matches(const char *pattern, const char **seg, const size_t *len, size_t n)
{
    const char *pseg[SEG_MAX];
    size_t plen[SEG_MAX];
    bool dots;
    size_t pn = split(pattern, pseg, plen, SEG_MAX, &dots);
    bool tail = pn > 0 && plen[pn - 1] == 2 && memcmp(pseg[pn - 1], "**", 2) == 0;
    size_t fixed = tail ? pn - 1 : pn;
    if (n < fixed || (!tail && n != fixed))
        return false;
    for (size_t i = 0; i < fixed; i++) {
        if (plen[i] == 1 && pseg[i][0] == '*')
            continue;
        if (plen[i] != len[i] || strncasecmp(pseg[i], seg[i], len[i]) != 0)
            return false;
    }
    return true;
}

/* Bytes that would give the path another meaning once it is a URL again
 * ('?' and '#' end it, '%' is decoded a second time) or that a router may
 * treat as separators or drop. */
static bool has_special(const char *path)
{
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p == '?' || *p == '#' || *p == '%' || *p == '\\' || *p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

const char *hb_oc_route_blocked(const char *method, const char *path)
{
    const char *seg[SEG_MAX];
    size_t len[SEG_MAX];
    bool dots;
    if (!path)
        path = "";
    if (has_special(path))
        return "has '?', '#', '%', '\\' or control characters in its decoded path";
    size_t n = split(path, seg, len, SEG_MAX, &dots);
    if (dots)
        return "has '.' or '..' segments";
    if (n > SEG_MAX)
        n = SEG_MAX;   /* longer paths are matched on their first segments */
    bool reads = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (rules[i].m == WRITES && reads)
            continue;
        if (matches(rules[i].pattern, seg, len, n))
            return rules[i].why;
    }
    return NULL;
}

const char hb_oc_too_deep[] = "is JSON nested deeper than 64 levels";

/* The body as JSON; NULL with *json false when it does not even look like
 * JSON (OpenCode's JSON routes refuse it themselves). A body nested too
 * deep is not parsed at all (*deep). */
static json_t *load_json(const char *body, size_t len, bool *json, bool *deep)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    *json = i < len && (body[i] == '{' || body[i] == '[');
    *deep = false;
    if (!*json)
        return NULL;
    /* Whatever OpenCode's parser accepts must be checked here too: NULs,
     * huge integers and deep nesting must not make this parse fail and the
     * body go through unchecked. What still fails is refused. */
    json_error_t je;
    json_t *j = hb_json_loadb(body, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    *deep = !j && json_error_code(&je) == json_error_stack_overflow;
    return j;
}

const char *hb_oc_body_blocked(const char *body, size_t len)
{
    static const char *const fields[] = {"tools", "permission", "permissions", NULL};
    bool is_json, deep;
    json_t *j = load_json(body, len, &is_json, &deep);
    if (!is_json)
        return NULL;
    if (deep)
        return hb_oc_too_deep;
    if (!j)
        return "is JSON that HiveBox cannot check";
    const char *why = NULL;
    for (size_t f = 0; json_is_object(j) && fields[f] && !why; f++)
        if (json_object_get(j, fields[f]))
            why = "sets the agent's tools or permissions (the agent may only use the sandbox's "
                  "MCP tools)";
    json_decref(j);
    return why;
}

bool hb_oc_route_prompts(const char *method, const char *path)
{
    static const char *const prompts[] = {"session/*/message", "session/*/prompt_async",
                                          "session/*/command", NULL};
    const char *seg[SEG_MAX];
    size_t len[SEG_MAX];
    bool dots;
    size_t n = split(path ? path : "", seg, len, SEG_MAX, &dots);
    if (strcmp(method, "POST") != 0 || n > SEG_MAX)
        return false;
    for (size_t i = 0; prompts[i]; i++)
        if (matches(prompts[i], seg, len, n))
            return true;
    return false;
}

bool hb_oc_body_names_model(const char *body, size_t len)
{
    bool is_json, deep;
    json_t *j = body ? load_json(body, len, &is_json, &deep) : NULL;
    bool named = json_is_object(j) && json_object_get(j, "model");
    json_decref(j);
    return named;
}
