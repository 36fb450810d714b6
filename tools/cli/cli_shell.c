/* shell: a terminal in a sandbox, as ssh would give one. A ticket from
 * POST /:id/terminal/ticket (civetweb's WebSocket client sends no
 * Authorization header, and the key never goes in a URL), then the
 * WebSocket /:id/terminal: our stdin as binary frames, its output to our
 * stdout, our window size as resize frames. Exits with the shell's code. */
#include "cli.h"

#include <civetweb.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_tty.h"
#include "runtime.h"

#define USAGE "shell ID [-- CMD...]"

typedef struct {
    atomic_int exit_code;     /* -1 until the exit frame */
    atomic_int close_code;
    char       reason[128];   /* of a close frame other than 1000; set before closed */
    atomic_bool closed;
} shell_t;

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void on_text(shell_t *s, const char *data, size_t len)
{
    json_t *j = json_loadb(data, len, 0, NULL);
    const char *type = json_string_value(json_object_get(j, "type"));
    if (type && strcmp(type, "exit") == 0)
        atomic_store(&s->exit_code, (int)json_integer_value(json_object_get(j, "exit_code")));
    else if (type && strcmp(type, "error") == 0)
        fprintf(stderr, "\r\nhivebox shell: %s\r\n",
                json_string_value(json_object_get(j, "error")));
    json_decref(j);
}

static void on_close_frame(shell_t *s, const char *data, size_t len)
{
    if (len < 2)
        return;
    int code = ((unsigned char)data[0] << 8) | (unsigned char)data[1];
    size_t n = len - 2 < sizeof s->reason - 1 ? len - 2 : sizeof s->reason - 1;
    memcpy(s->reason, data + 2, n);
    s->reason[n] = '\0';
    atomic_store(&s->close_code, code);
}

/* civetweb's client thread: each frame from the daemon. */
static int on_frame(struct mg_connection *c, int bits, char *data, size_t len, void *ud)
{
    shell_t *s = ud;
    switch (bits & 0xf) {
    case MG_WEBSOCKET_OPCODE_BINARY: write_all(STDOUT_FILENO, data, len); return 1;
    case MG_WEBSOCKET_OPCODE_TEXT: on_text(s, data, len); return 1;
    case MG_WEBSOCKET_OPCODE_PING:
        mg_websocket_client_write(c, MG_WEBSOCKET_OPCODE_PONG, data, len);
        return 1;
    case MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE:
        on_close_frame(s, data, len);
        return 0;
    default: return 1;
    }
}

static void on_closed(const struct mg_connection *c, void *ud)
{
    shell_t *s = ud;
    atomic_store(&s->closed, true);
    cli_tty_wake(CLI_WAKE_CLOSED);
}

/* ---- setting up ---- */

/* A ticket for the sandbox's terminal into t; 0, or an exit code. */
static int get_ticket(const cli_opts_t *o, const char *id, char *t, size_t cap)
{
    char path[HB_ID_MAX + 64];
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%s/terminal/ticket", id);
    cli_resp_t r;
    if (cli_http(o, "POST", path, "{}", &r) < 0)
        return CLI_EXIT_ERROR;
    if (r.status != 200) {
        int rc = cli_report_error(&r);
        cli_resp_free(&r);
        return rc;
    }
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    const char *v = json_string_value(json_object_get(j, "ticket"));
    int rc = v && strlen(v) < cap ? 0 : CLI_EXIT_ERROR;
    if (rc == 0)
        snprintf(t, cap, "%s", v);
    else
        fprintf(stderr, "hivebox shell: the daemon's ticket answer is malformed\n");
    json_decref(j);
    cli_resp_free(&r);
    return rc;
}

/* "http://host:port" -> host, port. -1 for anything else. */
static int split_url(const char *url, char *host, size_t cap, int *port)
{
    if (strncmp(url, "http://", 7) != 0) {
        fprintf(stderr, "hivebox shell: only http:// API URLs are supported (got %.64s)\n", url);
        return -1;
    }
    const char *h = url + 7, *end = h + strcspn(h, "/");
    const char *colon = h[0] == '[' ? strchr(h, ']') : h;
    colon = colon ? memchr(colon, ':', (size_t)(end - colon)) : NULL;
    size_t hl = (size_t)((colon ? colon : end) - h);
    if (h[0] == '[' && hl >= 2) {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= cap)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = colon ? atoi(colon + 1) : 80;
    return *port > 0 && *port < 65536 ? 0 : -1;
}

static char *terminal_path(const cli_opts_t *o, const char *id, const char *ticket)
{
    unsigned cols, rows;
    cli_tty_size(&cols, &rows);
    char *cmd = o->n_cmd ? cli_join_cmd(o->n_cmd, o->cmd) : NULL;
    char *enc = cmd ? cli_urlencode(cmd) : NULL;
    size_t cap = strlen(id) + strlen(ticket) + (enc ? strlen(enc) : 0) + 128;
    char *path = malloc(cap);
    if (path)
        snprintf(path, cap, "/api/v1/hiveboxes/%s/terminal?cols=%u&rows=%u&ticket=%s%s%s", id,
                 cols, rows, ticket, enc ? "&cmd=" : "", enc ? enc : "");
    free(cmd);
    free(enc);
    return path;
}

/* ---- the loop ---- */

static void send_resize(struct mg_connection *c)
{
    unsigned cols, rows;
    char buf[80];
    cli_tty_size(&cols, &rows);
    int n = snprintf(buf, sizeof buf, "{\"type\":\"resize\",\"cols\":%u,\"rows\":%u}", cols, rows);
    mg_websocket_client_write(c, MG_WEBSOCKET_OPCODE_TEXT, buf, (size_t)n);
}

/* Forward what stdin has; at its end send ^D and stop polling it (*fd -1). */
static void from_stdin(struct mg_connection *c, int *fd, char *buf, size_t cap)
{
    ssize_t n = read(STDIN_FILENO, buf, cap);
    if (n > 0) {
        mg_websocket_client_write(c, MG_WEBSOCKET_OPCODE_BINARY, buf, (size_t)n);
    } else if (n == 0 || errno != EINTR) {
        mg_websocket_client_write(c, MG_WEBSOCKET_OPCODE_BINARY, "\x04", 1);
        *fd = -1;
    }
}

/* Our signals (cli_tty.h): false to quit. */
static bool from_wake(struct mg_connection *c, int fd, char *buf, size_t cap)
{
    ssize_t n = read(fd, buf, cap);
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == CLI_WAKE_QUIT)
            return false;
        if (buf[i] == CLI_WAKE_WINCH)
            send_resize(c);
    }
    return true;
}

/* Reads stdin until the socket closes (or SIGTERM/SIGHUP). When stdin
 * ends first, the shell gets ^D (end of input on its PTY) and the output
 * still comes until it exits. The ^D is repeated every EOF_AGAIN_MS while
 * the shell lives: one that arrives while the terminal is still in
 * canonical mode and is then switched to raw mode (readline starting up)
 * turns into a NUL byte, not an end of input, and the shell would wait
 * for ever; a user at a terminal would press ^D again too. */
#define EOF_AGAIN_MS 1000

static void pump(struct mg_connection *c, shell_t *s)
{
    struct pollfd p[2] = {{.fd = cli_tty_wake_fd(), .events = POLLIN},
                          {.fd = STDIN_FILENO, .events = POLLIN}};
    char buf[4096];
    while (!atomic_load(&s->closed)) {
        int pr = poll(p, p[1].fd >= 0 ? 2 : 1, p[1].fd >= 0 ? -1 : EOF_AGAIN_MS);
        if (pr < 0 && errno != EINTR)
            return;
        if (pr == 0) {
            mg_websocket_client_write(c, MG_WEBSOCKET_OPCODE_BINARY, "\x04", 1);
            continue;
        }
        if ((p[0].revents & POLLIN) && !from_wake(c, p[0].fd, buf, sizeof buf))
            return;
        if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            from_stdin(c, &p[1].fd, buf, sizeof buf);
    }
}

static int run_shell(const cli_opts_t *o, const char *id)
{
    char ticket[128], host[256], err[256] = "";
    int port, rc = get_ticket(o, id, ticket, sizeof ticket);
    if (rc)
        return rc;
    if (split_url(cli_api_url(o), host, sizeof host, &port) < 0)
        return CLI_EXIT_ERROR;
    char *path = terminal_path(o, id, ticket);
    shell_t s = {.exit_code = -1};
    mg_init_library(0);
    struct mg_connection *c = path ? mg_connect_websocket_client(host, port, 0, err, sizeof err,
                                                                 path, NULL, on_frame, on_closed,
                                                                 &s) : NULL;
    free(path);
    if (!c) {
        fprintf(stderr, "hivebox shell: cannot open the terminal: %s\n", err[0] ? err : "failed");
        mg_exit_library();
        return CLI_EXIT_ERROR;
    }
    if (cli_tty_open() == 0)
        pump(c, &s);
    mg_close_connection(c);
    cli_tty_restore();
    mg_exit_library();
    int code = atomic_load(&s.exit_code), cc = atomic_load(&s.close_code);
    if (code >= 0)
        return code;
    if (cc && cc != 1000)
        fprintf(stderr, "hivebox shell: the terminal was closed: %s (%d)\n", s.reason, cc);
    return CLI_EXIT_ERROR;
}

int cli_cmd_shell(int argc, char **argv)
{
    cli_opts_t o;
    char err[256] = "";
    if (cli_parse(argc - 1, argv + 1, CLI_OPT_COMMON, &o, err, sizeof err) < 0 ||
        (!o.help && o.n_pos != 1) || (o.dashdash && o.n_cmd == 0)) {
        fprintf(stderr, "hivebox shell: %s\nusage: hivebox " USAGE "\n",
                err[0] ? err : "expected one sandbox ID (and -- CMD... if a command)");
        return CLI_EXIT_USAGE;
    }
    if (o.help) {
        printf("usage: hivebox " USAGE "\n");
        return 0;
    }
    if (!cli_id_ok(o.pos[0]))
        return CLI_EXIT_USAGE;
    return run_shell(&o, o.pos[0]);
}
