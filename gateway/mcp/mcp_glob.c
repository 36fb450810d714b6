/* Glob matching for the glob tool: '*' and '?' within one path component
 * (fnmatch, leading dots only when named), '**' across components (never
 * into hidden ones). A pattern without '/' matches a name at any depth.
 * Pure: fuzzed by tests/fuzz/fuzz_mcp.c. */
#include "mcp_tools.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLOB_MAX_SEGS  32
#define GLOB_MAX_PARTS 128

static size_t split(char *s, char **v, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (strcmp(tok, ".") == 0)
            continue;
        if (n == max)
            return max + 1;
        v[n++] = tok;
    }
    return n;
}

/* dp[i][j]: segs[i..] matches parts[j..]. Filled backwards, so '**' costs
 * O(segments * parts) rather than backtracking. */
static bool match_parts(char **segs, size_t ns, char **parts, size_t np)
{
    static const size_t W = GLOB_MAX_PARTS + 1;
    bool *dp = calloc((ns + 1) * W, sizeof *dp);
    if (!dp)
        return false;
    dp[ns * W + np] = true;
    for (size_t i = ns; i-- > 0;) {
        bool star2 = strcmp(segs[i], "**") == 0;
        for (size_t j = np + 1; j-- > 0;) {
            bool v;
            if (star2)
                v = dp[(i + 1) * W + j] || (j < np && parts[j][0] != '.' && dp[i * W + j + 1]);
            else
                v = j < np && dp[(i + 1) * W + j + 1] && fnmatch(segs[i], parts[j], FNM_PERIOD) == 0;
            dp[i * W + j] = v;
        }
    }
    bool r = dp[0];
    free(dp);
    return r;
}

bool mcp_glob_match(const char *pattern, const char *rel)
{
    char pat[1100], path[HB_PATH_MAX];
    char *segs[GLOB_MAX_SEGS], *parts[GLOB_MAX_PARTS];
    /* no '/': a name at any depth */
    int n = snprintf(pat, sizeof pat, "%s%s", strchr(pattern, '/') ? "" : "**/", pattern);
    size_t rl = strlen(rel);
    if (n < 0 || (size_t)n >= sizeof pat || rl >= sizeof path)
        return false;
    memcpy(path, rel, rl + 1);
    size_t ns = split(pat, segs, GLOB_MAX_SEGS), np = split(path, parts, GLOB_MAX_PARTS);
    if (ns > GLOB_MAX_SEGS || np > GLOB_MAX_PARTS)
        return false;
    return match_parts(segs, ns, parts, np);
}
