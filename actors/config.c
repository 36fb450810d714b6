/* The daemon's settings from config.def: parsing, validation, --help and
 * README's table (see config.h). The only place the daemon reads its
 * environment. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime.h"   /* hb_parse_size */

typedef enum { T_STR, T_INT, T_BYTES, T_SIZE, T_FLOAT, T_BOOL, T_CHOICE, T_LIST } type_t;

typedef struct {
    const char *flag, *env, *dflt, *shown, *valid, *help;
    type_t      type;
    double      lo, hi;   /* hi 0: no upper bound */
    size_t      off;      /* of the field in hb_config_t */
} setting_t;

static const setting_t settings[] = {
#define HB_SETTING(field, type, flag, env, dflt, shown, lo, hi, valid, help) \
    {flag, env, dflt, shown, valid, help, T_##type, lo, hi, offsetof(hb_config_t, field)},
#include "config.def"
#undef HB_SETTING
};
#define N_SETTINGS (sizeof settings / sizeof *settings)

enum { OPT_BASE = 1000, OPT_HELP = 'h', OPT_MARKDOWN = 999 };

/* ---- one value ---- */

/* "--flag", "--flag (HIVEBOX_X)" or "HIVEBOX_X": where a bad value came from. */
static void source_name(const setting_t *s, bool from_env, char *buf, size_t len)
{
    if (s->flag && !from_env)
        snprintf(buf, len, "--%s", s->flag);
    else if (s->flag)
        snprintf(buf, len, "--%s (%s)", s->flag, s->env);
    else
        snprintf(buf, len, "%s", s->env);
}

static bool in_bounds(const setting_t *s, double v)
{
    return v >= s->lo && (s->hi == 0 || v <= s->hi);
}

static int parse_u64(const char *text, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || isspace((unsigned char)text[0]))
        return -1;
    *v = x;
    return 0;
}

static int parse_bool(const char *text, bool *v)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0)
            return *v = true, 0;
        if (strcasecmp(text, no[i]) == 0)
            return *v = false, 0;
    }
    return -1;
}

/* The index of text in "a|b|c", or -1. */
static int parse_choice(const char *choices, const char *text)
{
    size_t n = strlen(text);
    const char *p = choices;
    for (int i = 0;; i++) {
        if (strncmp(p, text, n) == 0 && (p[n] == '|' || p[n] == '\0'))
            return i;
        if (!(p = strchr(p, '|')))
            return -1;
        p++;
    }
}

/* INT, BYTES and SIZE: a whole number within the bounds. */
static int parse_whole(const setting_t *s, const char *text, void *dst, hb_err_t *e,
                       const char *name)
{
    uint64_t u = 0;
    int rc = s->type == T_SIZE ? hb_parse_size(text, name, &u, e) : parse_u64(text, &u);
    if (rc < 0 || !in_bounds(s, (double)u))
        return -1;
    if (s->type == T_INT)
        *(int *)dst = (int)u;
    else
        *(uint64_t *)dst = u;
    return 0;
}

static int parse_float(const setting_t *s, const char *text, double *dst)
{
    char *end = NULL;
    double d = strtod(text, &end);
    if (end == text || *end || !isfinite(d) || !in_bounds(s, d))
        return -1;
    *dst = d;
    return 0;
}

/* ---- LIST: a repeatable flag, a comma-separated variable ---- */

static int list_cap(const setting_t *s)
{
    return s->hi > 0 && s->hi < HB_CFG_LIST_MAX ? (int)s->hi : HB_CFG_LIST_MAX;
}

static int list_add(const setting_t *s, hb_cfg_LIST *l, const char *item, const char *name,
                    char *err, size_t errlen)
{
    if (l->n >= list_cap(s)) {
        snprintf(err, errlen, "%s: at most %d", name, list_cap(s));
        return -1;
    }
    l->item[l->n++] = item;
    return 0;
}

/* The variable's items into l's own copy of it, split at the commas. */
static int list_split(const setting_t *s, hb_cfg_LIST *l, const char *text, const char *name,
                      char *err, size_t errlen)
{
    size_t len = strlen(text);
    if (len > HB_CFG_LIST_BYTES) {
        snprintf(err, errlen, "%s: longer than %d bytes", name, HB_CFG_LIST_BYTES);
        return -1;
    }
    memcpy(l->env_copy, text, len + 1);
    char *save = NULL;
    for (char *tok = strtok_r(l->env_copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*tok && list_add(s, l, tok, name, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* What a bad value's message says: the setting's own words, else the
 * parser's, else a generic one. */
static void bad_value(const setting_t *s, const char *name, const hb_err_t *e, char *err,
                      size_t errlen)
{
    if (s->valid)
        snprintf(err, errlen, "%s: %s", name, s->valid);
    else if (e->msg[0])
        snprintf(err, errlen, "%s", e->msg);
    else if (s->type == T_BOOL)
        snprintf(err, errlen, "%s: 1, true, yes, on or 0, false, no, off", name);
    else
        snprintf(err, errlen, "%s: out of range", name);
}

static int parse_value(const setting_t *s, const char *text, bool from_env, void *dst, char *err,
                       size_t errlen)
{
    char name[96];
    hb_err_t e = {0};
    int rc = 0;
    source_name(s, from_env, name, sizeof name);
    if (s->type == T_LIST)   /* its own messages */
        return list_split(s, dst, text, name, err, errlen);
    switch (s->type) {
    case T_STR: *(const char **)dst = text; break;
    case T_BOOL: rc = parse_bool(text, dst); break;
    case T_CHOICE: rc = (*(int *)dst = parse_choice(s->valid, text)) < 0 ? -1 : 0; break;
    case T_FLOAT: rc = parse_float(s, text, dst); break;
    default: rc = parse_whole(s, text, dst, &e, name); break;
    }
    if (rc < 0)
        bad_value(s, name, &e, err, errlen);
    return rc;
}

/* ---- the command line ---- */

static void build_options(struct option *lo)
{
    size_t n = 0;
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (settings[i].flag)
            lo[n++] = (struct option){settings[i].flag,
                                      settings[i].type == T_BOOL ? no_argument : required_argument,
                                      NULL, OPT_BASE + (int)i};
    lo[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    lo[n++] = (struct option){"help-markdown", no_argument, NULL, OPT_MARKDOWN};
    lo[n] = (struct option){NULL, 0, NULL, 0};
}

/* One flag's value into given[i] (NULL: not given; a BOOL flag gives "1");
 * a LIST flag's straight into its list, each occurrence one item. */
static int take_flag(size_t i, const char *given[N_SETTINGS], hb_config_t *c, char *err,
                     size_t errlen)
{
    const setting_t *s = &settings[i];
    given[i] = s->type == T_BOOL ? "1" : optarg;
    if (s->type != T_LIST)
        return 0;
    char name[96];
    source_name(s, false, name, sizeof name);
    return list_add(s, (hb_cfg_LIST *)((char *)c + s->off), optarg, name, err, errlen);
}

static hb_config_result_t read_flags(int argc, char **argv, const char *given[N_SETTINGS],
                                     hb_config_t *c, char *err, size_t errlen)
{
    struct option lo[N_SETTINGS + 3];
    build_options(lo);
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (opt == OPT_HELP)
            return HB_CONFIG_HELP;
        if (opt == OPT_MARKDOWN)
            return HB_CONFIG_MARKDOWN;
        if (opt < OPT_BASE || opt >= OPT_BASE + (int)N_SETTINGS)
            return err[0] = '\0', HB_CONFIG_ERROR;   /* getopt said why */
        if (take_flag((size_t)(opt - OPT_BASE), given, c, err, errlen) < 0)
            return HB_CONFIG_ERROR;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
        return HB_CONFIG_ERROR;
    }
    return HB_CONFIG_RUN;
}

/* A flag, else the variable (empty is unset), else the default. */
static int resolve(const setting_t *s, const char *given, hb_config_t *c, char *err, size_t errlen)
{
    void *dst = (char *)c + s->off;
    const char *env = s->env ? getenv(s->env) : NULL;
    if (given)   /* a LIST's flags are in it already */
        return s->type == T_LIST ? 0 : parse_value(s, given, false, dst, err, errlen);
    if (env && env[0])
        return parse_value(s, env, true, dst, err, errlen);
    if (s->dflt)
        return parse_value(s, s->dflt, false, dst, err, errlen);
    return 0;   /* unset: zeroed */
}

hb_config_result_t hb_config_load(hb_config_t *c, int argc, char **argv, char *err,
                                  size_t errlen)
{
    const char *given[N_SETTINGS] = {0};
    memset(c, 0, sizeof *c);
    err[0] = '\0';
    hb_config_result_t r = read_flags(argc, argv, given, c, err, errlen);
    if (r != HB_CONFIG_RUN)
        return r;
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (resolve(&settings[i], given[i], c, err, errlen) < 0)
            return HB_CONFIG_ERROR;
    return HB_CONFIG_RUN;
}

/* ---- help and README ---- */

/* Markdown as plain text: without the backticks. */
static void put_plain(FILE *f, const char *md)
{
    for (; *md; md++)
        if (*md != '`')
            fputc(*md, f);
}

static const char *metavar(const setting_t *s)
{
    switch (s->type) {
    case T_INT: return "N";
    case T_BYTES: return "BYTES";
    case T_SIZE: return "SIZE";
    case T_FLOAT: return "RATIO";
    case T_CHOICE: return s->valid;
    case T_BOOL: return NULL;
    default: return "TEXT";
    }
}

static void put_md(FILE *f, const char *md) { fputs(md, f); }

/* The default as README shows it, through put (Markdown or plain). */
static void put_default(FILE *f, const setting_t *s, void (*put)(FILE *, const char *))
{
    if (s->shown) {
        put(f, s->shown);
    } else if (s->dflt) {
        put(f, "`");
        put(f, s->dflt);
        put(f, "`");
    } else {
        put(f, "none");
    }
}

void hb_config_usage(FILE *f)
{
    fputs("usage: hivebox daemon [OPTION]...\n"
          "Each setting is a flag, an environment variable or both; a flag wins over the\n"
          "variable, the variable over the default.\n\n", f);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting_t *s = &settings[i];
        const char *mv = metavar(s);
        fputs(" ", f);
        if (s->flag)
            fprintf(f, " --%s%s%s%s", s->flag, mv ? " " : "", mv ? mv : "", s->env ? "," : "");
        if (s->env)
            fprintf(f, " %s", s->env);
        fputs("  (default: ", f);
        put_default(f, s, put_plain);
        fputs(")\n      ", f);
        put_plain(f, s->help);
        fputs("\n", f);
    }
    fputs("  --help-markdown\n      print this list as README.md's settings table\n", f);
}

void hb_config_markdown(FILE *f)
{
    fputs("| Daemon flag / variable | Default | Meaning |\n|---|---|---|\n", f);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting_t *s = &settings[i];
        fputs("| ", f);
        if (s->flag)
            fprintf(f, "`--%s`%s", s->flag, s->env ? ", " : "");
        if (s->env)
            fprintf(f, "`%s`", s->env);
        fputs(" | ", f);
        put_default(f, s, put_md);
        fprintf(f, " | %s |\n", s->help);
    }
}
