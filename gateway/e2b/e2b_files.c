/* GET and POST /files of the in-sandbox plane (envd.yaml): a file's bytes,
 * streamed from init to the client, and uploads (e2b_files_upload.c).
 * Authorised by the sandbox's X-Access-Token (k->token_ok), or by a signed
 * URL made by the SDK's uploadUrl / downloadUrl:
 *   signature = "v1_" + base64(SHA-256("path:operation:user:token[:exp]"))
 * without padding, where path and user are the query's as given ("" when
 * absent), operation "read" or "write", exp the signature_expiration
 * parameter (unix seconds, not past). */
#include "e2b_files.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "http_status.h"
#include "log.h"
#include "query.h"

int hb_e2b_files_fail(hb_e2b_call_t *k, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    k->answered = true;
    return hb_reply_json(k->r->c, status, json_pack("{s:i, s:s}", "code", status,
                                                    "message", msg));
}

int hb_e2b_files_fail_err(hb_e2b_call_t *k, hb_err_t *e)
{
    if (e->code == HB_E_INTERNAL)
        hb_lease_explain_gone(k->lease, "file operation", e);
    int status = e->code == HB_E_NOTDIR ? 400 : hb_http_status(e->code);
    if (status >= 500)
        HB_LOG_WARN("e2b /files in %s: %s", k->sandbox_id, e->msg);
    return hb_e2b_files_fail(k, status, "%s", e->msg);
}

static int parse_query(hb_e2b_call_t *k, hb_e2b_files_q_t *q)
{
    const char *qs = k->r->ri->query_string;
    size_t len = 0;
    int rc = hb_query_param(qs, "path", q->path, sizeof q->path, &len);
    if (rc < 0 || (rc == 1 && strlen(q->path) != len))
        return hb_e2b_files_fail(k, 400, "path: malformed or longer than %d bytes",
                                 HB_PATH_MAX - 1);
    q->has_path = rc == 1 && len > 0;
    rc = hb_query_param(qs, "username", q->username, sizeof q->username, &len);
    if (rc < 0 || (rc == 1 && strlen(q->username) != len))
        return hb_e2b_files_fail(k, 400, "username: malformed or longer than %d bytes",
                                 HB_USER_MAX);
    if (q->username[0])   /* relative paths are then that user's home's too */
        snprintf(k->user, sizeof k->user, "%s", q->username);
    q->user = k->user;
    return 0;
}

/* 0 when the signed URL is the sandbox's, else the 401 sent. */
static int check_signature(hb_e2b_call_t *k, const hb_e2b_files_q_t *q, const char *op)
{
    const char *qs = k->r->ri->query_string;
    char sig[128], exp[32];
    size_t len = 0;
    int has_sig = hb_query_param(qs, "signature", sig, sizeof sig, &len);
    int has_exp = hb_query_param(qs, "signature_expiration", exp, sizeof exp, &len);
    if (has_sig != 1 || has_exp < 0)
        return hb_e2b_files_fail(k, 401, "X-Access-Token: missing or wrong, and no valid "
                                 "signature");
    if (has_exp == 1) {
        char *end = NULL;
        long long at = strtoll(exp, &end, 10);
        if (!exp[0] || *end)
            return hb_e2b_files_fail(k, 400, "signature_expiration: not a unix time");
        if (at < (long long)time(NULL))
            return hb_e2b_files_fail(k, 401, "signature: expired");
    }
    size_t cap = HB_PATH_MAX + HB_USER_MAX + HB_E2B_TOKEN_LEN + 64;
    char *raw = malloc(cap), want[48];
    if (!raw)
        return hb_e2b_files_fail(k, 500, "out of memory");
    int n = snprintf(raw, cap, "%s:%s:%s:%s%s%s", q->path, op, q->username, k->token,
                     has_exp == 1 ? ":" : "", has_exp == 1 ? exp : "");
    char b64[45];
    hb_sha256_b64(raw, n > 0 ? (size_t)n : 0, b64);
    free(raw);
    snprintf(want, sizeof want, "v1_%s", b64);
    if (!hb_ct_equal(sig, strlen(sig), want, strlen(want)))
        return hb_e2b_files_fail(k, 401, "signature: does not match");
    return 0;
}

/* ---- GET ---- */

static int download(hb_e2b_call_t *k, const hb_e2b_files_q_t *q)
{
    if (!q->has_path)
        return hb_e2b_files_fail(k, 400, "path: required");
    hb_err_t e = {0};
    char *path = hb_e2b_path(k, q->path, "path", &e);
    if (!path)
        return hb_e2b_files_fail_err(k, &e);
    hb_gw_download_t d = {.c = k->r->c};
    int rc = hb_lease_file_read(k->lease, path, 0, hb_gw_download_size, hb_gw_download_sink, &d,
                                &e);
    int status = 200;
    if (rc < 0 && !d.started)
        status = hb_e2b_files_fail_err(k, &e);
    else if (rc < 0)
        HB_LOG_WARN("e2b download of %s from %s broke off: %s", path, k->sandbox_id, e.msg);
    k->answered = true;
    free(path);
    return status;
}

int hb_e2b_files(hb_e2b_call_t *k)
{
    bool get = hb_method_is(k->r, "GET"), post = hb_method_is(k->r, "POST");
    if (!get && !post)
        return hb_e2b_files_fail(k, 405, "method: GET or POST");
    hb_e2b_files_q_t *q = calloc(1, sizeof *q);
    if (!q)
        return hb_e2b_files_fail(k, 500, "out of memory");
    int status = parse_query(k, q);
    if (!status && !k->token_ok)
        status = check_signature(k, q, get ? "read" : "write");
    if (!status)
        status = get ? download(k, q) : hb_e2b_files_upload(k, q);
    free(q);
    return status;
}
