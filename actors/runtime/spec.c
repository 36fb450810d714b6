/* Sandbox spec: defaults and validation. Every error message names the field
 * the way the API spells it, because it goes straight back to the client. */
#include "runtime.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "initproto.h"   /* HB_ENVSTR_MAX: what init takes per "K=V" */

#define MEM_MIN (16ull << 20)
#define PIDS_MAX 4194304u
#define TIMEOUT_MAX HB_TIMEOUT_MAX

void hb_spec_defaults(hb_spec_t *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->image, sizeof s->image, "base");
    s->memory_bytes = 512ull << 20;
    snprintf(s->memory_str, sizeof s->memory_str, "512m");
    s->cpus = 1.0;
    s->pids = 128;
    s->net_mode = HB_NET_NONE;
    s->timeout_s = 3600;
    s->disk_bytes = HB_DISK_DEFAULT;
    snprintf(s->disk_str, sizeof s->disk_str, "10g");
}

bool hb_name_valid(const char *name)
{
    size_t n = strnlen(name, HB_ID_MAX);
    if (n == 0 || n >= HB_ID_MAX || !isalnum((unsigned char)name[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != '-')
            return false;
    }
    return true;
}

uint64_t hb_host_mem_total(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return (pages > 0 && psz > 0) ? (uint64_t)pages * (uint64_t)psz : UINT64_MAX;
}

int hb_parse_size(const char *text, const char *field, uint64_t *out, hb_err_t *e)
{
    const char *p = text;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*p))
        return hb_fail(e, HB_E_INVALID, 0,
                       "%s: expected a size like \"512m\", \"1g\" or a byte count", field);
    for (; isdigit((unsigned char)*p); p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return hb_fail(e, HB_E_INVALID, 0, "%s: too large", field);
        v = v * 10 + (uint64_t)(*p - '0');
    }
    unsigned shift = 0;
    char unit = (char)tolower((unsigned char)*p);
    if (unit == 'k' || unit == 'm' || unit == 'g') {
        shift = unit == 'k' ? 10 : unit == 'm' ? 20 : 30;
        p++;
        if (tolower((unsigned char)*p) == 'b')
            p++;
    }
    if (*p != '\0')
        return hb_fail(e, HB_E_INVALID, 0,
                       "%s: expected a size like \"512m\", \"1g\" or a byte count", field);
    if (v > (UINT64_MAX >> shift))
        return hb_fail(e, HB_E_INVALID, 0, "%s: too large", field);
    *out = v << shift;
    return 0;
}

static void echo_lower(char *dst, size_t len, const char *text)
{
    size_t i = 0;
    for (const char *q = text; *q && i + 1 < len; q++)
        dst[i++] = (char)tolower((unsigned char)*q);
    dst[i] = '\0';
}

int hb_spec_set_memory(hb_spec_t *s, const char *text, hb_err_t *e)
{
    uint64_t bytes;
    if (hb_parse_size(text, "memory", &bytes, e) < 0)
        return -1;
    uint64_t total = hb_host_mem_total();
    if (bytes < MEM_MIN)
        return hb_fail(e, HB_E_INVALID, 0, "memory: must be at least 16m");
    if (bytes > total)
        return hb_fail(e, HB_E_INVALID, 0, "memory: must not exceed the host's %" PRIu64 "m",
                       total >> 20);
    s->memory_bytes = bytes;
    echo_lower(s->memory_str, sizeof s->memory_str, text);
    return 0;
}

/* The upper bound (the data dir's filesystem) is checked at create, where
 * the runtime knows it. */
int hb_spec_set_disk(hb_spec_t *s, const char *text, hb_err_t *e)
{
    uint64_t bytes;
    if (hb_parse_size(text, "disk", &bytes, e) < 0)
        return -1;
    if (bytes < HB_DISK_MIN)
        return hb_fail(e, HB_E_INVALID, 0, "disk: must be at least 16m");
    s->disk_bytes = bytes;
    echo_lower(s->disk_str, sizeof s->disk_str, text);
    return 0;
}

int hb_spec_set_network(hb_spec_t *s, const char *text, hb_err_t *e)
{
    s->net_group[0] = '\0';
    if (strcmp(text, "none") == 0) {
        s->net_mode = HB_NET_NONE;
        return 0;
    }
    if (strcmp(text, "isolated") == 0) {
        s->net_mode = HB_NET_ISOLATED;
        return 0;
    }
    if (strcmp(text, "shared") == 0 || strncmp(text, "shared:", 7) == 0) {
        const char *g = text[6] == ':' ? text + 7 : "default";
        if (!hb_name_valid(g))
            return hb_fail(e, HB_E_INVALID, 0, "network: bad group name in \"shared:<group>\"");
        s->net_mode = HB_NET_SHARED;
        snprintf(s->net_group, sizeof s->net_group, "%s", g);
        return 0;
    }
    return hb_fail(e, HB_E_INVALID, 0, "network: must be \"none\", \"isolated\" or \"shared\"");
}

const char *hb_netmode_name(hb_netmode_t m)
{
    switch (m) {
    case HB_NET_NONE: return "none";
    case HB_NET_ISOLATED: return "isolated";
    case HB_NET_SHARED: return "shared";
    }
    return "none";
}

bool hb_env_name_valid(const char *name, size_t n)
{
    if (n == 0 || !(name[0] == '_' || isalpha((unsigned char)name[0])))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(name[i] == '_' || isalnum((unsigned char)name[i])))
            return false;
    return true;
}

int hb_env_validate(const char *const *env, hb_err_t *e)
{
    for (size_t i = 0; env && env[i]; i++) {
        const char *kv = env[i], *eq = strchr(kv, '=');
        int kl = eq && eq - kv < 64 ? (int)(eq - kv) : 64;
        if (i >= HB_SB_ENV_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "env: more than %d variables", HB_SB_ENV_MAX);
        if (!eq || !hb_env_name_valid(kv, (size_t)(eq - kv)))
            return hb_fail(e, HB_E_INVALID, 0, "env: '%.*s' is not a name like "
                           "^[A-Za-z_][A-Za-z0-9_]*$", kl, kv);
        if (strnlen(kv, HB_ENVSTR_MAX + 1) > HB_ENVSTR_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "env.%.*s: longer than %u bytes with its name",
                           kl, kv, HB_ENVSTR_MAX);
    }
    return 0;
}

int hb_spec_validate(const hb_spec_t *s, hb_err_t *e)
{
    if (s->name[0] && !hb_name_valid(s->name))
        return hb_fail(e, HB_E_INVALID, 0,
                       "name: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$");
    if (!hb_name_valid(s->image))
        return hb_fail(e, HB_E_INVALID, 0, "image: not a valid image name");
    if (s->memory_bytes < MEM_MIN || s->memory_bytes > hb_host_mem_total())
        return hb_fail(e, HB_E_INVALID, 0, "memory: out of range");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* 0.01: the kernel refuses a CFS quota under 1 ms per 100 ms period. */
    if (!(s->cpus >= 0.01) || !isfinite(s->cpus) || s->cpus > (double)(cores > 0 ? cores : 1))
        return hb_fail(e, HB_E_INVALID, 0, "cpus: must be >= 0.01 and <= %ld (host cores)",
                       cores);
    if (s->disk_bytes < HB_DISK_MIN)
        return hb_fail(e, HB_E_INVALID, 0, "disk: must be at least 16m");
    if (s->pids < 1 || s->pids > PIDS_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "pids: must be between 1 and %u", PIDS_MAX);
    if (s->timeout_s < 1 || s->timeout_s > TIMEOUT_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "timeout: must be between 1 and %u seconds",
                       TIMEOUT_MAX);
    if (s->net_mode == HB_NET_SHARED && s->net_group[0] && !hb_name_valid(s->net_group))
        return hb_fail(e, HB_E_INVALID, 0, "network: bad group name in \"shared:<group>\"");
    if (s->net_mode != HB_NET_SHARED && s->net_group[0])
        return hb_fail(e, HB_E_INVALID, 0, "network: only \"shared\" takes a group");
    return hb_env_validate(s->env, e);
}
