/* Fake peers for the actors' unit tests (see fake_peer.h). */
#include "fake_peer.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "rmtree.h"

zsock_t *fake_peer(const char *endpoint)
{
    zsock_t *s = zsock_new(ZMQ_PULL);
    cr_assert_not_null(s);
    cr_assert_eq(zsock_bind(s, "%s", endpoint), 0, "bind %s", endpoint);
    return s;
}

int fake_expect(zsock_t *peer, int timeout_ms, hb_msg_t *m)
{
    memset(m, 0, sizeof *m);
    zpoller_t *p = zpoller_new(peer, NULL);
    int rc = -1;
    if (p && zpoller_wait(p, timeout_ms) == peer)
        rc = hb_bus_recv(peer, m);
    zpoller_destroy(&p);
    return rc;
}

void fake_data_dir(char *out, size_t len)
{
    snprintf(out, len, "/tmp/hb-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(out));
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sandboxes", out);
    cr_assert_eq(mkdir(sub, 0700), 0);
}

void fake_data_dir_remove(const char *dir)
{
    hb_rmtree(dir);
}

void fake_runtime(hb_runtime_t *rt, char *out, size_t len)
{
    memset(rt, 0, sizeof *rt);
    fake_data_dir(out, len);
    snprintf(rt->data_dir, sizeof rt->data_dir, "%s", out);
}
