/* GET /dashboard: the browser dashboard (webui/). No key is needed to load
 * it; every API call it makes carries one. Two sources, one way of serving:
 * the assets embedded at build time (gw_dash_asset.h), or, with
 * `--webui-dir DIR`, DIR itself (= a checkout's webui/src) plus the vendor
 * files DIR/../vendor.txt names under DIR/../node_modules, read per request
 * so a UI change needs no rebuild. */
#include "gw_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_dash_asset.h"
#include "gzip.h"
#include "read_all.h"

#define DISK_MAX  (16u << 20)   /* a --webui-dir file larger than this is refused */
#define NAME_MAX_ 512

/* xterm.js writes its theme and cell metrics into <style> elements it
 * creates (DOM renderer), which style-src 'self' alone blocks: styles, and
 * only styles, may be inline. Scripts never. */
static const char CSP[] =
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'; form-action 'self'";

typedef struct {
    const char          *ctype;
    const unsigned char *body, *gz;
    size_t               len, gz_len;
    char                 etag[80];   /* quoted; of the identity bytes */
} served_t;

static void common_headers(struct mg_connection *c)
{
    mg_response_header_add(c, "Content-Security-Policy", CSP, -1);
    mg_response_header_add(c, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add(c, "Referrer-Policy", "no-referrer", -1);
    mg_response_header_add(c, "X-Frame-Options", "DENY", -1);
}

static int send_plain(struct mg_connection *c, int status, const char *msg, const char *allow)
{
    char clen[24];
    size_t n = strlen(msg);
    snprintf(clen, sizeof clen, "%zu", n);
    hb_response_start(c, status);
    mg_response_header_add(c, "Content-Type", "text/plain; charset=utf-8", -1);
    mg_response_header_add(c, "Content-Length", clen, -1);
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    if (allow)
        mg_response_header_add(c, "Allow", allow, -1);
    common_headers(c);
    mg_response_header_send(c);
    if (strcmp(mg_get_request_info(c)->request_method, "HEAD") != 0)
        mg_write(c, msg, n);
    return status;
}

static int not_found(struct mg_connection *c)
{
    return send_plain(c, 404, "no such dashboard file\n", NULL);
}

/* Whether If-None-Match (a list of entity tags, or "*") names etag. Weak
 * tags compare weakly, as RFC 9110 says for this header. */
static bool inm_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    size_t el = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *e = end;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - p) == el && memcmp(p, etag, el) == 0)
            return true;
        p = end;
    }
    return false;
}

static int send_asset(hb_req_t *r, const served_t *s, bool head)
{
    struct mg_connection *c = r->c;
    bool gz = s->gz_len > 0 && hb_gz_accepted(mg_get_header(c, "Accept-Encoding"));
    char etag[96];
    size_t el = strlen(s->etag);
    if (gz && el >= 2)   /* each representation its own strong tag */
        snprintf(etag, sizeof etag, "%.*s-gz\"", (int)(el - 1), s->etag);
    else
        snprintf(etag, sizeof etag, "%s", s->etag);
    int status = inm_matches(mg_get_header(c, "If-None-Match"), etag) ? 304 : 200;
    size_t len = gz ? s->gz_len : s->len;
    char clen[24];
    snprintf(clen, sizeof clen, "%zu", len);
    hb_response_start(c, status);
    if (status == 200) {
        mg_response_header_add(c, "Content-Type", s->ctype, -1);
        mg_response_header_add(c, "Content-Length", clen, -1);
        if (gz)
            mg_response_header_add(c, "Content-Encoding", "gzip", -1);
    }
    mg_response_header_add(c, "ETag", etag, -1);
    /* The URLs carry no content hash: the browser keeps a copy but asks
     * (If-None-Match) each time, and gets a bodiless 304 when unchanged. */
    mg_response_header_add(c, "Cache-Control", "no-cache", -1);
    if (s->gz_len > 0)
        mg_response_header_add(c, "Vary", "Accept-Encoding", -1);
    common_headers(c);
    mg_response_header_send(c);
    if (status == 200 && !head && len)
        mg_write(c, gz ? s->gz : s->body, len);
    return status;
}

/* ---- embedded ---- */

static int serve_embedded(hb_req_t *r, const char *name, bool head)
{
    const hb_dash_asset_t *a = hb_dash_find(hb_dash_assets, hb_dash_assets_n, name);
    if (!a)
        return not_found(r->c);
    served_t s = {.ctype = hb_dash_ctype(a->path), .body = hb_dash_blob + a->off, .len = a->len,
                  .gz = hb_dash_blob + a->gz_off, .gz_len = a->gz_len};
    snprintf(s.etag, sizeof s.etag, "%s", a->etag);
    return send_asset(r, &s, head);
}

/* ---- --webui-dir ---- */

/* The path under node_modules/ that DIR/../vendor.txt gives name, into out. */
static bool vendor_path(const char *dir, const char *name, char *out, size_t cap)
{
    char vt[PATH_MAX];
    snprintf(vt, sizeof vt, "%s/../vendor.txt", dir);
    FILE *f = fopen(vt, "re");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *save = NULL;
        const char *n = strtok_r(line, " \t\r\n", &save);
        const char *p = n && n[0] != '#' ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        if (p && strcmp(n, name) == 0 && strlen(p) < cap) {
            snprintf(out, cap, "%s", p);
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* The file's bytes if it resolves (symlinks too) to a regular file inside
 * root; NULL otherwise. */
static unsigned char *read_contained(const char *root, const char *rel, size_t *len)
{
    char rroot[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
    if (!realpath(root, rroot) || snprintf(path, sizeof path, "%s/%s", rroot, rel) >= (int)sizeof path ||
        !realpath(path, real))
        return NULL;
    size_t rl = strlen(rroot);
    if (strncmp(real, rroot, rl) != 0 || real[rl] != '/')
        return NULL;
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    unsigned char *buf = (unsigned char *)hb_read_all(fd, DISK_MAX, len);
    close(fd);
    return buf;
}

typedef struct {
    unsigned char *p;
    size_t         n, cap;
} membuf_t;

static int membuf_put(void *ud, const void *p, size_t n)
{
    membuf_t *m = ud;
    if (m->n + n > m->cap) {
        size_t cap = (m->n + n) * 2;
        unsigned char *q = realloc(m->p, cap);
        if (!q)
            return -1;
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->n, p, n);
    m->n += n;
    return 0;
}

/* A --webui-dir file gzipped with the archive routes' compressor (gzip.c),
 * collected into one buffer; NULL if that fails (served uncompressed). */
static unsigned char *gzip_mem(const unsigned char *p, size_t n, size_t *out_len)
{
    hb_gz_deflate_t *g = malloc(sizeof *g);
    if (!g || hb_gz_deflate_init(g) < 0) {
        free(g);
        return NULL;
    }
    membuf_t m = {0};
    if (hb_gz_deflate(g, p, n, true, membuf_put, &m) < 0) {
        free(m.p);
        m.p = NULL;
    }
    hb_gz_deflate_end(g);
    free(g);
    *out_len = m.n;
    return m.p;
}

static int serve_disk(hb_req_t *r, const char *dir, const char *name, bool head)
{
    char root[PATH_MAX], rel[PATH_MAX];
    if (strncmp(name, "vendor/", 7) == 0) {
        if (!vendor_path(dir, name + 7, rel, sizeof rel))
            return not_found(r->c);
        snprintf(root, sizeof root, "%s/../node_modules", dir);
    } else {
        snprintf(root, sizeof root, "%s", dir);
        snprintf(rel, sizeof rel, "%s", name);
    }
    served_t s = {.ctype = hb_dash_ctype(name)};
    unsigned char *body = read_contained(root, rel, &s.len);
    if (!body)
        return not_found(r->c);
    s.body = body;
    uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a: a tag, not a defence */
    for (size_t i = 0; i < s.len; i++)
        h = (h ^ body[i]) * 0x100000001b3ULL;
    snprintf(s.etag, sizeof s.etag, "\"dev-%016llx-%zx\"", (unsigned long long)h, s.len);
    unsigned char *gz = NULL;
    if (hb_dash_compressible(s.ctype) && s.len > 256)
        gz = gzip_mem(body, s.len, &s.gz_len);
    s.gz = gz;
    if (!gz)
        s.gz_len = 0;
    int status = send_asset(r, &s, head);
    free(gz);
    free(body);
    return status;
}

int hb_h_dashboard(hb_req_t *r)
{
    bool head = hb_method_is(r, "HEAD");
    if (!head && !hb_method_is(r, "GET"))
        return send_plain(r->c, 405, "the dashboard is read with GET or HEAD\n", "GET, HEAD");
    char name[NAME_MAX_];
    const char *tail = r->ri->local_uri + strlen("/dashboard");
    if (!hb_dash_name(tail, name, sizeof name))
        return not_found(r->c);
    if (r->conf->webui_dir)
        return serve_disk(r, r->conf->webui_dir, name, head);
    return serve_embedded(r, name, head);
}
