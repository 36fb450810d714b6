/* Command-line parsing for the subcommands: a small table-driven parser
 * (no getopt global state, so it is reentrant and unit-testable).
 * Accepted forms: --opt value, --opt=value, -e value, and "--" ending the
 * options; everything after "--" is the command to run. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

enum { K_STR, K_ENV, K_META, K_JSON, K_HELP, K_STDIN, K_NOOP, K_BOOL };

typedef struct {
    const char *name;
    char        shrt;
    int         kind;
    unsigned    group;
    size_t      off;    /* of a `const char *` field, for K_STR */
} opt_t;

#define S(field) offsetof(cli_opts_t, field)
static const opt_t OPTS[] = {
    {"api-url", 0, K_STR, CLI_OPT_COMMON, S(api_url)},
    {"api-key", 0, K_STR, CLI_OPT_COMMON, S(api_key)},
    {"data-dir", 0, K_STR, CLI_OPT_COMMON, S(data_dir)},
    {"json", 0, K_JSON, CLI_OPT_COMMON, 0},
    {"help", 'h', K_HELP, CLI_OPT_COMMON, 0},
    {"name", 0, K_STR, CLI_OPT_CREATE, S(name)},
    {"image", 0, K_STR, CLI_OPT_CREATE, S(image)},
    {"memory", 0, K_STR, CLI_OPT_CREATE, S(memory)},
    {"cpus", 0, K_STR, CLI_OPT_CREATE, S(cpus)},
    {"pids", 0, K_STR, CLI_OPT_CREATE, S(pids)},
    {"disk", 0, K_STR, CLI_OPT_CREATE, S(disk)},
    {"network", 0, K_STR, CLI_OPT_CREATE, S(network)},
    {"skills", 0, K_STR, CLI_OPT_CREATE, S(skills)},
    {"llm-base-url", 0, K_STR, CLI_OPT_CREATE, S(llm_base_url)},
    {"llm-api-key", 0, K_STR, CLI_OPT_CREATE, S(llm_api_key)},
    {"llm-model", 0, K_STR, CLI_OPT_CREATE, S(llm_model)},
    {"timeout", 0, K_STR, CLI_OPT_CREATE | CLI_OPT_EXEC, S(timeout)},
    {"auto-resume", 0, K_BOOL, CLI_OPT_CREATE, S(auto_resume)},
    {"on-timeout", 0, K_STR, CLI_OPT_CREATE, S(on_timeout)},
    {"cwd", 0, K_STR, CLI_OPT_EXEC, S(cwd)},
    {"user", 'u', K_STR, CLI_OPT_EXEC, S(user)},
    {"env", 'e', K_ENV, CLI_OPT_EXEC | CLI_OPT_CREATE, 0},
    {"metadata", 0, K_META, CLI_OPT_CREATE, 0},
    {"stdin", 'i', K_STDIN, CLI_OPT_EXEC, 0},
    {"recursive", 'r', K_NOOP, CLI_OPT_CP, 0},
    {"background", 'd', K_BOOL, CLI_OPT_BG, S(background)},
    {"tag", 0, K_STR, CLI_OPT_BG, S(tag)},
    {"follow", 'f', K_BOOL, CLI_OPT_FOLLOW, S(follow)},
    {"signal", 's', K_STR, CLI_OPT_SIGNAL, S(signal)},
};
#undef S

static const opt_t *find_opt(const char *arg, size_t *namelen)
{
    for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++) {
        const opt_t *op = &OPTS[i];
        if (arg[1] != '-') {   /* short form: exactly "-x" */
            if (op->shrt && arg[1] == op->shrt && arg[2] == '\0') {
                *namelen = 1;
                return op;
            }
            continue;
        }
        size_t n = strcspn(arg + 2, "=");
        if (strlen(op->name) == n && strncmp(arg + 2, op->name, n) == 0) {
            *namelen = n;
            return op;
        }
    }
    return NULL;
}

static int set_opt(const opt_t *op, const char *val, cli_opts_t *o, char *err, size_t errlen)
{
    switch (op->kind) {
    case K_JSON:
        o->json = true;
        return 0;
    case K_HELP:
        o->help = true;
        return 0;
    case K_STDIN:
        o->send_stdin = true;
        return 0;
    case K_NOOP:
        return 0;
    case K_BOOL:
        *(bool *)((char *)o + op->off) = true;
        return 0;
    case K_ENV:
        if (!strchr(val, '=') || val[0] == '=') {
            snprintf(err, errlen, "-e expects KEY=VALUE, got '%.64s'", val);
            return -1;
        }
        if (o->n_env >= CLI_MAX_ENV) {
            snprintf(err, errlen, "too many -e options (max %d)", CLI_MAX_ENV);
            return -1;
        }
        o->env[o->n_env++] = val;
        return 0;
    case K_META:
        if (!strchr(val, '=') || val[0] == '=') {
            snprintf(err, errlen, "--metadata expects KEY=VALUE, got '%.64s'", val);
            return -1;
        }
        if (o->n_meta >= CLI_MAX_ENV) {
            snprintf(err, errlen, "too many --metadata options (max %d)", CLI_MAX_ENV);
            return -1;
        }
        o->meta[o->n_meta++] = val;
        return 0;
    default:
        *(const char **)((char *)o + op->off) = val;
        return 0;
    }
}

/* One option at argv[*i]; consumes its value word when it takes one. */
static int parse_one(int argc, char **argv, int *i, unsigned allowed, cli_opts_t *o, char *err,
                     size_t errlen)
{
    const char *arg = argv[*i];
    size_t nl = 0;
    const opt_t *op = find_opt(arg, &nl);
    if (!op || !(op->group & allowed)) {
        snprintf(err, errlen, "unknown option '%.64s'", arg);
        return -1;
    }
    /* the rest are flags */
    bool takes = op->kind == K_STR || op->kind == K_ENV || op->kind == K_META;
    const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
    if (!takes) {
        if (eq) {
            snprintf(err, errlen, "option '--%s' takes no value", op->name);
            return -1;
        }
        return set_opt(op, NULL, o, err, errlen);
    }
    const char *val = eq ? eq + 1 : NULL;
    if (!val) {
        if (*i + 1 >= argc) {
            snprintf(err, errlen, "option '--%s' needs a value", op->name);
            return -1;
        }
        val = argv[++*i];
    }
    return set_opt(op, val, o, err, errlen);
}

int cli_parse(int argc, char **argv, unsigned allowed, cli_opts_t *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    err[0] = '\0';
    allowed |= CLI_OPT_COMMON;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            o->dashdash = true;
            o->cmd = argv + i + 1;
            o->n_cmd = argc - i - 1;
            return 0;
        }
        if (arg[0] == '-' && arg[1] != '\0') {
            if (parse_one(argc, argv, &i, allowed, o, err, errlen) < 0)
                return -1;
            continue;
        }
        if (o->n_pos >= CLI_MAX_POS) {
            snprintf(err, errlen, "too many arguments");
            return -1;
        }
        o->pos[o->n_pos++] = arg;
    }
    return 0;
}

/* A word the shell reads as itself needs no quotes; keeping those bare keeps
 * the joined command readable in logs and `ps`. */
static bool shell_plain(const char *w)
{
    if (!*w)
        return false;
    for (; *w; w++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    "-_./:=@%+,", *w))
            return false;
    return true;
}

/* Bytes `w` takes once single-quoted: each ' becomes '\'' (3 more). */
static size_t quoted_len(const char *w)
{
    size_t n = strlen(w);
    if (shell_plain(w))
        return n;
    size_t q = 2 + n;
    for (; *w; w++)
        q += *w == '\'' ? 3 : 0;
    return q;
}

static char *put_quoted(char *out, const char *w)
{
    if (shell_plain(w)) {
        size_t n = strlen(w);
        memcpy(out, w, n);
        return out + n;
    }
    *out++ = '\'';
    for (; *w; w++) {
        if (*w == '\'') {
            memcpy(out, "'\\''", 4);
            out += 4;
        } else {
            *out++ = *w;
        }
    }
    *out++ = '\'';
    return out;
}

/* One word is a shell command line, as typed (`-- 'ls | wc -l'`); several
 * words are an argument vector (`-- python3 -c 'print(1)'`), each quoted
 * so that sh -c in the sandbox sees exactly these words, as `docker exec`
 * and `ssh host -- cmd` users expect. */
char *cli_join_cmd(int n, char *const *words)
{
    if (n == 1)
        return strdup(words[0]);
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += quoted_len(words[i]) + 1;
    char *s = malloc(len), *w = s;
    if (!s)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (i > 0)
            *w++ = ' ';
        w = put_quoted(w, words[i]);
    }
    *w = '\0';
    return s;
}

/* Global options may come before the command (`hivebox --api-url U list`,
 * as docker and git users type): they are moved just after it, where every
 * subcommand's parser takes them. `v` has room for argc + 1 pointers. */
int cli_hoist_globals(int argc, char **argv, char **v, char *err, size_t errlen)
{
    int i = 1;
    while (i < argc && argv[i][0] == '-' && argv[i][1] == '-' && argv[i][2]) {
        size_t nl = 0;
        const opt_t *op = find_opt(argv[i], &nl);
        if (!op || op->group != CLI_OPT_COMMON || op->kind == K_HELP)
            break;
        i += op->kind == K_STR && !strchr(argv[i], '=') ? 2 : 1;
    }
    if (i >= argc) {
        snprintf(err, errlen, "missing command after the options");
        return -1;
    }
    int n = 0;
    v[n++] = argv[0];
    v[n++] = argv[i];
    for (int j = 1; j < i; j++)
        v[n++] = argv[j];
    for (int j = i + 1; j < argc; j++)
        v[n++] = argv[j];
    v[n] = NULL;
    return n;
}

/* The CLI is a client: it reads its own variables here (HIVEBOX_API_URL,
 * HIVEBOX_DATA_DIR; HIVEBOX_API_KEY in cli_http.c). The daemon's settings
 * are listed once in actors/config.def and read by actors/config.c. */
const char *cli_api_url(const cli_opts_t *o)
{
    const char *env = getenv("HIVEBOX_API_URL");
    if (o->api_url && *o->api_url)
        return o->api_url;
    return env && *env ? env : CLI_DEFAULT_URL;
}

const char *cli_data_dir(const cli_opts_t *o)
{
    const char *env = getenv("HIVEBOX_DATA_DIR");
    if (o->data_dir && *o->data_dir)
        return o->data_dir;
    return env && *env ? env : CLI_DEFAULT_DATA_DIR;
}

bool cli_split_remote(const char *arg, char *id, size_t idlen, const char **path)
{
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg || colon[1] != '/')
        return false;
    size_t n = (size_t)(colon - arg);
    if (n >= idlen || n >= HB_ID_MAX)
        return false;
    memcpy(id, arg, n);
    id[n] = '\0';
    if (!hb_name_valid(id))
        return false;
    *path = colon + 1;
    return true;
}
