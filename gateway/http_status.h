/* The one place that maps internal error codes to HTTP statuses. */
#ifndef HB_HTTP_STATUS_H
#define HB_HTTP_STATUS_H

#include "hberr.h"

int hb_http_status(hb_errcode_t code);
const char *hb_http_reason(int status);

#endif
