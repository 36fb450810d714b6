/* The local terminal for `hivebox shell`: raw mode (restored on every way
 * out), its size, and a self-pipe that SIGWINCH, SIGTERM, SIGHUP and the
 * WebSocket's reader thread wake the main loop with. */
#ifndef HB_CLI_TTY_H
#define HB_CLI_TTY_H

#include <stdbool.h>

enum { CLI_WAKE_WINCH = 'w', CLI_WAKE_QUIT = 'q', CLI_WAKE_CLOSED = 'c' };

/* Installs the handlers and the pipe; raw mode when stdin is a tty.
 * 0, or -1 with a message printed. */
int  cli_tty_open(void);
void cli_tty_restore(void);   /* idempotent; also at exit */
/* Size of our terminal (80x24 when stdin is not one). */
void cli_tty_size(unsigned *cols, unsigned *rows);
/* The read end (poll it), and a wake-up from any thread. */
int  cli_tty_wake_fd(void);
void cli_tty_wake(char why);

#endif
