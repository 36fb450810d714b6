/* The CLI's create --metadata K=V and --env K=V (repeated) into the create
 * body's "metadata" and "env" objects. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli/cli.h"

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})

Test(cli_meta, metadata_and_env_become_objects)
{
    cli_opts_t o;
    char err[256] = "";
    char **av = ARGV("--metadata", "team=docs", "--metadata=note=a=b", "-e", "A=1", "--env",
                     "B=");
    cr_assert_eq(cli_parse(7, av, CLI_OPT_CREATE, &o, err, sizeof err), 0, "%s", err);
    char *text = cli_create_body(&o, err, sizeof err);
    cr_assert_not_null(text, "%s", err);
    json_t *j = json_loads(text, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "metadata"), "note")),
                     "a=b");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "metadata"), "team")),
                     "docs");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "env"), "A")), "1");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "env"), "B")), "");
    json_decref(j);
    free(text);
}

Test(cli_meta, bad_pairs_and_the_wrong_command_are_usage_errors)
{
    cli_opts_t o;
    char err[256] = "";
    cr_assert_eq(cli_parse(2, ARGV("--metadata", "novalue"), CLI_OPT_CREATE, &o, err, sizeof err),
                 -1);
    cr_assert(strstr(err, "--metadata"), "%s", err);
    cr_assert_eq(cli_parse(2, ARGV("--metadata", "=v"), CLI_OPT_CREATE, &o, err, sizeof err), -1);
    cr_assert_eq(cli_parse(2, ARGV("--metadata", "k=v"), CLI_OPT_EXEC, &o, err, sizeof err), -1,
                 "exec takes no metadata");
    cr_assert_eq(cli_parse(0, ARGV(NULL), CLI_OPT_CREATE, &o, err, sizeof err), 0);
    char *text = cli_create_body(&o, err, sizeof err);
    cr_assert_str_eq(text, "{}", "nothing given: nothing sent");
    free(text);
}
