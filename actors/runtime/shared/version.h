/* HiveBox's version, in one place: /metrics' hivebox_build_info, the
 * webhooks' User-Agent. schemas/openapi.json's info.version is the API's. */
#ifndef HB_VERSION_H
#define HB_VERSION_H

#define HB_VERSION "1.0.0"

#endif
