/* The OpenCode proxy actor on its own thread, with a fake "server" (a child
 * process recorded the way the proxy records the servers it starts): the
 * manager's OC_KILL for a dead sandbox kills the server a previous daemon
 * left and keeps its state; one for a sandbox with no server is answered
 * at once. OpenCode itself is never run. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_peer.h"
#include "opencode_proc.h"
#include "procfs.h"
#include "proxy.h"

static const hb_endpoints_t EP = {.manager = "inproc://t-mgr", .reaper = "inproc://t-reaper",
                                  .metrics = "inproc://t-met", .proxy = "inproc://t-proxy"};

/* A process in a group of its own, as the proxy starts its servers. */
static pid_t fake_server(void)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        for (;;)
            pause();
    }
    return pid;
}

/* <data>/sandboxes/<id>/opencode/server, as record_save writes it. */
static void record(const char *data, const char *id, pid_t pid, char *state, size_t len)
{
    char dir[512], path[1024];
    snprintf(dir, sizeof dir, "%s/sandboxes/%s", data, id);
    cr_assert_eq(mkdir(dir, 0700), 0);
    hb_oc_state_path(state, len, dir, "");
    cr_assert_eq(mkdir(state, 0700), 0);
    snprintf(path, sizeof path, "%s/server", state);
    uint64_t start = 0;
    for (int i = 0; i < 100 && !start; i++, usleep(10000))
        start = hb_proc_starttime(pid, NULL);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "pid=%d\nstart=%llu\nport=4096\npassword=%048d\n", (int)pid,
            (unsigned long long)start, 0);
    fclose(f);
}

Test(proxy, kill_ends_a_dead_sandboxs_left_over_server_and_keeps_its_state, .timeout = 20)
{
    static hb_runtime_t rt;
    char data[256], state[700];
    fake_runtime(&rt, data, sizeof data);
    pid_t server = fake_server();
    record(data, "dead-box", server, state, sizeof state);

    /* OpenCode off: no binary lookup, this is about the message */
    static const hb_config_t cfg = {.opencode = "false"};
    hb_proxy_args_t a = {.ep = EP, .rt = &rt, .cfg = &cfg, .daemon_host = "127.0.0.1",
                         .daemon_port = 7070};
    hb_err_t e = {0};
    zactor_t *proxy = hb_proxy_new(&a, &e);
    cr_assert_not_null(proxy, "%s", e.msg);

    int64_t t0 = hb_now_ms();
    hb_proxy_sandbox_kill(EP.proxy, "never-had-one");
    cr_assert_lt(hb_now_ms() - t0, 2000);

    hb_proxy_sandbox_kill(EP.proxy, "dead-box");   /* returns once it is gone */
    int st = 0;
    cr_assert_eq(waitpid(server, &st, WNOHANG), server, "the server still runs");
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %x", st);
    struct stat sb;
    cr_assert_eq(stat(state, &sb), 0, "the OpenCode state went with the server");

    zactor_destroy(&proxy);
    fake_data_dir_remove(data);
}

Test(proxy, a_taken_inbox_is_a_setup_error, .timeout = 10)
{
    static hb_runtime_t rt;
    static const hb_config_t cfg = {.opencode = "false"};
    zsock_t *squatter = fake_peer(EP.proxy);
    hb_proxy_args_t a = {.ep = EP, .rt = &rt, .cfg = &cfg};
    hb_err_t e = {0};
    cr_assert_null(hb_proxy_new(&a, &e));
    cr_assert(strstr(e.msg, "OpenCode proxy: cannot bind " "inproc://t-proxy"), "%s", e.msg);
    zsock_destroy(&squatter);
}
