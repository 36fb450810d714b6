/* `hivebox mcp`: the MCP stdio transport, relayed to the daemon's
 * Streamable HTTP endpoint of one sandbox. */
#ifndef HB_MCP_STDIO_H
#define HB_MCP_STDIO_H

/* argv[0] is "mcp". Returns the process exit code. */
int cli_cmd_mcp(int argc, char **argv);

#endif
