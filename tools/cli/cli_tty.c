/* cli_tty.h */
#include "cli_tty.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static int g_pipe[2] = {-1, -1};
static struct termios g_saved;
static volatile sig_atomic_t g_raw;

void cli_tty_wake(char why)
{
    int saved = errno;
    if (g_pipe[1] >= 0 && write(g_pipe[1], &why, 1) < 0) {
        /* full: the loop has wake-ups enough to read */
    }
    errno = saved;
}

int cli_tty_wake_fd(void) { return g_pipe[0]; }

static void on_signal(int sig)
{
    cli_tty_wake(sig == SIGWINCH ? CLI_WAKE_WINCH : CLI_WAKE_QUIT);
}

void cli_tty_restore(void)
{
    if (g_raw) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
        g_raw = 0;
    }
}

void cli_tty_size(unsigned *cols, unsigned *rows)
{
    struct winsize ws;
    *cols = 80;
    *rows = 24;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
        *cols = ws.ws_col > 1000 ? 1000 : ws.ws_col;
        *rows = ws.ws_row > 1000 ? 1000 : ws.ws_row;
    }
}

int cli_tty_open(void)
{
    if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        fprintf(stderr, "hivebox shell: pipe: %s\n", strerror(errno));
        return -1;
    }
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_saved) < 0)
        return 0;   /* not a terminal: bytes go through as they are */
    struct termios raw = g_saved;
    cfmakeraw(&raw);
    atexit(cli_tty_restore);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0)
        g_raw = 1;
    return 0;
}
