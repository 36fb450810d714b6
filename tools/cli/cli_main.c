/* The CLI's entry: usage text, subcommand dispatch, shared argv checks. */
#include "cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"

void cli_usage(FILE *out)
{
    fputs("usage: hivebox COMMAND [OPTIONS]\n"
          "\n"
          "Daemon:\n"
          "  daemon [--port 7070] [--host H] [--api-key K] [--data-dir D] [--events EP]\n"
          "\n"
          "Sandboxes (talk to the daemon at $HIVEBOX_API_URL, default " CLI_DEFAULT_URL "):\n"
          "  create [--name N] [--image I] [--memory 512m] [--cpus 1.0] [--pids 128] [--disk 10g]\n"
          "         [--network none] [--timeout 3600] [--on-timeout destroy|pause]\n"
          "         [--auto-resume] [--skills a,b]\n"
          "         [--llm-base-url U] [--llm-api-key K] [--llm-model M]\n"
          "         [--metadata K=V]... [--env K=V]...  prints the id (env: every command's)\n"
          "  timeout ID SECONDS                        expire SECONDS from now (set, not added)\n"
          "  snapshot ID NAME                          the sandbox's filesystem as image NAME\n"
          "  fork ID N [--name PREFIX] [--memory M]... N new sandboxes from its filesystem\n"
          "  restore ID SNAPSHOT                       restart it on SNAPSHOT (processes killed)\n"
          "  keepalive ID SECONDS                      the same as timeout\n"
          "  pause ID | resume ID                      freeze / thaw every process of it\n"
          "  port ID PORT [--public|--private] [--expires S]\n"
          "                                            a preview URL of PORT inside it; --expires:\n"
          "                                            signed, valid S seconds (README Preview)\n"
          "  list | ls                                 table of sandboxes\n"
          "  get ID                                    details (JSON)\n"
          "  exec ID [--timeout S] [--cwd D] [-u USER] [-e K=V]... [-i] -- CMD...\n"
          "                                            run CMD; exits with its code. One word\n"
          "                                            is a shell line (-- 'ls | wc -l'), more\n"
          "                                            are argv (-- python3 -c 'print(1)');\n"
          "                                            -i sends our stdin (text, <= 1 MiB)\n"
          "  run [create options] [--cwd D] [-u USER] [-e K=V]... [-i] -- CMD...\n"
          "                                            create, exec, destroy\n"
          "  shell ID [-- CMD...]                      a terminal (login shell, or CMD) in the\n"
          "                                            sandbox; exits with its code\n"
          "  exec ID --background [--tag T] [exec options] -- CMD...\n"
          "                                            start CMD in the background; prints its pid\n"
          "  ps ID                                     its background processes\n"
          "  logs ID PID|TAG [-f]                      a process's output (-f: follow it)\n"
          "  kill ID PID|TAG [-s SIGNAL]               signal it (default TERM)\n"
          "  destroy ID\n"
          "  cp [-r] LOCAL ID:/PATH | cp [-r] ID:/PATH LOCAL\n"
          "                                            upload / download files or directories\n"
          "                                            ('-' = stdin/stdout, one file)\n"
          "  mcp --sandbox ID [--api-url U] [--api-key K]\n"
          "                                            MCP over stdin/stdout for one sandbox\n"
          "  e2b-key                                   the E2B_API_KEY the E2B SDKs give this\n"
          "                                            daemon (docs/e2b.md)\n"
          "\n"
          "Images (local, as root; act on the data dir):\n"
          "  image build NAME [--from IMG] --run CMD [--run CMD ...] [--file SRC:DEST ...]\n"
          "        [--network M] [--timeout S]         an image from build steps (the daemon)\n"
          "  image build                               build the default image 'base'\n"
          "  image list                                name, parent, kind, size\n"
          "  image rm NAME                             through the daemon (409 while in use)\n"
          "  image import NAME DIR|TARBALL|OCI-ARCHIVE\n"
          "\n"
          "Common options (before or after COMMAND): --api-url URL  --api-key KEY  --data-dir DIR\n"
          "  --json  --help\n"
          "The key comes from --api-key, $HIVEBOX_API_KEY, or <data-dir>/api_key\n"
          "(data dir: --data-dir, $HIVEBOX_DATA_DIR, default " CLI_DEFAULT_DATA_DIR ").\n"
          "Exit status: the command's own for exec/run (125 when hivebox itself fails);\n"
          "otherwise 0, 1 on errors, 2 on usage errors.\n",
          out);
}

int cli_parse_cmd(int argc, char **argv, unsigned allowed, const char *usage, size_t min_pos,
                  size_t max_pos, bool wants_cmd, cli_opts_t *o)
{
    char err[256];
    if (cli_parse(argc - 1, argv + 1, allowed, o, err, sizeof err) < 0) {
        fprintf(stderr, "hivebox %s: %s\nusage: hivebox %s\n", argv[0], err, usage);
        return -1;
    }
    if (o->help) {
        printf("usage: hivebox %s\n", usage);
        return 1;
    }
    const char *why = NULL;
    if (o->n_pos < min_pos)
        why = "missing argument";
    else if (o->n_pos > max_pos)
        why = "too many arguments";
    else if (wants_cmd && o->n_cmd == 0)
        why = "missing '-- CMD...'";
    else if (!wants_cmd && o->dashdash)
        why = "unexpected '--'";
    if (why) {
        fprintf(stderr, "hivebox %s: %s\nusage: hivebox %s\n", argv[0], why, usage);
        return -1;
    }
    return 0;
}

bool cli_id_ok(const char *id)
{
    if (hb_name_valid(id))
        return true;
    fprintf(stderr, "hivebox: invalid sandbox id '%.64s'\n", id);
    return false;
}

int cli_dispatch(int argc, char **argv)
{
    static const struct { const char *name; int (*fn)(int, char **); } CMDS[] = {
        {"create", cli_cmd_create}, {"list", cli_cmd_list},     {"ls", cli_cmd_list},
        {"get", cli_cmd_get},       {"exec", cli_cmd_exec},     {"destroy", cli_cmd_destroy},
        {"run", cli_cmd_run},       {"cp", cli_cmd_cp},         {"image", cli_cmd_image},
        {"shell", cli_cmd_shell},
        {"ps", cli_cmd_ps},         {"logs", cli_cmd_logs},     {"kill", cli_cmd_kill},
        {"timeout", cli_cmd_timeout}, {"e2b-key", cli_cmd_e2b_key},
        {"snapshot", cli_cmd_snapshot}, {"fork", cli_cmd_fork}, {"restore", cli_cmd_restore},
        {"pause", cli_cmd_pause},   {"resume", cli_cmd_resume}, {"keepalive", cli_cmd_keepalive},
        {"port", cli_cmd_port},     /* issue 16 */
    };
    for (size_t i = 0; i < sizeof CMDS / sizeof CMDS[0]; i++) {
        if (strcmp(argv[0], CMDS[i].name) != 0)
            continue;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        int rc = CMDS[i].fn(argc, argv);
        curl_global_cleanup();
        return rc;
    }
    return -1;
}
