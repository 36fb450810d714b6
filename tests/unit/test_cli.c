/* Pure helpers of the CLI: argument parsing, command joining, remote
 * paths, durations and the list table, the create request body. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli/cli.h"

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))

Test(cli_parse, exec_options_then_command_after_dashdash)
{
    cli_opts_t o;
    char err[256];
    char **av = ARGV("sb1", "--timeout", "5", "--cwd=/tmp", "-e", "A=1", "-e", "B=x=y", "--",
                     "ls", "-l", "--json");
    cr_assert_eq(cli_parse(12, av, CLI_OPT_EXEC, &o, err, sizeof err), 0, "%s", err);
    cr_assert_eq(o.n_pos, 1);
    cr_assert_str_eq(o.pos[0], "sb1");
    cr_assert_str_eq(o.timeout, "5");
    cr_assert_str_eq(o.cwd, "/tmp");
    cr_assert_eq(o.n_env, 2);
    cr_assert_str_eq(o.env[1], "B=x=y");
    cr_assert(o.dashdash);
    cr_assert_eq(o.n_cmd, 3);
    cr_assert_str_eq(o.cmd[2], "--json", "options after -- belong to the command");
    cr_assert_not(o.json);
    cr_assert_not(o.send_stdin);
    cr_assert_eq(cli_parse(3, ARGV("-i", "--", "cat"), CLI_OPT_EXEC, &o, err, sizeof err), 0);
    cr_assert(o.send_stdin);
}

Test(cli_parse, create_flags_and_common_options)
{
    cli_opts_t o;
    char err[256];
    char **av = ARGV("--name", "box", "--memory=1g", "--cpus", "0.5", "--skills", "pdf,docx",
                     "--json", "--api-url", "http://h:1");
    cr_assert_eq(cli_parse(10, av, CLI_OPT_CREATE, &o, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(o.name, "box");
    cr_assert_str_eq(o.memory, "1g");
    cr_assert_str_eq(o.cpus, "0.5");
    cr_assert_str_eq(o.skills, "pdf,docx");
    cr_assert(o.json);
    cr_assert_str_eq(cli_api_url(&o), "http://h:1");
    cr_assert_eq(o.n_pos, 0);
}

Test(cli_parse, rejects_options_of_other_commands_and_missing_values)
{
    cli_opts_t o;
    char err[256];
    cr_assert_eq(cli_parse(2, ARGV("--cwd", "/x"), CLI_OPT_CREATE, &o, err, sizeof err), -1);
    cr_assert(strstr(err, "--cwd"), "error names the option: %s", err);
    cr_assert_eq(cli_parse(1, ARGV("--name"), CLI_OPT_CREATE, &o, err, sizeof err), -1);
    cr_assert(strstr(err, "needs a value"), "%s", err);
    cr_assert_eq(cli_parse(2, ARGV("-e", "NOEQUALS"), CLI_OPT_EXEC, &o, err, sizeof err), -1);
    cr_assert_eq(cli_parse(1, ARGV("--json=1"), 0, &o, err, sizeof err), -1);
    cr_assert_eq(cli_parse(1, ARGV("--bogus"), CLI_OPT_CREATE | CLI_OPT_EXEC, &o, err,
                           sizeof err), -1);
}

Test(cli_parse, dash_alone_is_a_positional)
{
    cli_opts_t o;
    char err[256];
    cr_assert_eq(cli_parse(2, ARGV("-", "sb:/x"), 0, &o, err, sizeof err), 0);
    cr_assert_eq(o.n_pos, 2);
    cr_assert_str_eq(o.pos[0], "-");
}

Test(cli_parse, data_dir_from_env_when_no_flag)
{
    cli_opts_t o;
    char err[256];
    cr_assert_eq(cli_parse(0, ARGV("x"), 0, &o, err, sizeof err), 0);
    setenv("HIVEBOX_DATA_DIR", "/srv/hb", 1);
    cr_assert_str_eq(cli_data_dir(&o), "/srv/hb");
    unsetenv("HIVEBOX_DATA_DIR");
    cr_assert_str_eq(cli_data_dir(&o), CLI_DEFAULT_DATA_DIR);
}

Test(cli_join, one_word_is_a_shell_line_as_typed)
{
    char *s = cli_join_cmd(1, ARGV("echo $HOME | wc -c"));
    cr_assert_str_eq(s, "echo $HOME | wc -c");
    free(s);
    s = cli_join_cmd(0, ARGV("unused"));
    cr_assert_str_eq(s, "");
    free(s);
}

Test(cli_join, several_words_are_quoted_for_the_shell)
{
    char *s = cli_join_cmd(3, ARGV("python3", "-c", "print(6*7)"));
    cr_assert_str_eq(s, "python3 -c 'print(6*7)'");
    free(s);
    s = cli_join_cmd(4, ARGV("echo", "a b", "$HOME", "it's"));
    cr_assert_str_eq(s, "echo 'a b' '$HOME' 'it'\\''s'");
    free(s);
    s = cli_join_cmd(2, ARGV("printf", ""));
    cr_assert_str_eq(s, "printf ''");
    free(s);
}

Test(cli_hoist, global_options_before_the_command_move_after_it)
{
    char *argv[] = {"hivebox", "--api-url", "http://h:1", "--json", "--api-key=k", "list", "-x",
                    NULL};
    char *v[8], err[64];
    int n = cli_hoist_globals(7, argv, v, err, sizeof err);
    cr_assert_eq(n, 7);
    cr_assert_str_eq(v[1], "list");
    cr_assert_str_eq(v[2], "--api-url");
    cr_assert_str_eq(v[3], "http://h:1");
    cr_assert_str_eq(v[5], "--api-key=k");
    cr_assert_str_eq(v[6], "-x");
    cr_assert_null(v[7]);
    char *bare[] = {"hivebox", "--json", NULL};
    cr_assert_eq(cli_hoist_globals(2, bare, v, err, sizeof err), -1);
}

Test(cli_remote, splits_id_and_absolute_path)
{
    char id[64];
    const char *path = NULL;
    cr_assert(cli_split_remote("hb-1234:/root/a.txt", id, sizeof id, &path));
    cr_assert_str_eq(id, "hb-1234");
    cr_assert_str_eq(path, "/root/a.txt");
    cr_assert_not(cli_split_remote("./local.txt", id, sizeof id, &path));
    cr_assert_not(cli_split_remote("box:relative", id, sizeof id, &path));
    cr_assert_not(cli_split_remote(":/x", id, sizeof id, &path));
    cr_assert_not(cli_split_remote("a/b:/x", id, sizeof id, &path), "id must be a valid name");
}

static void dur(int64_t s, const char *want)
{
    char buf[32];
    cli_fmt_duration(s, buf, sizeof buf);
    cr_assert_str_eq(buf, want, "%lld s", (long long)s);
}

Test(cli_format, durations_two_most_significant_units)
{
    dur(0, "0s");
    dur(45, "45s");
    dur(120, "2m");
    dur(125, "2m5s");
    dur(3480, "58m");
    dur(3600, "1h");
    dur(3661, "1h1m");
    dur(86400, "1d");
    dur(90061, "1d1h");
    dur(-1, "-");
}

Test(cli_format, list_table_from_the_seed_response)
{
    const char *json =
        "{\"sandboxes\":[{\"id\":\"my-sandbox\",\"status\":\"running\",\"image\":\"base\","
        "\"uptime_seconds\":120,\"ttl_seconds\":3480,\"memory\":\"512m\",\"cpus\":2.0,"
        "\"commands_executed\":5,\"network\":\"isolated\"}],\"total\":1}";
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(cli_print_list(f, json), 0);
    fclose(f);
    char *nl = strchr(buf, '\n');
    cr_assert_not_null(nl);
    cr_assert(strncmp(buf, "ID", 2) == 0);
    for (const char *h = "STATUS\0UPTIME\0TTL\0CMDS\0NETWORK\0"; *h; h += strlen(h) + 1)
        cr_assert(strstr(buf, h) && strstr(buf, h) < nl, "header %s", h);
    const char *row = nl + 1;
    cr_assert(strstr(row, "my-sandbox") && strstr(row, "running") && strstr(row, " 2m ") &&
                  strstr(row, " 58m ") && strstr(row, " 5 ") && strstr(row, "isolated"),
              "row: %s", row);
    free(buf);
    cr_assert_eq(cli_print_list(stdout, "{\"nope\":1}"), -1);
    cr_assert_eq(cli_print_list(stdout, "not json"), -1);
}

Test(cli_create, body_holds_only_given_flags_with_json_types)
{
    cli_opts_t o;
    char err[256];
    char **av = ARGV("--name", "b1", "--cpus", "1.5", "--pids", "64", "--timeout", "60",
                     "--skills", "pdf, docx", "--memory", "256m", "--disk", "2g");
    cr_assert_eq(cli_parse(14, av, CLI_OPT_CREATE, &o, err, sizeof err), 0, "%s", err);
    char *text = cli_create_body(&o, err, sizeof err);
    cr_assert_not_null(text, "%s", err);
    json_t *j = json_loads(text, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "b1");
    cr_assert_str_eq(json_string_value(json_object_get(j, "memory")), "256m");
    cr_assert_str_eq(json_string_value(json_object_get(j, "disk")), "2g");
    cr_assert(json_is_real(json_object_get(j, "cpus")));
    cr_assert_eq(json_integer_value(json_object_get(j, "pids")), 64);
    cr_assert_eq(json_integer_value(json_object_get(j, "timeout")), 60);
    json_t *sk = json_object_get(j, "skills");
    cr_assert_eq(json_array_size(sk), 2);
    cr_assert_str_eq(json_string_value(json_array_get(sk, 1)), "docx");
    cr_assert_null(json_object_get(j, "network"), "absent flags are not sent");
    cr_assert_null(json_object_get(j, "image"));
    cr_assert_null(json_object_get(j, "auto_resume"));
    cr_assert_null(json_object_get(j, "on_timeout"));
    json_decref(j);
    free(text);
}

Test(cli_create, pause_options)
{
    cli_opts_t o;
    char err[256];
    char **av = ARGV("--auto-resume", "--on-timeout", "pause");
    cr_assert_eq(cli_parse(3, av, CLI_OPT_CREATE, &o, err, sizeof err), 0, "%s", err);
    char *text = cli_create_body(&o, err, sizeof err);
    cr_assert_not_null(text, "%s", err);
    json_t *j = json_loads(text, 0, NULL);
    cr_assert(json_is_true(json_object_get(j, "auto_resume")), "%s", text);
    cr_assert_str_eq(json_string_value(json_object_get(j, "on_timeout")), "pause");
    json_decref(j);
    free(text);
}

Test(cli_create, bad_numbers_and_no_skills)
{
    cli_opts_t o;
    char err[256];
    cr_assert_eq(cli_parse(2, ARGV("--pids", "12x"), CLI_OPT_CREATE, &o, err, sizeof err), 0);
    cr_assert_null(cli_create_body(&o, err, sizeof err));
    cr_assert(strstr(err, "--pids"), "%s", err);
    cr_assert_eq(cli_parse(2, ARGV("--cpus", "nan"), CLI_OPT_CREATE, &o, err, sizeof err), 0);
    cr_assert_null(cli_create_body(&o, err, sizeof err));
    cr_assert_eq(cli_parse(2, ARGV("--skills", "none"), CLI_OPT_CREATE, &o, err, sizeof err), 0);
    char *text = cli_create_body(&o, err, sizeof err);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "\"skills\":[]"), "%s", text);
    free(text);
}

Test(cli_parse, process_options_belong_to_their_commands)
{
    cli_opts_t o;
    char err[256];
    cr_assert_eq(cli_parse(4, ARGV("sb", "--background", "--tag=web", "--"),
                           CLI_OPT_EXEC | CLI_OPT_BG, &o, err, sizeof err), 0, "%s", err);
    cr_assert(o.background);
    cr_assert_str_eq(o.tag, "web");
    cr_assert_eq(cli_parse(3, ARGV("sb", "12", "-f"), CLI_OPT_FOLLOW, &o, err, sizeof err), 0);
    cr_assert(o.follow);
    cr_assert_eq(cli_parse(4, ARGV("sb", "web", "-s", "KILL"), CLI_OPT_SIGNAL, &o, err,
                           sizeof err), 0);
    cr_assert_str_eq(o.signal, "KILL");
    cr_assert_eq(o.n_pos, 2);
    /* Each only where it means something: no -f on kill, no -s on logs. */
    cr_assert_eq(cli_parse(2, ARGV("sb", "-f"), CLI_OPT_SIGNAL, &o, err, sizeof err), -1);
    cr_assert_eq(cli_parse(3, ARGV("sb", "-s", "INT"), CLI_OPT_FOLLOW, &o, err, sizeof err), -1);
    cr_assert_eq(cli_parse(2, ARGV("sb", "--background"), CLI_OPT_EXEC, &o, err, sizeof err), -1,
                 "run takes no --background");
}
