/* `hivebox e2b-key`: the E2B_API_KEY that the E2B SDKs give this daemon
 * (docs/e2b.md). It is $HIVEBOX_E2B_API_KEY when set (the daemon reads the
 * same variable), else the key derived from the daemon's API key (from
 * --api-key, $HIVEBOX_API_KEY or <data-dir>/api_key, as every command
 * finds it); the derivation is the daemon's own (e2b_token.c). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2b_call.h"

int cli_cmd_e2b_key(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, CLI_OPT_COMMON, "e2b-key [--api-key K] [--data-dir D]", 0,
                            0, false, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    const char *given = getenv("HIVEBOX_E2B_API_KEY");
    if (given && *given) {
        printf("%s\n", given);
        return 0;
    }
    char key[512], out[128];
    cli_resolve_key(&o, key, sizeof key);
    if (!key[0]) {
        fprintf(stderr, "hivebox e2b-key: no API key: give --api-key, HIVEBOX_API_KEY or "
                        "--data-dir (the daemon's, holding api_key)\n");
        return CLI_EXIT_ERROR;
    }
    hb_gateway_conf_t conf = {.api_key = key};
    hb_e2b_api_key(&conf, out, sizeof out);
    printf("%s\n", out);
    return 0;
}
