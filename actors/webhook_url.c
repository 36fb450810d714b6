/* Webhook URLs and secret: the start-up check and the log origin (see
 * webhook_url.h). libcurl's own URL parser decides, so what passes here is
 * what the delivery will understand. */
#include "webhook_url.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool has_blank_or_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return true;
    return false;
}

/* The scheme (lower case) and host of url into buffers; -1 if unparsable. */
static int split(const char *url, char *scheme, size_t scap, char *host, size_t hcap, char *port,
                 size_t pcap)
{
    CURLU *u = curl_url();
    char *s = NULL, *h = NULL, *p = NULL;
    int rc = -1;
    /* NON_SUPPORT_SCHEME: our own message for an ftp:// below, not curl's */
    if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK)
            h = NULL;
        if (curl_url_get(u, CURLUPART_PORT, &p, 0) != CURLUE_OK)
            p = NULL;
        snprintf(scheme, scap, "%s", s);
        snprintf(host, hcap, "%s", h ? h : "");
        snprintf(port, pcap, "%s", p ? p : "");
        rc = 0;
    }
    curl_free(s);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return rc;
}

int hb_webhook_url_check(const char *url, char *why, size_t cap)
{
    char scheme[16], host[HB_WEBHOOK_ORIGIN_MAX], port[8];
    size_t n = strlen(url);
    if (n == 0)
        snprintf(why, cap, "empty");
    else if (n > HB_WEBHOOK_URL_MAX)
        snprintf(why, cap, "longer than %d bytes", HB_WEBHOOK_URL_MAX);
    else if (has_blank_or_control(url))
        snprintf(why, cap, "contains a blank or a control character");
    else if (split(url, scheme, sizeof scheme, host, sizeof host, port, sizeof port) < 0)
        snprintf(why, cap, "not a URL (expected http://host/... or https://host/...)");
    else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        snprintf(why, cap, "the scheme must be http or https");
    else if (!host[0])
        snprintf(why, cap, "no host");
    else
        return 0;
    return -1;
}

void hb_webhook_url_origin(const char *url, char *out, size_t cap)
{
    char scheme[16], host[HB_WEBHOOK_ORIGIN_MAX], port[8];
    if (split(url, scheme, sizeof scheme, host, sizeof host, port, sizeof port) < 0)
        snprintf(out, cap, "?");
    else
        snprintf(out, cap, "%s://%s%s%s", scheme, host, port[0] ? ":" : "", port);
}

int hb_webhook_settings_check(const hb_cfg_LIST *urls, const char *secret, char *err,
                              size_t cap)
{
    char why[128];
    for (int i = 0; i < urls->n; i++) {
        if (hb_webhook_url_check(urls->item[i], why, sizeof why) < 0) {
            snprintf(err, cap, "--webhook (HIVEBOX_WEBHOOK): URL %d of %d: %s", i + 1, urls->n,
                     why);
            return -1;
        }
    }
    if (secret && !secret[0]) {
        snprintf(err, cap, "--webhook-secret (HIVEBOX_WEBHOOK_SECRET): empty");
        return -1;
    }
    if (urls->n > 0 && !secret) {
        snprintf(err, cap, "--webhook-secret (HIVEBOX_WEBHOOK_SECRET): required with --webhook "
                           "(the receivers check the signature with it)");
        return -1;
    }
    return 0;
}
