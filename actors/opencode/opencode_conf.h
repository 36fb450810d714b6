/* OpenCode settings and the per-sandbox configuration it is started with.
 *
 * Pure functions (settings in, JSON out) so that every combination of
 * global and per-sandbox settings is unit tested (tests/unit/test_opencode.c).
 *
 * Global settings come from the daemon's config (actors/config.def), which
 * reads them from its environment:
 *   HIVEBOX_OPENCODE              unset|true|1|yes: enabled; false|0|no: disabled
 *   HIVEBOX_OPENCODE_BASE_URL     LLM base URL (OpenAI-compatible)
 *   HIVEBOX_OPENCODE_API_KEY      LLM key
 *   HIVEBOX_OPENCODE_MODEL        model ("provider/model" without a base URL)
 *   HIVEBOX_OPENCODE_SKILLS_PATH  skills directory (used by the MCP server)
 *   HIVEBOX_OPENCODE_MCPS         JSON object of extra *remote* MCP servers
 *   HIVEBOX_OPENCODE_INSTRUCTIONS extra instructions, newline-separated
 *   HIVEBOX_OPENCODE_BIN          the opencode binary
 *   HIVEBOX_OPENCODE_START        "eager": start at create; default lazy
 *   HIVEBOX_OPENCODE_IDLE         idle stop: seconds, or with s/m/h; default 30m
 * Per sandbox, from the create request: llm_base_url, llm_api_key,
 * llm_model, custom_mcps (stored by the supervisor: agent.json and the
 * llm_api_key file, both 0600).
 *
 * Which LLM a sandbox gets (hb_oc_resolve_llm):
 *   base URL = sandbox's, else global; model = sandbox's, else global;
 *   key = sandbox's; else the global key ONLY if the sandbox did not choose
 *   its own base URL (the operator's key never goes to a URL an API client
 *   picked).
 *   base URL + model (+ key): an OpenAI-compatible provider "hivebox-llm".
 *   model "provider/model" (+ key), no base URL: that provider of OpenCode.
 *   nothing: OpenCode's own defaults.
 */
#ifndef HB_OPENCODE_CONF_H
#define HB_OPENCODE_CONF_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "hberr.h"

#define HB_OC_DEFAULT_IDLE_MS (30LL * 60 * 1000)
#define HB_OC_PROVIDER        "hivebox-llm"
#define HB_OC_KEY_ENV         "HIVEBOX_LLM_API_KEY"   /* the key reaches OpenCode only here */
#define HB_OC_URL_MAX         2048
#define HB_OC_MCPS_MAX        32

typedef struct {
    bool    enabled;
    bool    eager;
    int64_t idle_ms;
    char   *base_url, *api_key, *model;   /* NULL when unset or empty */
    char   *skills_path;
    char   *bin;                          /* HIVEBOX_OPENCODE_BIN, or NULL */
    char   *instructions;                 /* extra lines, or NULL */
    json_t *mcps;                         /* validated remote servers; never NULL */
} hb_oc_settings_t;

/* The settings from the daemon's config (copied: c need not outlive s).
 * Invalid values are skipped with a line appended to warn (NUL-terminated,
 * may be empty). -1 only on OOM. Free with hb_oc_settings_clear. */
int  hb_oc_settings_load(hb_oc_settings_t *s, const hb_config_t *c, char *warn, size_t wlen);
void hb_oc_settings_clear(hb_oc_settings_t *s);

/* A HIVEBOX_OPENCODE value as the seed defines it (NULL: unset, enabled). */
bool hb_oc_enabled_value(const char *v);
/* The proxy base path of a sandbox for API responses: "/api/v1/hiveboxes/<id>/opencode/". */
void hb_oc_url(char *buf, size_t len, const char *id);

/* ---- validation of a create request's agent fields (400s) ---- */
/* custom_mcps / HIVEBOX_OPENCODE_MCPS: an object of remote servers
 * ({type:"remote", url:http(s)://..., headers?:{str}, enabled?:bool,
 * timeout?:int, oauth?}). "local" servers would run a command on the host:
 * refused. The name "hivebox" is reserved. field names the error. */
int hb_oc_validate_mcps(json_t *mcps, const char *field, hb_err_t *e);
/* llm_base_url must be http(s)://; a base URL needs a model (the sandbox's
 * or the global one); a model without any base URL must be "provider/model".
 * Any of the arguments may be NULL (absent). g may be NULL (no globals). */
int hb_oc_validate_llm(const hb_oc_settings_t *g, const char *base_url, const char *model,
                       hb_err_t *e);

/* ---- resolution and generation ---- */
typedef struct {
    const char *base_url;   /* borrowed from the inputs; NULL: none */
    const char *model;
    const char *key;
} hb_oc_llm_t;

void hb_oc_resolve_llm(const hb_oc_settings_t *g, const char *sb_base_url, const char *sb_key,
                       const char *sb_model, hb_oc_llm_t *out);

/* What the resolved settings give the agent, for display: the provider
 * and model OpenCode is configured with ("" when none: OpenCode would fall
 * back to defaults that reach no model here), and whether a key is set
 * (never the key itself). */
typedef struct {
    char provider[64];
    char model[HB_OC_URL_MAX];
    bool has_key;
} hb_oc_llm_info_t;

void hb_oc_llm_describe(const hb_oc_llm_t *llm, hb_oc_llm_info_t *out);

typedef struct {
    const char *id;
    const char *daemon_host;        /* NULL: 127.0.0.1 */
    int         daemon_port;
    const char *mcp_token;          /* the sandbox's scoped MCP token */
    json_t     *custom_mcps;        /* validated; may be NULL */
    const char *instructions_path;  /* absolute path of the instructions file */
} hb_oc_sandbox_t;

/* opencode.json for one sandbox (new reference). The key itself never
 * appears: the provider reads it from HB_OC_KEY_ENV. NULL on OOM. */
json_t *hb_oc_config(const hb_oc_settings_t *g, const hb_oc_sandbox_t *sb, const hb_oc_llm_t *llm);
/* The instructions file's text (malloc'd, caller frees). */
char *hb_oc_instructions(const hb_oc_settings_t *g, const hb_oc_sandbox_t *sb);

#endif
