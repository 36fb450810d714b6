/* launch.conf keys and line format (see launchconf.h). */
#include "launchconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HB_LC_NAME(e, key) [HB_LC_##e] = (key),
static const char *const names[HB_LC_COUNT] = {HB_LAUNCHCONF_KEYS(HB_LC_NAME)};

const char *hb_lc_name(hb_lckey_t k)
{
    return k >= 0 && k < HB_LC_COUNT ? names[k] : "?";
}

hb_lckey_t hb_lc_key(const char *name)
{
    for (int k = 0; k < HB_LC_COUNT; k++)
        if (strcmp(names[k], name) == 0)
            return (hb_lckey_t)k;
    return HB_LC_UNKNOWN;
}

int hb_lc_append(char *buf, size_t len, int n, hb_lckey_t k, const char *fmt, ...)
{
    if (n < 0 || (size_t)n >= len)
        return n;
    int r = snprintf(buf + n, len - (size_t)n, "%s=", hb_lc_name(k));
    if (r < 0 || (size_t)n + (size_t)r >= len)
        return (int)len;
    n += r;
    va_list ap;
    va_start(ap, fmt);
    r = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)n + (size_t)r + 1 >= len)
        return (int)len;
    n += r;
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

int hb_lc_each(char *buf, hb_lc_fn fn, void *ud)
{
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq++ = '\0';
        int r = fn(ud, hb_lc_key(line), eq);
        if (r < 0)
            return r;
    }
    return 0;
}
