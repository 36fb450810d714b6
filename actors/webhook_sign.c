/* HMAC-SHA256 of "<t>.<body>" with libcrypto's EVP_MAC (see webhook_sign.h). */
#include "webhook_sign.h"

#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

static int hmac_sha256(const char *key, const char *prefix, const char *body, size_t len,
                       unsigned char md[32])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    size_t n = 0;
    int ok = ctx && EVP_MAC_init(ctx, (const unsigned char *)key, strlen(key), params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)prefix, strlen(prefix)) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)body, len) == 1 &&
             EVP_MAC_final(ctx, md, &n, 32) == 1 && n == 32;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

int hb_webhook_sign(const char *secret, int64_t t, const char *body, size_t len, char *out,
                    size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    char prefix[32];
    unsigned char md[32];
    out[0] = '\0';
    snprintf(prefix, sizeof prefix, "%" PRId64 ".", t);
    if (cap < HB_WEBHOOK_SIG_MAX || hmac_sha256(secret, prefix, body, len, md) < 0)
        return -1;
    int n = snprintf(out, cap, "t=%" PRId64 ",v1=", t);
    for (int i = 0; i < 32; i++) {
        out[n + 2 * i] = hex[md[i] >> 4];
        out[n + 2 * i + 1] = hex[md[i] & 15];
    }
    out[n + 64] = '\0';
    return 0;
}
