/* Who may open a preview (preview_auth.h): the order of the checks, the
 * 401s, and the redirect that turns a signed URL into a cookie. */
#include "gw_preview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "preview_auth.h"
#include "preview_req.h"
#include "query.h"

#define SIG_CAP 80   /* a longer value is no signature of ours */
#define EXP_CAP 24

static int unauthorized(hb_pv_t *p, const char *why)
{
    return hb_reply_error(p->r->c, 401, "port %u: %s", p->port, why);
}

/* 303 to the same URL without hb_sig/hb_exp, the pair kept as a cookie for
 * this host (or path) until it expires. */
static int to_cookie(hb_pv_t *p, const char *exp, const char *sig)
{
    struct mg_connection *c = p->r->c;
    char path[4096], qs[4096], loc[8300], cookie[512];
    long long left = strtoll(exp, NULL, 10) - (long long)time(NULL);
    if (hb_pv_path_encode(p->r->ri->local_uri, path, sizeof path) < 0 ||
        hb_pv_query_strip(p->r->ri->query_string, qs, sizeof qs) < 0)
        return hb_reply_error(c, 400, "path: too long");
    snprintf(loc, sizeof loc, "%s%s%s", path, qs[0] ? "?" : "", qs);
    snprintf(cookie, sizeof cookie, HB_PV_COOKIE "=%s.%s; Path=%s; Max-Age=%lld; HttpOnly; "
             "SameSite=Lax", exp, sig, p->cookie_path, left > 0 ? left : 0);
    if (hb_response_start(c, 303) < 0)
        return hb_reply_error(c, 400, "a signed URL cannot open a WebSocket: open the page first");
    mg_response_header_add(c, "Location", loc, -1);
    mg_response_header_add(c, "Set-Cookie", cookie, -1);
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    mg_response_header_add(c, "Content-Length", "0", -1);
    mg_response_header_send(c);
    return 303;
}

/* Our cookie's "<exp>.<sig>": 1 valid, 0 absent or wrong, -1 expired. */
static int cookie_check(hb_pv_t *p, const hb_lease_t *l)
{
    const char *hdr = mg_get_header(p->r->c, "Cookie");
    char v[EXP_CAP + SIG_CAP + 2];
    if (!hdr || mg_get_cookie(hdr, HB_PV_COOKIE, v, sizeof v) <= 0)
        return 0;
    char *dot = strchr(v, '.');
    if (!dot)
        return 0;
    *dot = '\0';
    return hb_pv_sig_check(l, p->port, v, dot + 1);
}

/* pass: the request may go anyway (a public port, the API key): a bad
 * link is then ignored (its parameters never reach the service). */
static int signed_url(hb_pv_t *p, const hb_lease_t *l, const char *qs, bool pass)
{
    char sig[SIG_CAP], exp[EXP_CAP];
    size_t n;
    int v = hb_query_param(qs, "hb_sig", sig, sizeof sig, &n) == 1 &&
                    hb_query_param(qs, "hb_exp", exp, sizeof exp, &n) == 1
                ? hb_pv_sig_check(l, p->port, exp, sig) : -2;
    if (v <= 0 && pass)
        return 0;
    if (v == -2)
        return unauthorized(p, "signed URL: hb_sig and hb_exp must both be there");
    if (v < 0)
        return unauthorized(p, "signed URL: expired; ask for a new one (POST .../url)");
    if (v == 0)
        return unauthorized(p, "signed URL: the signature does not match");
    if (hb_method_is(p->r, "GET") && !mg_get_header(p->r->c, "Upgrade"))
        return to_cookie(p, exp, sig);
    return 0;
}

/* A real hb_sig or hb_exp parameter (present, even malformed): not the
 * text anywhere in the query (?q=hb_exp is the service's). */
static bool signed_params(const char *qs)
{
    char v[SIG_CAP];
    size_t n;
    return hb_query_param(qs, "hb_sig", v, sizeof v, &n) != 0 ||
           hb_query_param(qs, "hb_exp", v, sizeof v, &n) != 0;
}

int hb_pv_access(hb_pv_t *p, const hb_lease_t *l)
{
    const char *qs = p->r->ri->query_string;
    bool pass = p->is_public ||
                hb_auth_bearer_ok(mg_get_header(p->r->c, "Authorization"), p->r->conf->api_key);
    if (signed_params(qs))
        return signed_url(p, l, qs, pass);
    if (pass)
        return 0;
    const char *tok = mg_get_header(p->r->c, HB_PV_TOKEN_HDR);
    if (tok) {
        char want[HB_PV_TOKEN_LEN + 1];
        bool ok = hb_pv_token(l, want) == 0 &&
                  hb_ct_equal(tok, strlen(tok), want, HB_PV_TOKEN_LEN);
        return ok ? 0 : unauthorized(p, HB_PV_TOKEN_HDR ": not this sandbox's preview token");
    }
    int v = cookie_check(p, l);
    if (v > 0)
        return 0;
    return unauthorized(p, v < 0 ? "the preview link has expired; ask for a new one"
                               : "this port is private: send the API key, the sandbox's "
                                 "preview token (" HB_PV_TOKEN_HDR ") or use a signed URL");
}
