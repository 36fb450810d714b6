/* Preview ports (issue 16): the parsers of what a sandbox's service and a
 * client send (gateway/preview_parse.c, preview_req.c), the caps
 * (preview_limit.c), the public-port file (actors/runtime/preview_ports.c)
 * and the check of the socket init passes back (actors/runtime/port.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port.h"
#include "preview_limit.h"
#include "preview_parse.h"
#include "preview_ports.h"
#include "preview_req.h"

static int head(const char *text, hb_pv_head_t *h)
{
    static char buf[HB_PV_HEAD_MAX + 64];
    size_t n = strlen(text);
    memcpy(buf, text, n);
    return hb_pv_head_parse(buf, n, h);
}

Test(preview, response_head_parsed)
{
    hb_pv_head_t h;
    const char *t = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-A:  b  \r\n\r\nbody";
    cr_assert_eq(head(t, &h), (int)(strstr(t, "body") - t));
    cr_assert_eq(h.status, 200);
    cr_assert_eq(h.n, 2);
    cr_assert_str_eq(hb_pv_head_get(&h, "content-type"), "text/html");
    cr_assert_str_eq(hb_pv_head_get(&h, "X-A"), "b");
    cr_assert_eq(head("HTTP/1.0 101\nUpgrade: websocket\n\n", &h), 33);
    cr_assert_eq(h.status, 101);
}

Test(preview, response_head_incomplete_or_bad)
{
    hb_pv_head_t h;
    cr_assert_eq(head("HTTP/1.1 200 OK\r\nX: y\r\n", &h), 0);
    const char *bad[] = {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 99 x\r\n\r\n", "HTTP/1.1 600\r\n\r\n",
                         "junk\r\n\r\n", "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
                         "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", "HTTP/1.1 200 OK\r\nA\rB: c\r\n\r\n",
                         "HTTP/1.1 200 OK\r\n: empty\r\n\r\n", "HTTP/1.1 2000\r\n\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(head(bad[i], &h), -1, "%zu", i);
}

Test(preview, response_head_bounded)
{
    hb_pv_head_t h;
    static char big[HB_PV_HEAD_MAX + 32];
    strcpy(big, "HTTP/1.1 200 OK\r\nX: ");
    memset(big + strlen(big), 'a', HB_PV_HEAD_MAX);
    big[HB_PV_HEAD_MAX + 20] = '\0';
    cr_assert_eq(head(big, &h), -1);   /* no end within 16 KiB */
    char many[HB_PV_HEAD_MAX];
    size_t n = (size_t)snprintf(many, sizeof many, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i <= HB_PV_HEADERS_MAX; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "X-%d: v\r\n", i);
    snprintf(many + n, sizeof many - n, "\r\n");
    cr_assert_eq(head(many, &h), -1);   /* one header line too many */
}

Test(preview, host_form)
{
    unsigned port = 0;
    char id[HB_ID_MAX];
    cr_assert_eq(hb_pv_host_parse("8000-hb-1234.preview.test", "preview.test", &port, id), 1);
    cr_assert_eq(port, 8000);
    cr_assert_str_eq(id, "hb-1234");
    cr_assert_eq(hb_pv_host_parse("3000-box.PREVIEW.test.:7070", "preview.test", &port, id), 1);
    cr_assert_str_eq(id, "box");
    cr_assert_eq(hb_pv_host_parse("preview.test", "preview.test", &port, id), 0);
    cr_assert_eq(hb_pv_host_parse("127.0.0.1:7070", "preview.test", &port, id), 0);
    cr_assert_eq(hb_pv_host_parse("8000-box.evilpreview.test", "preview.test", &port, id), 0);
    cr_assert_eq(hb_pv_host_parse(NULL, "preview.test", &port, id), 0);
    const char *bad[] = {"0-box.preview.test", "70000-box.preview.test", "x-box.preview.test",
                         "8000.preview.test", "8000-.preview.test", "8000-a/b.preview.test",
                         "-box.preview.test", "08000-box.preview.test"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(hb_pv_host_parse(bad[i], "preview.test", &port, id), -1, "%s", bad[i]);
}

Test(preview, port_numbers)
{
    unsigned p;
    cr_assert_eq(hb_pv_port_parse("1", 1, &p), 0);
    cr_assert_eq(hb_pv_port_parse("65535", 5, &p), 0);
    cr_assert_eq(p, 65535);
    const char *bad[] = {"0", "65536", "", "+1", "01", "1a", "999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(hb_pv_port_parse(bad[i], strlen(bad[i]), &p), -1, "%s", bad[i]);
}

Test(preview, proc_net_tcp)
{
    const char *t =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
        "   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
        "   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
        "   2: 0100007F:1F40 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0\n"
        "   3: 0100007F:ZZZZ 00000000:0000 0A\n"
        "garbage\n"
        "   4: 00000000000000000000000000000000:1F41 00000000000000000000000000000000:0000 0A 0";
    unsigned v[8];
    size_t n = 0;
    hb_pv_proc_tcp(t, strlen(t), v, 8, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(v[0], 80);
    cr_assert_eq(v[1], 8000);   /* listening once, connected once: listed once */
    cr_assert_eq(v[2], 8001);
    n = 0;
    hb_pv_proc_tcp(t, strlen(t), v, 1, &n);
    cr_assert_eq(n, 1);         /* bounded by the caller's room */
}

Test(preview, our_query_parameters_stripped)
{
    char out[64];
    cr_assert_eq(hb_pv_query_strip("a=1&hb_sig=x&b=2&hb_exp=3", out, sizeof out), 0);
    cr_assert_str_eq(out, "a=1&b=2");
    cr_assert_eq(hb_pv_query_strip("hb_sig&hb_exp=", out, sizeof out), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(hb_pv_query_strip(NULL, out, sizeof out), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(hb_pv_query_strip("hb_sigx=1", out, sizeof out), 0);
    cr_assert_str_eq(out, "hb_sigx=1");   /* only ours, by exact name */
    char tiny[4];
    cr_assert_eq(hb_pv_query_strip("abcdef=1", tiny, sizeof tiny), -1);
}

/* A request head with our credentials, the cluster's headers and the
 * client's own, as a service (or, cluster_fwd, the owning node) gets it. */
static const char *req_head(bool cluster_fwd)
{
    static char out[4096];
    struct mg_request_info ri = {.request_method = "GET", .remote_addr = "127.0.0.1",
                                 .query_string = "a=1&hb_exp=9&hb_sig=ab", .num_headers = 6};
    const char *h[][2] = {{"Authorization", "Bearer k-0123456789"},
                          {"X-HiveBox-Cluster-Token", "cl-secret"},
                          {"x-hivebox-forwarded", "1"},
                          {"X-HiveBox-Preview-Token", "pv-tok"},
                          {"Cookie", "hb_preview=1.ab; theirs=1"},
                          {"X-Custom", "yes"}};
    for (int i = 0; i < ri.num_headers; i++) {
        ri.http_headers[i].name = h[i][0];
        ri.http_headers[i].value = h[i][1];
    }
    hb_pv_req_t q = {.path = "/echo", .api_key = "k-0123456789", .cluster_fwd = cluster_fwd};
    cr_assert_gt(hb_pv_req_head(&ri, &q, out, sizeof out), 0);
    return out;
}

Test(preview, request_head_to_a_service_or_the_owning_node)
{
    const char *svc = req_head(false);
    cr_assert(strstr(svc, "GET /echo?a=1 HTTP/1.1\r\n"), "%s", svc);
    cr_assert(strstr(svc, "X-Custom: yes\r\n") && strstr(svc, "Cookie: theirs=1\r\n"), "%s", svc);
    cr_assert(!strstr(svc, "k-0123") && !strstr(svc, "cl-secret") && !strstr(svc, "pv-tok") &&
              !strcasestr(svc, "forwarded:") && !strstr(svc, "hb_preview"), "%s", svc);
    const char *fwd = req_head(true);   /* the owner checks these: kept; ours and the cluster's not */
    cr_assert(strstr(fwd, "GET /echo?a=1&hb_exp=9&hb_sig=ab HTTP/1.1\r\n"), "%s", fwd);
    cr_assert(strstr(fwd, "X-HiveBox-Preview-Token: pv-tok\r\n"), "%s", fwd);
    cr_assert(strstr(fwd, "Cookie: hb_preview=1.ab; theirs=1\r\n"), "%s", fwd);
    cr_assert(!strstr(fwd, "k-0123") && !strstr(fwd, "cl-secret") &&
              !strcasestr(fwd, "forwarded:"), "%s", fwd);
}

Test(preview, caps_per_sandbox_and_total)
{
    hb_err_t e = {0};
    cr_assert_eq(hb_pv_enter("a", 2, 3, &e), 0);
    cr_assert_eq(hb_pv_enter("a", 2, 3, &e), 0);
    cr_assert_eq(hb_pv_enter("a", 2, 3, &e), -1);
    cr_assert_eq(e.code, HB_E_LIMIT);
    cr_assert(strstr(e.msg, "--preview-max-conns"));
    cr_assert_eq(hb_pv_enter("b", 2, 3, &e), 0);
    cr_assert_eq(hb_pv_enter("c", 2, 3, &e), -1);
    cr_assert(strstr(e.msg, "--preview-max-total"));
    hb_pv_leave("a");
    cr_assert_eq(hb_pv_enter("c", 2, 3, &e), 0);
    hb_pv_leave("a");
    hb_pv_leave("b");
    hb_pv_leave("c");
    hb_pv_leave("nobody");   /* harmless */
    cr_assert_eq(hb_pv_enter("a", 1, 1, &e), 0);
    hb_pv_leave("a");
}

Test(preview, public_ports_file)
{
    char dir[] = "/tmp/hb-pv-unit-XXXXXX";
    cr_assert(mkdtemp(dir));
    hb_err_t e = {0};
    uint16_t v[HB_PV_PUBLIC_MAX];
    cr_assert_eq(hb_pv_ports_load(dir, v), 0);
    cr_assert_eq(hb_pv_ports_set(dir, 8080, true, &e), 0);
    cr_assert_eq(hb_pv_ports_set(dir, 80, true, &e), 0);
    cr_assert_eq(hb_pv_ports_set(dir, 80, true, &e), 0);   /* idempotent */
    cr_assert_eq(hb_pv_ports_load(dir, v), 2);
    cr_assert_eq(v[0], 80);
    cr_assert(hb_pv_ports_has(dir, 8080) && !hb_pv_ports_has(dir, 81));
    cr_assert_eq(hb_pv_ports_set(dir, 8080, false, &e), 0);
    cr_assert(!hb_pv_ports_has(dir, 8080));
    for (unsigned p = 1000; p < 1000 + HB_PV_PUBLIC_MAX - 1; p++)
        cr_assert_eq(hb_pv_ports_set(dir, p, true, &e), 0);
    cr_assert_eq(hb_pv_ports_set(dir, 9999, true, &e), -1);
    cr_assert_eq(e.code, HB_E_LIMIT);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* What init might pass: exactly one stream socket is taken, anything else
 * is refused with every descriptor that came closed. */
static int send_fds(int s, char byte, const int *fds, int n)
{
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    char cbuf[CMSG_SPACE(8 * sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n) {
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)n * sizeof(int));
    }
    return (int)sendmsg(s, &mh, 0);
}

static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

Test(preview, passed_socket_checked)
{
    int sp[2], st[2], dg[2], pp[2], fd = -1;
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, st), 0);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg), 0);
    cr_assert_eq(pipe(pp), 0);
    int before = open_fds();
    cr_assert_eq(send_fds(sp[0], 'F', &st[0], 1), 1);
    cr_assert_eq(hb_port_recv_fd(sp[1], 1000, &fd), 0);
    cr_assert(fd >= 0 && fd != st[0]);
    close(fd);
    struct { char byte; int fds[3]; int n; } bad[] = {
        {'F', {pp[0]}, 1},                 /* not a socket */
        {'F', {dg[0]}, 1},                 /* not a stream */
        {'F', {st[0], st[1]}, 2},          /* two */
        {'F', {0}, 0},                     /* none */
        {'X', {st[0]}, 1},                 /* not our byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(send_fds(sp[0], bad[i].byte, bad[i].fds, bad[i].n), 1);
        cr_assert_eq(hb_port_recv_fd(sp[1], 1000, &fd), -1, "%zu", i);
        cr_assert_eq(errno, EPROTO, "%zu", i);
        cr_assert_eq(open_fds(), before, "%zu: a received descriptor was left open", i);
    }
    cr_assert_eq(hb_port_recv_fd(sp[1], 50, &fd), -1);   /* nothing comes */
    cr_assert_eq(errno, ETIMEDOUT);
    close(sp[0]);
    cr_assert_eq(hb_port_recv_fd(sp[1], 1000, &fd), -1);   /* init hung up */
    for (int i = 0; i < 2; i++) {
        close(sp[i]);
        close(st[i]);
        close(dg[i]);
        close(pp[i]);
    }
}
