/* The Connect protocol's answers, JSON codec (e2b_call.h): a unary call's
 * message or error, and a server stream's enveloped messages, each written
 * as one HTTP chunk the moment it is sent (the SDKs wait for the `start`
 * event before they return a handle), closed by the end-stream message.
 *
 * A stream's errors always travel in its end-stream message, after a 200
 * head, as Connect servers do: a client reads an error's code AND message
 * only from there (from an HTTP status it learns a code alone). The
 * dispatcher's own refusals, made before a call exists, are plain HTTP
 * statuses (hb_cx_error_http). */
#include "e2b_cx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_status.h"
#include "log.h"

static char *dump(const json_t *j, size_t *len)
{
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    *len = t ? strlen(t) : 0;
    return t;
}

static const char oom_error[] = "{\"code\":\"internal\",\"message\":\"out of memory\"}";
static const char oom_end[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";

int hb_cx_error_http(struct mg_connection *c, int status, const char *code, const char *msg)
{
    json_t *j = json_pack("{s:s, s:s}", "code", code, "message", msg ? msg : "");
    size_t len = 0;
    char *t = dump(j, &len);
    json_decref(j);
    hb_send(c, status, "application/json", t ? t : oom_error, t ? len : sizeof oom_error - 1,
            NULL, NULL);
    free(t);
    return status;
}

int hb_cx_reply(hb_e2b_call_t *k, json_t *msg)
{
    size_t len = 0;
    char *t = dump(msg, &len);
    json_decref(msg);
    k->answered = true;
    if (!t)
        return hb_cx_error_http(k->r->c, 500, "internal", "out of memory");
    hb_send(k->r->c, 200, "application/json", t, len, NULL, NULL);
    free(t);
    return 200;
}

int hb_cx_stream_begin(hb_e2b_call_t *k)
{
    if (k->streaming)
        return 0;
    struct mg_connection *c = k->r->c;
    hb_response_start(c, 200);
    mg_response_header_add(c, "Content-Type", "application/connect+json", -1);
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    mg_response_header_add(c, "Transfer-Encoding", "chunked", -1);
    mg_response_header_add(c, "X-Accel-Buffering", "no", -1);
    mg_response_header_send(c);
    k->streaming = true;
    return 0;
}

/* One envelope (flags, length, text) as one chunk; -1 once the client is gone. */
static int envelope(hb_e2b_call_t *k, unsigned char flags, const char *text, size_t len)
{
    if (k->answered || len > UINT32_MAX - HB_CX_ENVELOPE_HEAD)
        return -1;
    unsigned char *buf = malloc(HB_CX_ENVELOPE_HEAD + len);
    if (!buf)
        return -1;
    buf[0] = flags;
    buf[1] = (unsigned char)(len >> 24);
    buf[2] = (unsigned char)(len >> 16);
    buf[3] = (unsigned char)(len >> 8);
    buf[4] = (unsigned char)len;
    memcpy(buf + HB_CX_ENVELOPE_HEAD, text, len);
    int n = mg_send_chunk(k->r->c, (const char *)buf, (unsigned)(HB_CX_ENVELOPE_HEAD + len));
    free(buf);
    if (n <= 0) {
        k->answered = true;   /* nothing more can reach this client */
        return -1;
    }
    return 0;
}

int hb_cx_stream_send(hb_e2b_call_t *k, json_t *msg)
{
    size_t len = 0;
    char *t = dump(msg, &len);
    json_decref(msg);
    hb_cx_stream_begin(k);
    int rc = t ? envelope(k, 0, t, len) : -1;
    free(t);
    return rc;
}

/* The end-stream message, then the chunked body's end. */
static int stream_close(hb_e2b_call_t *k, const char *text, size_t len)
{
    hb_cx_stream_begin(k);
    if (envelope(k, HB_CX_FLAG_END, text, len) == 0)
        mg_send_chunk(k->r->c, "", 0);
    k->answered = true;
    return 200;
}

int hb_cx_stream_end(hb_e2b_call_t *k)
{
    return stream_close(k, "{}", 2);
}

static int fail_msg(hb_e2b_call_t *k, const char *code, const char *msg)
{
    if (k->answered)
        return k->streaming ? 200 : hb_connect_http_status(code);
    if (k->kind == HB_CX_UNARY && !k->streaming) {
        k->answered = true;
        return hb_cx_error_http(k->r->c, hb_connect_http_status(code), code, msg);
    }
    json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    size_t len = 0;
    char *t = dump(j, &len);
    json_decref(j);
    int status = t ? stream_close(k, t, len)
                   : stream_close(k, oom_end, sizeof oom_end - 1);
    free(t);
    return status;
}

int hb_cx_fail(hb_e2b_call_t *k, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail_msg(k, code, msg);
}

int hb_cx_fail_err(hb_e2b_call_t *k, const hb_err_t *e)
{
    if (e->code == HB_E_INTERNAL)
        HB_LOG_ERROR("e2b %s %s: %s", k->sandbox_id ? k->sandbox_id : "-",
                     k->r->ri->local_uri, e->msg);
    return fail_msg(k, hb_connect_code(e->code), e->msg);
}
