/* Background process events, daemon side, without a sandbox: a fake init
 * (a thread on a Unix socket, speaking the real init protocol codec)
 * answers one proc_watch. The supervisor's watch thread (sup_watch.c, over
 * the real proc.h client) turns what it says into EV_PROC_STARTED and
 * EV_PROC_EXITED on the supervisor's inbox, then SB_PROC_WATCHED with the
 * last seq once init says `end`. A supervisor relays such events to the
 * event feed with a timestamp. And the new messages survive the codec. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_peer.h"
#include "initmsg.h"
#include "supervisor.h"

typedef struct {
    int      lfd;
    uint64_t asked_offset;
    bool     had_offset;
} fake_init_t;

static void send_proc(int fd, int pid, const char *tag, int64_t ended, int code, uint64_t seq)
{
    hb_initans_t a = {.t = HB_ANS_PROC, .pid = pid, .tag = {tag, strlen(tag)},
                      .cmd = {"sleep 1", 7}, .user = {"root", 4}, .started_at = 1000,
                      .ended_at = ended, .code = code, .signal = code > 128 ? code - 128 : 0,
                      .seq = seq};
    cr_assert_eq(hb_initans_send(fd, &a), 0);
}

/* One connection: a proc_watch, then a start, an exit and `end`. */
static void *fake_init(void *arg)
{
    fake_init_t *fi = arg;
    int fd = accept(fi->lfd, NULL, NULL);
    hb_frame_t f;
    hb_frame_init(&f);
    hb_initreq_in_t in;
    const char *why = NULL;
    if (fd >= 0 && hb_frame_read(fd, &f, 5000) == 0 && hb_initreq_parse(&f, &in, &why) == 0 &&
        in.r.op == HB_OP_PROC_WATCH) {
        fi->had_offset = (in.r.has & HB_IRF_BIT(offset)) != 0;
        fi->asked_offset = in.r.offset;
        send_proc(fd, 7, "web", 0, 0, 5);
        send_proc(fd, 7, "web", 3000, 137, 6);
        hb_initans_t end = {.t = HB_ANS_END};
        hb_initans_send(fd, &end);
    }
    hb_frame_free(&f);
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int listen_at(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(path), sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(fd, 4), 0);
    return fd;
}

Test(proc_watch, init_events_become_process_events_then_watched, .timeout = 15)
{
    char data[256];
    fake_data_dir(data, sizeof data);
    hb_sandbox_t sb = {.init_pid = getpid()};
    snprintf(sb.id, sizeof sb.id, "box");
    snprintf(sb.sock_path, sizeof sb.sock_path, "%s/init.sock", data);
    fake_init_t fi = {.lfd = listen_at(sb.sock_path)};
    pthread_t t;
    pthread_create(&t, NULL, fake_init, &fi);
    zsock_t *inbox = fake_peer("inproc://t-sup-inbox");

    hb_sup_watch_t *w = hb_sup_watch_start(&sb, 4, "inproc://t-sup-inbox");
    cr_assert_not_null(w);
    hb_msg_t m;
    cr_assert_eq(fake_expect(inbox, 3000, &m), 0, "no start event");
    cr_assert_eq(m.type, HB_MSG_EV_PROC_STARTED, "%s", hb_msg_name(m.type));
    cr_assert_str_eq(m.id, "box");
    cr_assert_eq(m.pid, 7);
    cr_assert_str_eq(m.tag, "web");
    cr_assert_str_eq(m.command, "sleep 1");
    cr_assert_str_eq(m.user, "root");
    hb_msg_clear(&m);

    /* The exit comes before the watch's end (one socket for both: a
     * destroy waiting for the end then comes after the exit event). */
    cr_assert_eq(fake_expect(inbox, 3000, &m), 0, "no exit event");
    cr_assert_eq(m.type, HB_MSG_EV_PROC_EXITED, "%s", hb_msg_name(m.type));
    cr_assert_eq(m.exit_code, 137);
    cr_assert_eq(m.term_signal, 9);
    cr_assert_eq(m.duration_ms, 2000);
    hb_msg_clear(&m);

    cr_assert_eq(fake_expect(inbox, 3000, &m), 0, "no SB_PROC_WATCHED");
    cr_assert_eq(m.type, HB_MSG_SB_PROC_WATCHED, "%s", hb_msg_name(m.type));
    cr_assert_eq(m.seq, 6);
    hb_msg_clear(&m);
    hb_sup_watch_free(w);

    pthread_join(t, NULL);
    cr_assert(fi.had_offset, "the watch did not ask from a seq");
    cr_assert_eq(fi.asked_offset, 4);
    close(fi.lfd);
    zsock_destroy(&inbox);
    fake_data_dir_remove(data);
}

Test(proc_watch, no_init_ends_the_watch_at_once, .timeout = 10)
{
    char data[256];
    fake_data_dir(data, sizeof data);
    hb_sandbox_t sb = {.init_pid = getpid()};
    snprintf(sb.id, sizeof sb.id, "box");
    snprintf(sb.sock_path, sizeof sb.sock_path, "%s/nobody.sock", data);
    zsock_t *inbox = fake_peer("inproc://t-sup-inbox2");
    hb_sup_watch_t *w = hb_sup_watch_start(&sb, -1, "inproc://t-sup-inbox2");
    cr_assert_not_null(w);
    hb_msg_t m;
    cr_assert_eq(fake_expect(inbox, 3000, &m), 0, "no SB_PROC_WATCHED");
    cr_assert_eq(m.type, HB_MSG_SB_PROC_WATCHED);
    cr_assert_eq(m.seq, -1);
    hb_msg_clear(&m);
    hb_sup_watch_free(w);
    zsock_destroy(&inbox);
    fake_data_dir_remove(data);
}

Test(proc_watch, the_new_messages_round_trip)
{
    hb_msg_t in = {.type = HB_MSG_EV_PROC_EXITED, .id = "box", .pid = 12, .tag = NULL,
                   .command = "make", .exit_code = 2, .term_signal = 0, .timed_out = true,
                   .duration_ms = 99, .timestamp = 5};
    void *buf = NULL;
    size_t len = 0;
    hb_msg_t out;
    cr_assert_eq(hb_msg_encode(&in, &buf, &len), 0);
    cr_assert_eq(hb_msg_decode(buf, len, &out), 0);
    free(buf);
    cr_assert_eq(out.type, HB_MSG_EV_PROC_EXITED);
    cr_assert_str_eq(hb_msg_name(out.type), "process.exited");
    cr_assert_eq(out.pid, 12);
    cr_assert_null(out.tag);
    cr_assert(out.timed_out);
    cr_assert_eq(out.exit_code, 2);
    hb_msg_clear(&out);
    hb_msg_t st = {.type = HB_MSG_SB_PROC_STARTED, .pid = 3, .seq = 9};
    cr_assert_eq(hb_msg_encode(&st, &buf, &len), 0);
    cr_assert_eq(hb_msg_decode(buf, len, &out), 0);
    free(buf);
    cr_assert_eq(out.seq, 9);
    cr_assert_eq(hb_msg_type_of("process.started"), HB_MSG_EV_PROC_STARTED);
    hb_msg_clear(&out);
}
