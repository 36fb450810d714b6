/* What the in-sandbox plane's handlers share: E2B's path rule and the
 * protobuf JSON mapping of the values they answer with. */
#include "e2b_call.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "path.h"

void hb_e2b_home(const char *user, char *buf, size_t n)
{
    if (!user || !user[0] || strcmp(user, "root") == 0)
        snprintf(buf, n, "/root");
    else
        snprintf(buf, n, "/home/%s", user);
}

char *hb_e2b_path(const hb_e2b_call_t *k, const char *path, const char *field, hb_err_t *e)
{
    char home[HB_USER_MAX + 8], joined[HB_PATH_MAX];
    const char *why = NULL;
    if (!path || !path[0]) {
        hb_fail(e, HB_E_INVALID, 0, "%s: required", field);
        return NULL;
    }
    /* envd: a relative path (and "~/...") is the user's home's */
    if (path[0] == '~' && (path[1] == '/' || path[1] == '\0'))
        path += path[1] ? 2 : 1;
    if (path[0] != '/') {
        hb_e2b_home(k->user, home, sizeof home);
        if ((size_t)snprintf(joined, sizeof joined, "%s/%s", home, path) >= sizeof joined) {
            hb_fail(e, HB_E_INVALID, 0, "%s: longer than %d bytes", field, HB_PATH_MAX - 1);
            return NULL;
        }
        path = joined;
    }
    if (hb_path_check(path, &why) < 0) {
        hb_fail(e, HB_E_INVALID, 0, "%s: %s", field, why ? why : "not a valid path");
        return NULL;
    }
    size_t cap = strlen(path) + 1;
    char *out = malloc(cap);
    if (!out || hb_path_normalize(path, out, cap) < 0) {
        free(out);
        hb_fail(e, out ? HB_E_INVALID : HB_E_INTERNAL, 0, "%s: %s", field,
                out ? "not a valid path" : "out of memory");
        return NULL;
    }
    return out;
}

json_t *hb_pb_int64(int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return json_string(buf);
}

json_t *hb_pb_time(int64_t unix_ms)
{
    time_t s = (time_t)(unix_ms / 1000);
    int ms = (int)(unix_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        s -= 1;
    }
    struct tm tm;
    char buf[40];
    if (!gmtime_r(&s, &tm) || strftime(buf, 24, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return json_string("1970-01-01T00:00:00Z");
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ".%03dZ", ms);
    return json_string(buf);
}

int hb_pb_get_int64(const json_t *obj, const char *key, int64_t def, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = def;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    char *end = NULL;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (!s[0] || *end || errno)
        return -1;
    *out = n;
    return 0;
}
