/* The daemon's settings (actors/config.def): defaults, environment, flag
 * precedence, the messages of bad values, and README's table, which must
 * be the one `hivebox daemon --help-markdown` prints. Each criterion test
 * runs in a process of its own, so setenv here stays here. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capacity.h"
#include "config.h"
#include "runtime.h"

extern char **environ;

static void clear_env(void)
{
    char name[128];
    for (size_t i = 0; environ[i];) {
        const char *eq = strchr(environ[i], '=');
        size_t n = eq ? (size_t)(eq - environ[i]) : 0;
        if (strncmp(environ[i], "HIVEBOX_", 8) == 0 && n < sizeof name) {
            memcpy(name, environ[i], n);
            name[n] = '\0';
            unsetenv(name);   /* environ shifts: look at i again */
        } else {
            i++;
        }
    }
}

/* hb_config_load on "daemon" and the NULL-terminated arguments. */
static hb_config_result_t load(hb_config_t *c, char *err, size_t errlen, ...)
{
    char *argv[32] = {"daemon"};
    int argc = 1;
    va_list ap;
    va_start(ap, errlen);
    for (char *a; argc < 31 && (a = va_arg(ap, char *));)
        argv[argc++] = a;
    va_end(ap);
    return hb_config_load(c, argc, argv, err, errlen);
}

Test(config, defaults)
{
    clear_env();
    hb_config_t c;
    char err[256];
    cr_assert_eq(load(&c, err, sizeof err, NULL), HB_CONFIG_RUN, "%s", err);
    cr_assert_eq(c.port, 7070);
    cr_assert_str_eq(c.host, "0.0.0.0");
    cr_assert_null(c.api_key);
    cr_assert_str_eq(c.data_dir, "/var/lib/hivebox");
    cr_assert_str_eq(c.events, "tcp://127.0.0.1:7071");
    cr_assert_eq(c.max_file_size, 1ull << 30);
    cr_assert_eq(c.log_level, 1, "info");
    cr_assert_not(c.allow_private_egress);
    cr_assert_eq(c.disk_reserve, 2ull << 30);
    cr_assert_eq(c.max_sandboxes, 1000);
    cr_assert_float_eq(c.memory_overcommit, 1.5, 1e-12);
    cr_assert_eq(c.exec_output_budget, 256ull << 20);
    cr_assert_eq(c.threads, 128);
    cr_assert_eq(c.max_idle_per_ip, 64);
    cr_assert_eq(c.max_idle, 1024);
    cr_assert_eq(c.header_timeout, 10);
    cr_assert_str_eq(c.bridge, "hivebox0");
    cr_assert_str_eq(c.subnet, "10.10.0.0/16");
    cr_assert_null(c.dns);
    cr_assert_null(c.opencode_model);
    hb_limits_t l;   /* the admission code's own defaults, for its tests, agree */
    hb_limits_defaults(&l);
    cr_assert_eq(l.max_sandboxes, (uint64_t)c.max_sandboxes);
    cr_assert_float_eq(l.mem_overcommit, c.memory_overcommit, 1e-12);
    cr_assert_eq(l.exec_output_budget, c.exec_output_budget);
}

Test(config, environment)
{
    clear_env();
    setenv("HIVEBOX_DATA_DIR", "/srv/hb", 1);
    setenv("HIVEBOX_MAX_SANDBOXES", "3", 1);
    setenv("HIVEBOX_MEMORY_OVERCOMMIT", "0.25", 1);
    setenv("HIVEBOX_EXEC_OUTPUT_BUDGET", "64m", 1);
    setenv("HIVEBOX_ALLOW_PRIVATE_EGRESS", "1", 1);
    setenv("HIVEBOX_LOG_LEVEL", "warn", 1);
    setenv("HIVEBOX_OPENCODE_MODEL", "a/b", 1);
    setenv("HIVEBOX_EVENTS", "", 1);   /* empty is unset */
    hb_config_t c;
    char err[256];
    cr_assert_eq(load(&c, err, sizeof err, NULL), HB_CONFIG_RUN, "%s", err);
    cr_assert_str_eq(c.data_dir, "/srv/hb");
    cr_assert_eq(c.max_sandboxes, 3);
    cr_assert_float_eq(c.memory_overcommit, 0.25, 1e-12);
    cr_assert_eq(c.exec_output_budget, 64u << 20);
    cr_assert(c.allow_private_egress);
    cr_assert_eq(c.log_level, 2);
    cr_assert_str_eq(c.opencode_model, "a/b");
    cr_assert_str_eq(c.events, "tcp://127.0.0.1:7071");
}

Test(config, a_flag_wins_over_the_variable)
{
    clear_env();
    setenv("HIVEBOX_DATA_DIR", "/srv/env", 1);
    setenv("HIVEBOX_MAX_SANDBOXES", "not a number", 1);   /* overridden: never checked */
    hb_config_t c;
    char err[256];
    cr_assert_eq(load(&c, err, sizeof err, "--data-dir", "/srv/flag", "--max-sandboxes", "7",
                      "--allow-private-egress", "--port", "8080", "--disk-reserve", "1g", NULL),
                 HB_CONFIG_RUN, "%s", err);
    cr_assert_str_eq(c.data_dir, "/srv/flag");
    cr_assert_eq(c.max_sandboxes, 7);
    cr_assert(c.allow_private_egress);
    cr_assert_eq(c.port, 8080);
    cr_assert_eq(c.disk_reserve, 1ull << 30);
}

/* The message names the flag, and the variable when the value came from it. */
Test(config, bad_values_are_named)
{
    static const struct {
        const char *flag, *value, *msg;
    } bad[] = {
        {"--port", "0", "--port: 1-65535"},
        {"--threads", "2", "--threads: 4-1024"},
        {"--log-level", "loud", "--log-level: debug|info|warn|error"},
        {"--max-file-size", "0", "--max-file-size: a byte count"},
        {"--disk-reserve", "lots", "--disk-reserve: expected a size"},
        {"--max-sandboxes", "0", "--max-sandboxes: a count from 1 to 16384"},
        {"--max-sandboxes", "-1", "--max-sandboxes: "},
        {"--max-sandboxes", "1x", "--max-sandboxes: "},
        {"--memory-overcommit", "nan", "--memory-overcommit: a ratio"},
        {"--memory-overcommit", "0", "--memory-overcommit: a ratio"},
        {"--exec-output-budget", "512k", "--exec-output-budget: a size from 1m to 1024g"},
        {"--exec-output-budget", "lots", "--exec-output-budget: a size from 1m to 1024g"},
        {"--exec-output-budget", "99999999999g", "--exec-output-budget: "},
        {"--max-idle", "0", "--max-idle: 1-16384"},
        {"--header-timeout", "3601", "--header-timeout: 1-3600"},
    };
    clear_env();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hb_config_t c;
        char err[256];
        cr_assert_eq(load(&c, err, sizeof err, bad[i].flag, bad[i].value, NULL), HB_CONFIG_ERROR,
                     "%s %s", bad[i].flag, bad[i].value);
        cr_assert(strstr(err, bad[i].msg), "%s %s: %s", bad[i].flag, bad[i].value, err);
    }
    hb_config_t c;
    char err[256];
    setenv("HIVEBOX_MAX_FILE_SIZE", "-5", 1);
    cr_assert_eq(load(&c, err, sizeof err, NULL), HB_CONFIG_ERROR);
    cr_assert(strstr(err, "--max-file-size (HIVEBOX_MAX_FILE_SIZE): "), "%s", err);
    unsetenv("HIVEBOX_MAX_FILE_SIZE");
    setenv("HIVEBOX_ALLOW_PRIVATE_EGRESS", "maybe", 1);
    cr_assert_eq(load(&c, err, sizeof err, NULL), HB_CONFIG_ERROR);
    cr_assert(strstr(err, "HIVEBOX_ALLOW_PRIVATE_EGRESS"), "%s", err);
    unsetenv("HIVEBOX_ALLOW_PRIVATE_EGRESS");
    cr_assert_eq(load(&c, err, sizeof err, "stray", NULL), HB_CONFIG_ERROR);
    cr_assert(strstr(err, "unexpected argument 'stray'"), "%s", err);
}

Test(config, help_lists_every_setting)
{
    clear_env();
    hb_config_t c;
    char err[256];
    cr_assert_eq(load(&c, err, sizeof err, "--help", NULL), HB_CONFIG_HELP);
    cr_assert_eq(load(&c, err, sizeof err, "--help-markdown", NULL), HB_CONFIG_MARKDOWN);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    hb_config_usage(f);
    fclose(f);
    cr_assert(strstr(text, "--disk-reserve SIZE, HIVEBOX_DISK_RESERVE  (default: 2g)"), "%s", text);
    cr_assert(strstr(text, "HIVEBOX_OPENCODE_IDLE"), "%s", text);
    free(text);
}

/* README.md's table between its two markers. NULL if they are missing. */
static char *readme_table(void)
{
    FILE *f = fopen("README.md", "re");
    cr_assert_not_null(f, "run from the repository's root (make unit)");
    char *text = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&text, &cap, '\0', f);
    fclose(f);
    cr_assert(n > 0);
    char *begin = strstr(text, "<!-- settings: generated");
    char *end = begin ? strstr(begin, "<!-- settings: end -->") : NULL;
    char *nl = begin ? strchr(begin, '\n') : NULL;
    if (!end || !nl || nl > end) {
        free(text);
        return NULL;
    }
    *end = '\0';
    char *table = strdup(nl + 1);
    free(text);
    return table;
}

Test(config, readme_table_is_the_generated_one)
{
    char *want = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&want, &len);
    hb_config_markdown(f);
    fclose(f);
    char *have = readme_table();
    cr_assert_not_null(have, "README.md lacks the <!-- settings: ... --> markers");
    cr_assert_str_eq(have, want, "README.md's settings table differs from actors/config.def: "
                                 "paste `build/hivebox daemon --help-markdown` between the markers");
    free(have);
    free(want);
}

/* A LIST (--webhook): the flag repeats, each occurrence one item; the
 * variable is a comma-separated list; the flags win over the variable. */
Test(config, a_list_setting)
{
    clear_env();
    hb_config_t c;
    char err[256];
    cr_assert_eq(load(&c, err, sizeof err, NULL), HB_CONFIG_RUN, "%s", err);
    cr_assert_eq(c.webhook.n, 0);
    setenv("HIVEBOX_WEBHOOK", " http://a/x , http://b/?q=1,,http://c/ ,", 1);
    cr_assert_eq(load(&c, err, sizeof err, NULL), HB_CONFIG_RUN, "%s", err);
    cr_assert_eq(c.webhook.n, 3);
    cr_assert_str_eq(c.webhook.item[0], "http://a/x");
    cr_assert_str_eq(c.webhook.item[1], "http://b/?q=1");
    cr_assert_str_eq(c.webhook.item[2], "http://c/");
    cr_assert_eq(load(&c, err, sizeof err, "--webhook", "http://f/1", "--webhook", "http://f/2,x",
                      NULL),
                 HB_CONFIG_RUN, "%s", err);
    cr_assert_eq(c.webhook.n, 2);
    cr_assert_str_eq(c.webhook.item[0], "http://f/1");
    cr_assert_str_eq(c.webhook.item[1], "http://f/2,x", "a flag is one item, commas and all");
    char many[17 * 4 + 1] = "";
    for (int i = 0; i < 17; i++)
        strcat(many, "h/x,");
    setenv("HIVEBOX_WEBHOOK", many, 1);
    cr_assert_eq(load(&c, err, sizeof err, NULL), HB_CONFIG_ERROR);
    cr_assert(strstr(err, "--webhook (HIVEBOX_WEBHOOK): at most 16"), "%s", err);
    unsetenv("HIVEBOX_WEBHOOK");
    char *argv[40] = {"daemon"};
    int argc = 1;
    for (int i = 0; i < 17; i++) {
        argv[argc++] = "--webhook";
        argv[argc++] = "http://x/";
    }
    cr_assert_eq(hb_config_load(&c, argc, argv, err, sizeof err), HB_CONFIG_ERROR);
    cr_assert(strstr(err, "--webhook: at most 16"), "%s", err);
}
