/* A sandbox's TCP port, reached through its init (DESIGN.md decision 17):
 * init connects to the port on the sandbox's loopback and passes the
 * connected socket back over the init socket (init-protocol.md, "Preview
 * ports"). Nothing is opened on the host and no route to the sandbox is
 * needed, so it works in every network mode. */
#ifndef HB_PORT_H
#define HB_PORT_H

#include "runtime.h"

/* A stream socket connected to 127.0.0.1:port (or [::1]:port) inside sb,
 * O_CLOEXEC, the caller's. 0 with *fd, or -1: HB_E_UPSTREAM when nothing
 * listens there (or it accepts nothing in time), HB_E_DEAD when init is
 * gone, HB_E_INTERNAL when init passed anything but exactly one stream
 * socket (everything it passed is closed). */
int hb_port_connect(const hb_sandbox_t *sb, unsigned port, int *fd, hb_err_t *e);

/* The descriptor an SCM_RIGHTS byte carried on conn, checked: exactly one,
 * a socket of type SOCK_STREAM. Pure socket code, for the unit tests too.
 * 0 with *fd, or -1 with errno (EPROTO for anything unexpected). */
int hb_port_recv_fd(int conn, int timeout_ms, int *fd);

#endif
