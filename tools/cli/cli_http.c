/* HTTP to the daemon with libcurl: one easy handle per request (the CLI
 * makes a handful), Bearer key from --api-key, HIVEBOX_API_KEY or the
 * daemon's key file <data-dir>/api_key. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* exec answers carry up to 2 x 4 MiB of output (10 MiB from daemons before
 * issue 10), JSON-escaped (up to 6 bytes per byte for control characters). */
#define RESP_MAX (160u * 1024 * 1024)
#define KEY_MAX  512

static void read_key_file(const char *data_dir, char *key, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/api_key", data_dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fgets(key, (int)len, f)) {
        size_t n = strlen(key);
        while (n > 0 && isspace((unsigned char)key[n - 1]))
            key[--n] = '\0';
    }
    fclose(f);
}

void cli_resolve_key(const cli_opts_t *o, char *key, size_t len)
{
    const char *env = getenv("HIVEBOX_API_KEY");
    key[0] = '\0';
    if (o->api_key && *o->api_key)
        snprintf(key, len, "%s", o->api_key);
    else if (env && *env)
        snprintf(key, len, "%s", env);
    else
        read_key_file(cli_data_dir(o), key, len);
}

static size_t collect(char *data, size_t size, size_t nmemb, void *ud)
{
    cli_resp_t *r = ud;
    size_t n = size * nmemb;
    if (r->len + n > RESP_MAX)
        return 0;   /* aborts the transfer: CURLE_WRITE_ERROR */
    char *nb = realloc(r->body, r->len + n + 1);
    if (!nb)
        return 0;
    memcpy(nb + r->len, data, n);
    r->body = nb;
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

typedef struct {
    CURL              *curl;
    struct curl_slist *hdrs;
    char               errbuf[CURL_ERROR_SIZE];
} req_t;

static int req_init(req_t *q, const cli_opts_t *o, const char *method, const char *path,
                    cli_resp_t *r)
{
    memset(r, 0, sizeof *r);
    memset(q, 0, sizeof *q);
    q->curl = curl_easy_init();
    if (!q->curl) {
        fprintf(stderr, "hivebox: cannot initialise libcurl\n");
        return -1;
    }
    char url[8192], key[KEY_MAX], auth[KEY_MAX + 32];
    const char *base = cli_api_url(o);
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    snprintf(url, sizeof url, "%.*s%s", (int)bl, base, path);
    cli_resolve_key(o, key, sizeof key);
    if (key[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        q->hdrs = curl_slist_append(q->hdrs, auth);
    }
    curl_easy_setopt(q->curl, CURLOPT_URL, url);
    curl_easy_setopt(q->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(q->curl, CURLOPT_ERRORBUFFER, q->errbuf);
    curl_easy_setopt(q->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(q->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(q->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(q->curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(q->curl, CURLOPT_WRITEDATA, r);
    return 0;
}

static int req_perform(req_t *q, cli_resp_t *r)
{
    curl_easy_setopt(q->curl, CURLOPT_HTTPHEADER, q->hdrs);
    CURLcode rc = curl_easy_perform(q->curl);
    curl_easy_getinfo(q->curl, CURLINFO_RESPONSE_CODE, &r->status);
    char *url = NULL;
    curl_easy_getinfo(q->curl, CURLINFO_EFFECTIVE_URL, &url);
    int ret = 0;
    if (rc != CURLE_OK && r->status == 0) {
        fprintf(stderr, "hivebox: cannot reach the daemon at %s: %s\n",
                url ? url : "?", q->errbuf[0] ? q->errbuf : curl_easy_strerror(rc));
        ret = -1;
    } else if (rc == CURLE_WRITE_ERROR && r->sink_failed) {
        ret = -1;   /* the sink said why */
    } else if (rc != CURLE_OK) {
        fprintf(stderr, "hivebox: transfer failed (HTTP %ld): %s\n", r->status,
                q->errbuf[0] ? q->errbuf : curl_easy_strerror(rc));
        ret = -1;
    }
    curl_slist_free_all(q->hdrs);
    curl_easy_cleanup(q->curl);
    return ret;
}

int cli_http(const cli_opts_t *o, const char *method, const char *path, const char *json,
             cli_resp_t *r)
{
    req_t q;
    if (req_init(&q, o, method, path, r) < 0)
        return -1;
    if (json) {
        q.hdrs = curl_slist_append(q.hdrs, "Content-Type: application/json");
        curl_easy_setopt(q.curl, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(q.curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json));
    }
    return req_perform(&q, r);
}

static size_t read_file_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
    size_t n = fread(buf, 1, size * nmemb, ud);
    return ferror((FILE *)ud) ? CURL_READFUNC_ABORT : n;
}

int cli_http_upload(const cli_opts_t *o, const char *path, FILE *src, int64_t size,
                    cli_resp_t *r)
{
    req_t q;
    if (req_init(&q, o, "PUT", path, r) < 0)
        return -1;
    q.hdrs = curl_slist_append(q.hdrs, "Content-Type: application/octet-stream");
    q.hdrs = curl_slist_append(q.hdrs, "Expect:");   /* no 100-continue round trip */
    curl_easy_setopt(q.curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(q.curl, CURLOPT_READFUNCTION, read_file_cb);
    curl_easy_setopt(q.curl, CURLOPT_READDATA, src);
    if (size >= 0)
        curl_easy_setopt(q.curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    return req_perform(&q, r);
}

typedef struct {
    CURL       *curl;
    int       (*sink)(void *ud, const void *p, size_t n);
    void       *ud;
    cli_resp_t *r;
} dl_t;

/* Data goes to the sink only under a 2xx status; an error's JSON body is
 * collected for the message instead. */
static size_t download_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    dl_t *d = ud;
    long status = 0;
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
        return collect(data, size, nmemb, d->r);
    if (d->sink(d->ud, data, size * nmemb) == 0)
        return size * nmemb;
    d->r->sink_failed = true;
    return 0;
}

/* GET, or POST of json when it is set, with the answer into sink. */
static int stream_req(const cli_opts_t *o, const char *path, const char *json, bool gzip,
                      int (*sink)(void *ud, const void *p, size_t n), void *ud, cli_resp_t *r)
{
    req_t q;
    if (req_init(&q, o, json ? "POST" : "GET", path, r) < 0)
        return -1;
    dl_t d = {.curl = q.curl, .sink = sink, .ud = ud, .r = r};
    curl_easy_setopt(q.curl, CURLOPT_WRITEFUNCTION, download_cb);
    curl_easy_setopt(q.curl, CURLOPT_WRITEDATA, &d);
    if (gzip)
        curl_easy_setopt(q.curl, CURLOPT_ACCEPT_ENCODING, "gzip");
    if (json) {
        q.hdrs = curl_slist_append(q.hdrs, "Content-Type: application/json");
        q.hdrs = curl_slist_append(q.hdrs, "Accept: text/event-stream");
        curl_easy_setopt(q.curl, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(q.curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json));
    }
    return req_perform(&q, r);
}

int cli_http_stream(const cli_opts_t *o, const char *path, bool gzip,
                    int (*sink)(void *ud, const void *p, size_t n), void *ud, cli_resp_t *r)
{
    return stream_req(o, path, NULL, gzip, sink, ud, r);
}

int cli_http_events(const cli_opts_t *o, const char *path, const char *json,
                    int (*sink)(void *ud, const void *p, size_t n), void *ud, cli_resp_t *r)
{
    return stream_req(o, path, json, false, sink, ud, r);
}

static int to_file(void *ud, const void *p, size_t n)
{
    if (fwrite(p, 1, n, ud) == n)
        return 0;
    fprintf(stderr, "hivebox: writing the download: %s\n", strerror(errno));
    return -1;
}

int cli_http_download(const cli_opts_t *o, const char *path, FILE *dst, cli_resp_t *r)
{
    return cli_http_stream(o, path, false, to_file, dst, r);
}

typedef struct {
    const char *name;
    char       *val;
    size_t      len;
} hdr_t;

static size_t header_cb(char *buf, size_t size, size_t n, void *ud)
{
    hdr_t *h = ud;
    size_t len = size * n, nl = strlen(h->name);
    if (len > nl + 1 && buf[nl] == ':' && strncasecmp(buf, h->name, nl) == 0) {
        const char *v = buf + nl + 1;
        size_t vl = len - nl - 1;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        snprintf(h->val, h->len, "%.*s", (int)vl, v);
    }
    return len;
}

int cli_http_head(const cli_opts_t *o, const char *path, const char *hname, char *val,
                  size_t vlen, cli_resp_t *r)
{
    req_t q;
    if (req_init(&q, o, "HEAD", path, r) < 0)
        return -1;
    hdr_t h = {hname, val, vlen};
    val[0] = '\0';
    curl_easy_setopt(q.curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(q.curl, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(q.curl, CURLOPT_HEADERDATA, &h);
    return req_perform(&q, r);
}

void cli_resp_free(cli_resp_t *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

int cli_report_error(const cli_resp_t *r)
{
    json_t *j = r->body ? json_loads(r->body, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "error"));
    char fallback[201] = "";
    if (!msg && r->body) {   /* not our JSON: the first line, bounded */
        snprintf(fallback, sizeof fallback, "%.*s", (int)strcspn(r->body, "\r\n"), r->body);
        msg = fallback;
    }
    if (!msg || !*msg)
        msg = "request failed";
    /* One line, whatever happened; a 401 says where the key comes from. */
    fprintf(stderr, "hivebox: %s (HTTP %ld)%s\n", msg, r->status,
            r->status == 401 ? "; give the daemon's key with --api-key or HIVEBOX_API_KEY "
                               "(kept in <data-dir>/api_key)"
                             : "");
    json_decref(j);
    return CLI_EXIT_ERROR;
}

char *cli_urlencode(const char *s)
{
    char *enc = curl_easy_escape(NULL, s, 0);
    char *copy = enc ? strdup(enc) : NULL;
    curl_free(enc);
    return copy;
}
