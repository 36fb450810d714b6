/* hb_errcode_t -> HTTP status (see hberr.h for what each code means). */
#include "http_status.h"

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
    }
    return 500;
}

const char *hb_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}
