/* Preview tokens, signatures and the daemon's preview secret (preview_auth.h).
 * The secret and settings are written once by hb_pv_setup before the
 * workers start and only read afterwards. */
#include "preview_auth.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "mcp_http.h"

#define SECRET_FILE "preview_secret"
#define SECRET_LEN  64   /* hex of 32 random bytes */
#define TOKEN_LABEL "hivebox preview token\n"

static char g_secret[SECRET_LEN + 1];
static char *g_domain;
static int g_cap_sandbox, g_cap_total;

const char *hb_pv_domain(void) { return g_domain; }
int hb_pv_cap_sandbox(void) { return g_cap_sandbox; }
int hb_pv_cap_total(void) { return g_cap_total; }

static void hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int fresh_secret(char out[SECRET_LEN + 1])
{
    unsigned char raw[SECRET_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -1;
    hex(raw, sizeof raw, out);
    return 0;
}

/* <dir>/preview_secret: read it, or make it (0600) the first time. */
static int load_secret(const char *dir, hb_err_t *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/" SECRET_FILE, dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        ssize_t n = read(fd, g_secret, SECRET_LEN);
        close(fd);
        g_secret[n > 0 ? n : 0] = '\0';
        if (n == SECRET_LEN)
            return 0;
        return hb_fail(e, HB_E_INVALID, 0, "%s: not a preview secret (%d hex digits expected); "
                       "remove it to make a new one", path, SECRET_LEN);
    }
    if (errno != ENOENT || fresh_secret(g_secret) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "%s", path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || write(fd, g_secret, SECRET_LEN) != SECRET_LEN || fsync(fd) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        unlink(path);
        return hb_fail_sys(e, HB_E_INTERNAL, err, "%s", path);
    }
    close(fd);
    return 0;
}

/* A DNS name: labels of letters, digits and '-', dots between. */
static bool domain_ok(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > 200 || d[0] == '.' || d[0] == '-' || d[n - 1] == '.' || strstr(d, ".."))
        return false;
    for (const char *p = d; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            return false;
    return true;
}

int hb_pv_setup(const char *data_dir, const char *domain, int per_sandbox, int total,
                hb_err_t *e)
{
    if (domain && *domain && !domain_ok(domain))
        return hb_fail(e, HB_E_INVALID, 0, "--preview-domain %.200s: not a DNS name (letters, "
                       "digits, '-' and dots, such as preview.example.com)", domain);
    g_cap_sandbox = per_sandbox;
    g_cap_total = total;
    free(g_domain);
    g_domain = domain && *domain ? strdup(domain) : NULL;
    if (data_dir)
        return load_secret(data_dir, e);
    /* No data dir (unit runs): links die with the process. */
    return fresh_secret(g_secret) < 0 ? hb_fail(e, HB_E_INTERNAL, 0, "no randomness") : 0;
}

void hb_pv_token_of(const char *mcp_token, char out[HB_PV_TOKEN_LEN + 1])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, TOKEN_LABEL, strlen(TOKEN_LABEL)) != 1 ||
        EVP_DigestUpdate(ctx, mcp_token, strlen(mcp_token)) != 1 ||
        EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32) {
        if (getrandom(md, sizeof md, 0) != (ssize_t)sizeof md)
            abort();   /* neither a digest nor randomness: never a guessable token */
    }
    EVP_MD_CTX_free(ctx);
    hex(md, HB_PV_TOKEN_LEN / 2, out);
    out[HB_PV_TOKEN_LEN] = '\0';
}

void hb_pv_token_show(json_t *j, const char *mcp_token)
{
    char pv[HB_PV_TOKEN_LEN + 1];
    hb_pv_token_of(mcp_token, pv);
    json_object_set_new(j, "preview_token", json_string(pv));
}

int hb_pv_token(const hb_lease_t *l, char out[HB_PV_TOKEN_LEN + 1])
{
    char mcp[MCP_TOKEN_LEN + 1];
    if (mcp_token_read(l, mcp) < 0)
        return -1;
    hb_pv_token_of(mcp, out);
    return 0;
}

void hb_pv_sign(const hb_lease_t *l, unsigned port, int64_t exp, char out[HB_PV_SIG_LEN + 1])
{
    char msg[256];
    int n = snprintf(msg, sizeof msg, "hivebox preview v1\n%s\n%" PRId64 "\n%u\n%" PRId64,
                     hb_lease_id(l), hb_lease_created_at(l), port, exp);
    unsigned char md[32];
    unsigned int mdn = 0;
    if (!HMAC(EVP_sha256(), g_secret, SECRET_LEN, (unsigned char *)msg, (size_t)n, md, &mdn) ||
        mdn != 32) {
        if (getrandom(md, sizeof md, 0) != (ssize_t)sizeof md)
            abort();
    }
    hex(md, 32, out);
}

int hb_pv_sig_check(const hb_lease_t *l, unsigned port, const char *exp, const char *sig)
{
    char want[HB_PV_SIG_LEN + 1], *end = NULL;
    if (!exp || !sig || !*exp || strlen(exp) > 19)
        return 0;
    errno = 0;
    long long x = strtoll(exp, &end, 10);
    if (errno || *end || x <= 0)
        return 0;
    hb_pv_sign(l, port, (int64_t)x, want);
    if (!hb_ct_equal(sig, strlen(sig), want, HB_PV_SIG_LEN))
        return 0;
    return (int64_t)x < (int64_t)time(NULL) ? -1 : 1;
}
