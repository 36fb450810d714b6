/* The dashboard's asset lookup (gateway/gw_dash_asset.c): request paths to
 * asset names (traversal refused), the sorted-table search, Content-Types,
 * and the table the build embedded (build/gen/dashboard_assets.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "gw_dash_asset.h"

static const char *name_of(const char *tail)
{
    static char buf[64];
    return hb_dash_name(tail, buf, sizeof buf) ? buf : NULL;
}

Test(dashboard, names_of_request_paths)
{
    cr_assert_str_eq(name_of(""), "index.html");
    cr_assert_str_eq(name_of("/"), "index.html");
    cr_assert_str_eq(name_of("/js/main.js"), "js/main.js");
    cr_assert_str_eq(name_of("/vendor/xterm.mjs"), "vendor/xterm.mjs");
    cr_assert_str_eq(name_of("/a..b/c.d.js"), "a..b/c.d.js");   /* dots inside a name are fine */
}

Test(dashboard, traversal_and_odd_names_are_refused)
{
    const char *bad[] = {"/..", "/../x", "/js/../../etc/passwd", "/js/..", "/./index.html",
                         "/js//main.js", "/js/", "//etc/passwd", "/a\\..\\b", "/a\nb", "/a\x7f",
                         "/js/."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(name_of(bad[i]), "accepted %s", bad[i]);
    char small[8];
    cr_assert_not(hb_dash_name("/abcdefgh.js", small, sizeof small), "no room: refused, not cut");
    cr_assert_not(hb_dash_name(NULL, small, sizeof small));
}

Test(dashboard, find_in_a_sorted_table)
{
    static const hb_dash_asset_t tab[] = {
        {"css/app.css", "\"1\"", 0, 1, 0, 0},
        {"index.html", "\"2\"", 1, 1, 0, 0},
        {"js/main.js", "\"3\"", 2, 1, 0, 0},
        {"vendor/xterm.mjs", "\"4\"", 3, 1, 0, 0},
    };
    size_t n = sizeof tab / sizeof tab[0];
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(hb_dash_find(tab, n, tab[i].path), &tab[i]);
    cr_assert_null(hb_dash_find(tab, n, "js/main.j"));
    cr_assert_null(hb_dash_find(tab, n, "js/main.js/"));
    cr_assert_null(hb_dash_find(tab, n, "zzz"));
    cr_assert_null(hb_dash_find(tab, n, ""));
    cr_assert_null(hb_dash_find(tab, 0, "index.html"));
}

Test(dashboard, content_types)
{
    cr_assert_str_eq(hb_dash_ctype("index.html"), "text/html; charset=utf-8");
    cr_assert_str_eq(hb_dash_ctype("js/main.js"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(hb_dash_ctype("vendor/xterm.mjs"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(hb_dash_ctype("css/app.css"), "text/css; charset=utf-8");
    cr_assert_str_eq(hb_dash_ctype("img/logo.svg"), "image/svg+xml");
    cr_assert_str_eq(hb_dash_ctype("img/shot.png"), "image/png");
    cr_assert_str_eq(hb_dash_ctype("fonts/a.woff2"), "font/woff2");
    cr_assert_str_eq(hb_dash_ctype("data.json"), "application/json");
    cr_assert_str_eq(hb_dash_ctype("x.js.map.bin"), "application/octet-stream");
    cr_assert_str_eq(hb_dash_ctype("a.b/noext"), "application/octet-stream");
    cr_assert(hb_dash_compressible("text/css; charset=utf-8"));
    cr_assert(hb_dash_compressible("image/svg+xml"));
    cr_assert_not(hb_dash_compressible("image/png"));
    cr_assert_not(hb_dash_compressible("font/woff2"));
}

/* The embedded table: sorted, every entry found, inside the blob, index.html
 * and the vendor modules present, gzip only where it is smaller, and the
 * gzip members well-formed (magic, deflate, mtime 0: reproducible). */
Test(dashboard, the_embedded_table)
{
    cr_assert_gt(hb_dash_assets_n, 0);
    const char *want[] = {"index.html", "vendor/xterm.mjs", "vendor/xterm.css",
                          "vendor/addon-fit.mjs", "vendor/uPlot.esm.js", "vendor/uPlot.min.css"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_not_null(hb_dash_find(hb_dash_assets, hb_dash_assets_n, want[i]), "%s", want[i]);
    size_t end = 0;
    for (size_t i = 0; i < hb_dash_assets_n; i++) {
        const hb_dash_asset_t *a = &hb_dash_assets[i];
        if (i > 0)
            cr_assert_lt(strcmp(hb_dash_assets[i - 1].path, a->path), 0, "not sorted at %s", a->path);
        cr_assert_eq(hb_dash_find(hb_dash_assets, hb_dash_assets_n, a->path), a);
        char nm[256];
        cr_assert(hb_dash_name(a->path, nm, sizeof nm) && strcmp(nm, a->path) == 0, "%s", a->path);
        cr_assert_str_neq(hb_dash_ctype(a->path), "application/octet-stream", "%s", a->path);
        cr_assert(strlen(a->etag) > 2 && a->etag[0] == '"' && a->etag[strlen(a->etag) - 1] == '"');
        cr_assert_eq(a->off, end, "%s: not where the previous one ended", a->path);
        end = a->off + a->len;
        if (a->gz_len) {
            cr_assert_eq(a->gz_off, end);
            cr_assert_lt(a->gz_len, a->len, "%s: a gzip that does not save bytes", a->path);
            const unsigned char *g = hb_dash_blob + a->gz_off;
            cr_assert(g[0] == 0x1f && g[1] == 0x8b && g[2] == 8, "%s: not gzip", a->path);
            cr_assert(g[4] == 0 && g[5] == 0 && g[6] == 0 && g[7] == 0, "%s: gzip mtime", a->path);
            end = a->gz_off + a->gz_len;
        }
    }
    const hb_dash_asset_t *ix = hb_dash_find(hb_dash_assets, hb_dash_assets_n, "index.html");
    cr_assert(memmem(hb_dash_blob + ix->off, ix->len, "<html", 5) != NULL);
}
