/* Which Debian mirror to debootstrap from: the one the host's apt already
 * uses (it is known to be reachable from here, and may be a local cache),
 * read from the one-line (*.list) and deb822 (*.sources) formats. */
#include "image_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FALLBACK_MIRROR "http://deb.debian.org/debian"
#define SUITE           "bookworm"
#define SRC_FILE_MAX    (256 * 1024)

static bool has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        size_t n = strcspn(p, " \t\r\n");
        if (n == wl && strncmp(p, word, wl) == 0)
            return true;
        p += n;
    }
    return false;
}

static bool is_http(const char *uri, size_t n)
{
    return (n > 7 && strncmp(uri, "http://", 7) == 0) ||
           (n > 8 && strncmp(uri, "https://", 8) == 0);
}

static bool put_uri(const char *uri, size_t n, char *out, size_t len)
{
    while (n > 0 && uri[n - 1] == '/')
        n--;
    if (n == 0 || n >= len)
        return false;
    memcpy(out, uri, n);
    out[n] = '\0';
    return true;
}

/* One line "deb [opts] URI SUITE COMP..." (comment already stripped). */
static bool list_line(char *line, char *out, size_t len)
{
    char *save = NULL, *tok = strtok_r(line, " \t", &save);
    if (!tok || strcmp(tok, "deb") != 0)
        return false;
    tok = strtok_r(NULL, " \t", &save);
    if (tok && tok[0] == '[') {          /* options may span several tokens */
        while (tok && !strchr(tok, ']'))
            tok = strtok_r(NULL, " \t", &save);
        tok = tok ? strtok_r(NULL, " \t", &save) : NULL;
    }
    char *uri = tok, *suite = strtok_r(NULL, " \t", &save);
    if (!uri || !suite || strcmp(suite, SUITE) != 0 || !is_http(uri, strlen(uri)))
        return false;
    bool main_comp = false;
    while ((tok = strtok_r(NULL, " \t", &save)))
        main_comp |= strcmp(tok, "main") == 0;
    return main_comp && put_uri(uri, strlen(uri), out, len);
}

bool hb_mirror_from_list(const char *text, char *out, size_t len)
{
    char line[2048];
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (n < sizeof line) {
            memcpy(line, p, n);
            line[n] = '\0';
            line[strcspn(line, "#\r")] = '\0';
            if (list_line(line, out, len))
                return true;
        }
        p += n + (p[n] == '\n');
    }
    return false;
}

typedef struct {
    char types[256], uris[1024], suites[256], comps[256], enabled[16];
    char *last;     /* field a continuation line appends to */
    size_t last_sz;
} stanza_t;

static bool stanza_match(const stanza_t *s, char *out, size_t len)
{
    if (!has_word(s->types, "deb") || !has_word(s->suites, SUITE) ||
        !has_word(s->comps, "main") || strcasecmp(s->enabled, "no") == 0)
        return false;
    for (const char *p = s->uris; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        size_t n = strcspn(p, " \t");
        if (is_http(p, n) && put_uri(p, n, out, len))
            return true;
        p += n;
    }
    return false;
}

static void append(char *dst, size_t sz, const char *val)
{
    while (isspace((unsigned char)*val))
        val++;
    size_t used = strlen(dst);
    if (used + strlen(val) + 2 < sz)
        snprintf(dst + used, sz - used, "%s%s", used ? " " : "", val);
}

static void stanza_field(stanza_t *s, char *line)
{
    static const struct { const char *name; size_t off, sz; } f[] = {
        {"Types", offsetof(stanza_t, types), sizeof ((stanza_t *)0)->types},
        {"URIs", offsetof(stanza_t, uris), sizeof ((stanza_t *)0)->uris},
        {"Suites", offsetof(stanza_t, suites), sizeof ((stanza_t *)0)->suites},
        {"Components", offsetof(stanza_t, comps), sizeof ((stanza_t *)0)->comps},
        {"Enabled", offsetof(stanza_t, enabled), sizeof ((stanza_t *)0)->enabled},
    };
    if (isspace((unsigned char)line[0])) {          /* continuation */
        if (s->last)
            append(s->last, s->last_sz, line);
        return;
    }
    char *colon = strchr(line, ':');
    s->last = NULL;
    if (!colon)
        return;
    *colon = '\0';
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (strcasecmp(line, f[i].name) == 0) {
            s->last = (char *)s + f[i].off;
            s->last_sz = f[i].sz;
            append(s->last, s->last_sz, colon + 1);
        }
    }
}

bool hb_mirror_from_deb822(const char *text, char *out, size_t len)
{
    stanza_t s;
    memset(&s, 0, sizeof s);
    char line[2048];
    for (const char *p = text;; ) {
        size_t n = strcspn(p, "\n");
        bool end = p[n] == '\0';
        if (n < sizeof line) {
            memcpy(line, p, n);
            line[n] = '\0';
            line[strcspn(line, "\r")] = '\0';
            bool blank = line[strspn(line, " \t")] == '\0';
            if (blank) {
                if (stanza_match(&s, out, len))
                    return true;
                memset(&s, 0, sizeof s);
            } else if (line[0] != '#') {
                stanza_field(&s, line);
            }
        }
        if (end)
            break;
        p += n + 1;
    }
    return stanza_match(&s, out, len);
}

/* Returns a malloc'd NUL-terminated copy of a small file, or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = malloc(SRC_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, SRC_FILE_MAX, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static bool try_file(const char *path, bool deb822, char *out, size_t len)
{
    char *text = slurp(path);
    bool ok = text && (deb822 ? hb_mirror_from_deb822(text, out, len)
                              : hb_mirror_from_list(text, out, len));
    free(text);
    return ok;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

void hb_mirror_detect(const char *root_dir, char *out, size_t len)
{
    char path[HB_HOSTPATH_MAX];
    const char *root = root_dir ? root_dir : "";
    snprintf(path, sizeof path, "%s/etc/apt/sources.list", root);
    if (try_file(path, false, out, len))
        return;
    snprintf(path, sizeof path, "%s/etc/apt/sources.list.d", root);
    struct dirent **ents = NULL;
    int n = scandir(path, &ents, NULL, alphasort);   /* apt reads them in order */
    bool found = false;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        bool l = ends_with(name, ".list"), d = ends_with(name, ".sources");
        if (!found && (l || d)) {
            char file[HB_HOSTPATH_MAX + 256];
            snprintf(file, sizeof file, "%s/%s", path, name);
            found = try_file(file, d, out, len);
        }
        free(ents[i]);
    }
    free(ents);
    if (!found)
        snprintf(out, len, "%s", FALLBACK_MIRROR);
}

/* Debian policy: lower case letters, digits, + - . ; at least two chars,
 * starting with an alphanumeric. */
static bool debian_pkg_valid(const char *s, size_t n)
{
    if (n < 2 || n > 100 || !isalnum((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '+' || c == '-' ||
              c == '.'))
            return false;
    }
    return true;
}

int hb_packages_parse(const char *text, char *out, size_t len, hb_err_t *e)
{
    size_t used = 0, count = 0;
    out[0] = '\0';
    for (const char *p = text ? text : ""; *p;) {
        p += strspn(p, ", \t\n");
        size_t n = strcspn(p, ", \t\n");
        if (n == 0)
            break;
        if (!debian_pkg_valid(p, n))
            return hb_fail(e, HB_E_INVALID, 0, "HIVEBOX_PACKAGES: invalid package name '%.*s'",
                           (int)(n > 100 ? 100 : n), p);
        if (++count > 64 || used + n + 2 > len)
            return hb_fail(e, HB_E_INVALID, 0, "HIVEBOX_PACKAGES: too many packages");
        used += (size_t)snprintf(out + used, len - used, "%s%.*s", used ? "," : "", (int)n, p);
        p += n;
    }
    return 0;
}
