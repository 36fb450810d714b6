/* The names of what a sandbox's state directory, <data dir>/sandboxes/<id>/,
 * holds: shared with the launcher (tools/init/launcher), which reads
 * launch.conf and binds init's socket in run/. The path helpers and the
 * "written last" rule are in actors/runtime/sbdir.h. */
#ifndef HB_SBDIR_NAMES_H
#define HB_SBDIR_NAMES_H

#define HB_SBDIR_ROOT        "sandboxes"       /* under the data dir: one dir per sandbox */
#define HB_SBDIR_RECORD      "sandbox.json"    /* record.c: what a new daemon re-attaches from */
#define HB_SBDIR_LAUNCH_CONF "launch.conf"     /* sandbox.c -> the launcher */
#define HB_SBDIR_INIT_LOG    "init.log"        /* the launcher's and init's stderr */
#define HB_SBDIR_RUN         "run"             /* init's run dir (the sandbox root's) */
#define HB_SBDIR_INIT_SOCK   "init.sock"       /* in it: the init agent's socket */
#define HB_SBDIR_AGENT       "agent.json"      /* the create request's agent settings (0600) */
#define HB_SBDIR_LLM_KEY     "llm_api_key"     /* its LLM key, alone (0600) */
#define HB_SBDIR_MCP_TOKEN   "mcp_token"       /* the sandbox's MCP token (0600); written last */
#define HB_SBDIR_COUNTERS    "daemon-counters" /* the supervisor's counters across restarts */
/* Written when a destroy begins: from then on no OpenCode server starts for
 * the sandbox. A re-attached sandbox loses it (hb_sup_forget_destroying). */
#define HB_SBDIR_DESTROYING  "destroying"
/* issue 16: its egress policy, canonical JSON (egress.c); absent: none. */
#define HB_SBDIR_EGRESS      "egress.json"
/* issue 16: the public preview ports, one decimal per line (the supervisor
 * writes it, sup_preview.c; the gateway reads it) */
#define HB_SBDIR_PREVIEW     "preview_ports"

#endif
