/* The daemon's settings, loaded once at start (config.def lists them).
 *
 * Precedence: a flag, else the environment variable (an empty one counts as
 * unset), else the default. Every value is checked against its type and
 * bounds before anything starts; the message names the flag and the
 * variable. The composition root (tools/daemon.c) loads the config and
 * hands each actor and the gateway what it needs through its start
 * arguments: no module below it reads the environment.
 *
 * Strings point into argv, the environment or static defaults: they live as
 * long as the process (do not setenv a variable the config was read from). */
#ifndef HB_CONFIG_H
#define HB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef const char *hb_cfg_STR;
typedef int         hb_cfg_INT;
typedef uint64_t    hb_cfg_BYTES;
typedef uint64_t    hb_cfg_SIZE;
typedef double      hb_cfg_FLOAT;
typedef bool        hb_cfg_BOOL;
typedef int         hb_cfg_CHOICE;

/* A LIST setting: each occurrence of its flag is one item (pointing into
 * argv); its variable is split at the commas (blanks around an item
 * trimmed, empty items skipped) into a copy kept here, so the items live as
 * long as the struct. */
#define HB_CFG_LIST_MAX   16
#define HB_CFG_LIST_BYTES (HB_CFG_LIST_MAX * 2049)   /* a variable's length at most */
typedef struct {
    int         n;
    const char *item[HB_CFG_LIST_MAX];
    char        env_copy[HB_CFG_LIST_BYTES + 1];
} hb_cfg_LIST;

typedef struct {
#define HB_SETTING(field, type, flag, env, dflt, shown, lo, hi, valid, help) hb_cfg_##type field;
#include "config.def"
#undef HB_SETTING
} hb_config_t;

typedef enum {
    HB_CONFIG_RUN,       /* start the daemon */
    HB_CONFIG_HELP,      /* --help: usage printed to stdout */
    HB_CONFIG_MARKDOWN,  /* --help-markdown: README's table printed to stdout */
    HB_CONFIG_ERROR,     /* err says why (and the usage follows it on stderr) */
} hb_config_result_t;

/* argv[0] is the subcommand ("daemon"). Never exits; err gets one line
 * ("--port: 1-65535") on HB_CONFIG_ERROR. */
hb_config_result_t hb_config_load(hb_config_t *c, int argc, char **argv, char *err,
                                  size_t errlen);

/* `hivebox daemon --help`. */
void hb_config_usage(FILE *f);
/* The settings table of README.md's "Configuration" section. */
void hb_config_markdown(FILE *f);

#endif
