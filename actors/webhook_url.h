/* The webhook settings as the operator gave them (--webhook, repeatable;
 * --webhook-secret): checked before anything starts, and each URL's origin
 * for log lines. Pure functions, unit tested (tests/unit/test_webhook.c). */
#ifndef HB_WEBHOOK_URL_H
#define HB_WEBHOOK_URL_H

#include <stddef.h>

#include "config.h"

#define HB_WEBHOOK_URL_MAX    2048
#define HB_WEBHOOK_ORIGIN_MAX 320   /* "https://" + a host name + ":65535" */

/* 0 when url is one we can POST to: at most HB_WEBHOOK_URL_MAX bytes, no
 * blank or control character, scheme http or https, a host. Else -1 with
 * why (never the URL itself: it may carry a token). */
int hb_webhook_url_check(const char *url, char *why, size_t cap);

/* "scheme://host[:port]" of a checked url: what log lines show of it (a
 * URL's user, path and query may carry a secret). "?" if it cannot parse. */
void hb_webhook_url_origin(const char *url, char *out, size_t cap);

/* The settings together: every URL checks, and a non-empty secret comes
 * with them. -1 with err naming the flag and the variable. A secret
 * without any URL is fine here (the actor warns: nothing will be sent). */
int hb_webhook_settings_check(const hb_cfg_LIST *urls, const char *secret, char *err,
                              size_t cap);

#endif
