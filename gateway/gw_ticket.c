/* The ticket table (gw_ticket.h). */
#include "gw_ticket.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "auth.h"      /* hb_ct_equal */
#include "bus.h"       /* hb_now_ms */
#include "route.h"     /* HB_PROC_SEL_MAX */
#include "runtime.h"   /* HB_ID_MAX */

typedef struct {
    char    text[HB_TICKET_LEN + 1];   /* "" : free */
    char    id[HB_ID_MAX];
    char    target[HB_PROC_SEL_MAX];
    int64_t expires_ms;
} ticket_t;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static ticket_t g_tab[HB_TICKET_MAX];

static void encode(const unsigned char *raw, size_t n, char *out)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)raw[i] << 16;
        v |= i + 1 < n ? (unsigned)raw[i + 1] << 8 : 0;
        v |= i + 2 < n ? raw[i + 2] : 0;
        size_t chars = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;
        for (size_t k = 0; k < chars; k++)
            out[o++] = b64[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
}

static bool live(const ticket_t *t, int64_t now)
{
    return t->text[0] && t->expires_ms > now;
}

int hb_ticket_issue(const char *id, const char *target, char out[HB_TICKET_LEN + 1], hb_err_t *e)
{
    unsigned char raw[32];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return hb_fail(e, HB_E_INTERNAL, errno, "ticket: no random bytes");
    encode(raw, sizeof raw, out);
    int64_t now = hb_now_ms();
    int rc = -1;
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < HB_TICKET_MAX; i++) {
        ticket_t *t = &g_tab[i];
        if (live(t, now))
            continue;
        snprintf(t->text, sizeof t->text, "%s", out);
        snprintf(t->id, sizeof t->id, "%s", id);
        snprintf(t->target, sizeof t->target, "%s", target);
        t->expires_ms = now + HB_TICKET_TTL_S * 1000;
        rc = 0;
        break;
    }
    pthread_mutex_unlock(&g_mu);
    if (rc < 0)
        return hb_fail(e, HB_E_LIMIT, 0, "ticket: %d tickets are waiting to be used; use or let "
                       "some expire (%d s) first", HB_TICKET_MAX, HB_TICKET_TTL_S);
    return 0;
}

bool hb_ticket_redeem(const char *ticket, size_t len, const char *id, const char *target)
{
    if (len != HB_TICKET_LEN)
        return false;
    int64_t now = hb_now_ms();
    bool ok = false;
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < HB_TICKET_MAX; i++) {
        ticket_t *t = &g_tab[i];
        if (!t->text[0] || !hb_ct_equal(t->text, HB_TICKET_LEN, ticket, len))
            continue;
        ok = t->expires_ms > now && strcmp(t->id, id) == 0 && strcmp(t->target, target) == 0;
        memset(t, 0, sizeof *t);   /* single use: a wrong route spends it too */
        break;
    }
    pthread_mutex_unlock(&g_mu);
    return ok;
}

size_t hb_ticket_live(void)
{
    int64_t now = hb_now_ms();
    size_t n = 0;
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < HB_TICKET_MAX; i++)
        n += live(&g_tab[i], now);
    pthread_mutex_unlock(&g_mu);
    return n;
}
