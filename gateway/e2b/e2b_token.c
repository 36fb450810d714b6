/* The E2B layer's secrets, all derived, none stored: the E2B API key from
 * the admin key (unless --e2b-api-key names one), a sandbox's envd access
 * token from its MCP token. A derivation is one SHA-256 over a fixed label
 * and the secret, so knowing a derived value tells nothing of the secret,
 * and the labels keep the two derivations apart. */
#include "e2b_call.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mcp_http.h"

#define API_KEY_LABEL "hivebox e2b api key\n"
#define ENVD_LABEL    "hivebox envd token\n"

static void unguessable(unsigned char md[32])
{
    if (getrandom(md, 32, 0) != 32)
        abort();   /* neither a digest nor randomness: never a predictable secret */
}

static void sha256(const void *data, size_t len, unsigned char md[32])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        unguessable(md);   /* libcrypto without SHA-256: nothing will match */
}

void hb_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    sha256(data, len, md);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void hb_sha256_b64(const void *data, size_t len, char out[45])
{
    unsigned char md[32];
    sha256(data, len, md);
    int n = EVP_EncodeBlock((unsigned char *)out, md, 32);   /* 44 chars, "=" last */
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n < 0 ? 0 : n] = '\0';
}

/* The first 40 hex of SHA-256(label + secret). */
static void derive(const char *label, const char *secret, char out[HB_E2B_TOKEN_LEN + 1])
{
    unsigned char md[32] = {0};
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, label, strlen(label)) != 1 ||
        EVP_DigestUpdate(ctx, secret, strlen(secret)) != 1 ||
        EVP_DigestFinal_ex(ctx, md, &n) != 1)
        unguessable(md);   /* out of memory: a value no client can know */
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < HB_E2B_TOKEN_LEN / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[HB_E2B_TOKEN_LEN] = '\0';
}

void hb_e2b_envd_token_of(const char *mcp_token, char out[HB_E2B_TOKEN_LEN + 1])
{
    derive(ENVD_LABEL, mcp_token, out);
}

int hb_e2b_envd_token(const hb_lease_t *l, char out[HB_E2B_TOKEN_LEN + 1], hb_err_t *e)
{
    char mcp[MCP_TOKEN_LEN + 1];
    if (mcp_token_read(l, mcp) < 0)
        return hb_fail(e, HB_E_NOTFOUND, 0, "sandbox %s has no access token yet",
                       hb_lease_id(l));
    hb_e2b_envd_token_of(mcp, out);
    return 0;
}

void hb_e2b_api_key(const hb_gateway_conf_t *conf, char *out, size_t n)
{
    char hex[HB_E2B_TOKEN_LEN + 1];
    if (conf->e2b_api_key) {
        snprintf(out, n, "%s", conf->e2b_api_key);
        return;
    }
    derive(API_KEY_LABEL, conf->api_key, hex);
    snprintf(out, n, "e2b_%s", hex);
}
