/* Egress policy parsing and name matching (see egress_policy.h). */
#include "egress_policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_depth.h"

#define ENTRY_TEXT_MAX 300   /* longer than any valid entry */

static void clear_host_bits(uint8_t *a, unsigned bytes, unsigned prefix)
{
    for (unsigned i = 0; i < bytes; i++) {
        unsigned keep = prefix >= 8 * (i + 1) ? 8 : (prefix > 8 * i ? prefix - 8 * i : 0);
        a[i] &= (uint8_t)(0xff00u >> keep);
    }
}

/* "a.b.c.d", "x::y", with an optional "/len". */
static bool parse_cidr(const char *s, hb_eg_entry_t *en)
{
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET, buf, en->addr) == 1)
        en->kind = HB_EG_V4;
    else if (inet_pton(AF_INET6, buf, en->addr) == 1)
        en->kind = HB_EG_V6;
    else
        return false;
    unsigned max = en->kind == HB_EG_V4 ? 32 : 128, p = max;
    if (slash) {
        const char *d = slash + 1;
        if (!*d || strlen(d) > 3 || strspn(d, "0123456789") != strlen(d))
            return false;
        p = (unsigned)atoi(d);
        if (p > max)
            return false;
    }
    en->prefix = (uint8_t)p;
    clear_host_bits(en->addr, max / 8, p);
    return true;
}

/* Labels of letters, digits, '-' and '_', 1-63 bytes, not starting or
 * ending with '-'; lower-cased into out. A final dot is dropped. */
static bool parse_name(const char *s, char *out)
{
    size_t n = strlen(s);
    if (n && s[n - 1] == '.')
        n--;
    if (n == 0 || n > HB_EGRESS_NAME_MAX)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (isalnum(c) || c == '_' || (c == '-' && label > 0)) {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return label > 0 && s[n - 1] != '-';
}

static bool parse_entry(const char *s, hb_eg_entry_t *en)
{
    memset(en, 0, sizeof *en);
    if (strncmp(s, "*.", 2) == 0) {
        en->kind = HB_EG_WILD;
        return parse_name(s + 2, en->name);
    }
    if (strchr(s, ':') || strchr(s, '/') || strspn(s, "0123456789.") == strlen(s))
        return parse_cidr(s, en);
    en->kind = HB_EG_NAME;
    return parse_name(s, en->name);
}

static int parse_list(json_t *a, const char *field, hb_eg_entry_t **out, size_t *n,
                      size_t budget, hb_err_t *e)
{
    if (!a)
        return 0;
    if (!json_is_array(a))
        return hb_fail(e, HB_E_INVALID, 0, "%s: expected an array of strings", field);
    size_t cnt = json_array_size(a);
    if (cnt > budget)
        return hb_fail(e, HB_E_INVALID, 0, "%s: more than %d entries in allow_out and deny_out "
                       "together", field, HB_EGRESS_MAX);
    if (cnt == 0)
        return 0;
    *out = calloc(cnt, sizeof **out);
    if (!*out)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        json_t *v = json_array_get(a, i);
        const char *s = json_string_value(v);
        if (!s || strlen(s) != json_string_length(v) || strlen(s) > ENTRY_TEXT_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "%s[%zu]: expected a CIDR, an address, a domain "
                           "or *.domain (a string of at most %d bytes)", field, i, ENTRY_TEXT_MAX);
        if (!parse_entry(s, &(*out)[i]))
            return hb_fail(e, HB_E_INVALID, 0, "%s[%zu]: '%s' is not a CIDR, an address, a "
                           "domain or *.domain", field, i, s);
        (*n)++;
    }
    return 0;
}

int hb_egress_parse_json(const void *json, hb_egress_t *p, hb_err_t *e)
{
    json_t *j = (json_t *)(uintptr_t)json;
    memset(p, 0, sizeof *p);
    if (!json_is_object(j))
        return hb_fail(e, HB_E_INVALID, 0, "body: expected a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        if (strcmp(key, "allow_out") != 0 && strcmp(key, "deny_out") != 0)
            return hb_fail(e, HB_E_INVALID, 0, "%.64s: unknown field", key);
    }
    json_t *a = json_object_get(j, "allow_out"), *d = json_object_get(j, "deny_out");
    size_t na = json_is_array(a) ? json_array_size(a) : 0;
    if (parse_list(json_is_null(a) ? NULL : a, "allow_out", &p->allow, &p->n_allow,
                   HB_EGRESS_MAX, e) < 0 ||
        parse_list(json_is_null(d) ? NULL : d, "deny_out", &p->deny, &p->n_deny,
                   HB_EGRESS_MAX - (na < HB_EGRESS_MAX ? na : HB_EGRESS_MAX), e) < 0) {
        hb_egress_free(p);
        return -1;
    }
    return 0;
}

int hb_egress_parse(const char *text, size_t len, hb_egress_t *p, hb_err_t *e)
{
    json_error_t je;
    memset(p, 0, sizeof *p);
    json_t *j = hb_json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return hb_fail(e, HB_E_INVALID, 0, "invalid JSON: %s", je.text);
    int rc = hb_egress_parse_json(j, p, e);
    json_decref(j);
    return rc;
}

void hb_egress_free(hb_egress_t *p)
{
    free(p->allow);
    free(p->deny);
    memset(p, 0, sizeof *p);
}

bool hb_egress_empty(const hb_egress_t *p)
{
    return p->n_allow == 0 && p->n_deny == 0;
}

static json_t *list_json(const hb_eg_entry_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        char text[ENTRY_TEXT_MAX + 8], addr[INET6_ADDRSTRLEN];
        const hb_eg_entry_t *en = &v[i];
        if (en->kind == HB_EG_NAME)
            snprintf(text, sizeof text, "%s", en->name);
        else if (en->kind == HB_EG_WILD)
            snprintf(text, sizeof text, "*.%s", en->name);
        else {
            bool v4 = en->kind == HB_EG_V4;
            inet_ntop(v4 ? AF_INET : AF_INET6, en->addr, addr, sizeof addr);
            if (en->prefix == (v4 ? 32 : 128))
                snprintf(text, sizeof text, "%s", addr);
            else
                snprintf(text, sizeof text, "%s/%u", addr, en->prefix);
        }
        json_array_append_new(a, json_string(text));
    }
    return a;
}

char *hb_egress_text(const hb_egress_t *p)
{
    json_t *j = json_pack("{s:o, s:o}", "allow_out", list_json(p->allow, p->n_allow), "deny_out",
                          list_json(p->deny, p->n_deny));
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return t;
}

static bool matches(const hb_eg_entry_t *v, size_t n, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++) {
        size_t el = strlen(v[i].name);
        if (v[i].kind == HB_EG_NAME && strcmp(v[i].name, name) == 0)
            return true;
        if (v[i].kind == HB_EG_WILD && len > el + 1 && name[len - el - 1] == '.' &&
            strcmp(name + len - el, v[i].name) == 0)
            return true;
    }
    return false;
}

bool hb_egress_name_allowed(const hb_egress_t *p, const char *name)
{
    char low[HB_EGRESS_NAME_MAX + 2];
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        n--;
    if (n == 0 || n > HB_EGRESS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[n] = '\0';
    if (matches(p->deny, p->n_deny, low))
        return false;
    if (p->n_allow == 0)
        return true;
    return matches(p->allow, p->n_allow, low);
}
