/* `hivebox mcp --sandbox NAME [--api-url URL] [--api-key KEY]`
 *
 * Newline-delimited JSON-RPC on stdin, each message POSTed to
 * <api>/api/v1/hiveboxes/NAME/mcp; each JSON-RPC answer written to stdout as
 * one line. Nothing else ever reaches stdout (logs go to stderr), so the
 * stream stays valid for the client. The Mcp-Session-Id and negotiated
 * protocol version from initialize ride on every later request; if the
 * daemon forgot the session (restart), the bridge initializes again with the
 * client's own initialize and retries once. On EOF the session is ended
 * (DELETE) and the process exits 0.
 *
 * Messages are relayed one at a time, in order. */
#include "mcp_stdio.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "runtime.h"

#define LINE_MAX_BYTES (16u * 1024 * 1024)
#define RESP_MAX_BYTES (64u * 1024 * 1024)

typedef struct {
    CURL *curl;
    char  url[8192];
    char  auth[600];
    char  session[128];     /* Mcp-Session-Id, "" before initialize */
    char  version[32];      /* negotiated protocol version */
    char *init_line;        /* the client's initialize, for re-initializing */
} bridge_t;

typedef struct {
    long   status;
    char  *body;
    size_t len;
    char   session[128];    /* Mcp-Session-Id of the answer */
    bool   too_big;
} answer_t;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hivebox mcp: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- HTTP ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    answer_t *a = ud;
    size_t n = size * nmemb;
    if (a->len + n > RESP_MAX_BYTES) {
        a->too_big = true;
        return 0;
    }
    char *nb = realloc(a->body, a->len + n + 1);
    if (!nb)
        return 0;
    memcpy(nb + a->len, data, n);
    a->body = nb;
    a->len += n;
    a->body[a->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    answer_t *a = ud;
    size_t n = size * nmemb;
    static const char name[] = "mcp-session-id:";
    if (n > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        size_t vl = n - (sizeof name - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl < sizeof a->session) {
            memcpy(a->session, v, vl);
            a->session[vl] = '\0';
        }
    }
    return n;
}

/* One request to the endpoint; 0 when an HTTP answer came (any status). */
static int call(bridge_t *b, const char *method, const char *body, answer_t *a)
{
    memset(a, 0, sizeof *a);
    struct curl_slist *h = NULL;
    char sh[200], vh[80];
    h = curl_slist_append(h, b->auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json, text/event-stream");
    if (b->session[0]) {
        snprintf(sh, sizeof sh, "Mcp-Session-Id: %s", b->session);
        h = curl_slist_append(h, sh);
    }
    if (b->version[0]) {
        snprintf(vh, sizeof vh, "MCP-Protocol-Version: %s", b->version);
        h = curl_slist_append(h, vh);
    }
    curl_easy_reset(b->curl);
    curl_easy_setopt(b->curl, CURLOPT_URL, b->url);
    curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(b->curl, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(b->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(b->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    curl_easy_setopt(b->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(b->curl, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(b->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(b->curl, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(b->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(b->curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(b->curl);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        logf_("%s %s: %s", method, b->url, a->too_big ? "answer too large" : curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &a->status);
    return 0;
}

static void answer_free(answer_t *a)
{
    free(a->body);
    a->body = NULL;
}

/* ---- relaying ---- */

static void emit(json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!text)
        return;
    /* stdout is the transport: one message per line, flushed */
    if (fputs(text, stdout) < 0 || fputc('\n', stdout) < 0 || fflush(stdout) != 0) {
        free(text);
        logf_("stdout closed");
        exit(0);
    }
    free(text);
}

/* A JSON-RPC error for request id when the daemon did not answer in
 * JSON-RPC terms (down, 401, 404 sandbox, ...). */
static void emit_error(json_t *id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit_error(json_t *id, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_pack("{s:s, s:o, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
                          id ? json_incref(id) : json_null(), "error", "code", -32000, "message",
                          msg);
    if (e)
        emit(e);
    json_decref(e);
}

static bool session_lost(const answer_t *a)
{
    if (a->status != 404 || !a->body)
        return false;
    json_t *j = json_loadb(a->body, a->len, JSON_ALLOW_NUL, NULL);
    bool lost = json_integer_value(json_object_get(json_object_get(j, "error"), "code")) == -32001;
    json_decref(j);
    return lost;
}

/* Remember what initialize negotiated. */
static void note_init(bridge_t *b, const answer_t *a, json_t *resp)
{
    snprintf(b->session, sizeof b->session, "%s", a->session);
    const char *v = json_string_value(
        json_object_get(json_object_get(resp, "result"), "protocolVersion"));
    snprintf(b->version, sizeof b->version, "%s", v ? v : "");
}

/* The daemon lost our session: run the client's initialize again. */
static int reinit(bridge_t *b)
{
    answer_t a;
    b->session[0] = b->version[0] = '\0';
    if (!b->init_line || call(b, "POST", b->init_line, &a) < 0)
        return -1;
    json_t *resp = a.status == 200 ? json_loadb(a.body, a.len, JSON_ALLOW_NUL, NULL) : NULL;
    if (resp && json_object_get(resp, "result"))
        note_init(b, &a, resp);
    json_decref(resp);
    answer_free(&a);
    if (!b->session[0])
        return -1;
    logf_("session was lost by the daemon; re-initialized");
    if (call(b, "POST", "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &a) == 0)
        answer_free(&a);
    return 0;
}

static void relay(bridge_t *b, const char *line)
{
    json_t *msg = json_loads(line, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_t *id = json_object_get(msg, "id"); /* NULL for batches, notifications, junk */
    const char *method = json_string_value(json_object_get(msg, "method"));
    bool init = method && strcmp(method, "initialize") == 0 && id;
    if (init) {
        free(b->init_line);
        b->init_line = strdup(line);
        b->session[0] = b->version[0] = '\0';
    }
    answer_t a;
    int rc = call(b, "POST", line, &a);
    if (rc == 0 && session_lost(&a) && !init && reinit(b) == 0) {
        answer_free(&a);
        rc = call(b, "POST", line, &a);
    }
    if (rc < 0) {
        if (id)
            emit_error(id, "cannot reach the hivebox daemon at %s", b->url);
        json_decref(msg);
        return;
    }
    json_t *resp = a.len ? json_loadb(a.body, a.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
    bool rpc = resp && (json_is_array(resp) || json_object_get(resp, "jsonrpc"));
    if (rpc) {
        if (init && json_object_get(resp, "result"))
            note_init(b, &a, resp);
        emit(resp);
    } else if (a.status == 200) {
        if (id)
            emit_error(id, "hivebox daemon sent an answer that is not JSON-RPC");
    } else if (a.status != 202) {
        const char *err = json_string_value(json_object_get(resp, "error"));
        if (id)
            emit_error(id, "hivebox daemon answered HTTP %ld: %s", a.status,
                       err ? err : "(no detail)");
        else
            logf_("HTTP %ld: %s", a.status, err ? err : "(no detail)");
    }
    json_decref(resp);
    json_decref(msg);
    answer_free(&a);
}

/* One line of at most LINE_MAX_BYTES into *buf (without the newline).
 * 1 = a line, 0 = EOF, -1 = too long (the rest of it is skipped). */
static int read_line(char **buf, size_t *cap)
{
    size_t len = 0;
    bool over = false;
    for (;;) {
        if (*cap - len < 2) {
            size_t nc = *cap ? *cap * 2 : 65536;
            char *nb = realloc(*buf, nc);
            if (!nb)
                return -1;
            *buf = nb;
            *cap = nc;
        }
        if (!fgets(*buf + len, (int)(*cap - len > 1u << 30 ? 1u << 30 : *cap - len), stdin))
            return len || over ? (over ? -1 : 1) : 0;
        size_t got = strlen(*buf + len);
        len += got;
        if (len && (*buf)[len - 1] == '\n') {
            (*buf)[--len] = '\0';
            return over ? -1 : 1;
        }
        if (len > LINE_MAX_BYTES) {
            over = true;
            len = 0; /* keep reading to the end of this line, dropping it */
        }
    }
}

static int usage(FILE *out, int rc)
{
    fprintf(out, "usage: hivebox mcp --sandbox NAME [--api-url URL] [--api-key KEY] "
                 "[--data-dir DIR]\n"
                 "MCP over stdin/stdout (newline-delimited JSON-RPC) for one sandbox, relayed "
                 "to the daemon.\n"
                 "environment: HIVEBOX_API_URL (default %s), HIVEBOX_API_KEY\n",
            CLI_DEFAULT_URL);
    return rc;
}

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (!argv[*i])
        return NULL;
    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (strcmp(argv[*i], name) == 0 && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static int parse(int argc, char **argv, cli_opts_t *o, const char **sandbox)
{
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
        if ((v = opt_value(argc, argv, &i, "--sandbox")))
            *sandbox = v;
        else if ((v = opt_value(argc, argv, &i, "--api-url")))
            o->api_url = v;
        else if ((v = opt_value(argc, argv, &i, "--api-key")))
            o->api_key = v;
        else if ((v = opt_value(argc, argv, &i, "--data-dir")))
            o->data_dir = v;
        else {
            logf_("unexpected argument '%.100s'", argv[i]);
            return -1;
        }
    }
    return 0;
}

int cli_cmd_mcp(int argc, char **argv)
{
    cli_opts_t o = {0};
    const char *sandbox = NULL;
    int p = parse(argc, argv, &o, &sandbox);
    if (p != 0)
        return usage(p > 0 ? stdout : stderr, p > 0 ? 0 : CLI_EXIT_USAGE);
    if (!sandbox || !hb_name_valid(sandbox)) {
        if (sandbox)
            logf_("'%.80s' is not a valid sandbox name", sandbox);
        else
            logf_("--sandbox NAME is required");
        return usage(stderr, CLI_EXIT_USAGE);
    }
    signal(SIGPIPE, SIG_IGN);
    bridge_t b = {0};
    const char *base = cli_api_url(&o);
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    char key[512];
    cli_resolve_key(&o, key, sizeof key);
    if (snprintf(b.url, sizeof b.url, "%.*s/api/v1/hiveboxes/%s/mcp", (int)bl, base, sandbox) >=
        (int)sizeof b.url) {
        logf_("--api-url too long");
        return CLI_EXIT_USAGE;
    }
    snprintf(b.auth, sizeof b.auth, "Authorization: Bearer %s", key);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(b.curl = curl_easy_init())) {
        logf_("cannot initialise libcurl");
        return CLI_EXIT_ERROR;
    }
    char *line = NULL;
    size_t cap = 0;
    int r;
    while ((r = read_line(&line, &cap)) != 0) {
        if (r < 0) {
            emit_error(NULL, "message longer than %u bytes dropped", LINE_MAX_BYTES);
            continue;
        }
        if (line[strspn(line, " \t\r")] == '\0')
            continue;
        relay(&b, line);
    }
    if (b.session[0]) { /* EOF: end the session politely */
        answer_t a;
        if (call(&b, "DELETE", NULL, &a) == 0)
            answer_free(&a);
    }
    free(line);
    free(b.init_line);
    curl_easy_cleanup(b.curl);
    curl_global_cleanup();
    return 0;
}
