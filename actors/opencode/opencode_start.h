/* Getting one sandbox's OpenCode server ready: its agent settings as the
 * supervisor stored them at create (<sandbox dir>/agent.json, llm_api_key,
 * mcp_token; all 0600), the config and instructions written from them, and a
 * watcher thread that reports when a new server answers its health check. */
#ifndef HB_OPENCODE_START_H
#define HB_OPENCODE_START_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "hberr.h"
#include "opencode_conf.h"

typedef struct {
    json_t *json;        /* agent.json (llm_base_url, llm_model, custom_mcps, skills) or NULL */
    char   *key;         /* the sandbox's own LLM key, or NULL */
    char   *mcp_token;   /* or NULL */
} hb_oc_agent_t;

int  hb_oc_agent_load(const char *sb_dir, hb_oc_agent_t *a, hb_err_t *e);
void hb_oc_agent_clear(hb_oc_agent_t *a);   /* wipes the secrets */

/* The LLM sandbox sb_dir's agent gets (global settings set + its agent.json
 * and key), as hb_oc_write_config resolves it. */
int hb_oc_sandbox_llm(const hb_oc_settings_t *set, const char *sb_dir, hb_oc_llm_info_t *out,
                      hb_err_t *e);

/* What every server shares. */
typedef struct {
    const hb_oc_settings_t *set;
    const char *daemon_host;
    int         daemon_port;
} hb_oc_host_t;

/* Write <sb_dir>/opencode/config/opencode/{opencode.json,hivebox.md} for
 * sandbox id. *key: the LLM key the server gets (malloc'd, NULL if none;
 * caller wipes and frees). *changed: whether either file differed. */
int hb_oc_write_config(const hb_oc_host_t *h, const char *id, const char *sb_dir, char **key,
                       bool *changed, hb_err_t *e);

/* Poll the health endpoint of server generation gen on a thread of its own
 * until it answers (OC_STARTED code 0 to the proxy's inbox `to`, a string
 * that outlives the thread), the process behind pidfd (duplicated; -1:
 * none) exits, or timeout_ms passes (code != 0). */
int  hb_oc_watch_start(const char *to, const char *id, uint64_t gen, uint16_t port,
                       const char *auth, int pidfd, int timeout_ms);
/* Daemon shutdown: watchers stop reporting; wait up to wait_ms for them. */
void hb_oc_watch_stop_all(int wait_ms);

#endif
