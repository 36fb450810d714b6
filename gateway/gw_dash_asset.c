/* Naming, lookup and types of the dashboard's assets (gw_dash_asset.h). */
#include "gw_dash_asset.h"

#include <stdlib.h>
#include <string.h>

bool hb_dash_name(const char *tail, char *out, size_t cap)
{
    if (!tail || cap == 0)
        return false;
    if (tail[0] == '/')
        tail++;
    if (!tail[0])
        tail = "index.html";
    size_t n = strlen(tail);
    if (n >= cap)
        return false;
    const char *seg = tail;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)tail[i];
        if (ch == '/' || ch == '\0') {
            size_t len = (size_t)(tail + i - seg);
            if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            seg = tail + i + 1;
        } else if (ch < 0x20 || ch == 0x7f || ch == '\\') {
            return false;
        }
    }
    memcpy(out, tail, n + 1);
    return true;
}

static int cmp_name(const void *key, const void *elem)
{
    return strcmp(key, ((const hb_dash_asset_t *)elem)->path);
}

const hb_dash_asset_t *hb_dash_find(const hb_dash_asset_t *tab, size_t n, const char *name)
{
    if (!tab || !name)
        return NULL;
    return bsearch(name, tab, n, sizeof *tab, cmp_name);
}

static const struct {
    const char *ext, *ctype;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
};

const char *hb_dash_ctype(const char *name)
{
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].ctype;
    return "application/octet-stream";
}

bool hb_dash_compressible(const char *ctype)
{
    return strncmp(ctype, "text/", 5) == 0 || strcmp(ctype, "image/svg+xml") == 0 ||
           strstr(ctype, "json") != NULL;
}
