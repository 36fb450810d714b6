/* The dashboard's assets (webui/): the table tools/gen_webui.py generates
 * at build time ($(BUILD)/gen/dashboard_assets.c, embedded with .incbin),
 * and the pure helpers gw_dashboard.c serves them with, in both modes
 * (embedded, or read from --webui-dir). */
#ifndef HB_GW_DASH_ASSET_H
#define HB_GW_DASH_ASSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *path;      /* under /dashboard/: "index.html", "js/main.js", "vendor/xterm.mjs" */
    const char *etag;      /* strong, quoted: "\"<sha256 prefix>\"" */
    size_t      off, len;  /* the bytes, in hb_dash_blob */
    size_t      gz_off, gz_len;   /* deterministic gzip of them; gz_len 0: none (no gain) */
} hb_dash_asset_t;

/* Generated; sorted by path (strcmp) for hb_dash_find. */
extern const hb_dash_asset_t hb_dash_assets[];
extern const size_t          hb_dash_assets_n;
extern const unsigned char   hb_dash_blob[];

/* The asset name of a request path below /dashboard ("" or "/" → "index.html",
 * "/js/a.js" → "js/a.js") into out; false for a name that is not plain: an
 * empty, "." or ".." segment, a backslash, a control byte, or too long. */
bool hb_dash_name(const char *tail, char *out, size_t cap);
/* The entry for a name from hb_dash_name, or NULL. */
const hb_dash_asset_t *hb_dash_find(const hb_dash_asset_t *tab, size_t n, const char *name);
/* Content-Type by extension (html, js/mjs as text/javascript, css, svg,
 * png, woff2, json, ...); application/octet-stream for anything else. */
const char *hb_dash_ctype(const char *name);
/* Whether a type is worth gzipping (text, svg, json). */
bool hb_dash_compressible(const char *ctype);

#endif
