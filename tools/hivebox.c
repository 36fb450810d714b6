/* build/hivebox: the daemon (`hivebox daemon`) and its CLI client in one
 * binary. The sandbox init agent is a separate, smaller binary
 * (build/hivebox-init). */
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "tools/cli/cli.h"
#include "tools/cli/mcp_stdio.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
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
