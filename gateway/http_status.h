/* The one place that maps internal error codes to HTTP statuses. */
#ifndef HB_HTTP_STATUS_H
#define HB_HTTP_STATUS_H

#include "hberr.h"

int hb_http_status(hb_errcode_t code);
const char *hb_http_reason(int status);

/* The Connect protocol's error codes (E2B's in-sandbox plane,
 * gateway/e2b/e2b_connect.c), mapped here too so that one file decides
 * what each error is called on the wire. hb_connect_code: the code an
 * hb_errcode_t travels as ("not_found", ...). hb_connect_http_status: the
 * HTTP status Connect gives a code (its error-code table); 500 for a name
 * it does not know. */
const char *hb_connect_code(hb_errcode_t code);
int hb_connect_http_status(const char *code);

#endif
