/* build/hivebox: the daemon (`hivebox daemon`) and its CLI client in one
 * binary. The sandbox init agent is a separate, smaller binary
 * (build/hivebox-init). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "tools/cli/cli.h"
#include "tools/cli/mcp_stdio.h"

static int run(int argc, char **argv);

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    char **v = calloc((size_t)argc + 1, sizeof *v);
    char err[128];
    if (!v)
        return CLI_EXIT_USAGE;
    if (argv[1][0] == '-' && argv[1][1] == '-' && argv[1][2]) {
        int n = cli_hoist_globals(argc, argv, v, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "hivebox: %s (see hivebox --help)\n", err);
            free(v);
            return CLI_EXIT_USAGE;
        }
        argc = n;
        argv = v;
    }
    int rc = run(argc, argv);
    free(v);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        cli_usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "daemon"))
        return daemon_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "mcp"))
        return cli_cmd_mcp(argc - 1, argv + 1);
    int rc = cli_dispatch(argc - 1, argv + 1);
    if (rc >= 0)
        return rc;
    fprintf(stderr, "hivebox: unknown command '%.64s' (see hivebox --help)\n", cmd);
    return CLI_EXIT_USAGE;
}
