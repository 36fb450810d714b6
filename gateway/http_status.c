/* hb_errcode_t -> HTTP status (see hberr.h for what each code means). */
#include "http_status.h"

#include <string.h>

int hb_http_status(hb_errcode_t code)
{
    switch (code) {
    case HB_OK: return 200;
    case HB_E_INVALID: return 400;
    case HB_E_NOTFOUND: return 404;
    case HB_E_EXISTS:
    case HB_E_CONFLICT:
    case HB_E_DEAD: return 409;     /* DEAD: the sandbox exists but its init is gone */
    case HB_E_TOOBIG: return 413;
    case HB_E_UNAVAIL:
    case HB_E_NOTSUP: return 503;
    case HB_E_GONE: return 410;
    case HB_E_INTERNAL: return 500;
    case HB_E_NOSPACE: return 507;
    case HB_E_NOTDIR: return 500;   /* the seed: "500 if path is not a directory" */
    case HB_E_LIMIT: return 429;
    case HB_E_UPSTREAM: return 502;
    }
    return 500;
}

const char *hb_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 403: return "Forbidden";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}

const char *hb_connect_code(hb_errcode_t code)
{
    switch (code) {
    case HB_OK: return "ok";
    case HB_E_INVALID:
    case HB_E_TOOBIG:     /* resource_exhausted reads "rate limited" in the SDKs */
    case HB_E_NOTDIR: return "invalid_argument";   /* envd's answer for a file */
    case HB_E_NOTFOUND: return "not_found";
    case HB_E_EXISTS: return "already_exists";
    case HB_E_CONFLICT:
    case HB_E_NOTSUP: return "failed_precondition";
    /* the sandbox (or its init) is gone: the SDKs then say it was killed */
    case HB_E_UNAVAIL:
    case HB_E_DEAD:
    case HB_E_GONE: return "unavailable";
    case HB_E_NOSPACE:
    case HB_E_LIMIT: return "resource_exhausted";
    case HB_E_INTERNAL: return "internal";
    case HB_E_UPSTREAM: return "unavailable";
    }
    return "unknown";
}

/* connectrpc.com/docs/protocol, "Error codes". */
static const struct {
    const char *code;
    int         status;
} connect_status[] = {
    {"canceled", 499},           {"unknown", 500},          {"invalid_argument", 400},
    {"deadline_exceeded", 504},  {"not_found", 404},        {"already_exists", 409},
    {"permission_denied", 403},  {"resource_exhausted", 429}, {"failed_precondition", 400},
    {"aborted", 409},            {"out_of_range", 400},     {"unimplemented", 501},
    {"internal", 500},           {"unavailable", 503},      {"data_loss", 500},
    {"unauthenticated", 401},
};

int hb_connect_http_status(const char *code)
{
    for (size_t i = 0; code && i < sizeof connect_status / sizeof connect_status[0]; i++)
        if (strcmp(connect_status[i].code, code) == 0)
            return connect_status[i].status;
    return 500;
}
