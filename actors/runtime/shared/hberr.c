/* hb_err_t: how an error travels up the daemon (and the launcher's shared
 * code) until one place turns it into an answer -- a status in the gateway
 * (gateway/http_status.c), an error reply on the bus, a log line. */
#include "hberr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ": tail" after the n bytes formatted, when they fit. */
static void append(hb_err_t *e, int n, const char *tail)
{
    if (n >= 0 && (size_t)n < sizeof e->msg)
        snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", tail);
}

static void vfail(hb_err_t *e, hb_errcode_t code, int sys_errno, const char *tail,
                  const char *fmt, va_list ap)
{
    if (!e)
        return;
    e->code = code;
    e->sys_errno = sys_errno;
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    if (tail)
        append(e, n, tail);
}

void hb_fail_set(hb_err_t *e, hb_errcode_t code, int sys_errno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(e, code, sys_errno, NULL, fmt, ap);
    va_end(ap);
}

void hb_fail_sys_set(hb_err_t *e, hb_errcode_t code, int sys_errno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(e, code, sys_errno, strerror(sys_errno), fmt, ap);
    va_end(ap);
}

void hb_err_wrap_set(hb_err_t *e, const char *fmt, ...)
{
    if (!e)
        return;
    char old[sizeof e->msg];
    memcpy(old, e->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    vfail(e, e->code, e->sys_errno, old, fmt, ap);
    va_end(ap);
}

void hb_err_clear(hb_err_t *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}

const char *hb_errcode_name(hb_errcode_t c)
{
    switch (c) {
    case HB_OK: return "ok";
    case HB_E_INVALID: return "invalid";
    case HB_E_NOTFOUND: return "not found";
    case HB_E_EXISTS: return "exists";
    case HB_E_TOOBIG: return "too big";
    case HB_E_UNAVAIL: return "unavailable";
    case HB_E_DEAD: return "dead";
    case HB_E_NOTSUP: return "not supported";
    case HB_E_GONE: return "gone";
    case HB_E_INTERNAL: return "internal";
    case HB_E_NOSPACE: return "no space";
    case HB_E_NOTDIR: return "not a directory";
    case HB_E_CONFLICT: return "conflict";
    case HB_E_LIMIT: return "limit reached";
    case HB_E_UPSTREAM: return "bad gateway";
    }
    return "?";
}
