/* czmq pulls in <syslog.h>, whose LOG_INFO & co. collide with log.h's macros.
 * Files that use both include this instead of either: czmq first, then the
 * syslog names dropped (we never use them), then our logging. */
#ifndef HB_ZMQLOG_H
#define HB_ZMQLOG_H

#include <czmq.h>

#undef LOG_DEBUG
#undef LOG_INFO
#undef LOG_WARN
#undef LOG_ERROR
#include "log.h"

#endif
